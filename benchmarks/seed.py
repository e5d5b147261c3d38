"""Seed a history database: 10,000 conversations / 1,000,000 messages for the user "local", one of them 1,000
messages long. Bulk inserts through SQLAlchemy Core into a migrated database; the file is cached.

    python -m benchmarks.seed [--conversations 10000] [--messages 1000000] [--long 1000] [--force]
"""

from __future__ import annotations

import argparse
import json
import random
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, insert

from db.engine import Database
from db.migrate import current_revision, head_revision, upgrade_to_head
from db.models import Conversation, Message, User
from db.repository import LOCAL_USER_NAME, title_from_text
from tests.fake_openai.server import markdown_tokens

CACHE_DIR = Path(__file__).with_name(".cache")
SEED_VERSION = 1  # bump when the seeded content changes, so cached files are rebuilt
MODEL = "fake-gpt"
BATCH = 20_000  # rows per executemany: large enough to amortise, small enough to keep memory flat
# Realistic sizes (characters): short questions, longer markdown answers.
USER_CHARS = (20, 500, 100)  # low, high, mode of a triangular distribution: mean ~210
ASSISTANT_CHARS = (60, 2500, 300)  # mean ~950
NOW = datetime(2025, 11, 1, tzinfo=timezone.utc)


@dataclass(frozen=True)
class SeededHistory:
    """A seeded database file and what is in it."""

    path: Path
    conversations: int
    messages: int
    long_conversation_id: int  # the one with `long_messages` messages
    long_messages: int
    seconds_to_seed: float

    @property
    def url(self) -> str:
        return f"sqlite:///{self.path}"

    @property
    def meta_path(self) -> Path:
        return self.path.with_suffix(".json")


class TextSource:
    """Message texts cut from one long markdown corpus (the fake's generator), at random places."""

    def __init__(self, rng: random.Random) -> None:
        self._rng = rng
        self._corpus = "".join(markdown_tokens(400_000, 5))  # ~2 MB: cuts rarely repeat

    def cut(self, low: int, high: int, mode: int) -> str:
        size = int(self._rng.triangular(low, high, mode))
        start = self._rng.randrange(0, len(self._corpus) - size)
        return self._corpus[start : start + size].strip() or "ok"


def conversation_sizes(conversations: int, messages: int, long_messages: int, rng: random.Random) -> list[int]:
    """Even message counts (question + answer pairs) summing to `messages`; the first is `long_messages`."""
    pairs_left = (messages - long_messages) // 2
    others = conversations - 1
    weights = [rng.random() + 0.05 for _ in range(others)]
    scale = (pairs_left - others) / sum(weights)
    pairs = [1 + int(w * scale) for w in weights]
    for index in rng.sample(range(others), pairs_left - sum(pairs)):  # hand out the rounding remainder
        pairs[index] += 1
    return [long_messages] + [2 * p for p in pairs]


def _rows(sizes: list[int], user_id: int, rng: random.Random) -> Iterator[tuple[dict[str, Any], list[dict[str, Any]]]]:
    """Each conversation row with its message rows; ids are assigned here so parent chains need no round trip."""
    texts = TextSource(rng)
    message_id = 0
    for conversation_id, size in enumerate(sizes, start=1):
        started = NOW - timedelta(days=365 * rng.random())
        messages = []
        for index in range(size):
            message_id += 1
            role = "user" if index % 2 == 0 else "assistant"
            at = started + timedelta(seconds=30 * index)
            messages.append({
                "id": message_id,
                "conversation_id": conversation_id,
                "parent_id": message_id - 1 if index else None,
                "role": role,
                "content": texts.cut(*(USER_CHARS if role == "user" else ASSISTANT_CHARS)),
                "model": MODEL if role == "assistant" else None,
                "status": "complete",
                "finish_reason": "stop" if role == "assistant" else None,
                "created_at": at,
                "updated_at": at,
            })
        conversation = {
            "id": conversation_id,
            "user_id": user_id,
            "endpoint_id": None,
            "title": title_from_text(messages[0]["content"]),
            "model": MODEL,
            "system_prompt": "",
            "params": {},
            "current_leaf_id": message_id,
            "created_at": started,
            "updated_at": messages[-1]["created_at"],
        }
        yield conversation, messages


