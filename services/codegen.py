"""The next request as code (curl, Python httpx, JavaScript fetch), with the key and header values masked.

Built from the same (url, headers, body) that the real call uses, so the snippet cannot drift from it.
"""

from __future__ import annotations

import json
import shlex
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from services.keys import mask_key


@dataclass(frozen=True)
class RequestPreview:
    """What would be sent: the URL, the headers (values masked) and the exact body."""

    url: str
    headers: dict[str, str]
    body: dict[str, Any]

    @classmethod
    def masked(cls, url: str, headers: Mapping[str, str], body: Mapping[str, Any]) -> RequestPreview:
        # Every header value is a possible secret (relays take keys in `X-Api-Key`, `api-key`): all are masked.
        shown = {}
        for name, value in headers.items():
            if name.lower() == "authorization" and value.lower().startswith("bearer "):
                value = "Bearer " + mask_key(value[7:])
            elif value:
                value = mask_key(value)
            shown[name] = value
        return cls(url, {"Content-Type": "application/json", **shown}, dict(body))

    def body_json(self, indent: int | None = 2) -> str:
        return json.dumps(self.body, indent=indent, ensure_ascii=False)


def as_curl(preview: RequestPreview) -> str:
    lines = [f"curl {shlex.quote(preview.url)}"]
    if preview.body.get("stream"):
        lines[0] = f"curl -N {shlex.quote(preview.url)}"
    lines += [f"  -H {shlex.quote(f'{name}: {value}')}" for name, value in preview.headers.items()]
    lines.append(f"  -d {shlex.quote(preview.body_json())}")
    return " \\\n".join(lines)


def as_python(preview: RequestPreview) -> str:
    headers = json.dumps(preview.headers, indent=4, ensure_ascii=False)
    body = _python_literal(preview.body)
    if preview.body.get("stream"):
        call = (
            'with httpx.stream("POST", URL, headers=headers, json=body, timeout=120) as response:\n'
            "    response.raise_for_status()\n"
            "    for line in response.iter_lines():\n"
            '        if line.startswith("data: ") and line != "data: [DONE]":\n'
            '            chunk = json.loads(line[6:])\n'
            '            for choice in chunk["choices"]:\n'
            '                print(choice["delta"].get("content") or "", end="", flush=True)\n'
        )
    else:
        call = (
            "response = httpx.post(URL, headers=headers, json=body, timeout=120)\n"
            "response.raise_for_status()\n"
            'print(response.json()["choices"][0]["message"]["content"])\n'
        )
    return (
        "import json\n\nimport httpx\n\n"
        f"URL = {preview.url!r}\n"
        f"headers = {headers}\n"
        f"body = {body}\n\n"
        f"{call}"
    )


def as_javascript(preview: RequestPreview) -> str:
    headers = json.dumps(preview.headers, indent=2, ensure_ascii=False)
    body = f"JSON.stringify({_indent(preview.body_json())})"
    if _has_unsafe_integer(preview.body):
        # A JavaScript number holds integers exactly only up to 2**53 (a large seed would change): send the JSON text.
        body = json.dumps(preview.body_json(indent=None))
    if preview.body.get("stream"):
        read = (
            "const reader = response.body.getReader();\n"
            "const decoder = new TextDecoder();\n"
            "let buffer = '';\n"
            "for (;;) {\n"
            "  const { done, value } = await reader.read();\n"
            "  if (done) break;\n"
            "  buffer += decoder.decode(value, { stream: true });\n"
            "  const lines = buffer.split('\\n');\n"
            "  buffer = lines.pop();\n"
            "  for (const line of lines) {\n"
            "    if (!line.startsWith('data: ') || line === 'data: [DONE]') continue;\n"
            "    for (const choice of JSON.parse(line.slice(6)).choices) {\n"
            "      console.log(choice.delta.content ?? '');\n"
            "    }\n"
            "  }\n"
            "}\n"
        )
    else:
        read = "const data = await response.json();\nconsole.log(data.choices[0].message.content);\n"
    return (
        f"const response = await fetch({json.dumps(preview.url)}, {{\n"
        '  method: "POST",\n'
        f"  headers: {_indent(headers)},\n"
        f"  body: {body},\n"
        "});\n"
        "if (!response.ok) throw new Error(`${response.status}: ${await response.text()}`);\n"
        f"{read}"
    )


def _has_unsafe_integer(value: Any) -> bool:
    if isinstance(value, dict):
        return any(_has_unsafe_integer(item) for item in value.values())
    if isinstance(value, list):
        return any(_has_unsafe_integer(item) for item in value)
    return isinstance(value, int) and not isinstance(value, bool) and abs(value) > 2**53 - 1


def _indent(text: str) -> str:
    return text.replace("\n", "\n  ")


def _python_literal(value: Any) -> str:
    # JSON true/false/null are not Python: round-trip through json, then repr, keeps it exact.
    return _pformat(json.loads(json.dumps(value)), 0)


def _pformat(value: Any, depth: int) -> str:
    pad, inner = "    " * depth, "    " * (depth + 1)
    if isinstance(value, dict) and value:
        items = ",\n".join(f"{inner}{key!r}: {_pformat(item, depth + 1)}" for key, item in value.items())
        return "{\n" + items + f",\n{pad}}}"
    if isinstance(value, list) and value:
        items = ",\n".join(f"{inner}{_pformat(item, depth + 1)}" for item in value)
        return "[\n" + items + f",\n{pad}]"
    return repr(value)
