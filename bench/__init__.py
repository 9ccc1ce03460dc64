"""Benchmarks for mo-bot: run them all with ``bash bench/run [--quick]`` (see bench/README.md)."""
