"""Model and user text made ready for `st.markdown`, plus the media, reasoning and size read out of it.

Every function is pure and linear in the text's length (precompiled regexes without nested ambiguous
repetition), because the chat page calls them on every streaming update of replies up to ~100 KB.

How a text is read, roughly as Streamlit's parser (CommonMark + GFM + remark-math) reads it:
1. Fenced code blocks are found line by line and never changed.
2. The rest is scanned left to right for inline code spans, links, images, autolinks, reference
   definitions, raw HTML tags and bare URLs; whichever starts first wins, as in CommonMark.
3. Math delimiters and `$` are then handled in the remaining prose, never inside code, link
   destinations or URLs.
"""

from __future__ import annotations

import html
import re
from bisect import bisect_left
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Literal
from urllib.parse import urlsplit

from services.format_controls import strip_format_controls
from services.math_limits import bound_math_sizes, is_unboundable

SAFE_LINK_SCHEMES = frozenset({"http", "https", "mailto"})
REMOTE_SCHEMES = frozenset({"http", "https"})
IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg", ".gif", ".webp")
VIDEO_EXTENSIONS = (".mp4", ".webm", ".mov")
BLOCKED_IMAGE_LABEL = "🖼"
# Whether a remote image may load inline: all or none, or per URL (services.media_policy.MediaPolicy).
ImagePolicy = bool | Callable[[str], bool]

_PartKind = Literal["prose", "opaque", "code"]
_Part = tuple[_PartKind, str]  # prose: math and `$` handled; opaque: copied as is; code: copied, and math never spans it

# --- fenced code blocks --------------------------------------------------------------------------------------------

# Blockquote markers and list markers may precede a fence on its line.
_CONTAINER_PREFIX = r"(?:[ \t]*+(?:>|[-*+](?=[ \t])|\d{1,9}[.)](?=[ \t])))*+[ \t]*+"
_FENCE_OPEN = re.compile(rf"(?P<prefix>{_CONTAINER_PREFIX})(?P<fence>`{{3,}}|~{{3,}})(?P<info>[^\n]*)")
_FENCE_CLOSE = re.compile(r"[ \t>]*(?P<fence>`{3,}|~{3,})[ \t]*\Z")
_QUOTE_LEAD = re.compile(r"[ \t>]*")
_LIST_MARKER = re.compile(r"[-*+]|\d{1,9}[.)]")
_LINE = re.compile(r"[^\n]*\n|[^\n]+")


@dataclass(frozen=True)
class _OpenFence:
    """A fence that has opened and not yet closed."""

    char: str
    length: int
    quote_depth: int  # the fence also ends at a line with fewer `>` markers
    min_indent: int  # in a list item, it also ends at a non-blank line indented less (0: no such rule)
    closing_prefix: str  # what goes before a closing fence added while streaming


def _open_fence(line: str) -> _OpenFence | None:
    match = _FENCE_OPEN.fullmatch(line.rstrip("\r\n"))
    if match is None or (match["fence"][0] == "`" and "`" in match["info"]):
        return None
    prefix = match["prefix"]
    in_list = bool(_LIST_MARKER.search(prefix.replace(">", ""))) or len(prefix.expandtabs(4)) >= 4
    return _OpenFence(
        char=match["fence"][0],
        length=len(match["fence"]),
        quote_depth=prefix.count(">"),
        min_indent=len(prefix.expandtabs(4)) if in_list and ">" not in prefix else 0,
        closing_prefix=re.sub(r"[^ \t>]", " ", prefix),
    )


def _closes(line: str, fence: _OpenFence) -> bool:
    match = _FENCE_CLOSE.match(line.rstrip("\r\n"))
    return bool(match) and match["fence"][0] == fence.char and len(match["fence"]) >= fence.length


def _leaves_container(line: str, fence: _OpenFence) -> bool:
    # The parser closes a fence when its blockquote or list item ends, even without a closing fence.
    if not line.strip():
        return False
    if fence.quote_depth:
        return _QUOTE_LEAD.match(line).group().count(">") < fence.quote_depth
    if fence.min_indent:
        return len(line.expandtabs(4)) - len(line.expandtabs(4).lstrip()) < fence.min_indent
    return False


