"""Calls to an OpenAI-compatible endpoint: the models list and chat completions, streamed or not.

Every failure leaves here as a RelayError (services/errors.py) whose message a user can act on.
"""

from __future__ import annotations

import json
import re
import socket
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import httpx

from services.config import ReplyLimits, Timeouts, chat_url, models_url
from services.errors import (
    EndpointConnectionError,
    EndpointReportedError,
    EndpointStatusError,
    EndpointTimeout,
    ProtocolError,
    RelayError,
    extract_error_message,
    html_reply_error,
)
from services.keys import mask_key
from services.reply_limits import StreamWatch
from services.sse import ChunkReader

USER_AGENT = "RelayChat/0.1"
# Response headers worth keeping with a reply (or its error): request ids, rate-limit state, when to retry.
# An allow-list, so nothing that might carry a credential is ever stored.
META_HEADER = re.compile(
    r"^(x-request-id|request-id|openai-processing-ms|openai-model|x-ratelimit-.*|retry-after|retry-after-ms)$", re.I
)
ERROR_BODY_KEPT = 2000  # characters of an error body kept to tell why it was refused


def kept_headers(response: httpx.Response) -> dict[str, str]:
    return {name.lower(): value for name, value in response.headers.items() if META_HEADER.match(name)}


def make_http_client(timeouts: Timeouts) -> httpx.Client:
    """The one pooled client shared by every session and generation thread (httpx.Client is thread-safe)."""
    return httpx.Client(
        timeout=httpx.Timeout(connect=timeouts.connect, read=timeouts.first_token, write=30.0, pool=timeouts.connect),
        limits=httpx.Limits(max_connections=200, max_keepalive_connections=40),
        headers={"User-Agent": USER_AGENT},
        follow_redirects=False,
        trust_env=False,
    )


MIN_SECRET_CHARS = 8


@dataclass(frozen=True)
class EndpointAccess:
    """Where to send a call and how to sign it. Lives in server memory only."""

    base_url: str
    api_key: str | None = field(default=None, repr=False)  # never in a repr, a log line or a traceback
    extra_headers: Mapping[str, str] = field(default_factory=dict, repr=False)  # values may be keys too

    def secrets(self) -> list[str]:
        """What an error quoting the request back must show masked: the key and the extra headers' values (a relay
        may take its key in `X-Api-Key`); values too short to be a secret are left alone, or "1" would vanish."""
        values = [self.api_key or "", *self.extra_headers.values()]
        return [value for value in values if len(value) >= MIN_SECRET_CHARS]

    def headers(self) -> dict[str, str]:
        headers = dict(self.extra_headers)
        if self.api_key:
            headers["Authorization"] = f"Bearer {self.api_key}"
        return headers


class ChatCall:
    """One open chat-completions response: either a stream of chunks or one whole JSON body."""

    def __init__(self, response: httpx.Response, timeouts: Timeouts, limits: ReplyLimits | None = None) -> None:
        self._response = response
        self._timeouts = timeouts
        self.meta: dict[str, Any] = {
            "status": response.status_code,
            "headers": kept_headers(response),
        }
        self.full_response: dict[str, Any] | None = None
        self.saw_done = False
        self._got_token = False
        if not _is_event_stream(response):
            self.full_response = _read_json(response, limits or ReplyLimits())

    def chunks(self, limits: ReplyLimits | None = None, started: float | None = None) -> Iterator[dict[str, Any]]:
        """The stream's chunks; raises EndpointTimeout / EndpointConnectionError if it stalls or breaks, and
        ReplyLimitReached past the reply's deadline or size (`started`: when the reply began, time.monotonic())."""
        if self.full_response is not None:
            return
        limits = limits or ReplyLimits()
        # From here on the read timeout is the gap allowed between chunks, not the wait for the answer to start.
        # httpx reads it from the request's timeout extension when the body iteration begins.
        self._response.request.extensions.setdefault("timeout", {})["read"] = self._timeouts.idle
        watch = StreamWatch(self._timeouts, limits, started)  # bytes that carry no content do not count as life
        reader = ChunkReader(watch.reads(self._response.iter_bytes()), limits)
        try:
            for chunk in reader:
                if _has_token(chunk):
                    self._got_token = True
                    watch.saw_content()
                yield chunk
        except httpx.ReadTimeout as exc:
            raise EndpointTimeout("idle" if self._got_token else "first_token", self._timeouts.idle) from exc
        except (httpx.TransportError, httpx.StreamError) as exc:
            raise EndpointConnectionError(
                "The connection to the endpoint broke in the middle of the answer"
                + (f" ({_describe(exc)})." if _describe(exc) else ".")
            ) from exc
        finally:
            self.saw_done = reader.saw_done

    def abort(self) -> None:
        """End the connection from another thread: a read blocked in the reading thread returns at once."""
        # close() alone does not wake a thread blocked in recv() on Linux (it would wait for the idle timeout);
        # shutdown() does, and leaves closing the response to the reading thread, which owns it.
        stream = self._response.extensions.get("network_stream")
        sock = stream.get_extra_info("socket") if stream is not None else None
        if sock is not None:
            try:
                sock.shutdown(socket.SHUT_RDWR)
                return
            except OSError:  # already closed
                pass
        try:
            self._response.close()
        except Exception:  # closing a socket mid-read may complain; the reader sees the close either way
            pass


