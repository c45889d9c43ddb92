"""Due-time arithmetic against pandas, and recomputing open clocks after a holiday is added.

1. Per call: CompiledCalendar.due_us / .due on a two-window calendar (09:00–12:00,
   13:00–18:00 Mon–Fri, Asia/Shanghai) with China's statutory holidays and make-up
   workdays, against pandas.offsets.CustomBusinessHour with the same windows and
   holidays, on the same random inputs (starts in 2026, 1–40 working hours).
   pandas cannot work a make-up Saturday, so it does less than promisedesk: its
   time is a lower bound of the real work. pandas is timed on a subsample and
   scaled per call. Agreement is checked where the two semantics match.
2. Bulk: do_add_days on a calendar with N running clocks (all moved by the new
   holiday), against one plain SQL UPDATE of the same rows' due_at.
"""

from __future__ import annotations

import json
import random
from collections.abc import Sequence
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

from bench.common import (
    Result,
    best_of,
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

SHANGHAI = ZoneInfo("Asia/Shanghai")
WINDOWS = [["09:00", "12:00"], ["13:00", "18:00"]]
TWO_WINDOWS = {d: WINDOWS for d in ("mon", "tue", "wed", "thu", "fri")}
HOUR_US = 3_600_000_000
YEARS = range(2024, 2029)
TARGET_SPEEDUP = 50.0
TARGET_RECOMPUTE_S_PER_100K = 2.0


# -- 1. per-call due time ----------------------------------------------------------
def _calendars() -> tuple[object, object, list[date], list[date]]:
    from promisedesk.calendars.statutory import statutory_days
    from promisedesk.lib.businesstime import CalendarRules, CompiledCalendar, parse_weekly_hours

    offs, works = statutory_days("CN", YEARS)
    weekly = parse_weekly_hours(TWO_WINDOWS)
    full = CompiledCalendar(CalendarRules("Asia/Shanghai", weekly, frozenset(offs), frozenset(works)))
    no_makeup = CompiledCalendar(CalendarRules("Asia/Shanghai", weekly, frozenset(offs), frozenset()))
    return full, no_makeup, offs, works


def _inputs(n: int, seed: int = 20260101) -> tuple[list[datetime], list[int]]:
    rng = random.Random(seed)
    first = datetime(2026, 1, 1, tzinfo=SHANGHAI)
    seconds = int((datetime(2027, 1, 1, tzinfo=SHANGHAI) - first).total_seconds())
    starts = [first + timedelta(seconds=rng.randrange(seconds)) for _ in range(n)]
    hours = [rng.randint(1, 40) for _ in range(n)]
    return starts, hours


def _pandas_offsets(offs: list[date]) -> dict[int, object]:
    import pandas as pd

    return {
        h: pd.offsets.CustomBusinessHour(
            n=h, start=["09:00", "13:00"], end=["12:00", "18:00"], holidays=offs, weekmask="Mon Tue Wed Thu Fri"
        )
        for h in range(1, 41)
    }


def _local(us: int) -> datetime:
    from promisedesk.lib.businesstime import from_micros

    return from_micros(us).astimezone(SHANGHAI).replace(tzinfo=None)


def _agrees(calendar: object, ours_us: int, theirs: datetime) -> tuple[bool, bool]:
    """(agree, at a window end): pandas moves a due time at a window end to the next opening."""
    ours = _local(ours_us)
    if ours == theirs:
        return True, False
    if ours.time() in (time(12), time(18)):
        nxt = calendar.next_working_us(ours_us)  # type: ignore[attr-defined]
        return nxt is not None and _local(nxt) == theirs, True
    return False, False


def bench_due(n: int, pandas_n: int, rounds: int) -> list[Result]:
    import pandas as pd

    from promisedesk.lib.businesstime import to_micros

    heading(f"due time: {n:,} random inputs (starts in 2026, 1–40 working hours)")
    full, no_makeup, offs, works = _calendars()
    line("calendar", f"CN statutory {YEARS.start}–{YEARS.stop - 1}: {len(offs)} holidays, {len(works)} make-up days")
    starts, hours = _inputs(n)
    starts_us = [to_micros(s) for s in starts]
    durs_us = [h * HOUR_US for h in hours]
    durs = [timedelta(hours=h) for h in hours]
    due_us, due = full.due_us, full.due  # type: ignore[attr-defined]
    results_us = [due_us(s, d) for s, d in zip(starts_us, durs_us, strict=True)]  # warm up: compiles the years

    step = max(1, n // pandas_n)
    sample = list(range(0, n, step))[:pandas_n]
    offsets = _pandas_offsets(offs)
    # Naive local wall-clock Timestamps: pandas' fastest path (tz-aware ones are ~20% slower).
    stamps = [pd.Timestamp(starts[i].replace(tzinfo=None)) for i in sample]
    sample_offsets = [offsets[hours[i]] for i in sample]
    theirs: list = []

    def run_pandas() -> None:
        theirs[:] = [ts + off for ts, off in zip(stamps, sample_offsets, strict=True)]

    # Interleave the three so that a noisy neighbour slows all of them alike; keep the best round.
    ours_us = ours_dt = pandas_us = float("inf")
    for _ in range(rounds):
        ours_us = min(ours_us, best_of(lambda: [due_us(s, d) for s, d in zip(starts_us, durs_us, strict=True)], 1))
        ours_dt = min(ours_dt, best_of(lambda: [due(s, d) for s, d in zip(starts, durs, strict=True)], 1))
        pandas_us = min(pandas_us, best_of(run_pandas, 1))
    ours_us, ours_dt, pandas_us = ours_us / n, ours_dt / n, pandas_us / len(sample)
    line("promisedesk CompiledCalendar.due_us (epoch µs)", f"{ours_us * 1e6:8.2f} µs/call")
    line("promisedesk CompiledCalendar.due (aware datetime)", f"{ours_dt * 1e6:8.2f} µs/call")
    line(f"pandas CustomBusinessHour ({len(sample):,} of the inputs)", f"{pandas_us * 1e6:8.2f} µs/call")
    line("  pandas is a lower bound", "it skips make-up workdays, which promisedesk works")

    _check_agreement(full, no_makeup, works, starts, hours, sample, [t.to_pydatetime() for t in theirs], results_us)
    ratio_us, ratio_dt = pandas_us / ours_us, pandas_us / ours_dt
    return [
        Result(
            "due_us vs pandas",
            ratio_us,
            f"{ratio_us:.0f}× faster ({ours_us * 1e6:.2f} vs {pandas_us * 1e6:.0f} µs/call)",
            f"≥ {TARGET_SPEEDUP:.0f}×",
            ratio_us >= TARGET_SPEEDUP,
        ),
        Result(
            "due (datetime in/out) vs pandas",
            ratio_dt,
            f"{ratio_dt:.0f}× faster ({ours_dt * 1e6:.2f} vs {pandas_us * 1e6:.0f} µs/call)",
            f"≥ {TARGET_SPEEDUP:.0f}×",
            ratio_dt >= TARGET_SPEEDUP,
        ),
    ]


def _check_agreement(
    full: object,
    no_makeup: object,
    works: list[date],
    starts: list[datetime],
    hours: list[int],
    sample: list[int],
    theirs: list[datetime],
    full_results: list[int],
) -> None:
    from promisedesk.lib.businesstime import to_micros

    makeup = sorted(works)
    counts = {"plain": [0, 0, 0], "makeup": [0, 0, 0]}  # checked, agreed, agreed only via window end
    mismatches: list[str] = []
    for i, their in zip(sample, theirs, strict=True):
        start_us, dur = to_micros(starts[i]), hours[i] * HOUR_US
        # (a) the same calendar without make-up days: pandas' semantics exactly
        ok, at_end = _agrees(no_makeup, no_makeup.due_us(start_us, dur), their)  # type: ignore[attr-defined]
        _tally(counts["plain"], ok, at_end)
        if not ok and len(mismatches) < 5:
            mismatches.append(f"no make-up: {starts[i]} + {hours[i]}h: pandas {their}")
        # (b) the real calendar, where no make-up day falls between start and due
        ours = full_results[i]
        last = max(_local(ours), their).date()
        if not any(starts[i].date() <= d <= last for d in makeup):
            ok, at_end = _agrees(full, ours, their)
            _tally(counts["makeup"], ok, at_end)
            if not ok and len(mismatches) < 5:
                mismatches.append(f"with make-up: {starts[i]} + {hours[i]}h: ours {_local(ours)} pandas {their}")
    for key, label in (("plain", "same calendar without make-up days"), ("makeup", "CN calendar, no make-up in span")):
        checked, agreed, via_end = counts[key]
        line(
            f"agreement with pandas ({label})",
            f"{agreed:,}/{checked:,} agree ({via_end:,} of them because pandas moves a due time "
            "at a window end to the next opening)",
        )
    for text in mismatches:
        line("  MISMATCH", text)


def _tally(count: list[int], ok: bool, at_end: bool) -> None:
    count[0] += 1
    count[1] += ok
    count[2] += ok and at_end


# -- 2. recomputing open clocks ----------------------------------------------------
def _seed_clocks(n: int, now: datetime) -> object:
    """A CN calendar and n running oral-style clocks on it, 100 per case, all due after Wednesday."""

    from promisedesk.calendars.actions import do_create_calendar
    from promisedesk.calendars.compiled import clock_for
    from promisedesk.cases.actions import do_create_customer, do_create_service
    from promisedesk.cases.models import Case
    from promisedesk.commitments import clock as clocks
    from promisedesk.commitments.models import Commitment, State
    from promisedesk.lib.businesstime import to_micros

    adapt = sqlite_datetime
    calendar = do_create_calendar(
        now=now, name="Bench CN office", timezone="Asia/Shanghai", weekly_hours=TWO_WINDOWS, region="CN"
    )
    customer = do_create_customer(now=now, name="Bench customer")
    service = do_create_service(code="bench", name="Bench", price=Decimal("68.00"), currency="CNY")
    n_cases = max(1, n // 100)
    insert_rows(
        Case,
        ["external_ref"],
        ((f"BENCH-{i}",) for i in range(n_cases)),
        fixed={"customer_id": customer.pk, "service_id": service.pk, "opened_at": now, "last_event_at": now}
        | {"created_at": now, "currency": "CNY"},
    )
    case_ids = list(Case.objects.order_by("id").values_list("id", flat=True))
    clock = clock_for(calendar)
    rng = random.Random(7)
    first = datetime(2026, 3, 2, 9, 0, tzinfo=SHANGHAI)  # Monday; the new holiday is Wednesday 4 March
    span = int((datetime(2026, 3, 3, 18, 0, tzinfo=SHANGHAI) - first).total_seconds())
    earlier = datetime(2026, 2, 25, 10, 0, tzinfo=SHANGHAI)

    def rows():
        for i in range(n):
            started = first + timedelta(seconds=rng.randrange(span))
            segments: list[list[int]] = []
            if i % 2:  # paused once last week: one closed segment of two hours
                begin = to_micros(earlier + timedelta(minutes=rng.randrange(120)))
                segments = [[begin, begin + 2 * HOUR_US]]
            c = Commitment(
                state=State.RUNNING,
                target_us=rng.randint(24, 40) * HOUR_US + rng.randrange(60) * 60_000_000,
                warn_rule="80%" if i % 4 < 2 else None,
                segments=segments,
                segment_started_at=started,
                consumed_us=sum(clock.elapsed_us(b, e) for b, e in segments),
            )
            clocks.schedule(c, clock)
            yield (
                case_ids[i % n_cases],
                c.target_us,
                c.warn_rule,
                c.consumed_us,
                json.dumps(segments),
                adapt(started),
                adapt(started),
                adapt(c.due_at),
                adapt(c.warn_at),
                adapt(c.next_check_at),
            )

    insert_rows(
        Commitment,
        [
            "case_id",
            "target_us",
            "warn_rule",
            "consumed_us",
            "segments",
            "started_at",
            "segment_started_at",
            "due_at",
            "warn_at",
            "next_check_at",
        ],
        rows(),
        fixed={
            "calendar_id": calendar.pk,
            "state": State.RUNNING,
            "statement": "We will call you back",
            "rules": {"start_on": [], "stop_on": ["resolved"]},
            "created_at": now,
        },
    )
    return calendar


def bench_recompute(n: int, rounds: int, workdir: Path, want_profile: bool) -> list[Result]:
    from django.db import connection, transaction

    from promisedesk.calendars.actions import do_add_days
    from promisedesk.calendars.models import BusinessCalendar

    heading(f"recompute: add a holiday under {n:,} running clocks (best of {rounds})")
    now = datetime(2026, 3, 3, 20, 0, tzinfo=SHANGHAI)
    seeded, calendar = timed(lambda: _seed_clocks(n, now))
    line("seeding (not measured)", f"{seeded:.1f} s")
    names = [f"{kind}{r}" for r in range(rounds) for kind in ("ours", "plain")] + (["profile"] if want_profile else [])
    copies = {name: copy_database(workdir / f"{name}.sqlite3") for name in names}
    holiday = ["2026-03-04"]
    sql = (
        "UPDATE commitments_commitment SET due_at = datetime(due_at, '+1 day') "
        "WHERE calendar_id = %s AND state IN ('running', 'paused') AND target_us IS NOT NULL"
    )
    pk = calendar.pk  # type: ignore[attr-defined]

    def add_holiday(reason: str) -> int:
        fresh = BusinessCalendar.objects.get(pk=pk)
        return do_add_days(fresh, now=now, holidays=holiday, extra_workdays=[], reason=reason)[1]

    def plain_update() -> int:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(sql, [pk])
            return cursor.rowcount

    ours = baseline = float("inf")
    for r in range(rounds):  # interleaved, so that a noisy moment hits both alike
        use_database(copies[f"ours{r}"])
        seconds, moved = timed(lambda: add_holiday("bench: holiday added"))
        ours = min(ours, seconds)
        if moved != n:
            line("  WARNING", f"{moved:,} clocks moved; expected all {n:,}")
        use_database(copies[f"plain{r}"])
        seconds, updated = timed(plain_update)
        baseline = min(baseline, seconds)
    line("do_add_days (recompute + write + timeline rows)", f"{ours:8.3f} s  ({n:,} clocks moved)")
    line("baseline: one plain SQL UPDATE of the same rows' due_at", f"{baseline:8.3f} s  ({updated:,} rows)")
    if want_profile:
        use_database(copies["profile"])
        profile(lambda: add_holiday("profile"), "do_add_days")
    limit = TARGET_RECOMPUTE_S_PER_100K * n / 100_000
    ratio = ours / baseline
    return [
        Result(
            "recompute after a holiday",
            ratio,
            f"{ours:.2f} s for {n:,} clocks = {ratio:.1f}× one plain UPDATE ({baseline:.2f} s)",
            f"< {limit:g} s",
            ours < limit,
        )
    ]


def main(argv: Sequence[str] | None = None) -> list[Result]:
    args = parse_args(__doc__.splitlines()[0], argv)  # type: ignore[union-attr]
    n = sizes(args.quick, 100_000, 20_000)
    pandas_n = sizes(args.quick, 5_000, 1_000)
    clocks_n = sizes(args.quick, 100_000, 10_000)
    workdir = setup_django("due_time", keep=args.keep)
    results = bench_due(n, pandas_n, rounds=sizes(args.quick, 5, 3))
    results += bench_recompute(clocks_n, sizes(args.quick, 2, 1), workdir, args.profile)
    heading("due_time results")
    report(results, args.summary)
    return results


if __name__ == "__main__":
    main()