def _split_fenced_code(text: str) -> tuple[list[tuple[bool, str]], _OpenFence | None]:
    """The text cut into (is_code, chunk) pieces at fenced code blocks, and the fence left open at the end."""
    chunks: list[tuple[bool, str]] = []
    current: list[str] = []
    fence: _OpenFence | None = None
    for match in _LINE.finditer(text):
        line = match.group()
        if fence is not None and _leaves_container(line, fence):
            chunks.append((True, "".join(current)))
            current, fence = [], None
        if fence is None:
            opened = _open_fence(line)
            if opened is None:
                current.append(line)
                continue
            if current:
                chunks.append((False, "".join(current)))
            current, fence = [line], opened
        else:
            current.append(line)
            if _closes(line, fence):
                chunks.append((True, "".join(current)))
                current, fence = [], None
    if current:
        chunks.append((fence is not None, "".join(current)))
    return chunks, fence


# --- inline scanning -----------------------------------------------------------------------------------------------

# A bare URL may follow CJK text directly ("视频https://…"), but not letters of a longer word.
_INLINE_START = re.compile(r"\\.|`+|!?\[|\]\(|<|(?<![A-Za-z0-9+.\-/])(?i:https?://)", re.S)
_BACKTICKS = re.compile(r"`+")
_BLANK_LINE = re.compile(r"\n[ \t\r]*\n")

# Possessive quantifiers (*+, ++) keep failed matches linear: whitespace runs are never re-split.
_DEST = r"""(?P<dest><(?:[^<>\\\n]|\\.)*+>|(?:[^\s()\\]|\\\S|\\(?!\S)|\((?:[^\s()\\]|\\\S|\\(?!\S))*+\))*+)"""
_TITLE = r"""(?:\s++(?:"(?:[^"\\]|\\.)*+"|'(?:[^'\\]|\\.)*+'|\((?:[^()\\]|\\.)*+\)))?"""
_DEST_AND_TITLE = rf"\((?P<tail>\s*+{_DEST}{_TITLE}\s*+)\)"
_LINK = re.compile(rf"(?P<bang>!?)\[(?P<text>(?:[^\[\]\\]|\\.|\[(?:[^\[\]\\]|\\.)*+\])*+)\]{_DEST_AND_TITLE}", re.S)
_LINK_TAIL = re.compile(rf"\]{_DEST_AND_TITLE}", re.S)  # a link whose opening bracket nests too deep to match
_REFERENCE = re.compile(
    r"\[(?P<label>(?:[^\[\]\\]|\\.){1,999})\]:[ \t]*+(?:\n[ \t]*+)?(?P<dest><(?:[^<>\\\n]|\\.)*+>|\S++)"
)
_AUTOLINK = re.compile(r"<(?P<url>[A-Za-z][A-Za-z0-9+.\-]{1,31}:[^<>\x00-\x20]*)>")
_HTML_ATTRIBUTE = r"""\s++[A-Za-z_:][\w.:-]*+(?:\s*+=\s*+(?:[^\s"'=<>`]++|'[^']*+'|"[^"]*+"))?+"""
_HTML_TAG = re.compile(rf"</?[A-Za-z][A-Za-z0-9-]*+(?:{_HTML_ATTRIBUTE})*+\s*+/?>")
# A bare URL ends at whitespace, quotes, brackets, or CJK / full-width / general punctuation ("。", "）", "…").
_BARE_URL = re.compile(r"(?i:https?://)[^\s<>\"'`\\\[\]\u2000-\u206f\u3000-\u303f\uff00-\uffef]+")
_URL_TRAILING_PUNCTUATION = ".,:;!?*_~"


@dataclass(frozen=True)
class _Token:
    """One inline element: plain text, or a construct with its regex match."""

    kind: Literal["text", "code", "link", "link_tail", "reference", "autolink", "html", "bare_url", "image_bang"]
    text: str
    match: re.Match[str] | None = None