class ChatClient:
    """A thin, typed face of one endpoint."""

    def __init__(self, http: httpx.Client, access: EndpointAccess, timeouts: Timeouts,
                 limits: ReplyLimits | None = None) -> None:
        self._http = http
        self._access = access
        self._timeouts = timeouts
        self._limits = limits or ReplyLimits()

    @property
    def chat_url(self) -> str:
        return chat_url(self._access.base_url)

    def list_models(self) -> list[str]:
        """Model ids from GET {base}/models, sorted."""
        url = models_url(self._access.base_url)
        with _hiding_key(*self._access.secrets()):
            with _translate_errors(url, self._timeouts):
                response = self._http.get(url, headers={**self._access.headers(), "Accept": "application/json"})
            _raise_for_status(response, url)
            payload = _read_json(response, self._limits)
        data = payload.get("data") if isinstance(payload, dict) else payload
        if not isinstance(data, list):
            raise ProtocolError(f"{url} did not return a model list (no `data` array).")
        ids = {str(item["id"]) for item in data if isinstance(item, dict) and item.get("id")}
        return sorted(ids)

    @contextmanager
    def open_chat(self, body: Mapping[str, Any]) -> Iterator[ChatCall]:
        """POST the body; yields a ChatCall once the status is known to be a success."""
        url = self.chat_url
        headers = {
            **self._access.headers(),
            "Accept": "text/event-stream" if body.get("stream") else "application/json",
        }
        # Errors raised while the caller reads the stream pass through here too, so they are covered as well.
        with _hiding_key(*self._access.secrets()):
            with _translate_errors(url, self._timeouts):
                request = self._http.build_request("POST", url, json=dict(body), headers=headers)
                response = self._http.send(request, stream=True)
            try:
                if response.status_code >= 300:
                    with _translate_errors(url, self._timeouts):
                        response.read()
                    _raise_for_status(response, url)
                with _translate_errors(url, self._timeouts):
                    call = ChatCall(response, self._timeouts, self._limits)
                yield call
            finally:
                response.close()


def _has_token(chunk: Mapping[str, Any]) -> bool:
    for choice in chunk.get("choices") or []:
        delta = choice.get("delta") if isinstance(choice, dict) else None
        if isinstance(delta, dict) and any(delta.get(k) for k in ("content", "reasoning_content", "reasoning", "tool_calls")):
            return True
    return False


def _is_event_stream(response: httpx.Response) -> bool:
    content_type = response.headers.get("content-type", "").lower()
    if "text/event-stream" in content_type:
        return True
    # Some servers stream SSE labelled text/plain or with no type; peek is not possible, so trust the request.
    return not content_type.startswith(("application/json", "text/html")) and response.request.headers.get(
        "accept", ""
    ).startswith("text/event-stream")


def _read_json(response: httpx.Response, limits: ReplyLimits) -> dict[str, Any]:
    """The body as a JSON object; an HTML page or an error object raises the matching RelayError."""
    text = _bounded_text(response, 2 * limits.max_bytes)  # twice: JSON escapes can double a text's length
    if text is None:
        raise ProtocolError(
            f"The endpoint's answer passed {limits.max_bytes / 1024 / 1024:g} MB (the server's limit) and was not "
            "read. With streaming on, the start of a long answer is kept."
        )
    if _looks_like_html(response, text):
        raise html_reply_error(str(response.request.url), response.status_code)
    try:
        payload = json.loads(text)
    except ValueError:
        raise ProtocolError(
            f"The endpoint's answer is not JSON (status {response.status_code}): {_excerpt(text)}"
        ) from None
    if isinstance(payload, dict) and payload.get("error"):
        code = payload["error"].get("code") if isinstance(payload["error"], dict) else None
        raise EndpointReportedError(extract_error_message(payload) or _excerpt(text), code=code)
    if not isinstance(payload, dict):
        raise ProtocolError(f"The endpoint's answer is JSON but not an object: {_excerpt(text)}")
    return payload


