"""Text from an endpoint (error messages, model ids, tool names) drawn literally by elements that read markdown."""

from __future__ import annotations

import re

from services.rendering import escape_markdown

_BACKTICKS = re.compile(r"`+")
_PARAGRAPH_BREAK = re.compile(r"\n\s*\n")


def literal_markdown(text: str) -> str:
    """`text` as markdown that shows exactly its words, paragraph breaks kept; nothing in it becomes markup."""
    return "\n\n".join(escape_markdown(paragraph) for paragraph in _PARAGRAPH_BREAK.split(text) if paragraph.strip())


def code_span(text: str) -> str:
    """One line of `text` as an inline code span, with a backtick fence longer than any run inside it."""
    line = " ".join(text.split())
    fence = "`" * (max((len(run) for run in _BACKTICKS.findall(line)), default=0) + 1)
    padding = " " if line.startswith("`") or line.endswith("`") or not line.strip() else ""
    return f"{fence}{padding}{line}{padding}{fence}"