def _inline_tokens(text: str) -> Iterator[_Token]:
    """The text (free of fenced code) cut into inline elements, left to right as a CommonMark parser would."""
    runs_by_length: dict[int, list[int]] = {}
    for run in _BACKTICKS.finditer(text):
        runs_by_length.setdefault(len(run.group()), []).append(run.start())
    blank_lines = [match.start() for match in _BLANK_LINE.finditer(text)]
    plain_from = position = 0
    while (start_match := _INLINE_START.search(text, position)) is not None:
        start, opener = start_match.start(), start_match.group()
        token, end = _token_at(text, start, opener, runs_by_length, blank_lines)
        if token is None:
            # Not a construct here: an escape, lone backticks, or a bracket; the next one may start one character on.
            position = start_match.end() if opener[0] in "\\`" or opener == "](" else start + 1
            continue
        if start > plain_from:
            yield _Token("text", text[plain_from:start])
        yield token
        plain_from = position = end
    if plain_from < len(text):
        yield _Token("text", text[plain_from:])


def _token_at(
    text: str, start: int, opener: str, runs_by_length: dict[int, list[int]], blank_lines: list[int]
) -> tuple[_Token | None, int]:
    if opener[0] == "\\":
        return None, 0
    if opener[0] == "`":
        end = _code_span_end(start, len(opener), runs_by_length, blank_lines)
        return (_Token("code", text[start:end]), end) if end else (None, 0)
    if opener[-1] == "[":
        if match := _LINK.match(text, start):
            return _Token("link", match.group(), match), match.end()
        if opener == "![":
            return _Token("image_bang", "!"), start + 1
        if match := _REFERENCE.match(text, start):
            return _Token("reference", match.group(), match), match.end()
        return None, 0
    if opener == "](":
        match = _LINK_TAIL.match(text, start)
        return (_Token("link_tail", match.group(), match), match.end()) if match else (None, 0)
    if opener == "<":
        if match := _AUTOLINK.match(text, start):
            return _Token("autolink", match.group(), match), match.end()
        if match := _HTML_TAG.match(text, start):
            return _Token("html", match.group(), match), match.end()
        return None, 0
    match = _BARE_URL.match(text, start)
    url = _trim_bare_url(match.group()) if match else ""
    if not url.partition("://")[2]:
        return None, 0
    return _Token("bare_url", url), start + len(url)


def _code_span_end(start: int, length: int, runs_by_length: dict[int, list[int]], blank_lines: list[int]) -> int:
    """Where the code span opened by `length` backticks at `start` ends, or 0: its closer is the next run of
    exactly as many backticks within the same paragraph."""
    runs = runs_by_length.get(length, [])
    index = bisect_left(runs, start + length)
    if index == len(runs) or _has_blank_line(blank_lines, start, runs[index]):
        return 0
    return runs[index] + length


def _has_blank_line(blank_lines: list[int], start: int, end: int) -> bool:
    index = bisect_left(blank_lines, start)
    return index < len(blank_lines) and blank_lines[index] < end


def _trim_bare_url(url: str) -> str:
    """A bare URL without the punctuation that ends its sentence, as GFM autolinks trim it."""
    end = len(url)
    unmatched_closing = url.count(")") - url.count("(")
    while end:
        if url[end - 1] in _URL_TRAILING_PUNCTUATION:
            end -= 1
        elif url[end - 1] == ")" and unmatched_closing > 0:
            end -= 1
            unmatched_closing -= 1
        else:
            break
    return url[:end]


# --- URL safety ----------------------------------------------------------------------------------------------------

_BACKSLASH_ESCAPE = re.compile(r"\\([!-/:-@\[-`{-~])")
_IGNORED_URL_CHARS = re.compile(r"[\x00-\x20\x7f]")  # browsers drop tabs and newlines anywhere, spaces at the ends
_SCHEME = re.compile(r"([A-Za-z][A-Za-z0-9+.\-]*):")
_DATA_IMAGE = re.compile(r"(?i:data:image/(?:png|jpe?g|gif|webp);base64,)[A-Za-z0-9+/]+={0,2}")
_UNSAFE_MEDIA_CHAR = re.compile(r"[\x00-\x20\x7f\\]")
_PARENT_SEGMENT = re.compile(r"(?:^|/)\.\.(?:/|$)")


