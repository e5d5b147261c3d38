"""The request as a reply's Details keep it: every parameter and the messages as sent, attachments summarised.

A reply stores its parameters and its system message only: the rest of the messages it was sent are its branch,
already in the database, and storing them with every reply would grow a conversation's size with the square of
its length. Details rebuild them from the branch (`request_as_sent`)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

DATA_URL_PREFIX = "data:"


def recorded_request(body: Mapping[str, Any]) -> dict[str, Any]:
    """What a reply keeps of the body sent: every parameter, and of the messages only the system ones (the
    others are the reply's branch)."""
    recorded = dict(body)
    if isinstance(body.get("messages"), list):
        recorded["messages"] = [message for message in body["messages"] if _is_system(message)]
    return recorded


def request_as_sent(recorded: Mapping[str, Any] | None, branch: list[dict[str, Any]]) -> dict[str, Any]:
    """The request a reply was sent with, for its Details: the recorded parameters and system messages, then the
    branch it answered (`branch`, as API messages), each attached file's bytes replaced by its kind and size
    ("image (240 KB)") so the inspector never carries a base64 copy of every image."""
    recorded = dict(recorded or {})
    system = [message for message in recorded.get("messages") or [] if _is_system(message)]
    rest = [message for message in branch if not _is_system(message)]
    return {**recorded, "messages": [_summarised_message(message) for message in system + rest]}


def _is_system(message: Any) -> bool:
    return isinstance(message, dict) and message.get("role") in ("system", "developer")


def _summarised_message(message: Any) -> Any:
    if not isinstance(message, dict) or not isinstance(message.get("content"), list):
        return message
    return {**message, "content": [_summarised_part(part) for part in message["content"]]}


def _summarised_part(part: Any) -> Any:
    # The app attaches files as image_url parts (images) or as text inlined in the message (text, PDFs).
    if isinstance(part, dict) and part.get("type") == "image_url" and isinstance(part.get("image_url"), dict):
        url = part["image_url"].get("url")
        if isinstance(url, str) and url.startswith(DATA_URL_PREFIX):
            return {**part, "image_url": {**part["image_url"], "url": f"image ({data_url_size(url)})"}}
    return part


def data_url_size(url: str) -> str:
    """How big the file in a data: URL is, in words ("240 KB")."""
    header, _, payload = url.partition(",")
    size = _decoded_bytes(payload) if header.endswith(";base64") else len(payload.encode())
    return _size(size)


def _decoded_bytes(base64_text: str) -> int:
    text = base64_text.strip()
    return max(len(text) * 3 // 4 - text[-2:].count("="), 0)


def _size(size: int) -> str:
    if size < 1024:
        return f"{size} bytes"
    if size < 1024 * 1024:
        return f"{round(size / 1024)} KB"
    return f"{size / (1024 * 1024):.1f} MB"
