"""Benchmarks that print ratios against a baseline measured in the same run.

Run them all with `python -m bench.run_all` (add `--quick` for smaller sizes) or one
at a time with `python -m bench.due_time`, `python -m bench.sweep`, `python -m
bench.intake`. Each benchmark works on its own throwaway SQLite file in a temporary
directory and never asserts a timing: machines are noisy, ratios much less so.
"""
