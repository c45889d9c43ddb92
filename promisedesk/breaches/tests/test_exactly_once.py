"""One compensation per breach when verifications race, on SQLite and PostgreSQL."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from django.db import connection

from promisedesk.breaches.actions import do_report_breach, do_verify_breach
from promisedesk.breaches.models import Breach, Compensation, RootCause
from promisedesk.cases.models import Case
from promisedesk.conftest import make_customer, make_promise, make_service, open_case
from promisedesk.errors import DomainError
from promisedesk.notifications.models import OutboxMessage

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.postgres]


def _race(target: Any, workers: int) -> list[Any]:
    """Run target in `workers` threads released at once; return what each returned or raised."""
    barrier = threading.Barrier(workers)
    results: list[Any] = [None] * workers

    def run(index: int) -> None:
        try:
            barrier.wait(timeout=30)
            results[index] = target()
        except Exception as exc:  # collected and asserted on by the test
            results[index] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(n,)) for n in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(t.is_alive() for t in threads), "a racing verification hung"
    return results


def test_concurrent_verifications_make_one_compensation(api, clock, staff):
    RootCause.objects.create(code="staffing", name_en="Not enough staff", name_zh="人手不足")
    make_service(api, "coach", price="68.00")
    make_promise(
        api,
        code="courtesy",
        kind="behaviour",
        standard={},
        liability={"kind": "cash", "multiple_of_price": "2", "verification_required": True, "automatic": True},
    )
    case_id = open_case(api, make_customer(api)["id"], "coach")["id"]
    breach, _ = do_report_breach(
        actor=staff,
        now=clock.now,
        case=Case.objects.get(pk=case_id),
        source="claim",
        description="rude driver",
        promise_code="courtesy",
    )

    def verify() -> Breach:
        return do_verify_breach(
            Breach.objects.get(pk=breach.pk), actor=staff, now=clock.now, verdict="verified", root_cause="staffing"
        )

    results = _race(verify, 4)
    winners = [r for r in results if isinstance(r, Breach)]
    losers = [r for r in results if isinstance(r, DomainError)]
    assert len(winners) == 1 and len(losers) == 3, results
    assert all(e.code == "already_decided" for e in losers)
    assert Compensation.objects.filter(breach=breach).count() == 1
    assert Compensation.objects.get().amount == 136
    assert OutboxMessage.objects.filter(event_key=f"breach:{breach.pk}:verified").count() == 2


def test_replayed_claims_with_one_key_make_one_breach(api, clock, staff):
    make_service(api, "coach", price="68.00")
    make_promise(
        api,
        code="courtesy",
        kind="behaviour",
        standard={},
        liability={"kind": "cash", "multiple_of_price": "2", "verification_required": True},
    )
    case_id = open_case(api, make_customer(api)["id"], "coach")["id"]

    def claim() -> Breach:
        breach, _ = do_report_breach(
            actor=staff,
            now=clock.now,
            case=Case.objects.get(pk=case_id),
            source="claim",
            description="rude driver",
            promise_code="courtesy",
            idempotency_key="wx-123",
        )
        return breach

    results = _race(claim, 4)
    assert all(isinstance(r, Breach) for r in results), results
    assert len({r.pk for r in results}) == 1
    assert Breach.objects.count() == 1


def test_racing_grants_for_one_thing_make_one_compensation(api, clock, staff):
    from decimal import Decimal

    from promisedesk.breaches.compensations import do_propose_grant

    make_service(api, "flight", price="900.00")
    case = Case.objects.get(pk=open_case(api, make_customer(api)["id"], "flight")["id"])

    def grant() -> tuple[Compensation, bool]:
        return do_propose_grant(
            case,
            key="incident:1:case:1",
            kind="voucher",
            amount=Decimal("200"),
            reason="delay",
            actor=staff,
            now=clock.now,
        )

    results = _race(grant, 4)
    assert not [r for r in results if isinstance(r, Exception)], results
    assert sorted(created for _grant, created in results) == [False, False, False, True]
    assert len({g.pk for g, _created in results}) == 1
    assert Compensation.objects.filter(grant_key="incident:1:case:1").count() == 1
