"""A fake OpenAI-compatible chat-completions endpoint: a real HTTP server on 127.0.0.1, scripted per request.

Every chat request body is checked against OpenAI's published request schema (schemas/); what the fake sends is
built to match the response and chunk schemas (tests/test_fake_openai.py checks that).
"""

from __future__ import annotations

import collections
import functools
import http
import json
import random
import re
import socket
import socketserver
import struct
import sys
import threading
import time
import uuid
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from jsonschema import Draft202012Validator, ValidationError
from jsonschema.exceptions import best_match

SCHEMAS = Path(__file__).with_name("schemas")
CHAT_PATH = "/v1/chat/completions"
HTML_404 = "<html><body><h1>404 Not Found</h1></body></html>"
OVERLOADED = {"error": {"message": "The model is overloaded (fake)", "type": "server_error", "code": "overloaded"}}


def _nullable_enums(node: Any) -> Any:
    """Add null to every enum whose type allows null. The OpenAPI-to-JSON-Schema conversion turned `nullable` into a
    null type but left the enums alone, so the chunk schema rejects `"finish_reason": null`, which OpenAI sends on
    every chunk but the last. The files stay verbatim copies; the correction is made here."""
    if isinstance(node, dict):
        kinds = node.get("type")
        if isinstance(kinds, list) and "null" in kinds and None not in node.get("enum", [None]):
            node["enum"] = [*node["enum"], None]
        for value in node.values():
            _nullable_enums(value)
    elif isinstance(node, list):
        for value in node:
            _nullable_enums(value)
    return node


@functools.cache
def validator(kind: str) -> Draft202012Validator:
    """The validator for "request", "response" or "chunk" bodies, built once per process."""
    schema = json.loads((SCHEMAS / f"chat-completions-{kind}.schema.json").read_text())
    return Draft202012Validator(_nullable_enums(schema))


def _describe(error: ValidationError) -> str:
    # Messages embed the failing instance, which can be a whole conversation: keep them readable.
    message = error.message if len(error.message) <= 300 else error.message[:300] + "..."
    return f"{error.json_path}: {message}"


def schema_errors(kind: str, instance: Any) -> list[str]:
    """Every way `instance` breaks the "request", "response" or "chunk" schema, as "path: message" lines."""
    return [_describe(e) for e in validator(kind).iter_errors(instance)]


def tokens_of(text: str) -> list[str]:
    """Split text the way Reply does: words with their trailing whitespace."""
    return re.findall(r"\S+\s*|\s+", text)


_LOREM = (
    "lorem ipsum dolor sit amet consectetur adipiscing elit sed do eiusmod tempor incididunt ut labore et dolore "
    "magna aliqua enim ad minim veniam quis nostrud exercitation ullamco laboris nisi aliquip ex ea commodo consequat"
).split()


def markdown_tokens(n: int, chars_per_token: int = 4) -> list[str]:
    """Exactly n tokens of markdown-like text (paragraphs, a bulleted list, a fenced code block, repeated), each about
    chars_per_token characters long including its trailing space or newline. Deterministic."""
    rng = random.Random(0)

    def tok(prefix: str = "", sep: str = " ") -> str:
        size = max(1, chars_per_token - len(prefix) - len(sep) + rng.choice((-1, 0, 0, 1)))
        word = rng.choice(_LOREM)
        while len(word) < size:
            word += rng.choice(_LOREM)
        return prefix + word[:size] + sep

    def section():  # yields (token, inside a code fence)
        for _ in range(2):
            length = rng.randint(20, 45)
            for j in range(length):
                yield tok(sep=" " if j < length - 1 else ".\n\n"), False
        items = rng.randint(3, 5)
        for i in range(items):
            length = rng.randint(3, 8)
            for j in range(length):
                last = "\n\n" if i == items - 1 else "\n"
                yield tok("- " if j == 0 else "", " " if j < length - 1 else last), False
        yield "```python\n", True
        for _ in range(rng.randint(3, 6)):
            length = rng.randint(2, 6)
            for j in range(length):
                yield tok("    " if j == 0 and rng.random() < 0.5 else "", " " if j < length - 1 else "\n"), True
        yield "```\n\n", False

    tokens: list[str] = []
    in_code = False
    while len(tokens) < n:
        for token, in_code in section():
            tokens.append(token)
            if len(tokens) == n:
                break
    if in_code:  # never leave a fence open: renderers would treat the rest as code
        tokens[-1] += "\n```\n"
    return tokens


