"""Chengxin benchmarks: `python -m bench` runs them all and prints a summary table.

Each module is also a script (`python -m bench.classify`, `python bench/filings.py`, ...).
See docs/benchmarks.md.
"""