def _destination_url(raw: str) -> str:
    """A link destination as the browser will receive it: brackets off, escapes and entities decoded."""
    if raw.startswith("<") and raw.endswith(">"):
        raw = raw[1:-1]
    return html.unescape(_BACKSLASH_ESCAPE.sub(r"\1", raw))


def _scheme(url: str) -> str | None:
    """The URL's scheme as a browser reads it (lower case), or None for a relative URL."""
    match = _SCHEME.match(_IGNORED_URL_CHARS.sub("", url))
    return match.group(1).lower() if match else None


def _is_safe_link(url: str, *, image: bool) -> bool:
    scheme = _scheme(url)
    if scheme is None:
        return True
    if image:
        return scheme in REMOTE_SCHEMES or bool(_DATA_IMAGE.fullmatch(url))
    return scheme in SAFE_LINK_SCHEMES


def _is_remote(url: str) -> bool:
    # "//host/x.png" and "\\host\x.png" are relative to the page's scheme: remote as well.
    cleaned = _IGNORED_URL_CHARS.sub("", url).replace("\\", "/")
    return _scheme(url) in REMOTE_SCHEMES or cleaned.startswith("//")


def is_safe_media_url(url: str) -> bool:
    """Whether `url` may be given to st.image / st.video: an http(s) URL with a host, or a base64 raster data URL.
    Anything else could be read as a local file path by Streamlit, which checks `os.path.isfile` first."""
    if _DATA_IMAGE.fullmatch(url):
        return True
    if _UNSAFE_MEDIA_CHAR.search(url):
        return False
    try:
        parts = urlsplit(url)
        host = parts.hostname
    except ValueError:
        return False
    return parts.scheme.lower() in REMOTE_SCHEMES and bool(host) and not _PARENT_SEGMENT.search(parts.path)


# --- links, images and URLs rewritten ------------------------------------------------------------------------------


def _code_span(content: str) -> str:
    """`content` as an inline code span, with a backtick fence longer than any run inside it."""
    fence = "`" * (max((len(run) for run in _BACKTICKS.findall(content)), default=0) + 1)
    padding = " " if content.startswith("`") or content.endswith("`") or not content.strip() else ""
    return f"{fence}{padding}{content}{padding}{fence}"


def _shown_as_code(label: list[_Part], raw_url: str) -> list[_Part]:
    """An inert stand-in for a refused link: its text, then its URL in code."""
    url = raw_url[1:-1] if raw_url.startswith("<") and raw_url.endswith(">") else raw_url
    if not any(text.strip() for _, text in label):
        return [("opaque", _code_span(url))]
    return [*label, ("prose", " ("), ("opaque", _code_span(url)), ("prose", ")")]


def _may_load(allow_remote_images: ImagePolicy, url: str) -> bool:
    return allow_remote_images(url) if callable(allow_remote_images) else allow_remote_images


def _rewrite_link(match: re.Match[str], allow_remote_images: ImagePolicy) -> list[_Part]:
    is_image = bool(match["bang"])
    label = _rewrite_inline(match["text"], allow_remote_images)
    url = _destination_url(match["dest"])
    tail: _Part = ("opaque", f"]({match['tail']})")
    if not _is_safe_link(url, image=is_image):
        return _shown_as_code(label, match["dest"])
    if is_image and _is_remote(url) and not _may_load(allow_remote_images, url):
        return [("prose", f"[{BLOCKED_IMAGE_LABEL} "), *(label or [("prose", "image")]), tail]
    return [("prose", match["bang"] + "["), *label, tail]


