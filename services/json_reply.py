"""Checking a reply that was asked to be JSON: does it parse, and does it match the requested schema?"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import SchemaError
from referencing import Registry
from referencing.exceptions import NoSuchResource, Unresolvable

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
    problem = schema_problem(schema)
    if problem:
        return JsonVerdict(True, False, problem, pretty)
    try:
        errors = sorted(Draft202012Validator(schema, registry=OFFLINE).iter_errors(value), key=lambda e: list(e.path))
    except Unresolvable as exc:
        return JsonVerdict(True, False, f"The schema refers to {exc.ref!r}, which is not fetched: use local $defs.", pretty)
    except RecursionError:
        return JsonVerdict(True, False, "The schema refers to itself without end.", pretty)
    if errors:
        first = errors[0]
        where = "/".join(str(p) for p in first.path) or "(root)"
        return JsonVerdict(True, False, f"Does not match the schema at {where}: {first.message}", pretty)
    return JsonVerdict(True, True, None, pretty)


def _retrieve_nothing(uri: str) -> None:
    raise NoSuchResource(ref=uri)


# Without a registry, jsonschema GETs any remote `$ref` from the server (its deprecated automatic resolution): a
# schema typed by a user or arriving in an import would make the server fetch whatever address it names.
OFFLINE: Registry = Registry(retrieve=_retrieve_nothing)  # type: ignore[call-arg]


def schema_problem(schema: Any) -> str | None:
    """Why `schema` is not a JSON Schema this page can check against, in words; None when it is one."""
    if not isinstance(schema, (dict, bool)):
        return "The schema is not a JSON object."
    try:
        Draft202012Validator.check_schema(schema)
    except SchemaError as exc:
        where = "/".join(str(p) for p in exc.path) or "(root)"
        return f"The schema is not valid JSON Schema at {where}: {exc.message}"
    except RecursionError:
        return "The schema nests too deep to check."
    return None


def _strip_code_fence(text: str) -> str:
    # Models often wrap JSON in ```json fences even in JSON mode.
    stripped = text.strip()
    if stripped.startswith("```") and stripped.endswith("```"):
        stripped = stripped.split("\n", 1)[1] if "\n" in stripped else ""
        stripped = stripped.rsplit("```", 1)[0]
    return stripped.strip()
