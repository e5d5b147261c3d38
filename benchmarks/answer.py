"""The fake endpoint's answer, as the benchmark needs to recognise it in a browser."""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass

from tests.fake_openai.server import markdown_tokens

# Markdown syntax, code-fence lines and whitespace never survive rendering the same way; letters and digits do.
_FENCE_LINE = re.compile(r"^\s*(```|~~~).*$", re.M)
_NOT_ALNUM = re.compile(r"[^0-9A-Za-z]+")
TAIL_CHARS = 60  # long enough that the tail cannot occur earlier in the text by chance


def alnum(text: str) -> str:
    return _NOT_ALNUM.sub("", _FENCE_LINE.sub("", text))


@dataclass(frozen=True)
class Answer:
    """The answer's text, its byte size, and the letters/digits a browser must show at its end."""

    tokens: int
    chars_per_token: int
    text: str

    @property
    def size_bytes(self) -> int:
        return len(self.text.encode())

    @property
    def alnum_length(self) -> int:
        return len(alnum(self.text))

    @property
    def tail(self) -> str:
        return alnum(self.text)[-TAIL_CHARS:]


@functools.cache
def answer(tokens: int, chars_per_token: int = 4) -> Answer:
    return Answer(tokens, chars_per_token, "".join(markdown_tokens(tokens, chars_per_token)))
