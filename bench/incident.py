"""An incident of N customers (5,000 by default) against plain bulk inserts of what it writes.

1. N customers (email and phone, half in English) with one booking each on a flight
   inside the incident's span (not measured).
2. promisedesk: attach the N cases by query, notify all (launch + `run_bulk` to the end:
   N timeline notices, 2N outbox messages rendered per customer, N compare-and-sets),
   and compensate all with a CNY 200 voucher each, proposed and approved within the
   launcher's limit (N grants, N approvals, 2N timeline entries). Every step is the
   real, resumable, idempotent one.
3. The baseline, on an identical copy of the database: one query for the cases with
   their customers, then a plain loop rendering the same N notices with
   `outbox.render_message`, and bulk inserts of the N links, N notices, 2N outbox rows
   and N approved compensations — the least any code must do to write the same rows.
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
DEPARTURE = NOW + timedelta(hours=2)
TARGET = 5.0  # the whole incident at most this many times the plain inserts (measured: 3.3–4×; each
# grant is proposed and approved through the make-good actions, each with its lock and timeline entry)


def seed(total: int) -> None:
    from django.contrib.auth import get_user_model

    from promisedesk.cases.actions import do_create_service
    from promisedesk.cases.models import Case, Customer, new_access_token

    get_user_model().objects.create_superuser("duty", "duty@bench.example", "pw")
    service = do_create_service(code="flight", name="Flight", price=Decimal("1280.00"), currency="CNY")
    insert_rows(
        Customer,
        ["external_ref", "name", "email", "phone", "locale"],
        (
            (f"P-{i}", f"Passenger {i}", f"p{i}@bench.example", f"139{i:08d}", "en" if i % 2 else "zh-Hans")
            for i in range(total)
        ),
        fixed={"created_at": NOW},
    )
    first_customer = Customer.objects.order_by("id").values_list("id", flat=True).first()
    start, end = sqlite_datetime(DEPARTURE), sqlite_datetime(DEPARTURE + timedelta(hours=3))
    insert_rows(
        Case,
        ["external_ref", "access_token", "customer_id"],
        ((f"FLT-{i}", new_access_token(), first_customer + i) for i in range(total)),  # type: ignore[operator]
        fixed={"service_id": service.pk, "opened_at": NOW - timedelta(days=1), "last_event_at": NOW}
        | {"created_at": NOW, "currency": "CNY", "price": Decimal("1280.00"), "stage": "design"}
        | {"appointment_start": DEPARTURE, "appointment_end": DEPARTURE + timedelta(hours=3)},
    )
    assert start and end


def the_incident(total: int) -> dict[str, float]:
    from django.contrib.auth import get_user_model

    from promisedesk.recovery.actions import (
        do_attach_by_query,
        do_declare_incident,
        do_launch_compensation,
        do_launch_notify,
    )
    from promisedesk.recovery.bulk import run_bulk

    duty = get_user_model().objects.get(username="duty")
    incident = do_declare_incident(
        actor=duty,
        now=NOW,
        code="BENCH",
        title="Flights delayed",
        reason="航路雷雨天气",
        reason_en="thunderstorms on the route",
        new_time=DEPARTURE + timedelta(hours=2),
        starts_at=NOW - timedelta(hours=1),
        ends_at=NOW + timedelta(hours=6),
        services=["flight"],
    )
    times: dict[str, float] = {}
    times["attach"], attached = timed(lambda: do_attach_by_query(incident, actor=duty, now=NOW))
    assert attached.attached == total, attached

    def notify() -> None:
        do_launch_notify(incident, actor=duty, now=NOW, message="Meals at gate B12.")
        while run_bulk(NOW):
            pass

    def compensate() -> None:
        rule = {"mode": "grant", "kind": "voucher", "amount": "200", "currency": "CNY", "reason": "delay"}
        do_launch_compensation(incident, actor=duty, now=NOW, rule=rule)
        while run_bulk(NOW):
            pass

    times["notify"], _ = timed(notify)
    times["compensate"], _ = timed(compensate)
    return times


def time_plain() -> float:
    from django.db import transaction

    from promisedesk.breaches.models import Compensation
    from promisedesk.cases.models import Case, CaseEvent
    from promisedesk.notifications.events import case_link
    from promisedesk.notifications.models import OutboxMessage
    from promisedesk.notifications.outbox import render_message
    from promisedesk.recovery.models import Incident, IncidentCase

    def run() -> None:
        with transaction.atomic():
            incident = Incident.objects.create(code="PLAIN", title="x", reason="x", starts_at=NOW, created_at=NOW)
            cases = list(Case.objects.select_related("customer", "service"))
            IncidentCase.objects.bulk_create(IncidentCase(incident=incident, case=c, attached_at=NOW) for c in cases)
            events, messages, grants = [], [], []
            for c in cases:
                context = {
                    "incident": {"code": "PLAIN", "title": "Flights delayed"},
                    "case": c,
                    "reason": "thunderstorms on the route",
                    "new_time": DEPARTURE,
                    "zone": "Asia/Shanghai",
                    "message": "Meals at gate B12.",
                    "link": case_link(c),
                }
                language = c.customer.locale
                subject, body = render_message("incident_notice", language, context)
                events.append(CaseEvent(case=c, type="incident_notice", at=NOW, note=body, recorded_at=NOW))
                for channel, address in (("email", c.customer.email), ("sms", c.customer.phone)):
                    messages.append(
                        OutboxMessage(
                            event_key="plain:notice",
                            event="incident_notice",
                            recipient=address,
                            channel=channel,
                            language=language,
                            subject=subject if channel == "email" else "",
                            body=body,
                            case=c,
                            next_attempt_at=NOW,
                            created_at=NOW,
                        )
                    )
                grants.append(
                    Compensation(
                        grant_key=f"plain:{c.pk}",
                        reason="delay",
                        case=c,
                        kind="voucher",
                        amount=Decimal("200"),
                        currency="CNY",
                        status="approved",
                        created_at=NOW,
                        approved_at=NOW,
                    )
                )
            CaseEvent.objects.bulk_create(events, batch_size=2000)
            OutboxMessage.objects.bulk_create(messages, batch_size=2000)
            Compensation.objects.bulk_create(grants, batch_size=2000)

    seconds, _ = timed(run)
    return seconds


def main(argv: Sequence[str] | None = None) -> list[Result]:
    args = parse_args(__doc__.splitlines()[0], list(sys.argv[1:] if argv is None else argv))  # type: ignore[union-attr]
    total = sizes(args.quick, 5_000, 500)
    workdir = setup_django("incident", keep=args.keep)
    heading(f"incident: {total:,} affected customers")
    seconds, _ = timed(lambda: seed(total))
    line(f"seeding {total:,} customers and bookings (not measured)", f"{seconds:.1f} s")
    plain_db: Path = copy_database(workdir / "plain.sqlite3")
    incident_db: Path = copy_database(workdir / "incident.sqlite3")

    use_database(plain_db)
    plain = time_plain()
    line(f"plain: render {total:,} notices, bulk-insert the same rows", f"{plain:.2f} s")
    use_database(incident_db)
    run = (
        (lambda: profile(lambda: the_incident(total), "the incident")) if args.profile else lambda: the_incident(total)
    )
    times = run()
    for step, took in times.items():
        line(f"  {step} {total:,} cases", f"{took:.2f} s ({total / took:,.0f} cases/s)")
    whole = sum(times.values())
    line("attach + notify + compensate", f"{whole:.2f} s")

    ratio = whole / plain
    results = [
        Result(
            name="incident (attach, notify, compensate) vs. plain bulk inserts",
            ratio=ratio,
            ratio_text=f"{ratio:.2f}× the time",
            target=f"≤ {TARGET:g}×",
            met=ratio <= TARGET,
            detail=f"{total:,} customers in {whole:.2f} s; plain inserts {plain:.2f} s",
        )
    ]
    report(results, args.summary)
    return results


if __name__ == "__main__":
    main()
