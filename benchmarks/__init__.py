"""The performance benchmark of issue 6: `python -m benchmarks.run` (see benchmarks/README.md)."""
