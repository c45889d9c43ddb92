"""Run every benchmark, each in its own process with its own throwaway database.

    python -m bench.run_all            # default sizes (about ten minutes on two cores)
    python -m bench.run_all --quick    # small sizes, to check that everything runs
    python -m bench.run_all --profile  # also print where promisedesk spends its time

Extra arguments are passed on to every benchmark. Exits non-zero only if a
benchmark fails to run; a missed target is reported, never asserted.
"""

from __future__ import annotations

import json
import os
import platform
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

BENCHMARKS = ("due_time", "sweep", "intake", "outbox", "intake_mail", "escalations", "incident")
ROOT = Path(__file__).resolve().parent.parent


def main(argv: Sequence[str] | None = None) -> int:
    flags = list(sys.argv[1:] if argv is None else argv)
    if any(flag in ("-h", "--help") for flag in flags):
        print(__doc__)
        return 0
    cores = os.cpu_count()
    load = " / ".join(f"{x:.1f}" for x in os.getloadavg())
    python = f"{platform.python_implementation()} {platform.python_version()}"
    print(f"promisedesk benchmarks on {python}, SQLite {sqlite3.sqlite_version}, ", end="")
    print(f"{cores} cores, load average {load}; flags: {' '.join(flags) or '(none)'}")
    failed: list[str] = []
    with tempfile.TemporaryDirectory(prefix="promisedesk-bench-") as tmp:
        summary = Path(tmp) / "summary.jsonl"
        summary.touch()
        for name in BENCHMARKS:
            began = time.perf_counter()
            print(f"\n######## bench.{name}", flush=True)
            command = [sys.executable, "-m", f"bench.{name}", *flags, "--summary", str(summary)]
            if subprocess.run(command, cwd=ROOT).returncode != 0:
                failed.append(name)
            print(f"######## bench.{name} took {time.perf_counter() - began:.0f} s", flush=True)
        results = [json.loads(row) for row in summary.read_text(encoding="utf-8").splitlines() if row]
    print("\n######## summary")
    width = max((len(r["name"]) for r in results), default=10)
    for r in results:
        verdict = "n/a" if r["met"] is None else ("met" if r["met"] else "MISSED")
        print(f"  {r['name']:<{width}}  {verdict:<6}  target {r['target']:<12}  {r['ratio_text']}")
    if failed:
        print(f"\nfailed to run: {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
