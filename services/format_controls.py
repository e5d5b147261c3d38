"""Invisible Unicode format characters that can make a title or a file name read as something else.

U+202E (right-to-left override) shows "invoice\u202Egnp.exe" as "invoiceexe.png"; zero-width and tag characters
hide text. Arabic and Hebrew need none of these to read right to left (the Unicode bidi algorithm orders them by
their letters), so removing them changes nothing a reader should see. Kept: ZWNJ and ZWJ (Persian and Indic
spelling, emoji sequences) and the three directional marks (LRM, RLM, ALM), which place neutral characters such as
punctuation but cannot reverse a run of text.
"""

from __future__ import annotations

import re

_SPOOFING = re.compile(
    "["
    "\u202a-\u202e"  # embeddings and overrides: LRE, RLE, PDF, LRO, RLO
    "\u2066-\u2069"  # isolates: LRI, RLI, FSI, PDI
    "\u200b\u2060-\u2064\ufeff"  # zero-width space, word joiner, invisible operators, zero-width no-break space
    "\u00ad\u180e\u206a-\u206f\ufff9-\ufffb"  # soft hyphen, Mongolian vowel separator, deprecated and annotation controls
    "\U000e0000-\U000e007f"  # tag characters: invisible ASCII that can smuggle text
    "]"
)


def strip_format_controls(text: str) -> str:
    """`text` without the characters that can reorder or hide what it shows."""
    return _SPOOFING.sub("", text)