def _insert(connection: Connection, conversations: list[dict[str, Any]], messages: list[dict[str, Any]]) -> None:
    # A commit per batch lets SQLite checkpoint the WAL as it goes; one huge transaction slows down as the WAL grows.
    with connection.begin():
        if conversations:  # first: the messages' foreign key points at them
            connection.execute(insert(Conversation.__table__), conversations)
        if messages:
            connection.execute(insert(Message.__table__), messages)


def seed(path: Path, conversations: int, messages: int, long_messages: int, log: Any = print) -> SeededHistory:
    started = time.monotonic()
    path.parent.mkdir(parents=True, exist_ok=True)
    for leftover in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
        leftover.unlink(missing_ok=True)
    rng = random.Random(SEED_VERSION)
    sizes = conversation_sizes(conversations, messages, long_messages, rng)
    database = Database(f"sqlite:///{path}")
    try:
        upgrade_to_head(database.engine)
        with database.engine.begin() as connection:
            user_id = connection.execute(
                insert(User.__table__).values(name=LOCAL_USER_NAME, is_admin=True, created_at=NOW)
            ).inserted_primary_key[0]
        with database.engine.connect() as connection:
            # A throw-away file being built: no fsync per commit (set on the driver connection, outside BEGIN).
            connection.connection.dbapi_connection.execute("PRAGMA synchronous=OFF")
            conversation_batch: list[dict[str, Any]] = []
            message_batch: list[dict[str, Any]] = []
            done = 0
            for conversation, rows in _rows(sizes, user_id, rng):
                conversation_batch.append(conversation)
                message_batch.extend(rows)
                if len(message_batch) >= BATCH:
                    _insert(connection, conversation_batch, message_batch)
                    done += len(message_batch)
                    conversation_batch, message_batch = [], []
                    if done % 200_000 < BATCH:
                        log(f"  seeded {done:,} messages ({time.monotonic() - started:.0f} s)")
            _insert(connection, conversation_batch, message_batch)
        with database.engine.connect() as connection:
            connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")  # one self-contained file to copy
    finally:
        database.dispose()
    history = SeededHistory(path, conversations, messages, 1, long_messages, time.monotonic() - started)
    history.meta_path.write_text(json.dumps({**asdict(history), "path": str(path), "seed_version": SEED_VERSION}))
    return history


def cached(conversations: int = 10_000, messages: int = 1_000_000, long_messages: int = 1_000,
           force: bool = False, log: Any = print) -> SeededHistory:
    """The cached seeded database, built on first use (or with `force`), migrated to the current head."""
    path = CACHE_DIR / f"history-v{SEED_VERSION}-{conversations}c-{messages}m-{long_messages}l.db"
    meta = path.with_suffix(".json")
    if path.exists() and meta.exists() and not force:
        data = json.loads(meta.read_text())
        data.pop("seed_version", None)
        history = SeededHistory(**{**data, "path": path})
    else:
        log(f"seeding {conversations:,} conversations / {messages:,} messages into {path} (cached for re-runs)")
        history = seed(path, conversations, messages, long_messages, log)
        log(f"  seeded in {history.seconds_to_seed:.0f} s, {path.stat().st_size / 1e6:.0f} MB")
    _migrate(history, log)
    return history


def _migrate(history: SeededHistory, log: Any) -> None:
    """A migration added since the seed is applied once to the cached file, not at every benchmark start."""
    database = Database(history.url)
    try:
        if current_revision(database.engine) != head_revision():
            started = time.monotonic()
            upgrade_to_head(database.engine)
            with database.engine.connect() as connection:
                connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
            log(f"  migrated the cached history to {head_revision()} in {time.monotonic() - started:.1f} s")
    finally:
        database.dispose()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.seed", description=__doc__.splitlines()[0])
    parser.add_argument("--conversations", type=int, default=10_000)
    parser.add_argument("--messages", type=int, default=1_000_000)
    parser.add_argument("--long", type=int, default=1_000, help="messages in the long conversation (id 1)")
    parser.add_argument("--force", action="store_true", help="rebuild even if cached")
    args = parser.parse_args(argv)
    history = cached(args.conversations, args.messages, args.long, args.force)
    print(f"{history.path}: {history.conversations:,} conversations, {history.messages:,} messages, "
          f"conversation {history.long_conversation_id} has {history.long_messages:,}")


if __name__ == "__main__":
    main()