@dataclass
class Reply:
    """Scripts one answer of the fake (see FakeOpenAI.enqueue). Every field has a harmless default."""

    content: str | list[str] | None = None  # str: split into words; list: the tokens as given; None: echo
    contents: list[str] | None = None  # per-choice contents when the request has n > 1
    reasoning: str | list[str] | None = None  # streamed first, as delta.reasoning_content
    tool_calls: list[dict[str, str]] | None = None  # each {"id", "name", "arguments"}
    finish_reason: str | None = None  # None: "tool_calls" if there are tool calls, else "stop"
    model: str | None = None  # None: the request's model
    id: str | None = None
    system_fingerprint: str | None = "fp_fake"
    usage: dict[str, Any] | None = None  # None: computed
    # timing
    delay: float = 0.0  # seconds between tokens
    rate: float | None = None  # tokens per second (0: as fast as possible); overrides delay
    headers_delay: float = 0.0  # before the status line
    first_token_delay: float = 0.0  # after the headers, before the first chunk
    # stream shape
    line_ending: str = "\n"
    space_after_colon: bool = True
    keepalive: bool = False
    split_bytes: int | None = None
    coalesce: bool = False
    null_content_first: bool = False
    send_done: bool = True
    send_finish: bool = True
    # faults; a stream's "tokens" count reasoning, content and tool-call steps, and N beyond them means "at the end"
    status: int | None = None  # answer this status with error_body (None: an OpenAI-style error)
    error_body: dict[str, Any] | str | None = None  # dict: JSON; str: sent as is
    content_type: str | None = None  # overrides the Content-Type of whatever this reply sends
    html: str | None = None  # answer this page, status `status or 200`
    error_after: int | None = None  # stream: an error event after N tokens, then the end
    drop_after: int | None = None  # stream: reset the connection after N tokens; not streamed: instead of answering
    hang_after: int | None = None  # stream: silence after N tokens for hang_seconds, then the end (no DONE)
    hang_seconds: float = 30.0
    hang_filler: str = ""  # sent every hang_every seconds during a hang: ": keep-alive\n\n", or one byte ("\n")
    hang_every: float = 1.0
    single_newline: bool = False  # stream: end each event with one line ending, not two (some relays do)
    huge_line: int | None = None  # stream: after the tokens, a data line of this many bytes with no line end, then close
    endless: bool = False  # stream: after the tokens, repeat them for as long as the client reads
    error_object_200: dict[str, Any] | None = None  # answer 200 with exactly this JSON, streamed or not
    response_headers: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.line_ending not in ("\n", "\r\n", "\r"):
            raise ValueError(f"line_ending must be \\n, \\r\\n or \\r, not {self.line_ending!r}")

    @property
    def interval(self) -> float:
        if self.rate is not None:
            return 1.0 / self.rate if self.rate > 0 else 0.0
        return self.delay


@dataclass(frozen=True)
class RecordedRequest:
    method: str
    path: str  # as sent, query string included
    headers: dict[str, str]  # names lowercased
    body: Any  # parsed JSON, or None (no body, or not JSON)

    @property
    def is_chat(self) -> bool:
        return self.method == "POST" and urlsplit(self.path).path == CHAT_PATH


