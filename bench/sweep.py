"""The sweeper against a plain SQL UPDATE, and its independence from clocks not yet due.

1. N running commitments (1,000,000 by default) of which 10,000 are due: time
   promisedesk.commitments.sweeper.sweep(now), which claims the due clocks and
   records a breach and a timeline entry for each, against one plain
   `UPDATE … SET state='breached' … WHERE next_check_at <= now` on an identical copy
   of the database file (copied before either runs).
2. The same sweep over 100,000 commitments of which the same 10,000 are due: the
   sweep should take as long whatever the number of clocks not due.
3. The worker's peak memory (maxrss and tracemalloc peak, in a fresh child process)
   sweeping 10,000 due clocks among 100,000 and among N.
"""

from __future__ import annotations

import json
import random
import shutil
import subprocess
import sys
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

from bench.common import (
    Result,
    copy_database,
    heading,
    insert_rows,
    line,
    parse_args,
    profile,
    report,
    setup_django,
    sizes,
    sqlite_datetime,
    timed,
    use_database,
)

NOW = datetime(2026, 6, 1, 4, 0, tzinfo=UTC)  # 12:00 in Shanghai
DUE = 10_000
TARGET_VS_PLAIN = 5.0
TARGET_FLATNESS = 1.5  # "about 1": sweep time with 10× the clocks not due, at most this much more
LIABILITY = {
    "kind": "voucher",
    "amount": "20.00",
    "percent_of_price": None,
    "multiple_of_price": None,
    "cap": None,
    "currency": "CNY",
    "verification_required": False,
    "automatic": True,
}
PLAIN_SQL = (
    "UPDATE commitments_commitment SET state = 'breached', breached_at = due_at, next_check_at = NULL "
    "WHERE next_check_at <= %s"
)


