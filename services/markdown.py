"""Splitting a growing markdown text into finished blocks and the tail still being written."""

from __future__ import annotations

import re

_FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})")


def stable_prefix_length(text: str) -> int:
    """Length of the longest prefix made of whole blocks: it ends at a blank line that is outside any code
    fence or $$ math block and is followed by an unindented line, so rendering the prefix on its own gives
    the same result as rendering it inside the whole text. A streaming view renders that prefix once and
    re-renders only the tail."""
    stable = 0
    fence: str | None = None
    in_math = False
    offset = 0
    lines = text.splitlines(keepends=True)
    for index, line in enumerate(lines):
        offset += len(line)
        stripped = line.strip()
        match = _FENCE.match(line)
        if fence is None and match:
            fence = match.group(1)[0] * len(match.group(1))
        elif fence is not None and stripped.startswith(fence) and stripped.strip(fence[0]) == "":
            fence = None
        elif fence is None and stripped.count("$$") % 2 == 1:
            in_math = not in_math
        if fence is not None or in_math or stripped or not line.endswith("\n"):
            continue
        following = lines[index + 1] if index + 1 < len(lines) else ""
        if following and following.strip() and not following[0].isspace() and not _continues_list(following):
            stable = offset
    return stable


_LIST_ITEM = re.compile(r"^([-*+]|\d{1,9}[.)])\s")
_LIST_MARKER_SO_FAR = re.compile(r"[-*+]|\d{1,9}[.)]?")


def _continues_list(line: str) -> bool:
    # A loose list's next item would restart numbering or list styling if rendered apart: keep them together.
    if _LIST_ITEM.match(line):
        return True
    # While streaming, an unfinished last line such as "-" or "2" may still become the next item: wait for it,
    # or a prefix rendered now would have to be taken back when the space arrives.
    return not line.endswith(("\n", "\r")) and _LIST_MARKER_SO_FAR.fullmatch(line) is not None
