"""Search a user's conversation titles and message text, newest first, with the matching words marked.

SQLite uses the FTS5 tables of migration 0002, PostgreSQL its full-text search over the GIN indexes, and any
other database (or a SQLite built without FTS5) a plain LIKE scan, which finds each word anywhere, even inside
a longer word. A term in a script written without spaces (Chinese, Japanese, Korean…, see db/unspaced.py) is
found anywhere too, through the trigram indexes of migration 0006. Deleted conversations are never searched.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Literal, NamedTuple

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from db.models import Conversation, Message, User
from db.unspaced import POSTGRESQL_PATTERN, TooCommon, is_unspaced, trigram_match, words_match

SearchMethod = Literal["fts5", "postgresql", "like"]

DEFAULT_LIMIT = 20
SNIPPET_TOKENS = 16  # FTS5 snippet length in words
SNIPPET_CHARS = 160  # the LIKE fallback's snippet length
# PostgreSQL: how many of the newest messages are read back one by one before the index is asked for older ones.
RECENT_MESSAGES = 20_000
# …fewer for a substring of Chinese, Japanese or Korean: ILIKE reads such text at ~40 µs a message (0.8 s for
# 20,000), the partial indexes find a rare one in a few ms, and a common one is in the newest couple of thousand.
RECENT_UNSPACED_MESSAGES = 2_000
ELLIPSIS = "…"
# Private-use characters mark matches inside snippets coming from the database; split on them afterwards.
MATCH_START, MATCH_END = "\ue000", "\ue001"


def made_by_migration(type_: str, name: str | None) -> bool:
    """Whether a schema object belongs to full-text search, which migration 0002 writes by hand (FTS5 tables,
    GIN indexes, PostgreSQL's generated tsvector column) and the models do not describe."""
    if not name:
        return False
    if type_ == "table":
        return "_fts" in name
    if type_ == "column":
        return name == "search_vector"
    return type_ == "index" and name.endswith("_search")


class Segment(NamedTuple):
    """A piece of a snippet: `is_match` pieces are the words the query found (to be highlighted)."""

    text: str
    is_match: bool


@dataclass(frozen=True)
class SearchHit:
    """A search result: a message, or (message_id None) a conversation whose title matched."""

    conversation_id: int
    message_id: int | None
    title: str
    role: str | None
    snippet: tuple[Segment, ...]


def search_method(session: Session) -> SearchMethod:
    """How this database is searched: its full-text search when the migration could create it, else LIKE."""
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        return "postgresql"
    if dialect == "sqlite" and session.scalar(
        text("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'messages_fts'")
    ):
        return "fts5"
    return "like"


def search_messages(session: Session, user: User, query: str, *, limit: int = DEFAULT_LIMIT) -> list[SearchHit]:
    """The user's conversations whose title matches (first), then messages containing every word of `query`
    (the last word may be the start of a word), newest first, at most `limit` in all."""
    terms = query_terms(query)
    if not terms or limit <= 0:
        return []
    method = search_method(session)
    if method == "fts5" and any(is_unspaced(term) for term in terms):
        return _search_trigram(session, user, terms, limit)
    search = {"fts5": _search_fts5, "postgresql": _search_postgresql, "like": _search_like}[method]
    return search(session, user, terms, limit)


def query_terms(query: str) -> list[str]:
    """The words of a query; pieces without a letter or digit cannot match anything and are dropped."""
    return [term for term in query.split() if any(character.isalnum() for character in term)]


# --- SQLite FTS5 -------------------------------------------------------------------------------------------


def fts5_query(terms: list[str], *, prefix: bool = True) -> str:
    """FTS5 syntax matching every term literally (operators and quotes in them mean nothing), the last as a prefix."""
    quoted = ['"' + term.replace('"', '""') + '"' for term in terms]
    return " ".join(quoted) + ("*" if prefix else "")


def _search_fts5(session: Session, user: User, terms: list[str], limit: int) -> list[SearchHit]:
    # CROSS JOIN makes SQLite start from the full-text matches. Left to itself it may walk the user's
    # conversations and probe the index once per row: 0.6 s instead of 5 ms at 50,000 conversations.
    params = {"query": fts5_query(terms), "user_id": user.id, "limit": limit, "start": MATCH_START, "end": MATCH_END}
    titles = session.execute(
        text(
            "SELECT c.id, c.title, highlight(conversations_fts, 0, :start, :end) "
            "FROM conversations_fts CROSS JOIN conversations c ON c.id = conversations_fts.rowid "
            "WHERE conversations_fts MATCH :query AND c.user_id = :user_id AND c.deleted_at IS NULL "
            "ORDER BY c.updated_at DESC, c.id DESC LIMIT :limit"
        ),
        params,
    ).all()
    # Newest first is what FTS5 returns cheaply (rowid order); ranking by relevance would score every match.
    messages = session.execute(
        text(
            "SELECT m.id, m.conversation_id, c.title, m.role, "
            f"snippet(messages_fts, 0, :start, :end, '{ELLIPSIS}', {SNIPPET_TOKENS}) "
            "FROM messages_fts CROSS JOIN messages m ON m.id = messages_fts.rowid "
            "CROSS JOIN conversations c ON c.id = m.conversation_id "
            "WHERE messages_fts MATCH :query AND c.user_id = :user_id AND c.deleted_at IS NULL "
            "ORDER BY messages_fts.rowid DESC LIMIT :limit"
        ),
        {**params, "limit": limit - len(titles)},
    ).all()
    return _hits(titles, messages)


def _search_trigram(session: Session, user: User, terms: list[str], limit: int) -> list[SearchHit]:
    """SQLite, a query with a term in an unspaced script: those terms by substring in the trigram tables, the
    other words (if any) through the word index, as words, the last one as a prefix if it is last in the query."""
    if not session.scalar(text("SELECT 1 FROM sqlite_master WHERE name = 'messages_cjk_fts'")):
        return _search_like(session, user, terms, limit)  # a SQLite older than 3.34 has no trigram tokenizer
    unspaced = [term for term in terms if is_unspaced(term)]
    words = [term for term in terms if not is_unspaced(term)]
    try:
        title_match = trigram_match(session, "conversations_cjk_fts", unspaced)
        message_match = trigram_match(session, "messages_cjk_fts", unspaced)
    except TooCommon:
        # A character so common that listing its trigrams costs more than reading the newest rows until
        # the page is full, which such a character fills quickly.
        return _search_like(session, user, terms, limit)
    prefix = not is_unspaced(terms[-1])
    title_words = words_match(session, "conversations_fts", words, prefix=prefix) if words else ""
    message_words = words_match(session, "messages_fts", words, prefix=prefix) if words else ""
    params: dict[str, Any] = {"user_id": user.id}
    titles: list[Any] = []
    if title_match is not None and title_words is not None:
        has_words = (
            " AND EXISTS (SELECT 1 FROM conversations_fts WHERE conversations_fts MATCH :words AND rowid = c.id)"
            if words else ""
        )
        rows = session.execute(
            text(
                "SELECT c.id, c.title FROM conversations_cjk_fts "
                "CROSS JOIN conversations c ON c.id = conversations_cjk_fts.rowid "
                "WHERE conversations_cjk_fts MATCH :match "
                f"AND c.user_id = :user_id AND c.deleted_at IS NULL{has_words} "
                "ORDER BY c.updated_at DESC, c.id DESC LIMIT :limit"
            ),
            {**params, "match": title_match, "words": title_words, "limit": limit},
        ).all()
        titles = [(row.id, row.title, mark_terms(row.title, terms)) for row in rows]
    messages: list[Any] = []
    if message_match is not None and message_words is not None and limit > len(titles):
        has_words = (
            " AND EXISTS (SELECT 1 FROM messages_fts WHERE messages_fts MATCH :words AND rowid = m.id)" if words else ""
        )
        rows = session.execute(
            text(
                "SELECT m.id, m.conversation_id, c.title, m.role, m.content "
                "FROM messages_cjk_fts CROSS JOIN messages m ON m.id = messages_cjk_fts.rowid "
                "CROSS JOIN conversations c ON c.id = m.conversation_id "
                "WHERE messages_cjk_fts MATCH :match "
                f"AND c.user_id = :user_id AND c.deleted_at IS NULL{has_words} "
                "ORDER BY messages_cjk_fts.rowid DESC LIMIT :limit"
            ),
            {**params, "match": message_match, "words": message_words, "limit": limit - len(titles)},
        ).all()
        messages = [(*row[:4], mark_terms(_window(row.content, terms), terms)) for row in rows]
    return _hits(titles, messages)


# --- PostgreSQL full text ----------------------------------------------------------------------------------


def tsquery(terms: list[str], *, prefix: bool = True) -> str:
    """to_tsquery syntax matching every term literally, the last as a prefix (each term is a quoted lexeme)."""
    quoted = ["'" + term.replace("\\", "\\\\").replace("'", "''") + "'" for term in terms]
    if prefix:
        quoted[-1] += ":*"
    return " & ".join(quoted)


def _search_postgresql(session: Session, user: User, terms: list[str], limit: int) -> list[SearchHit]:
    markers = f"StartSel={MATCH_START}, StopSel={MATCH_END}"
    # Short texts are shown whole; long ones as the fragment around the matches, with words on both sides.
    whole = f"{markers}, HighlightAll=true"
    fragment = f"{markers}, MaxFragments=1, MaxWords={SNIPPET_TOKENS}, MinWords={SNIPPET_TOKENS // 2}"
    words = [term for term in terms if not is_unspaced(term)]
    unspaced = [term for term in terms if is_unspaced(term)]
    params: dict[str, Any] = {
        "query": tsquery(words, prefix=not is_unspaced(terms[-1])) if words else "", "user_id": user.id,
        "limit": limit, "whole": whole, "fragment": fragment, "short": SNIPPET_CHARS,
    }
    title_where, recent_where = [], []
    if words:
        title_where.append("to_tsvector('simple', c.title) @@ to_tsquery('simple', :query)")
        recent_where.append("search_vector @@ to_tsquery('simple', :query)")
    older_where = list(recent_where)
    if unspaced:
        # Substrings: titles (short, a few per user) and the newest messages are read; older messages are found
        # through migration 0006's partial indexes, whose predicate is repeated for the planner.
        older_where.append(f"content ~ {POSTGRESQL_PATTERN}")
        for number, term in enumerate(unspaced):
            params[f"like{number}"] = _like_pattern(term)
            params[f"short{number}"] = term.lower()
            title_where.append(f"c.title ILIKE :like{number}")
            recent_where.append(f"content ILIKE :like{number}")
            # pg_trgm finds no substring shorter than a trigram; the other index holds those.
            older_where.append(
                f"content ILIKE :like{number}" if len(term) >= 3
                else f"relaychat_short_substrings(content) @> ARRAY[CAST(:short{number} AS text)]"
            )
    title_headline = (
        "c.title" if unspaced else "ts_headline('simple', c.title, to_tsquery('simple', :query), :whole)"
    )
    rows = session.execute(
        text(
            f"SELECT c.id, c.title, {title_headline} FROM conversations c "
            f"WHERE {' AND '.join(title_where)} AND c.user_id = :user_id AND c.deleted_at IS NULL "
            "ORDER BY c.updated_at DESC, c.id DESC LIMIT :limit"
        ),
        params,
    ).all()
    titles = [(*row[:2], mark_terms(row[1], terms)) if unspaced else tuple(row) for row in rows]
    # Newest first has no plan that is fast for every word: walking the newest messages back finds a common word
    # at once but reads the whole table for a rare one, and the GIN index is the other way round (PostgreSQL
    # picks badly: it cannot estimate prefix matches). So walk back through the newest RECENT_MESSAGES, and
    # only if that did not fill the page, take the older matches from the index.
    recent_count = RECENT_UNSPACED_MESSAGES if unspaced else RECENT_MESSAGES
    floor = (session.scalar(text("SELECT max(id) FROM messages")) or 0) - recent_count
    wanted = limit - len(titles)
    headline = not unspaced
    recent = {**params, "floor": floor, "limit": wanted}
    rows = _postgresql_messages(session, recent, " AND ".join(recent_where), headline, older=False)
    if len(rows) < wanted and floor > 0:
        older = {**params, "floor": floor, "limit": wanted - len(rows)}
        rows += _postgresql_messages(session, older, " AND ".join(older_where), headline, older=True)
    if unspaced:
        messages = [(*row[:4], mark_terms(_window(row[4], terms), terms)) for row in rows]
    else:
        messages = [(*row[:4], _with_ellipses(row[5], row[4])) for row in rows]
    return _hits(titles, messages)


def _postgresql_messages(
    session: Session, params: dict[str, Any], found: str, headline: bool, *, older: bool
) -> list[Any]:
    if params["limit"] <= 0:
        return []
    # MATERIALIZED keeps the planner from turning the index lookup back into a newest-first walk.
    matches = "MATERIALIZED" if older else ""
    window = "id <= :floor" if older else "id > :floor"
    # The text is read, and its headline made, for the rows kept only.
    snippet = (
        ", ts_headline('simple', m.content, to_tsquery('simple', :query), "
        "CASE WHEN length(m.content) <= :short THEN :whole ELSE :fragment END)"
        if headline else ""
    )
    return list(
        session.execute(
            text(
                f"WITH matches AS {matches} ("
                f" SELECT id, conversation_id FROM messages WHERE {found} AND {window}), "
                "found AS ("
                " SELECT matches.id, matches.conversation_id, c.title FROM matches"
                " JOIN conversations c ON c.id = matches.conversation_id"
                " WHERE c.user_id = :user_id AND c.deleted_at IS NULL ORDER BY matches.id DESC LIMIT :limit) "
                f"SELECT found.id, found.conversation_id, found.title, m.role, m.content{snippet} "
                "FROM found JOIN messages m ON m.id = found.id ORDER BY found.id DESC"
            ),
            params,
        )
    )


def _with_ellipses(snippet: str, content: str) -> str:
    """ts_headline returns a fragment without saying it was cut: add the ellipses FTS5 would."""
    plain = snippet.replace(MATCH_START, "").replace(MATCH_END, "")
    stripped = content.strip()
    if plain and not stripped.startswith(plain.strip()):
        snippet = ELLIPSIS + snippet
    if plain and not stripped.endswith(plain.strip()):
        snippet += ELLIPSIS
    return snippet


# --- LIKE, anywhere ----------------------------------------------------------------------------------------


def _like_pattern(term: str) -> str:
    escaped = term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _search_like(session: Session, user: User, terms: list[str], limit: int) -> list[SearchHit]:
    visible = (Conversation.user_id == user.id, Conversation.deleted_at.is_(None))
    title_rows = session.execute(
        select(Conversation.id, Conversation.title)
        .where(*visible, *(Conversation.title.ilike(_like_pattern(term), escape="\\") for term in terms))
        .order_by(Conversation.updated_at.desc(), Conversation.id.desc())
        .limit(limit)
    ).all()
    titles = [(row.id, row.title, mark_terms(row.title, terms)) for row in title_rows]
    message_rows = session.execute(
        select(Message.id, Message.conversation_id, Conversation.title, Message.role, Message.content)
        .join(Conversation, Conversation.id == Message.conversation_id)
        .where(*visible, *(Message.content.ilike(_like_pattern(term), escape="\\") for term in terms))
        .order_by(Message.id.desc())
        .limit(limit - len(titles))
    ).all()
    messages = [(*row[:4], mark_terms(_window(row.content, terms), terms)) for row in message_rows]
    return _hits(titles, messages)


def _terms_pattern(terms: list[str]) -> re.Pattern[str]:
    # Longest first, so "foobar" is marked whole rather than as "foo" + "bar".
    alternatives = sorted({term.casefold() for term in terms}, key=len, reverse=True)
    return re.compile("|".join(re.escape(term) for term in alternatives), re.IGNORECASE)


def _window(content: str, terms: list[str]) -> str:
    """About SNIPPET_CHARS of `content` around the first match, cut at spaces, with ellipses where cut."""
    content = " ".join(content.split())
    found = _terms_pattern(terms).search(content)
    if found is None or len(content) <= SNIPPET_CHARS:
        return content[:SNIPPET_CHARS] + (ELLIPSIS if len(content) > SNIPPET_CHARS else "")
    start = max(0, found.start() - SNIPPET_CHARS // 3)
    end = min(len(content), start + SNIPPET_CHARS)
    if start > 0:
        space = content.find(" ", start, found.start())
        start = space + 1 if space != -1 else start
    if end < len(content):
        space = content.rfind(" ", found.end(), end)
        end = space if space != -1 else end
    return (ELLIPSIS if start > 0 else "") + content[start:end] + (ELLIPSIS if end < len(content) else "")


def mark_terms(plain: str, terms: list[str]) -> str:
    """`plain` with every occurrence of a term wrapped in the match markers."""
    return _terms_pattern(terms).sub(lambda found: MATCH_START + found.group(0) + MATCH_END, plain)


# --- results -----------------------------------------------------------------------------------------------


def segments(marked: str) -> tuple[Segment, ...]:
    """Split text carrying match markers into plain and matching segments (adjacent matches merged)."""
    result: list[Segment] = []
    for piece in re.split(f"({MATCH_START}.*?{MATCH_END})", marked, flags=re.DOTALL):
        is_match = piece.startswith(MATCH_START)
        piece = piece.replace(MATCH_START, "").replace(MATCH_END, "")
        if not piece:
            continue
        if result and result[-1].is_match == is_match:
            result[-1] = Segment(result[-1].text + piece, is_match)
        else:
            result.append(Segment(piece, is_match))
    return tuple(result)


def _hits(titles: Any, messages: Any) -> list[SearchHit]:
    hits = [
        SearchHit(conversation_id, None, title, None, segments(marked)) for conversation_id, title, marked in titles
    ]
    hits += [
        SearchHit(conversation_id, message_id, title, role, segments(marked))
        for message_id, conversation_id, title, role, marked in messages
    ]
    return hits