def seed(total: int, due: int) -> None:
    """total running clocks on 1 case per 100; every (total // due)-th one is overdue."""

    from promisedesk.cases.actions import do_create_customer, do_create_service
    from promisedesk.cases.models import Case
    from promisedesk.commitments.models import Commitment, State

    adapt = sqlite_datetime
    customer = do_create_customer(now=NOW, name="Bench customer")
    service = do_create_service(code="bench", name="Bench", price=Decimal("68.00"), currency="CNY")
    n_cases = max(1, total // 100)
    insert_rows(
        Case,
        ["external_ref"],
        ((f"SWEEP-{i}",) for i in range(n_cases)),
        fixed={"customer_id": customer.pk, "service_id": service.pk, "opened_at": NOW, "last_event_at": NOW}
        | {"created_at": NOW, "currency": "CNY"},
    )
    first_case = Case.objects.order_by("id").values_list("id", flat=True).first()
    rng = random.Random(11)
    every = total // due
    four_hours = 4 * 3600 * 1_000_000

    def rows():
        for i in range(total):
            if i % every == 0:  # overdue by up to ten hours; its warning was recorded already
                due_at = NOW - timedelta(seconds=rng.randrange(1, 36_000))
                warned = due_at - timedelta(hours=1)
            else:  # due in two hours to thirty days: warning not yet due either
                due_at = NOW + timedelta(seconds=rng.randrange(2 * 3600, 30 * 86_400))
                warned = None
            started = due_at - timedelta(hours=4)
            warn = due_at - timedelta(hours=1)
            yield (
                first_case + i % n_cases,
                adapt(started),
                adapt(started),
                adapt(due_at),
                adapt(warn),
                adapt(warned),
                adapt(due_at if warned else warn),
            )

    insert_rows(
        Commitment,
        ["case_id", "started_at", "segment_started_at", "due_at", "warn_at", "warned_at", "next_check_at"],
        rows(),
        fixed={
            "state": State.RUNNING,
            "promise_code": "reply-4h",
            "statement": "",
            "rules": {"start_on": ["case_opened"], "stop_on": ["first_response"]},
            "target_us": four_hours,
            "warn_rule": "75%",
            "liability": LIABILITY,
            "created_at": NOW - timedelta(days=31),
        },
    )


def time_sweep(db: Path, want_profile: bool = False) -> tuple[float, int]:
    from promisedesk.commitments.sweeper import sweep

    use_database(db)
    if want_profile:
        seconds, result = timed(lambda: profile(lambda: sweep(NOW), "sweep(now)"))
    else:
        seconds, result = timed(lambda: sweep(NOW))
    return seconds, result.breached


def time_plain(db: Path) -> tuple[float, int]:
    from django.db import connection, transaction

    use_database(db)
    adapt = connection.ops.adapt_datetimefield_value

    def run() -> int:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(PLAIN_SQL, [adapt(NOW)])
            return cursor.rowcount

    return timed(run)


def memory_in_child(db: Path) -> dict[str, float]:
    """Sweep a copy in a fresh interpreter and report its peak memory."""
    out = subprocess.run(
        [sys.executable, "-m", "bench.sweep", "--memory-child", str(db)],
        check=True,
        capture_output=True,
        text=True,
        cwd=Path(__file__).resolve().parent.parent,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def memory_child(db: Path) -> None:
    import resource
    import tracemalloc

    setup_django("sweep-memory", database=db, migrate=False)
    from django.db import connection

    from promisedesk.commitments.sweeper import sweep

    connection.ensure_connection()
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    tracemalloc.start()
    result = sweep(NOW)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    report_ = {"breached": result.breached, "rss_before_mb": before / 1024, "rss_peak_mb": after / 1024}
    print(json.dumps(report_ | {"traced_peak_mb": peak / 2**20}))


def prepare(workdir: Path, empty: Path, total: int, due: int, copies: list[str]) -> dict[str, Path]:
    """Seed a database of total clocks from the empty one and copy it once per name."""
    db = workdir / f"seed-{total}.sqlite3"
    shutil.copyfile(empty, db)
    use_database(db)
    seconds, _ = timed(lambda: seed(total, due))
    line(f"seeding {total:,} clocks (not measured)", f"{seconds:.1f} s, {db.stat().st_size / 2**20:.0f} MB")
    paths = {name: copy_database(workdir / f"{name}-{total}.sqlite3") for name in copies}
    db.unlink()
    return paths


def main(argv: Sequence[str] | None = None) -> list[Result]:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["--memory-child"]:
        memory_child(Path(argv[1]))
        return []
    args = parse_args(__doc__.splitlines()[0], argv)  # type: ignore[union-attr]
    due = sizes(args.quick, DUE, 2_000)
    big = sizes(args.quick, 1_000_000, 100_000)
    small = sizes(args.quick, 100_000, 10_000)
    rounds = sizes(args.quick, 3, 1)
    workdir = setup_django("sweep", keep=args.keep)
    empty = copy_database(workdir / "empty.sqlite3")

    heading(f"sweep: {due:,} due among {big:,} and among {small:,} running clocks")
    names = [f"sweep{r}" for r in range(rounds)] + [f"plain{r}" for r in range(rounds)] + ["memory"]
    big_dbs = prepare(workdir, empty, big, due, names + (["profile"] if args.profile else []))
    small_dbs = prepare(workdir, empty, small, due, [f"sweep{r}" for r in range(rounds)] + ["memory"])

    sweep_big = sweep_small = plain = float("inf")
    for r in range(rounds):  # interleaved, so that a noisy moment hits all three alike
        seconds, breached = time_sweep(big_dbs[f"sweep{r}"])
        sweep_big = min(sweep_big, seconds)
        _check(breached, due, f"sweep of {big:,}")
        seconds, updated = time_plain(big_dbs[f"plain{r}"])
        plain = min(plain, seconds)
        _check(updated, due, "plain UPDATE")
        seconds, breached = time_sweep(small_dbs[f"sweep{r}"])
        sweep_small = min(sweep_small, seconds)
        _check(breached, due, f"sweep of {small:,}")
    line(f"sweep(now) over {big:,} clocks, {due:,} due", f"{sweep_big:8.3f} s  ({due / sweep_big:,.0f} breaches/s)")
    line("baseline: plain SQL UPDATE … WHERE next_check_at <= now", f"{plain:8.3f} s")
    line(f"sweep(now) over {small:,} clocks, {due:,} due", f"{sweep_small:8.3f} s")
    if args.profile:
        time_sweep(big_dbs["profile"], want_profile=True)

    mem_small = memory_in_child(small_dbs["memory"])
    mem_big = memory_in_child(big_dbs["memory"])
    for total, mem in ((small, mem_small), (big, mem_big)):
        line(
            f"worker memory sweeping {due:,} among {total:,}",
            f"maxrss {mem['rss_peak_mb']:.0f} MB (was {mem['rss_before_mb']:.0f} MB before the sweep), "
            f"tracemalloc peak {mem['traced_peak_mb']:.1f} MB",
        )
    ratio_plain = sweep_big / plain
    flat = sweep_big / sweep_small
    mem_ratio = mem_big["rss_peak_mb"] / mem_small["rss_peak_mb"]
    heading("sweep results")
    results = [
        Result(
            "sweep vs plain UPDATE",
            ratio_plain,
            f"{ratio_plain:.1f}× the plain UPDATE ({sweep_big:.2f} vs {plain:.2f} s for {due:,} breaches)",
            f"≤ {TARGET_VS_PLAIN:g}×",
            ratio_plain <= TARGET_VS_PLAIN,
        ),
        Result(
            f"sweep time, {big // small}× the clocks (same due)",
            flat,
            f"{flat:.2f}× ({big:,}: {sweep_big:.2f} s, {small:,}: {sweep_small:.2f} s)",
            f"≈ 1 (≤ {TARGET_FLATNESS:g})",
            flat <= TARGET_FLATNESS,
        ),
        Result(
            f"worker peak memory, {big // small}× the clocks",
            mem_ratio,
            f"{mem_ratio:.2f}× (maxrss {mem_big['rss_peak_mb']:.0f} vs {mem_small['rss_peak_mb']:.0f} MB; "
            f"traced {mem_big['traced_peak_mb']:.1f} vs {mem_small['traced_peak_mb']:.1f} MB)",
            f"flat (≤ {TARGET_FLATNESS:g}×)",
            mem_ratio <= TARGET_FLATNESS,
        ),
    ]
    report(results, args.summary)
    return results


def _check(count: int, due: int, what: str) -> None:
    if count != due:
        line("  WARNING", f"{what} moved {count:,} clocks, expected {due:,}")


if __name__ == "__main__":
    main()