def _text(content: Any) -> str:
    """The text of a message content given as a string or as a list of parts."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return " ".join(p.get("text", "") for p in content if isinstance(p, dict) and p.get("type") == "text")
    return ""


def _error(message: str, type_: str = "invalid_request_error", code: str | None = None) -> dict[str, Any]:
    return {"error": {"message": message, "type": type_, "param": None, "code": code}}


@dataclass
class _Plan:
    """One reply worked out against one request: what every choice says, as stream steps and as whole messages."""

    n: int
    id: str
    model: str
    created: int
    steps: list[list[tuple[int, dict[str, Any]]]]  # step k: the (choice index, delta) pairs of token k
    contents: list[list[str]]  # content tokens per choice
    reasoning: list[str]
    tool_calls: list[dict[str, str]]
    finish_reason: str
    usage: dict[str, Any]

    @classmethod
    def of(cls, reply: Reply, body: dict[str, Any]) -> _Plan:
        n = body.get("n") or 1
        calls = reply.tool_calls or []
        if reply.content is None:
            users = [m for m in body["messages"] if m.get("role") == "user"]
            base = [] if calls else tokens_of("You said: " + (_text(users[-1].get("content")) if users else ""))
        else:
            base = tokens_of(reply.content) if isinstance(reply.content, str) else list(reply.content)
        contents = []
        for i in range(n):
            if reply.contents is not None and i < len(reply.contents):
                contents.append(tokens_of(reply.contents[i]))
            else:
                tokens = list(base)
                if n > 1 and tokens:
                    tokens[0] = f"[{i}] {tokens[0]}"
                contents.append(tokens)
        reasoning = tokens_of(reply.reasoning) if isinstance(reply.reasoning, str) else list(reply.reasoning or [])

        steps = [[(i, {"reasoning_content": t}) for i in range(n)] for t in reasoning]
        for k in range(max(map(len, contents), default=0)):
            steps.append([(i, {"content": c[k]}) for i, c in enumerate(contents) if k < len(c)])
        for j, call in enumerate(calls):
            head = {"index": j, "id": call.get("id", f"call_fake_{j}"), "type": "function"}
            head["function"] = {"name": call["name"], "arguments": ""}
            steps.append([(i, {"tool_calls": [head]}) for i in range(n)])
            args = call.get("arguments", "")
            size = max(1, -(-len(args) // 3))
            for piece in (args[s : s + size] for s in range(0, len(args), size)):
                steps.append([(i, {"tool_calls": [{"index": j, "function": {"arguments": piece}}]}) for i in range(n)])

        usage = reply.usage
        if usage is None:
            prompt = sum(len(_text(m.get("content")).split()) for m in body["messages"])
            completion = sum(map(len, contents)) + n * len(reasoning)
            usage = {"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": prompt + completion}
            if reasoning:
                usage["completion_tokens_details"] = {"reasoning_tokens": n * len(reasoning)}
        return cls(
            n=n,
            id=reply.id or f"chatcmpl-fake{uuid.uuid4().hex[:20]}",
            model=reply.model or body["model"],
            created=int(time.time()),
            steps=steps,
            contents=contents,
            reasoning=reasoning,
            tool_calls=calls,
            finish_reason=reply.finish_reason or ("tool_calls" if calls else "stop"),
            usage=usage,
        )

    def completion(self, reply: Reply) -> dict[str, Any]:
        """The non-streamed chat.completion."""
        choices = []
        for i, tokens in enumerate(self.contents):
            text = "".join(tokens) if tokens or not self.tool_calls else None  # a bare tool call has null content
            message: dict[str, Any] = {"role": "assistant", "content": text, "refusal": None}
            if self.reasoning:
                message["reasoning_content"] = "".join(self.reasoning)
            if self.tool_calls:
                message["tool_calls"] = [
                    {"id": c.get("id", f"call_fake_{j}"), "type": "function",
                     "function": {"name": c["name"], "arguments": c.get("arguments", "")}}
                    for j, c in enumerate(self.tool_calls)
                ]
            choices.append({"index": i, "message": message, "logprobs": None, "finish_reason": self.finish_reason})
        body = {"id": self.id, "object": "chat.completion", "created": self.created, "model": self.model}
        if reply.system_fingerprint is not None:
            body["system_fingerprint"] = reply.system_fingerprint
        return body | {"choices": choices, "usage": self.usage}


class _Stopped(Exception):
    """The fake is being stopped: abandon the response."""


class _Out:
    """Writes an SSE body: each event at once, in split_bytes pieces, or (coalesce) everything in one write."""

    def __init__(self, wfile: Any, reply: Reply, wait: Any) -> None:
        self._wfile, self._split, self._coalesce, self._wait = wfile, reply.split_bytes, reply.coalesce, wait
        self._buf = bytearray()

    def write(self, data: bytes) -> None:
        self._buf += data
        if self._coalesce:
            return
        if not self._split:
            self.flush()
            return
        # Pieces run across event boundaries, so the client sees events and UTF-8 characters cut anywhere.
        while len(self._buf) >= self._split:
            self._send(bytes(self._buf[: self._split]))
            del self._buf[: self._split]
            self._wait(0.001)  # lets each piece arrive as its own network read

    def flush(self) -> None:
        if self._buf:
            self._send(bytes(self._buf))
            self._buf.clear()

    def pause(self, seconds: float) -> None:
        if seconds > 0:
            self.flush()  # whatever precedes a pause must reach the client before it
            self._wait(seconds)

    def _send(self, data: bytes) -> None:
        self._wfile.write(data)
        self._wfile.flush()


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server

    def setup(self) -> None:
        super().setup()
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)  # small SSE writes leave at once
        self.server.fake._track(self.connection, add=True)

    def finish(self) -> None:
        try:
            super().finish()
        finally:
            self.server.fake._track(self.connection, add=False)

    def log_message(self, format: str, *args: Any) -> None:
        pass  # keep test and benchmark output clean

    def _route(self) -> None:
        fake = self.server.fake
        path = urlsplit(self.path).path
        raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        body, bad_json = None, None
        if raw:
            try:
                body = json.loads(raw)
            except ValueError as exc:
                bad_json = f"$: the body is not valid JSON ({exc})"
        request = RecordedRequest(self.command, self.path, {k.lower(): v for k, v in self.headers.items()}, body)
        errors, first_error = [], None
        if request.is_chat:
            if bad_json:
                errors, first_error = [bad_json], bad_json
            elif found := list(validator("request").iter_errors(body)):
                errors, first_error = [_describe(e) for e in found], _describe(best_match(found))
        fake._record(request, errors)

        if self.command == "GET" and path in fake.files:
            data, content_type = fake.files[path]
            self._send(200, data, content_type)
        elif not path.startswith("/v1/"):
            self._send(404, HTML_404.encode(), "text/html; charset=utf-8")
        elif fake.api_key is not None and self.headers.get("Authorization") != f"Bearer {fake.api_key}":
            given = (self.headers.get("Authorization") or "").removeprefix("Bearer ")
            masked = given[:3] + "*" * max(0, len(given) - 7) + given[-4:] if len(given) > 8 else "*" * len(given)
            message = (
                f"Incorrect API key provided: {masked or '(none)'}. "
                "You can find your API key at https://platform.openai.com/account/api-keys."
            )
            self._send_json(401, _error(message, code="invalid_api_key"))
        elif request.is_chat:
            self._chat(body, first_error)
        elif self.command == "GET" and path == "/v1/models" and fake.models is not None:
            data = [{"id": m, "object": "model", "created": 1700000000, "owned_by": "fake"} for m in fake.models]
            self._send_json(200, {"object": "list", "data": data})
        else:
            self._send_json(404, _error(f"Invalid URL ({self.command} {path})"))

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _route

    def _chat(self, body: Any, schema_error: str | None) -> None:
        fake = self.server.fake
        if schema_error:
            self._send_json(400, {"error": {"message": f"schema: {schema_error}", "type": "invalid_request_error"}})
            return
        if fake.reject_stream_options and "stream_options" in body:
            self._send_json(400, _error("Unrecognized request argument supplied: stream_options"))
            return
        reply = fake._next_reply()
        self._wait(reply.headers_delay)
        extra = reply.response_headers
        if reply.html is not None:
            self._send(reply.status or 200, reply.html.encode(), reply.content_type or "text/html; charset=utf-8", extra)
        elif reply.status is not None:
            error = reply.error_body
            if error is None:
                try:
                    phrase = http.HTTPStatus(reply.status).phrase
                except ValueError:
                    phrase = f"HTTP {reply.status}"
                error = _error(f"{phrase} (fake)", "server_error" if reply.status >= 500 else "invalid_request_error")
            if isinstance(error, str):
                self._send(reply.status, error.encode(), reply.content_type or "text/plain; charset=utf-8", extra)
            else:
                self._send_json(reply.status, error, extra, reply.content_type)
        elif reply.error_object_200 is not None:
            self._send_json(200, reply.error_object_200, extra, reply.content_type)
        elif body.get("stream"):
            self._stream(reply, _Plan.of(reply, body), (body.get("stream_options") or {}).get("include_usage") is True)
        elif reply.hang_after is not None:  # a non-streamed reply has no tokens to fail after: fail before answering
            self._wait(reply.hang_seconds)
            self.close_connection = True
        elif reply.drop_after is not None:
            self._drop()
        else:
            plan = _Plan.of(reply, body)
            self._wait(reply.first_token_delay + reply.interval * max(0, len(plan.steps) - 1))  # "generation" time
            self._send_json(200, plan.completion(reply), extra, reply.content_type)

    def _stream(self, reply: Reply, plan: _Plan, include_usage: bool) -> None:
        self.send_response(200)
        self.send_header("Content-Type", reply.content_type or "text/event-stream")
        self.send_header("Cache-Control", "no-cache")
        self.send_header("Connection", "close")  # no Content-Length: the body ends when the socket closes
        for name, value in reply.response_headers.items():
            self.send_header(name, value)
        self.end_headers()
        self.close_connection = True

        out = _Out(self.wfile, reply, self._wait)
        end, data = reply.line_ending, "data: " if reply.space_after_colon else "data:"

        def event(payload: Any) -> None:
            text = payload if isinstance(payload, str) else json.dumps(payload, ensure_ascii=False, separators=(",", ":"))
            close = end if reply.single_newline else end + end
            out.write(((f": keep-alive{end}{end}" if reply.keepalive else "") + f"{data}{text}{close}").encode())

        def chunk(index: int | None, delta: dict[str, Any] | None = None, finish: str | None = None) -> dict[str, Any]:
            body: dict[str, Any] = {"id": plan.id, "object": "chat.completion.chunk", "created": plan.created}
            body["model"] = plan.model
            if reply.system_fingerprint is not None:
                body["system_fingerprint"] = reply.system_fingerprint
            choice = {"index": index, "delta": delta, "logprobs": None, "finish_reason": finish}
            body["choices"] = [] if index is None else [choice]
            if include_usage:  # as OpenAI: null on every chunk but the last
                body["usage"] = plan.usage if index is None else None
            return body

        self._wait(reply.first_token_delay)
        for i in range(plan.n):
            event(chunk(i, {"role": "assistant", "content": None if reply.null_content_first else ""}))
        last = len(plan.steps)
        start = time.monotonic()
        for k in range(last + 1):
            if reply.error_after is not None and k == min(reply.error_after, last):
                event(OVERLOADED)
                out.flush()
                return
            if reply.drop_after is not None and k == min(reply.drop_after, last):
                out.flush()
                self._drop()
                return
            if reply.hang_after is not None and k == min(reply.hang_after, last):
                self._hang(out, reply)
                return
            if k == last:
                break
            if k and not reply.coalesce:
                out.pause(start + k * reply.interval - time.monotonic())  # on a schedule, so rates hold over long runs
            for i, delta in plan.steps[k]:
                event(chunk(i, delta))
        while reply.endless and plan.steps:  # until the client goes away (a write fails) or the fake stops
            for step in plan.steps:
                out.pause(reply.interval)
                for i, delta in step:
                    event(chunk(i, delta))
                out.flush()
        if reply.huge_line is not None:
            head = f'{data}{{"choices":[{{"index":0,"delta":{{"content":"'.encode()
            out.write(head)
            for sent in range(len(head), reply.huge_line, 65536):
                out.write(b"x" * min(65536, reply.huge_line - sent))
                out.flush()
            return
        if reply.send_finish:
            for i in range(plan.n):
                event(chunk(i, {}, plan.finish_reason))
        if include_usage:
            event(chunk(None))
        if reply.send_done:
            event("[DONE]")
        out.flush()

    def _hang(self, out: _Out, reply: Reply) -> None:
        """Send nothing that counts for hang_seconds: silence, or the filler every hang_every seconds."""
        if not reply.hang_filler:
            out.pause(reply.hang_seconds)
            return
        deadline = time.monotonic() + reply.hang_seconds
        while time.monotonic() < deadline:
            out.pause(min(reply.hang_every, deadline - time.monotonic()))
            out.write(reply.hang_filler.encode())
            out.flush()

    def _drop(self) -> None:
        # Reset (RST) rather than close (FIN): the client sees a broken connection, not a body that simply ended.
        self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.rfile.close()
        self.connection.close()
        self.close_connection = True

    def _wait(self, seconds: float) -> None:
        if seconds > 0 and self.server.fake._stopping.wait(seconds):
            raise _Stopped

    def _send(self, status: int, data: bytes, content_type: str, headers: dict[str, str] | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)

    def _send_json(
        self, status: int, obj: Any, headers: dict[str, str] | None = None, content_type: str | None = None
    ) -> None:
        self._send(status, json.dumps(obj, ensure_ascii=False).encode(), content_type or "application/json", headers)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128  # benchmarks open many connections at once

    def __init__(self, fake: FakeOpenAI, port: int) -> None:
        self.fake = fake
        super().__init__(("127.0.0.1", port), _Handler)

    def server_bind(self) -> None:
        # HTTPServer.server_bind does a reverse DNS lookup (getfqdn), which can stall for seconds in a sandbox.
        socketserver.TCPServer.server_bind(self)
        self.server_name, self.server_port = self.server_address[:2]

    def handle_error(self, request: Any, client_address: Any) -> None:
        if isinstance(sys.exc_info()[1], (OSError, _Stopped)):
            return  # a client that went away, or a stop(): not worth a traceback
        super().handle_error(request, client_address)


class FakeOpenAI:
    """The fake endpoint. `with FakeOpenAI() as fake:` serves on fake.base_url until the block ends."""

    def __init__(self, port: int = 0, *, api_key: str | None = None, default_reply: Reply | None = None) -> None:
        self.port = port
        self.default_reply = default_reply or Reply()  # used when the queue is empty; the default echoes
        self.models: list[str] | None = ["fake-gpt", "fake-reasoner"]  # None: GET /v1/models is a 404
        self.api_key = api_key
        self.reject_stream_options = False
        self.files: dict[str, tuple[bytes, str]] = {}  # GET path -> (body, content type), served without a key
        self.requests: list[RecordedRequest] = []
        self.schema_errors: list[str] = []
        self._queue: collections.deque[Reply] = collections.deque()
        self._cond = threading.Condition()
        self._stopping = threading.Event()
        self._connections: set[socket.socket] = set()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    @property
    def base_url(self) -> str:
        if self._server is None:
            raise RuntimeError("the fake is not started")
        return f"http://127.0.0.1:{self.port}/v1"

    @property
    def chat_bodies(self) -> list[Any]:
        return [r.body for r in list(self.requests) if r.is_chat]

    def enqueue(self, *replies: Reply) -> None:
        with self._cond:
            self._queue.extend(replies)

    def wait_for_requests(self, n: int, timeout: float = 5.0) -> list[Any]:
        """Block until n chat requests were received; returns their bodies."""
        with self._cond:
            if not self._cond.wait_for(lambda: len(self.chat_bodies) >= n, timeout):
                raise TimeoutError(f"expected {n} chat requests within {timeout}s, got {len(self.chat_bodies)}")
            return self.chat_bodies

    def start(self) -> FakeOpenAI:
        self._stopping.clear()
        self._server = _Server(self, self.port)
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.01,), name="fake-openai", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is None:
            return
        self._stopping.set()  # ends every pause, hang and delay at once
        self._server.shutdown()
        self._server.server_close()
        with self._cond:
            for conn in self._connections:  # idle keep-alive connections and blocked writes
                try:
                    conn.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
            self._cond.wait_for(lambda: not self._connections, timeout=2)
        assert self._thread is not None
        self._thread.join(timeout=2)
        self._server = None

    def __enter__(self) -> FakeOpenAI:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _record(self, request: RecordedRequest, errors: list[str]) -> None:
        with self._cond:
            self.schema_errors.extend(errors)  # before the request, so a waiter sees both
            self.requests.append(request)
            self._cond.notify_all()

    def _next_reply(self) -> Reply:
        with self._cond:
            return self._queue.popleft() if self._queue else self.default_reply

    def _track(self, conn: socket.socket, add: bool) -> None:
        with self._cond:
            if add:
                self._connections.add(conn)
            else:
                self._connections.discard(conn)
                self._cond.notify_all()
