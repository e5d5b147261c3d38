"""Serve the fake endpoint until killed (for benchmarks); every answer is generated markdown.

    python -m tests.fake_openai --port 8011 [--tokens 2000] [--rate 200] [--chars-per-token 4] [--api-key K]
"""

import argparse
import signal
import sys
import threading

from .server import FakeOpenAI, Reply, markdown_tokens


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m tests.fake_openai", description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=8011, help="0 picks a free port")
    parser.add_argument("--tokens", type=int, default=2000, help="tokens in every answer")
    parser.add_argument("--rate", type=float, default=200.0, help="tokens per second; 0 = as fast as possible")
    parser.add_argument("--chars-per-token", type=int, default=4)
    parser.add_argument("--api-key", help="require 'Authorization: Bearer <key>'")
    args = parser.parse_args(argv)

    reply = Reply(content=markdown_tokens(args.tokens, args.chars_per_token), rate=args.rate)
    fake = FakeOpenAI(args.port, api_key=args.api_key, default_reply=reply)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))  # stop cleanly when a benchmark kills us
    with fake:
        print(f"fake endpoint on {fake.base_url}", flush=True)
        try:
            threading.Event().wait()
        except KeyboardInterrupt:
            pass


if __name__ == "__main__":
    main()
