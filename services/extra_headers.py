"""Extra HTTP headers an endpoint is called with: what may be set, how they are kept secret and shown masked.

Relays document headers such as `X-Forwarded-Host`, and some take their key in one (`X-Api-Key`, `api-key`), so
every value is treated as a secret: stored encrypted with the API key's box and only ever shown masked.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping

from services.keys import KeyBox, mask_key

MAX_HEADERS = 20
MAX_NAME_CHARS = 100
MAX_VALUE_CHARS = 4096  # servers commonly refuse a header section over 8 KB
MAX_TOTAL_CHARS = 8192

# Hop-by-hop headers (RFC 9110 §7.6.1) and the ones that frame or address the request belong to the HTTP client:
# a typed `Content-Length` or `Transfer-Encoding` would make the body disagree with its framing.
RESERVED = frozenset({
    "connection", "keep-alive", "proxy-connection", "proxy-authenticate", "proxy-authorization", "te", "trailer",
    "transfer-encoding", "upgrade", "http2-settings", "host", "content-length", "content-type", "content-encoding",
    "expect",
})

_NAME = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
_LINE_BREAK = re.compile(r"\r\n|\r|\n")
_CONTROL = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")


def parse_extra_headers(text: str, stored: Mapping[str, str] | None = None) -> dict[str, str]:
    """Parse `Name: value` lines; raise ValueError naming the bad line and why. The form shows `stored` headers
    masked: a line still holding its mask keeps the stored value."""
    stored_by_name = {name.lower(): value for name, value in (stored or {}).items()}
    headers: dict[str, str] = {}
    seen: set[str] = set()
    # Lines end only at CR/LF: str.splitlines would also split at VT, FF and U+2028, hiding them from the check.
    for number, line in enumerate(_LINE_BREAK.split(text or ""), start=1):
        if not line.strip():
            continue
        name, sep, value = line.partition(":")
        name, value = name.strip(), value.strip()
        if not sep or not _NAME.fullmatch(name):
            raise ValueError(f"Line {number} is not a header: write it as `Name: value`.")
        if len(name) > MAX_NAME_CHARS:
            raise ValueError(f"Line {number}: a header name may have at most {MAX_NAME_CHARS} characters.")
        if name.lower() in RESERVED:
            raise ValueError(f"Line {number}: {name} is set by the HTTP client itself and cannot be an extra header.")
        if name.lower() in seen:
            raise ValueError(f"Line {number}: {name} is already set above; give each header once.")
        previous = stored_by_name.get(name.lower())
        if previous is not None and value and value == mask_key(previous):
            value = previous
        if _CONTROL.search(value):
            raise ValueError(f"Line {number}: a header value cannot contain control characters (line breaks, NUL…).")
        if not value.isascii():
            raise ValueError(f"Line {number}: a header value must be plain ASCII; HTTP cannot send other characters.")
        if len(value) > MAX_VALUE_CHARS:
            raise ValueError(f"Line {number}: a header value may have at most {MAX_VALUE_CHARS:,} characters.")
        seen.add(name.lower())
        headers[name] = value
    if len(headers) > MAX_HEADERS:
        raise ValueError(f"At most {MAX_HEADERS} extra headers, please (there are {len(headers)}).")
    if sum(len(name) + len(value) for name, value in headers.items()) > MAX_TOTAL_CHARS:
        raise ValueError(f"The extra headers together may have at most {MAX_TOTAL_CHARS:,} characters.")
    return headers


def format_extra_headers(headers: Mapping[str, str]) -> str:
    return "\n".join(f"{name}: {value}" for name, value in headers.items())


def mask_headers(headers: Mapping[str, str]) -> dict[str, str]:
    """Names kept, values masked like an API key (`sk-…abcd`): what the browser may be shown."""
    return {name: mask_key(value) if value else "" for name, value in headers.items()}


def encrypt_headers(keybox: KeyBox, headers: Mapping[str, str]) -> str | None:
    return keybox.encrypt(json.dumps(dict(headers), ensure_ascii=False)) if headers else None


def decrypt_headers(keybox: KeyBox, token: str | None) -> dict[str, str] | None:
    """The stored headers; {} when there are none, None when they were encrypted with another server secret."""
    if not token:
        return {}
    plain = keybox.decrypt(token)
    return None if plain is None else dict(json.loads(plain))
