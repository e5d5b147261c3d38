"""Where the settings are: the model and the parameters in view beside a long history, on a 1400×900 window."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import create_engine, select
from sqlalchemy.orm import Session

from db.models import Conversation, User
from tests.e2e.conftest import RunningApp
from tests.e2e.ui import open_app

pytestmark = pytest.mark.e2e

VIEWPORT = {"width": 1400, "height": 900}


def add_conversations(app: RunningApp, count: int) -> None:
    """`count` saved conversations for the app's user, written into its SQLite file as earlier visits would have."""
    engine = create_engine(f"sqlite:///{app.data_dir / 'relaychat.db'}")
    with Session(engine) as session, session.begin():
        user = session.scalars(select(User)).one()
        session.add_all(Conversation(user_id=user.id, title=f"Conversation number {i}") for i in range(count))
    engine.dispose()


def test_model_and_parameters_are_in_view_beside_100_conversations(app: RunningApp, page: Page) -> None:
    page.set_viewport_size(VIEWPORT)
    open_app(page, app.url)  # creates the user
    add_conversations(app, 100)
    open_app(page, app.url)
    expect(page.locator(".st-key-open_100 button")).to_be_attached()
    for field in (".st-key-setting_model input", ".st-key-setting_param_temperature input"):
        expect(page.locator(field)).to_be_attached()  # drawn, not a loading placeholder

    boxes = {name: page.locator(selector).bounding_box()
             for name, selector in (("model", ".st-key-setting_model"), ("temperature", ".st-key-setting_param_temperature"))}
    print(f"bounding boxes at 1400x900 with 100 conversations: {boxes}")
    for name, box in boxes.items():
        assert box is not None, f"no {name} field"
        assert 0 <= box["y"] and box["y"] + box["height"] <= VIEWPORT["height"], f"{name} is out of view: {box}"
