"""Escalations against a plain loop that renders and queues the same staff emails.

1. N running clocks (10,000 by default), each on its own case, assigned, in a
   department with a lead and a manager; a sweep records each one's at-risk warning
   (not measured).
2. `escalate_due(now)` reads the N warnings past its cursor, schedules 3N
   escalations (the owner now, the team lead at 90 %, the manager at 100 %), and
   tells the N owners: N emails rendered and queued in the outbox, N escalations
   settled with a compare-and-set, N timeline entries. The baseline, on an identical
   copy of the database: one query for the same commitments with their cases, then a
   plain loop rendering the same N emails with `outbox.render_message` and one bulk
   insert of them — the least any code must do to queue those messages.
3. A second pass at the same instant, with the 2N later levels pending: it finds
   nothing due through the partial index `escalation_due` and should take
   milliseconds, whatever N.
"""

from __future__ import annotations

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
TARGET = 3.0  # escalate_due at most this many times the plain render-and-queue loop
FLAT_MS = 50.0  # a pass with nothing due, in milliseconds
FOUR_HOURS = 4 * 3600 * 1_000_000


def seed(total: int) -> None:
    """total cases, one warned four-hour round-the-clock clock each, assigned in a department."""
    from django.contrib.auth import get_user_model

    from promisedesk.accounts.models import Department
    from promisedesk.cases.actions import do_create_customer, do_create_service
    from promisedesk.cases.models import Case, new_access_token
    from promisedesk.commitments.models import Commitment, State
    from promisedesk.commitments.sweeper import sweep

    users = get_user_model().objects
    owner, lead, boss = (users.create_user(n, email=f"{n}@bench.example", is_staff=True) for n in ("ol", "ld", "bo"))
    department = Department.objects.create(code="support", name="Support", lead=lead, manager=boss)
    customer = do_create_customer(now=NOW, name="Bench customer")
    service = do_create_service(code="bench", name="Bench", price=Decimal("68.00"), currency="CNY")
    insert_rows(
        Case,
        ["external_ref", "access_token"],
        ((f"ESC-{i}", new_access_token()) for i in range(total)),
        fixed={"customer_id": customer.pk, "service_id": service.pk, "opened_at": NOW, "last_event_at": NOW}
        | {"created_at": NOW, "currency": "CNY", "assignee_id": owner.pk, "department_id": department.pk},
    )
    first_case = Case.objects.order_by("id").values_list("id", flat=True).first()
    started, warn, due = NOW - timedelta(hours=3), NOW, NOW + timedelta(hours=1)  # 75 % of four hours at NOW
    times = tuple(sqlite_datetime(t) for t in (started, started, due, warn, warn))
    insert_rows(
        Commitment,
        ["case_id", "started_at", "segment_started_at", "due_at", "warn_at", "next_check_at"],
        ((first_case + i, *times) for i in range(total)),  # type: ignore[operator]
        fixed={
            "state": State.RUNNING,
            "promise_code": "reply-4h",
            "statement": "Reply within four hours",
            "rules": {"start_on": ["case_opened"], "stop_on": ["first_response"]},
            "target_us": FOUR_HOURS,
            "warn_rule": "75%",
            "created_at": NOW - timedelta(days=1),
        },
    )
    warned = sweep(NOW).warned
    assert warned == total, warned


def time_escalate(db: Path, want_profile: bool) -> tuple[float, str]:
    from promisedesk.escalations.engine import escalate_due

    use_database(db)
    run = (
        (lambda: profile(lambda: escalate_due(NOW), "escalate_due(now)")) if want_profile else lambda: escalate_due(NOW)
    )
    seconds, result = timed(run)
    return seconds, str(result)


def time_second_pass() -> tuple[float, str]:
    from promisedesk.escalations.engine import escalate_due

    seconds, result = timed(lambda: escalate_due(NOW))
    return seconds, str(result)


def time_plain(db: Path) -> tuple[float, int]:
    from django.db import transaction

    from promisedesk.commitments.models import Commitment
    from promisedesk.notifications.models import OutboxMessage
    from promisedesk.notifications.outbox import render_message

    use_database(db)

    def run() -> int:
        with transaction.atomic():
            messages = []
            for c in Commitment.objects.select_related("case__customer", "case__assignee"):
                context = {"case": c.case, "promise": c.statement, "role": "owner", "threshold": "75 %"}
                subject, body = render_message("promise_escalated", "zh-Hans", context)
                messages.append(
                    OutboxMessage(
                        event_key=f"plain:{c.pk}",
                        event="promise_escalated",
                        recipient=c.case.assignee.email,  # type: ignore[union-attr]
                        channel="email",
                        language="zh-Hans",
                        subject=subject,
                        body=body,
                        case_id=c.case_id,
                        next_attempt_at=NOW,
                        created_at=NOW,
                    )
                )
            OutboxMessage.objects.bulk_create(messages)
            return len(messages)

    return timed(run)


def main(argv: Sequence[str] | None = None) -> list[Result]:
    args = parse_args(__doc__.splitlines()[0], list(sys.argv[1:] if argv is None else argv))  # type: ignore[union-attr]
    total = sizes(args.quick, 10_000, 1_000)
    workdir = setup_django("escalations", keep=args.keep)
    heading(f"escalations: {total:,} warned clocks")
    seconds, _ = timed(lambda: seed(total))
    line(f"seeding {total:,} clocks and sweeping their warnings (not measured)", f"{seconds:.1f} s")
    plain_db = copy_database(workdir / "plain.sqlite3")
    escalate_db = copy_database(workdir / "escalate.sqlite3")

    plain, queued = time_plain(plain_db)
    line(f"plain loop: render and queue {queued:,} emails", f"{plain:.2f} s ({queued / plain:,.0f}/s)")
    escalated, summary = time_escalate(escalate_db, args.profile)
    line(f"escalate_due(now): {summary}", f"{escalated:.2f} s ({total / escalated:,.0f} owners told/s)")
    idle, idle_summary = time_second_pass()
    line(f"second pass, {2 * total:,} pending later: {idle_summary}", f"{idle * 1000:.1f} ms")

    ratio = escalated / plain
    results = [
        Result(
            name="escalations vs. plain render-and-queue loop",
            ratio=ratio,
            ratio_text=f"{ratio:.2f}× the time",
            target=f"≤ {TARGET:g}×",
            met=ratio <= TARGET,
            detail=f"{total:,} owners told in {escalated:.2f} s; plain loop {plain:.2f} s",
        ),
        Result(
            name="escalation pass with nothing due",
            ratio=idle * 1000,
            ratio_text=f"{idle * 1000:.1f} ms with {2 * total:,} pending",
            target=f"≤ {FLAT_MS:g} ms",
            met=idle * 1000 <= FLAT_MS,
        ),
    ]
    report(results, args.summary)
    return results


if __name__ == "__main__":
    main()
