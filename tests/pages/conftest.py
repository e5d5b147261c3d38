"""AppTest fixtures: the real app.py against the fake endpoint and a fresh data folder per test."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from tests.fake_openai import FakeOpenAI

APP = str(Path(__file__).resolve().parents[2] / "app.py")
TEST_KEY = "sk-page-test-key-9876"
RUN_TIMEOUT = 15


@pytest.fixture
def app_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, database_url: str) -> Path:
    """A clean environment: no endpoint configured, a fresh database and data folder."""
    for name in ("OPENAI_BASE_URL", "OPENAI_API_KEY", "OPENAI_MODEL", "RELAYCHAT_SECRET_KEY"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("RELAYCHAT_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("DATABASE_URL", database_url)
    return tmp_path / "data"


@pytest.fixture
def configured(app_env: Path, monkeypatch: pytest.MonkeyPatch, fake_openai: FakeOpenAI) -> FakeOpenAI:
    """The fake endpoint configured through the environment, as a deployment would."""
    fake_openai.api_key = TEST_KEY
    monkeypatch.setenv("OPENAI_BASE_URL", fake_openai.base_url)
    monkeypatch.setenv("OPENAI_API_KEY", TEST_KEY)
    monkeypatch.setenv("OPENAI_MODEL", "fake-gpt")
    return fake_openai


@pytest.fixture
def open_app() -> Iterator[Callable[..., AppTest]]:
    """Start app.py as a browser session would (optionally at ?c=ID); runtimes are released after the test."""

    def start(**query: str) -> AppTest:
        at = AppTest.from_file(APP, default_timeout=RUN_TIMEOUT)
        for key, value in query.items():
            at.query_params[key] = value
        return at.run()

    yield start
    from ui.resources import _runtime, model_ids

    model_ids.clear()
    _runtime.clear()