def _bounded_text(response: httpx.Response, max_bytes: int) -> str | None:
    """The body as text, read up to `max_bytes`; None when it is longer (the rest is not read)."""
    pieces, size = [], 0
    for piece in response.iter_bytes():
        size += len(piece)
        if size > max_bytes:
            return None
        pieces.append(piece)
    return b"".join(pieces).decode(response.encoding or "utf-8", errors="replace")


def _raise_for_status(response: httpx.Response, url: str) -> None:
    status = response.status_code
    if status < 300:
        return
    text = response.text
    kept = {"url": url, "headers": kept_headers(response), "body": text[:ERROR_BODY_KEPT]}
    if 300 <= status < 400:
        location = response.headers.get("location", "")
        raise ProtocolError(
            f"The endpoint redirected ({status}) to {location or 'another address'}. "
            "Use the final address as the base URL."
        )
    if _looks_like_html(response, text):
        if status >= 500 or status in (401, 403, 429):
            title = re.search(r"<title[^>]*>(.*?)</title>", text, re.I | re.S)
            words = title.group(1).strip() if title else "an HTML error page"
            raise EndpointStatusError(status, f"{words} (an HTML page, likely from a proxy in front of the API)", **kept)
        raise html_reply_error(url, status)
    try:
        message = extract_error_message(json.loads(text))
    except ValueError:
        message = _excerpt(text) or None
    raise EndpointStatusError(status, message, **kept)


def _looks_like_html(response: httpx.Response, text: str) -> bool:
    return "text/html" in response.headers.get("content-type", "").lower() or text.lstrip()[:15].lower().startswith(
        ("<!doctype html", "<html")
    )


def _excerpt(text: str, limit: int = 300) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[:limit] + "…"


def _describe(exc: BaseException) -> str:
    return str(exc).strip()


@contextmanager
def _hiding_key(*secrets: str) -> Iterator[None]:
    """Some relays quote the key they were sent in their error messages: show it masked, as everywhere else."""
    try:
        yield
    except RelayError as exc:
        for secret in sorted(secrets, key=len, reverse=True):  # a longer secret may contain a shorter one
            exc.redact(secret, mask_key(secret))
        raise


@contextmanager
def _translate_errors(url: str, timeouts: Timeouts) -> Iterator[None]:
    """httpx's exceptions → RelayErrors that say what happened in words."""
    host = urlsplit(url).netloc
    try:
        yield
    except RelayError:
        raise
    except httpx.ConnectTimeout as exc:
        raise EndpointTimeout("connect", timeouts.connect) from exc
    except httpx.ReadTimeout as exc:
        raise EndpointTimeout("first_token", timeouts.first_token) from exc
    except httpx.WriteTimeout as exc:
        raise EndpointTimeout("write", 30.0) from exc
    except httpx.PoolTimeout as exc:
        raise EndpointTimeout("pool", timeouts.connect) from exc
    except httpx.ConnectError as exc:
        detail = _describe(exc)
        lowered = detail.lower()
        if "name or service not known" in lowered or "name resolution" in lowered or "nodename nor servname" in lowered or "no address associated" in lowered or "getaddrinfo" in lowered:
            message = f"Could not find the host {host}: the DNS lookup failed. Check the base URL for typos."
        elif "refused" in lowered:
            message = f"Could not connect to {host}: the connection was refused. Is the server running, and is the port right?"
        elif "ssl" in lowered or "certificate" in lowered:
            message = f"Could not open a secure connection to {host}: {detail}"
        else:
            message = f"Could not connect to {host}: {detail or type(exc).__name__}"
        raise EndpointConnectionError(message) from exc
    except (httpx.RemoteProtocolError, httpx.ReadError, httpx.WriteError) as exc:
        raise EndpointConnectionError(
            f"The connection to {host} broke before the answer arrived ({_describe(exc) or type(exc).__name__})."
        ) from exc
    except httpx.UnsupportedProtocol as exc:
        raise EndpointConnectionError(f"The base URL is not an http:// or https:// address: {url}") from exc
    except httpx.HTTPError as exc:
        raise EndpointConnectionError(f"The request to {host} failed: {_describe(exc) or type(exc).__name__}") from exc
