"""The hosts each user chose to "always load" media from."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from db.models import MediaHost, User


def list_hosts(session: Session, user: User) -> list[str]:
    return list(session.scalars(select(MediaHost.host).where(MediaHost.user_id == user.id).order_by(MediaHost.host)))


def add_host(session: Session, user: User, host: str) -> None:
    """Idempotent: a host already listed stays listed once."""
    exists = session.scalar(select(MediaHost.id).where(MediaHost.user_id == user.id, MediaHost.host == host))
    if exists is None:
        session.add(MediaHost(user_id=user.id, host=host))
        session.flush()