def _rewrite_token(token: _Token, allow_remote_images: ImagePolicy) -> list[_Part]:
    match = token.match
    if token.kind == "link":
        return _rewrite_link(match, allow_remote_images)
    if token.kind == "link_tail":
        if _is_safe_link(_destination_url(match["dest"]), image=False):
            return [("prose", "]"), ("opaque", token.text[1:])]
        return [("prose", "] ("), ("opaque", _code_span(match["dest"])), ("prose", ")")]
    if token.kind == "reference":
        dest_at = match.start("dest") - match.start()
        if _is_safe_link(_destination_url(match["dest"]), image=False):
            return [("prose", token.text[:dest_at]), ("opaque", match["dest"])]
        # "]\:" is no longer a definition (and "\[…\]" would read as display math).
        return [("prose", f"[{match['label']}]\\: "), ("opaque", _code_span(match["dest"]))]
    if token.kind == "autolink":
        return [("opaque", token.text if _is_safe_link(match["url"], image=False) else _code_span(match["url"]))]
    if token.kind == "image_bang":
        # An image we could not match inline (reference style, deep nesting): escaping "!" leaves a plain link.
        # Its URL is not known here: only an allow-all policy lets it load inline; below the reply it asks first.
        return [("prose", "!" if allow_remote_images is True else "\\!")]
    if token.kind == "code":
        return [("code", token.text)]
    if token.kind in ("html", "bare_url"):
        return [("opaque", token.text)]
    return [("prose", token.text)]


def _rewrite_inline(text: str, allow_remote_images: ImagePolicy) -> list[_Part]:
    return [part for token in _inline_tokens(text) for part in _rewrite_token(token, allow_remote_images)]


# --- math and dollars ----------------------------------------------------------------------------------------------

_MATH_TOKEN = re.compile(r"\\[()\[\]]|\\.|\$+", re.S)
_MATH_DELIMITERS = ("\\(", "\\)", "\\[", "\\]")
_LINE_PREFIX = re.compile(r"[ \t>]*")
_LEADING_NEWLINE = re.compile(r"[ \t\r]*\n")
_DIGITS = "0123456789"
_UPPERCASE = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
_MONEY_AMOUNT = re.compile(r" ?[0-9]")


@dataclass(frozen=True)
class _MathToken:
    """A `\\(`, `\\)`, `\\[`, `\\]` or a run of `$` in prose."""

    start: int
    end: int
    kind: str  # the delimiter itself, or "$" for a run of dollars


@dataclass(frozen=True)
class _Piece:
    """Prose between code spans, joined into one string; math may span its opaque parts."""

    text: str
    starts_line: bool
    ends_line: bool
    blank_lines: list[int]


def _math_tokens(parts: list[_Part]) -> tuple[str, list[_MathToken]]:
    tokens: list[_MathToken] = []
    offset = 0
    for kind, text in parts:
        if kind == "prose":
            for match in _MATH_TOKEN.finditer(text):
                delimiter = match.group()
                if delimiter[0] == "$" or delimiter in _MATH_DELIMITERS:
                    token_kind = "$" if delimiter[0] == "$" else delimiter
                    tokens.append(_MathToken(offset + match.start(), offset + match.end(), token_kind))
        offset += len(text)
    return "".join(text for _, text in parts), tokens


def _next_indexes(tokens: list[_MathToken], wanted: str, run_length: int = 0) -> list[int | None]:
    """For each token, the index of the next later token of kind `wanted` (and run length, for dollars)."""
    following: list[int | None] = [None] * len(tokens)
    upcoming: int | None = None
    for index in range(len(tokens) - 1, -1, -1):
        following[index] = upcoming
        token = tokens[index]
        if token.kind == wanted and (not run_length or token.end - token.start == run_length):
            upcoming = index
    return following


def _is_currency_sign(text: str, token: _MathToken) -> bool:
    # "US$ 100", "HK$5": a dollar after a country code is money even where pandoc's rule would call it math.
    return token.start > 0 and text[token.start - 1] in _UPPERCASE and _MONEY_AMOUNT.match(text, token.end) is not None


def _is_inline_dollar_pair(piece: _Piece, opener: _MathToken, closer: _MathToken) -> bool:
    """Pandoc's rule: `$` opens before a non-space, closes after a non-space and not before a digit."""
    text = piece.text
    return (
        closer.kind == "$"
        and closer.end - closer.start == 1
        and opener.end < closer.start
        and not _is_currency_sign(text, opener)
        and not _is_currency_sign(text, closer)
        and not text[opener.end].isspace()
        and not text[closer.start - 1].isspace()
        and not (closer.end < len(text) and text[closer.end] in _DIGITS)
        and not _has_blank_line(piece.blank_lines, opener.end, closer.start)
    )


