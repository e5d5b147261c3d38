"""Bounds on JSON from users, files and endpoints: nesting depth, size, and numbers that JSON and the database hold.

Python's json module parses NaN, Infinity and 1e999 (JSON has no such numbers; sending them fails later with
"Out of range float values are not JSON compliant"), raises RecursionError on deep nesting and ValueError on
integers of more than 4,300 digits. Every JSON field goes through `loads` (text) or `check` (values already
parsed, e.g. stored or imported), so each of these becomes one JsonLimitError saying where the problem is.
"""

from __future__ import annotations

import json
import math
from typing import Any

# Deep enough for any real tool list or schema, far below the depth at which json (about 1,000 levels) and
# jsonschema's recursive checks (fewer) run out of stack.
MAX_DEPTH = 64
MAX_CHARS = 1_000_000  # one parameter field; imports pass their own bound
INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1  # what an INTEGER column in SQLite and PostgreSQL (BIGINT) holds


class JsonLimitError(ValueError):
    """JSON that is valid text but beyond what RelayChat accepts; the message says where and why."""


def loads(text: str | bytes, *, max_depth: int = MAX_DEPTH, max_chars: int | None = MAX_CHARS) -> Any:
    """Parse JSON within the bounds (None: no size bound). Raises json.JSONDecodeError for broken JSON,
    JsonLimitError for the rest."""
    if max_chars is not None and len(text) > max_chars:
        raise JsonLimitError(f"is {len(text):,} characters long; the most accepted is {max_chars:,}.")
    try:
        value = json.loads(text)  # NaN and Infinity parse to floats; check() reports them with where they are
    except RecursionError:
        raise JsonLimitError(f"is nested deeper than {max_depth} levels.") from None
    except json.JSONDecodeError:
        raise
    except ValueError:  # an integer of more than 4,300 digits (Python's int conversion limit)
        raise JsonLimitError("holds a number with thousands of digits: JSON numbers must fit in 64 bits.") from None
    check(value, max_depth=max_depth)
    return value


def check(value: Any, *, max_depth: int = MAX_DEPTH) -> None:
    """Raise JsonLimitError if `value` nests deeper than max_depth or holds a number JSON or int64 cannot carry.
    Iterative, so that a value too deep for recursion is reported instead of crashing."""
    # A path is (parent path, key), made into text only when there is something to report. Strings, the bulk of
    # any document, are skipped without a stack entry: 30 MB of JSON is checked in about as long as it takes to parse.
    if not isinstance(value, (dict, list, tuple)):
        _check_number(value, None)
        return
    stack: list[tuple[Any, Any, int]] = [(value, None, 1)]
    while stack:
        item, path, depth = stack.pop()
        if depth > max_depth:
            raise JsonLimitError(f"is nested deeper than {max_depth} levels.")
        for key, child in item.items() if isinstance(item, dict) else enumerate(item):
            if isinstance(child, (dict, list, tuple)):
                stack.append((child, (path, key), depth + 1))
            elif isinstance(child, (int, float)):
                _check_number(child, (path, key))


def _check_number(item: Any, path: Any) -> None:
    at = f" at {_path_text(path)}" if path else ""
    if isinstance(item, float) and not math.isfinite(item):
        raise JsonLimitError(f"holds {_name(item)}{at}: JSON numbers must be finite (NaN and Infinity are not JSON).")
    if isinstance(item, int) and not isinstance(item, bool) and not INT64_MIN <= item <= INT64_MAX:
        raise JsonLimitError(f"holds a whole number beyond 64 bits{at}: the largest accepted is {INT64_MAX:,}.")


def _path_text(path: Any) -> str:
    keys = []
    while path is not None:
        path, key = path
        keys.append(key)
    return "".join(
        f"[{key}]" if isinstance(key, int) else f".{key}" if key.isidentifier() else f"[{json.dumps(key)}]"
        for key in reversed(keys)
    )


def _name(number: float) -> str:
    return "NaN" if math.isnan(number) else ("Infinity" if number > 0 else "-Infinity")
