"""A fake OpenAI-compatible chat-completions endpoint for tests and benchmarks (see server.py)."""

from .server import FakeOpenAI, RecordedRequest, Reply, markdown_tokens, schema_errors, tokens_of

__all__ = ["FakeOpenAI", "RecordedRequest", "Reply", "markdown_tokens", "schema_errors", "tokens_of"]
