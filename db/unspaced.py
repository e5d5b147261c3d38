"""Scripts written without spaces between words (Chinese, Japanese, Korean, Thai…) and how their text is searched.

A word index cannot split `我们做抽奖系统` into words, so text in these scripts is searched by substring: SQLite
indexes it with FTS5's trigram tokenizer (migration 0006), PostgreSQL with pg_trgm. A query term that contains one
such character matches anywhere inside a message, like a LIKE pattern; other terms stay words.
"""

from __future__ import annotations

import re

from sqlalchemy import text
from sqlalchemy.orm import Session

# Code point ranges. Migration 0006 holds its own copy (a migration must not change when this module does);
# tests/db/test_search_unspaced.py checks that the two agree and that SQLite's triggers index every such text.
# Left out, being rare in text typed or generated today: Myanmar, Khmer, Yi, Hangul conjoining jamo, CJK radicals
# and compatibility ideographs, full-width forms and the CJK extensions past U+FFFF; a term made only of them is
# searched as a word.
RANGES: tuple[tuple[int, int], ...] = (
    (0x0E00, 0x0EFF),  # Thai, Lao
    (0x3000, 0x9FFF),  # CJK punctuation, kana, Bopomofo, Hangul compatibility jamo, CJK ideographs
    (0xAC00, 0xD7AF),  # Hangul syllables
)
_CHARACTER = re.compile("[" + "".join(f"{chr(low)}-{chr(high)}" for low, high in RANGES) + "]")
# Appended to the text the trigram index is given: every substring of one or two characters, even at the end of a
# text, is then the start of some trigram (private-use characters, never typed).
PADDING = "\ue002\ue002"
# A one- or two-character term is looked up as every indexed trigram it begins; past this many it matches too much
# to be worth a full-text query, and the rows are scanned instead.
MAX_EXPANSION = 5_000
MAX_PREFIX_WORDS = 200  # the same for the last word of a mixed query (`抽奖 sys`)


def is_unspaced(term: str) -> bool:
    """Whether a query term is searched by substring: it has a character of a script written without spaces."""
    return _CHARACTER.search(term) is not None


def _quoted(phrase: str) -> str:
    return '"' + phrase.replace('"', '""') + '"'


def trigram_match(session: Session, table: str, terms: list[str]) -> str | None:
    """FTS5 syntax finding, in the trigram table `table`, the rows containing every term as a substring; None
    when a term occurs nowhere (nothing can match), or a short term begins too many trigrams (scan instead)."""
    parts = []
    for term in terms:
        folded = term.lower()  # as the trigram tokenizer folds case
        if len(folded) >= 3:
            parts.append(_quoted(folded))
            continue
        # FTS5 finds no substring shorter than a trigram: ask for every trigram that starts with it.
        following = folded[:-1] + chr(min(ord(folded[-1]) + 1, 0x10FFFF))
        trigrams = session.scalars(
            text(f"SELECT term FROM {table}_vocab WHERE term >= :term AND term < :following LIMIT :cap"),
            {"term": folded, "following": following, "cap": MAX_EXPANSION + 1},
        ).all()
        if not trigrams:
            return None
        if len(trigrams) > MAX_EXPANSION:
            raise TooCommon(term)
        parts.append("(" + " OR ".join(_quoted(trigram) for trigram in trigrams) + ")")
    return " AND ".join(parts)


def words_match(session: Session, table: str, words: list[str], *, prefix: bool) -> str | None:
    """FTS5 syntax finding, in the word index `table`, the rows with every word, the last one as a prefix when
    `prefix`; None when no indexed word begins with it. A mixed query (`抽奖 sys`) asks this once per row the
    trigram index found, and FTS5 merges every word a prefix begins at each ask (330 ms a page at 1,000,000
    messages), so the prefix is spelled out as those words where it is one plain word (40 ms)."""
    quoted = [_quoted(word) for word in words]
    last = words[-1]
    if prefix and last.isascii() and last.isalnum():  # folded as the word index folds it: lower case
        folded = last.lower()
        following = folded[:-1] + chr(ord(folded[-1]) + 1)
        begun = session.scalars(
            text(f"SELECT term FROM {table}_vocab WHERE term >= :term AND term < :following LIMIT :cap"),
            {"term": folded, "following": following, "cap": MAX_PREFIX_WORDS + 1},
        ).all()
        if not begun:
            return None
        if len(begun) <= MAX_PREFIX_WORDS:
            quoted[-1] = "(" + " OR ".join(_quoted(word) for word in begun) + ")"
            prefix = False
    if prefix:
        quoted[-1] += "*"
    return " AND ".join(quoted)


class TooCommon(Exception):
    """A one- or two-character term begins more trigrams than a full-text query should list."""


# PostgreSQL: the predicate of migration 0006's partial pg_trgm indexes; a query repeats it word for word, which is
# how the planner knows the index holds every row the query can match.
POSTGRESQL_PATTERN = "'[" + "".join(f"{chr(low)}-{chr(high)}" for low, high in RANGES) + "]'"