def _inline_math(content: str) -> str:
    # remark-math closes inline math at the next run of as many `$`, escaped or not: `$$` keeps a `\$` inside.
    delimiter = "$$" if "$" in content else "$"
    return f"{delimiter}{content.strip()}{delimiter}"


def _own_line_prefix(piece: _Piece, opener: _MathToken, closer: _MathToken) -> str | None:
    """The blockquote/indent prefix of the line where display math starts, if the math fills its own lines."""
    # Scans only the blanks next to the delimiters: searching whole lines would be quadratic on one long line.
    text = piece.text
    line_start = opener.start
    while line_start > 0 and text[line_start - 1] in " \t>":
        line_start -= 1
    if (line_start > 0 and text[line_start - 1] != "\n") or (line_start == 0 and not piece.starts_line):
        return None
    line_end = closer.end
    while line_end < len(text) and text[line_end] in " \t\r":
        line_end += 1
    if (line_end < len(text) and text[line_end] != "\n") or (line_end == len(text) and not piece.ends_line):
        return None
    return text[line_start : opener.start]


def _display_math_block(content: str, prefix: str) -> str:
    """Display math as a `$$` block on lines of its own (remark-math renders only that form centred)."""
    if head := _LEADING_NEWLINE.match(content):
        body = content[head.end() :]
    else:
        body = prefix + content.lstrip(" \t")
    last_newline = body.rfind("\n")
    last_line = body[last_newline + 1 :]
    if last_newline != -1 and _LINE_PREFIX.fullmatch(last_line):
        body, closing_prefix = body[:last_newline], last_line
    else:
        body, closing_prefix = body.rstrip(" \t"), prefix
    return f"$$\n{body}\n{closing_prefix}$$"


def _display_math(piece: _Piece, opener: _MathToken, closer: _MathToken, content: str) -> str:
    prefix = _own_line_prefix(piece, opener, closer)
    if prefix is None:
        return f"$${content.strip()}$$"
    return _display_math_block(content, prefix)


def _apart(text: str, opener: _MathToken, closer: _MathToken, math: str) -> str:
    """Converted math with a space against a neighbouring `$` or `\\(`: `$a$$b$` would read as one formula."""
    before = " " if opener.start > 0 and text[opener.start - 1] == "$" else ""
    after = " " if text.startswith(("$", "\\(", "\\["), closer.end) else ""
    return f"{before}{math}{after}"


def _closing_index(
    piece: _Piece, tokens: list[_MathToken], index: int, following: dict[str, list[int | None]]
) -> int | None:
    """The index of the token that closes math opened at `index`, or None if it opens none."""
    token = tokens[index]
    run_length = token.end - token.start
    if token.kind in ("\\(", "\\["):
        closing = following[token.kind][index]
        # LaTeX math never spans a blank line; a far-away closer belongs to something else.
        if closing is not None and _has_blank_line(piece.blank_lines, token.end, tokens[closing].start):
            closing = None
    elif token.kind == "$" and run_length == 2:
        closing = following["$$"][index]
    elif token.kind == "$" and run_length == 1 and index + 1 < len(tokens):
        closing = index + 1 if _is_inline_dollar_pair(piece, token, tokens[index + 1]) else None
    else:
        return None
    if closing is not None and not piece.text[token.end : tokens[closing].start].strip():
        return None  # empty math is not math
    return closing


def _math_replacement(piece: _Piece, opener: _MathToken, closer: _MathToken) -> str:
    """What Streamlit should get for one pair of math delimiters."""
    content = bound_math_sizes(piece.text[opener.end : closer.start])  # KaTeX's own maxSize is out of reach
    if is_unboundable(content):
        return _code_span(piece.text[opener.start : closer.end])
    if opener.kind == "\\(":
        return _apart(piece.text, opener, closer, _inline_math(content))
    if opener.kind == "\\[":
        return _apart(piece.text, opener, closer, _display_math(piece, opener, closer, content))
    written = piece.text[opener.start : opener.end] + content + piece.text[closer.start : closer.end]
    if opener.end - opener.start == 2:
        # `$$…$$` is kept; only one written alone on a line is laid out as a block, so it renders centred.
        prefix = _own_line_prefix(piece, opener, closer)
        return written if prefix is None else _display_math_block(content, prefix)
    return _inline_math(content) if "$" in content else written


