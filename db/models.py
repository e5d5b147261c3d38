"""The tables: users, endpoints, conversations and the message tree."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from sqlalchemy import JSON, Boolean, DateTime, ForeignKey, Index, Integer, String, Text, TypeDecorator, UniqueConstraint, false
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

FINAL_STATUSES: tuple[str, ...] = ("complete", "stopped", "interrupted", "error")


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


class UTCDateTime(TypeDecorator[datetime]):
    """Aware UTC datetimes on every backend (SQLite drops the zone; we put it back)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is not None and value.tzinfo is not None:
            value = value.astimezone(timezone.utc)
            if dialect.name == "sqlite":
                value = value.replace(tzinfo=None)
        return value

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is not None and value.tzinfo is None:
            value = value.replace(tzinfo=timezone.utc)
        return value


class Base(DeclarativeBase):
    pass


class User(Base):
    """A person who owns conversations; one local user until accounts arrive."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    is_admin: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Endpoint(Base):
    """An OpenAI-compatible API the user can chat with; the key is stored encrypted."""

    __tablename__ = "endpoints"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    base_url: Mapped[str] = mapped_column(String(2000))
    api_key_encrypted: Mapped[str | None] = mapped_column(Text)
    api_key_mask: Mapped[str | None] = mapped_column(String(40))
    # Extra headers can carry a key (`X-Api-Key`): the JSON holds their names with masked values, for display;
    # the values themselves are only in extra_headers_encrypted (a JSON object, encrypted like the key).
    extra_headers: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    extra_headers_encrypted: Mapped[str | None] = mapped_column(Text)
    default_model: Mapped[str | None] = mapped_column(String(200))
    is_default: Mapped[bool] = mapped_column(Boolean, default=False)
    # "config" rows mirror OPENAI_BASE_URL/OPENAI_API_KEY and are rewritten from them at every start.
    source: Mapped[str] = mapped_column(String(20), default="user")
    # None until we learn it: False once the endpoint rejected stream_options.
    supports_stream_usage: Mapped[bool | None] = mapped_column(Boolean)
    # o-series and newer OpenAI models reject max_tokens and want max_completion_tokens.
    max_tokens_field: Mapped[str] = mapped_column(String(40), default="max_tokens", server_default="max_tokens")
    # When set, a conversation's title is asked of this (cheap) model after the first reply.
    title_model: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


NEW_CHAT_TITLE = "New chat"  # a conversation's title until its first message names it


class Conversation(Base):
    """A chat: its settings (endpoint, model, system prompt, parameters) and a tree of messages."""

    __tablename__ = "conversations"
    __table_args__ = (
        Index("ix_conversations_user_updated", "user_id", "updated_at"),
        # The sidebar's order: pinned first, then newest first, paged by (pinned, updated_at, id).
        Index("ix_conversations_sidebar", "user_id", "pinned", "updated_at", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    endpoint_id: Mapped[int | None] = mapped_column(ForeignKey("endpoints.id", ondelete="SET NULL"))
    title: Mapped[str] = mapped_column(String(300), default=NEW_CHAT_TITLE)
    model: Mapped[str | None] = mapped_column(String(200))
    system_prompt: Mapped[str] = mapped_column(Text, default="")
    params: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # The last message of the visible branch; the path to it is what gets sent.
    current_leaf_id: Mapped[int | None] = mapped_column(Integer)
    pinned: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    # Set by delete (the list hides it at once); the row stays until purged, so "undo" can restore it.
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    messages: Mapped[list[Message]] = relationship(
        back_populates="conversation", cascade="all, delete-orphan", passive_deletes=True
    )


class Message(Base):
    """One turn. Assistant turns also record how they were produced and how they ended."""

    __tablename__ = "messages"
    __table_args__ = (
        Index("ix_messages_conversation_id", "conversation_id", "id"),
        Index("ix_messages_status", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    conversation_id: Mapped[int] = mapped_column(ForeignKey("conversations.id", ondelete="CASCADE"))
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("messages.id", ondelete="CASCADE"), index=True)
    role: Mapped[str] = mapped_column(String(20))
    content: Mapped[str] = mapped_column(Text, default="")
    reasoning: Mapped[str | None] = mapped_column(Text)
    tool_calls: Mapped[list[dict[str, Any]] | None] = mapped_column(JSON)
    # A tool result answers this call id of the assistant message above it.
    tool_call_id: Mapped[str | None] = mapped_column(String(200))
    # With n > 1: every choice as {"index", "content", "reasoning", "tool_calls", "finish_reason"};
    # content/reasoning/tool_calls above hold the chosen one, the one that continues the conversation.
    choices: Mapped[list[dict[str, Any]] | None] = mapped_column(JSON)
    chosen_index: Mapped[int | None] = mapped_column(Integer)
    # Files sent with a user message (services.attachments.Attachment.to_json each); re-sent on regenerate.
    attachments: Mapped[list[dict[str, Any]] | None] = mapped_column(JSON)
    model: Mapped[str | None] = mapped_column(String(200))
    # The request body as sent, without the messages (they are the path above this one).
    request: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    response_meta: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(20), default="complete")
    finish_reason: Mapped[str | None] = mapped_column(String(40))
    prompt_tokens: Mapped[int | None] = mapped_column(Integer)
    completion_tokens: Mapped[int | None] = mapped_column(Integer)
    total_tokens: Mapped[int | None] = mapped_column(Integer)
    time_to_first_token_ms: Mapped[int | None] = mapped_column(Integer)
    duration_ms: Mapped[int | None] = mapped_column(Integer)
    error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Touched at every save while streaming: a stale one means the writer died.
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    conversation: Mapped[Conversation] = relationship(back_populates="messages")


class MediaHost(Base):
    """A host whose images and videos load in this user's replies without asking ("always load from this host")."""

    __tablename__ = "media_hosts"
    __table_args__ = (UniqueConstraint("user_id", "host", name="uq_media_hosts_user_host"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    host: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Preset(Base):
    """A named parameter set (and system prompt) that can be applied to any conversation."""

    __tablename__ = "presets"
    __table_args__ = (UniqueConstraint("user_id", "name", name="uq_presets_user_name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(100))
    system_prompt: Mapped[str | None] = mapped_column(Text)
    params: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    builtin: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class SettingsDraft(Base):
    """The chat settings a user last typed (one row per user), so that a reload or a crash loses none of them."""

    __tablename__ = "settings_drafts"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    # Where they were typed: None for a new chat not saved yet. No foreign key: a deleted chat only makes it stale.
    conversation_id: Mapped[int | None] = mapped_column(Integer)
    settings: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
