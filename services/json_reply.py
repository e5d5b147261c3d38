"""Checking a reply that was asked to be JSON: does it parse, and does it match the requested schema?"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from jsonschema import Draft202012Validator

from services import json_limits


@dataclass(frozen=True)
class JsonVerdict:
    """The badge under a JSON reply: parses / validates, the reason when not, and the pretty text."""

    parses: bool
    validates: bool | None  # None when there was no schema to check against
    problem: str | None
    pretty: str | None


def check_json_reply(text: str, schema: dict[str, Any] | None = None) -> JsonVerdict:
    body = _strip_code_fence(text)
    try:
        value = json_limits.loads(body, max_chars=None)  # model output: a 100,000-deep reply must not crash
    except ValueError as exc:
        return JsonVerdict(False, None if schema is None else False, f"Not valid JSON: {exc}", None)
    pretty = json.dumps(value, indent=2, ensure_ascii=False)
    if schema is None:
        return JsonVerdict(True, None, None, pretty)
    errors = sorted(Draft202012Validator(schema).iter_errors(value), key=lambda e: list(e.path))
    if errors:
        first = errors[0]
        where = "/".join(str(p) for p in first.path) or "(root)"
        return JsonVerdict(True, False, f"Does not match the schema at {where}: {first.message}", pretty)
    return JsonVerdict(True, True, None, pretty)


def _strip_code_fence(text: str) -> str:
    # Models often wrap JSON in ```json fences even in JSON mode.
    stripped = text.strip()
    if stripped.startswith("```") and stripped.endswith("```"):
        stripped = stripped.split("\n", 1)[1] if "\n" in stripped else ""
        stripped = stripped.rsplit("```", 1)[0]
    return stripped.strip()
