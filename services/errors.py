"""The errors an endpoint call can end in, each able to explain itself in plain words.

    RelayError
    ├── EndpointStatusError        the endpoint answered with an HTTP error status
    ├── EndpointReportedError      a 200 (or a stream event) that carries an {"error": ...} object
    ├── EndpointConnectionError    no answer: refused, DNS failure, dropped mid-stream
    │   └── EndpointTimeout        connect / first token / idle between chunks
    └── ProtocolError              an answer we cannot read (HTML instead of JSON, bad SSE data)
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, Literal

TimeoutPhase = Literal["connect", "first_token", "idle", "write", "pool"]


class RelayError(Exception):
    """Base of every error an endpoint call raises; `str()` is the message shown to the user."""

    retryable: bool = True

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message

    @property
    def meta(self) -> dict[str, Any]:
        """What the reply's Details keep of the failed answer (status, kept headers); empty when none came."""
        return {}

    def redact(self, secret: str, replacement: str) -> None:
        """Replace a secret (an API key an endpoint quoted back) wherever this error carries its words."""
        for name in ("message", "endpoint_message", "body"):
            value = getattr(self, name, None)
            if isinstance(value, str):
                setattr(self, name, value.replace(secret, replacement))
        headers = getattr(self, "headers", None)
        if isinstance(headers, dict):
            self.headers = {name: value.replace(secret, replacement) for name, value in headers.items()}
        self.args = (self.message,)


_STATUS_HINTS = {
    400: "The endpoint rejected the request as invalid.",
    401: "The endpoint rejected the API key (401 Unauthorized). Check the key in the endpoint settings.",
    402: "The endpoint asks for payment (402): the account may be out of credit.",
    403: "The endpoint refused access (403 Forbidden): the key may lack access to this model or resource.",
    404: (
        "The endpoint answered 404 Not Found: the model may not exist there, or the base URL is wrong "
        "(it usually ends in /v1)."
    ),
    408: "The endpoint timed out handling the request (408).",
    413: "The request is too large for the endpoint (413): shorten the conversation or the attachments.",
    422: "The endpoint could not process the request (422): a parameter may be unsupported.",
    429: "The endpoint is rate limiting or out of quota (429). Wait a moment and retry.",
}


class EndpointStatusError(RelayError):
    """The endpoint answered with a non-2xx HTTP status."""

    def __init__(
        self, status: int, endpoint_message: str | None, *, url: str = "", headers: Mapping[str, str] | None = None,
        body: str = "",
    ) -> None:
        self.status = status
        self.endpoint_message = endpoint_message
        self.url = url
        self.body = body  # the error body's start: it may name the refused field where the message does not
        self.headers = dict(headers or {})  # only the kept ones (client.kept_headers): ids, Retry-After, rate limits
        if status in _STATUS_HINTS:
            hint = _STATUS_HINTS[status]
        elif status >= 500:
            hint = f"The endpoint had a server error ({status}). It may be overloaded or down; retry in a moment."
        else:
            hint = f"The endpoint answered with HTTP status {status}."
        if status == 404 and url:
            hint += f" URL called: {url}"
        super().__init__(hint + (f"\n\nThe endpoint said: {endpoint_message}" if endpoint_message else ""))
        self.retryable = status in (408, 409, 425, 429) or status >= 500

    @property
    def meta(self) -> dict[str, Any]:
        return {"status": self.status, "headers": dict(self.headers)}

    @property
    def rejects_stream_usage(self) -> bool:
        """Whether the endpoint refused the request because of stream_options (so asking without it may work);
        a 400 for any other reason (a bad parameter, an unknown model) would only fail twice."""
        return self.status in (400, 422) and bool(
            _STREAM_USAGE_WORDS.search(f"{self.endpoint_message or ''} {self.body}")
        )


# How servers name the field they refuse: "stream_options", "include_usage", "stream options".
_STREAM_USAGE_WORDS = re.compile(r"stream[_ .-]?options|include[_ ]?usage", re.I)


class EndpointReportedError(RelayError):
    """A successful HTTP answer whose payload is an error object."""

    def __init__(self, endpoint_message: str, *, code: str | None = None) -> None:
        self.endpoint_message = endpoint_message
        self.code = code
        super().__init__(f"The endpoint reported an error: {endpoint_message}")


class EndpointConnectionError(RelayError):
    """The endpoint could not be reached, or the connection broke."""


class EndpointTimeout(EndpointConnectionError):
    """The endpoint did not answer in time; `phase` says which wait ran out."""

    _TEXT = {
        "connect": "Could not connect to the endpoint within {s:g} s.",
        "first_token": "The endpoint sent no answer within {s:g} s (waiting for the first token).",
        "idle": "The endpoint stopped sending for {s:g} s in the middle of the answer.",
        "write": "Sending the request to the endpoint took longer than {s:g} s.",
        "pool": "No connection to the endpoint was free within {s:g} s.",
    }

    def __init__(self, phase: TimeoutPhase, seconds: float) -> None:
        self.phase = phase
        self.seconds = seconds
        super().__init__(self._TEXT[phase].format(s=seconds))


class ProtocolError(RelayError):
    """The endpoint answered, but not in a form the chat-completions API allows."""


def html_reply_error(url: str, status: int) -> ProtocolError:
    """The endpoint sent a web page: usually the base URL points at a website, not at the API."""
    return ProtocolError(
        f"The endpoint returned an HTML page (status {status}) instead of JSON from {url}. "
        "The base URL probably points at a website or a login page rather than the API; "
        "OpenAI-compatible APIs usually live under /v1."
    )


def extract_error_message(payload: object) -> str | None:
    """The endpoint's own words from an error payload, in any of the shapes relays and servers use."""
    if isinstance(payload, str):
        return payload.strip() or None
    if not isinstance(payload, dict):
        return None
    for key in ("error", "detail", "message", "msg"):
        value = payload.get(key)
        if isinstance(value, dict):
            found = extract_error_message(value)
            if found:
                return found
        elif isinstance(value, list) and value:  # FastAPI validation errors: [{"msg": ...}, ...]
            parts = [extract_error_message(v) for v in value]
            joined = "; ".join(p for p in parts if p)
            if joined:
                return joined
        elif isinstance(value, str) and value.strip():
            return value.strip()
    return None
