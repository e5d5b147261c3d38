"""The reference: a plain httpx client streaming the same request, timed from its request start."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass

import httpx

from benchmarks.procs import API_KEY, MODEL


@dataclass(frozen=True)
class DirectTiming:
    first_token_s: float
    last_token_s: float
    content_bytes: int


def stream_once(base_url: str, prompt: str = "Write something long, please.") -> DirectTiming:
    body = {"model": MODEL, "messages": [{"role": "user", "content": prompt}], "stream": True}
    headers = {"Authorization": f"Bearer {API_KEY}"}
    first = last = None
    size = 0
    started = time.perf_counter()
    with httpx.stream("POST", f"{base_url}/chat/completions", json=body, headers=headers, timeout=60) as response:
        response.raise_for_status()
        for line in response.iter_lines():
            if not line.startswith("data:") or line.endswith("[DONE]"):
                continue
            choices = json.loads(line[5:]).get("choices") or [{}]
            text = (choices[0].get("delta") or {}).get("content")
            if text:
                last = time.perf_counter() - started
                first = first if first is not None else last
                size += len(text.encode())
    if first is None or last is None:
        raise RuntimeError("the direct client received no content")
    return DirectTiming(first, last, size)
