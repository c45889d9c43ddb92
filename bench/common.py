"""Shared helpers: a throwaway database per benchmark, timing, bulk rows, reporting.

Nothing here imports Django models at import time: `setup_django` must run first,
because the settings read DATABASE_URL and PROMISEDESK_VAR_DIR when they load.
"""

from __future__ import annotations

import argparse
import atexit
import cProfile
import io
import json
import os
import pstats
import shutil
import sys
import tempfile
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

DB_NAME = "bench.sqlite3"


@dataclass
class Result:
    """One line of the summary: what was measured, the ratio, and the target it is held to."""

    name: str
    ratio: float
    ratio_text: str
    target: str
    met: bool | None
    detail: str = ""


def parse_args(description: str, argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--quick", action="store_true", help="smaller sizes, for a quick check that it all runs")
    parser.add_argument("--profile", action="store_true", help="also print a cProfile of the promisedesk side")
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory and its databases")
    parser.add_argument("--summary", type=Path, help="append the results as JSON lines to this file (run_all)")
    return parser.parse_args(argv)


def setup_django(name: str, *, keep: bool = False, database: Path | None = None, migrate: bool = True) -> Path:
    """Point promisedesk at a fresh SQLite file in a new temporary directory and migrate it.

    Returns the temporary directory (removed at exit unless keep). With `database`
    an existing file is used instead, e.g. by a child process measuring memory.
    """
    workdir = Path(tempfile.mkdtemp(prefix=f"promisedesk-bench-{name}-"))
    if keep:
        print(f"  (keeping {workdir})")
    else:
        atexit.register(shutil.rmtree, workdir, True)
    db = database or workdir / DB_NAME
    os.environ["DATABASE_URL"] = f"sqlite:///{db}"
    os.environ["PROMISEDESK_VAR_DIR"] = str(workdir / "var")
    (workdir / "var" / "static").mkdir(parents=True)  # whitenoise warns when STATIC_ROOT is missing
    os.environ["PROMISEDESK_DEBUG"] = "0"  # DEBUG would keep every query in memory
    os.environ["DJANGO_SETTINGS_MODULE"] = "promisedesk.settings"
    import django

    django.setup()
    if migrate:
        from django.core.management import call_command

        call_command("migrate", verbosity=0, interactive=False)
    return workdir


def sqlite_datetime(value: datetime | None) -> str | None:
    """What Django's SQLite backend stores for an aware datetime (naive UTC text), only faster."""
    if value is None:
        return None
    return str(value.astimezone(UTC).replace(tzinfo=None))


def database_path() -> Path:
    from django.db import connection

    return Path(connection.settings_dict["NAME"])


def use_database(path: Path) -> None:
    """Switch the default connection to another SQLite file (same options)."""
    from django.db import connection

    connection.close()
    connection.settings_dict["NAME"] = str(path)


def copy_database(destination: Path) -> Path:
    """Copy the current database file after folding the WAL into it, so both start equal."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    source = database_path()
    connection.close()
    shutil.copyfile(source, destination)
    return destination


def insert_rows(
    model: Any, columns: Sequence[str], rows: Iterable[tuple], fixed: dict[str, Any], chunk: int = 50_000
) -> int:
    """INSERT rows with executemany: `columns` vary per row (values already adapted for
    the database), `fixed` gives Python values for other fields, and every remaining
    field gets its model default. Returns the number of rows inserted."""
    from django.db import connection, transaction

    fields = {f.column: f for f in model._meta.concrete_fields if not f.primary_key}
    constant = {
        column: field.get_db_prep_save(fixed.get(field.name, fixed.get(column, field.get_default())), connection)
        for column, field in fields.items()
        if column not in columns
    }
    names = [*columns, *constant]
    tail = tuple(constant.values())
    sql = 'INSERT INTO "{}" ({}) VALUES ({})'.format(
        model._meta.db_table, ", ".join(f'"{n}"' for n in names), ", ".join(["%s"] * len(names))
    )
    total = 0
    batch: list[tuple] = []
    with transaction.atomic(), connection.cursor() as cursor:
        for row in rows:
            batch.append(row + tail)
            if len(batch) >= chunk:
                cursor.executemany(sql, batch)
                total += len(batch)
                batch = []
        if batch:
            cursor.executemany(sql, batch)
            total += len(batch)
    return total


def best_of(fn: Callable[[], Any], repeat: int = 3) -> float:
    """The fastest of `repeat` runs, in seconds (the least disturbed by the machine)."""
    best = float("inf")
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - started)
    return best


def timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    started = time.perf_counter()
    value = fn()
    return time.perf_counter() - started, value


def profile(fn: Callable[[], Any], title: str, top: int = 25) -> Any:
    """Run fn under cProfile and print the functions that took the most time."""
    profiler = cProfile.Profile()
    value = profiler.runcall(fn)
    out = io.StringIO()
    stats = pstats.Stats(profiler, stream=out)
    stats.strip_dirs().sort_stats("tottime").print_stats(top)
    print(f"\n--- profile: {title} (sorted by own time) ---")
    print("\n".join(line for line in out.getvalue().splitlines() if line.strip())[:6000])
    return value


def heading(text: str) -> None:
    print(f"\n== {text}", flush=True)


def line(label: str, value: str) -> None:
    print(f"  {label:<52} {value}", flush=True)


def report(results: list[Result], summary: Path | None) -> None:
    for r in results:
        verdict = "n/a" if r.met is None else ("MET" if r.met else "MISSED")
        line(f"{r.name}: {r.ratio_text}", f"target {r.target}: {verdict}")
    if summary is not None:
        with summary.open("a", encoding="utf-8") as handle:
            for r in results:
                handle.write(json.dumps(asdict(r)) + "\n")


def sizes(quick: bool, full: int, small: int) -> int:
    return small if quick else full


def fail(message: str) -> None:
    print(f"bench: {message}", file=sys.stderr)
    raise SystemExit(1)
