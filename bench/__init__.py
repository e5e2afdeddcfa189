"""Benchmarks: the project against floors measured side by side; run `python -m bench.run`."""