def _math_edits(piece: _Piece, tokens: list[_MathToken]) -> Iterator[tuple[int, int, str]]:
    """(start, end, replacement) for each pair of delimiters converted and each stray `$` escaped, in order."""
    following = {
        "\\(": _next_indexes(tokens, "\\)"),
        "\\[": _next_indexes(tokens, "\\]"),
        "$$": _next_indexes(tokens, "$", run_length=2),
    }
    index = 0
    while index < len(tokens):
        token = tokens[index]
        closing = _closing_index(piece, tokens, index, following)
        if closing is None:
            if token.kind == "$":
                yield token.start, token.end, "\\$" * (token.end - token.start)
            index += 1
            continue
        closer = tokens[closing]
        replacement = _math_replacement(piece, token, closer)
        if replacement != piece.text[token.start : closer.end]:
            yield token.start, closer.end, replacement
        index = closing + 1


def _render_math(parts: list[_Part], *, starts_line: bool, ends_line: bool) -> str:
    text, tokens = _math_tokens(parts)
    if not tokens:
        return text
    blank_lines = [match.start() for match in _BLANK_LINE.finditer(text)]
    piece = _Piece(text, starts_line, ends_line, blank_lines)
    out: list[str] = []
    done = 0
    for start, end, replacement in _math_edits(piece, tokens):
        out.append(text[done:start])
        out.append(replacement)
        done = end
    out.append(text[done:])
    return "".join(out)


def _prepare_prose(text: str, allow_remote_images: ImagePolicy) -> str:
    parts = _rewrite_inline(text, allow_remote_images)
    out: list[str] = []
    piece: list[_Part] = []
    starts_line = True
    for kind, part_text in parts:
        if kind == "code":
            out.append(_render_math(piece, starts_line=starts_line, ends_line=False))
            out.append(part_text)
            piece, starts_line = [], False
        else:
            piece.append((kind, part_text))
    out.append(_render_math(piece, starts_line=starts_line, ends_line=True))
    return "".join(out)


def prepare_markdown(text: str, *, allow_remote_images: ImagePolicy = True, streaming: bool = False) -> str:
    """The text to pass to `st.markdown` for a model or user message: `\\(…\\)`/`\\[…\\]` math converted, stray `$`
    escaped, unsafe links made inert, remote images the policy does not allow turned into links; code is never
    changed."""
    chunks, open_fence = _split_fenced_code(text)
    out = [chunk if is_code else _prepare_prose(chunk, allow_remote_images) for is_code, chunk in chunks]
    if streaming and open_fence is not None:
        # A half-written block renders as code now instead of flickering between forms.
        newline = "" if text.endswith("\n") else "\n"
        out.append(f"{newline}{open_fence.closing_prefix}{open_fence.char * open_fence.length}")
    return "".join(out)


# --- media ---------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Media:
    """An image or video a reply links to, safe to pass to st.image / st.video."""

    kind: Literal["image", "video"]
    url: str
    alt: str = ""
    inline: bool = False  # a markdown image: the markdown itself shows it


def _media_kind(url: str) -> Literal["image", "video"] | None:
    """What a URL's path (query and fragment ignored) points to, by its extension."""
    if _DATA_IMAGE.fullmatch(url):
        return "image"
    try:
        path = urlsplit(url).path.lower()
    except ValueError:
        return None
    if path.endswith(IMAGE_EXTENSIONS):
        return "image"
    if path.endswith(VIDEO_EXTENSIONS):
        return "video"
    return None


def _media_in(text: str) -> Iterator[Media]:
    for token in _inline_tokens(text):
        match = token.match
        if token.kind == "link":
            yield from _media_in(match["text"])
            url = _destination_url(match["dest"]).strip()
            if match["bang"]:
                # A markdown image is an image whatever its extension; a data URL is accepted only here.
                kind = _media_kind(url) or "image"  # a video is not drawn by markdown's <img>: shown below
                yield Media(kind, url, _plain_label(match["text"]), inline=kind == "image")
            elif (kind := _media_kind(url)) and not url.lower().startswith("data:"):
                yield Media(kind, url, _plain_label(match["text"]))
        elif token.kind in ("link_tail", "reference"):
            url = _destination_url(match["dest"]).strip()
            if (kind := _media_kind(url)) and not url.lower().startswith("data:"):
                yield Media(kind, url)
        elif token.kind == "autolink" and (kind := _media_kind(match["url"])):
            yield Media(kind, match["url"])
        elif token.kind == "bare_url" and (kind := _media_kind(token.text)):
            yield Media(kind, token.text)
        elif token.kind == "html":
            for bare in _BARE_URL.finditer(token.text):
                url = _trim_bare_url(bare.group())
                if kind := _media_kind(url):
                    yield Media(kind, url)


_LABEL_MARKUP = re.compile(r"!?\[|\]\([^)]*\)|[*_`]")


def _plain_label(text: str) -> str:
    return " ".join(_LABEL_MARKUP.sub("", text).split())


def extract_media(text: str) -> list[Media]:
    """Images and videos the text shows or links to, outside code, first appearance first; only URLs that pass
    `is_safe_media_url` are returned."""
    found: dict[str, Media] = {}
    for is_code, chunk in _split_fenced_code(text)[0]:
        if is_code:
            continue
        for media in _media_in(chunk):
            seen = found.get(media.url)
            if is_safe_media_url(media.url) and (seen is None or (media.inline and not seen.inline)):
                found[media.url] = media  # once per URL; inline if the markdown shows it anywhere
    return list(found.values())


# --- reasoning and size --------------------------------------------------------------------------------------------

_THINK_OPEN = re.compile(r"\s*<(think|thinking)>", re.I)
_THINK_CLOSE = {"think": re.compile(r"</think\s*>", re.I), "thinking": re.compile(r"</thinking\s*>", re.I)}
_THINK_OPENINGS = ("<think>", "<thinking>")


def split_reasoning(text: str) -> tuple[str, str]:
    """(reasoning, answer): `<think>`/`<thinking>` blocks at the very start of a reply are reasoning; while the
    closing tag has not arrived, everything after the opening tag is."""
    reasoning: list[str] = []
    position = 0
    while opening := _THINK_OPEN.match(text, position):
        closing = _THINK_CLOSE[opening.group(1).lower()].search(text, opening.end())
        if closing is None:
            reasoning.append(text[opening.end() :].strip())
            return "\n\n".join(part for part in reasoning if part), ""
        reasoning.append(text[opening.end() : closing.start()].strip())
        position = closing.end()
    if not reasoning:
        # A reply that so far is only the start of an opening tag: wait rather than flash "<thi" as the answer.
        stripped = text.strip().lower()
        if stripped and any(tag.startswith(stripped) and tag != stripped for tag in _THINK_OPENINGS):
            return "", ""
        return "", text
    return "\n\n".join(part for part in reasoning if part), text[position:].lstrip()


# Han, kana, Hangul and CJK punctuation: roughly one token each in common tokenizers.
_CJK = re.compile(r"[\u3000-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff\uff00-\uffef]")
CHARS_PER_TOKEN = 4


def estimate_tokens(text: str) -> int:
    """An estimate, not a count: one token per CJK character plus one per four other characters."""
    cjk = len(_CJK.findall(text))
    other = len(text) - cjk
    return cjk + -(-other // CHARS_PER_TOKEN)


_MARKDOWN_SPECIAL = re.compile(r"([\\`*_\[\]#|<>~$:!])")
_LINE_START_MARKER = re.compile(r"^(?:([-+])|(\d+)([.)]))")


def escape_markdown(text: str) -> str:
    """One line of text shown literally by st.markdown (titles, snippets): what could make markup is escaped."""
    escaped = _MARKDOWN_SPECIAL.sub(r"\\\1", " ".join(strip_format_controls(text).split()))
    return _LINE_START_MARKER.sub(lambda m: "\\" + m.group(1) if m.group(1) else m.group(2) + "\\" + m.group(3), escaped)
