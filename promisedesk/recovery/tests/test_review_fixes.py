"""Regressions found in review: keys, launchers, notices, amounts and runs that go wrong."""

from __future__ import annotations

from typing import Any

import pytest

from promisedesk.breaches.actions import do_report_breach
from promisedesk.breaches.models import Breach, Compensation, Exclusion
from promisedesk.breaches.settlement import exclusion_for
from promisedesk.cases.models import Case
from promisedesk.errors import DomainError
from promisedesk.notifications.models import OutboxMessage
from promisedesk.recovery.bulk import run_bulk
from promisedesk.recovery.models import IncidentCase

from .conftest import declare

pytestmark = pytest.mark.django_db

LIABILITY = {"mode": "liability", "promise_code": "boarding-info"}


def test_a_client_cannot_take_an_incidents_breach_key(api: Any, manager_api: Any, airline: Any) -> None:
    first, second = airline.passengers(2)
    incident = declare(api)
    api.post(f"/incidents/{incident['id']}/attach/references", {"references": [first.external_ref]})
    squatted = api.post(
        "/breaches",
        {
            "case": second.pk,
            "promise_code": "boarding-info",
            "source": "report",
            "description": "x",
            "idempotency_key": f"incident:{incident['id']}:breach:{first.pk}",
        },
    )
    assert squatted.status_code == 400
    assert squatted.json()["error"]["code"] == "reserved_key"
    assert squatted.json()["error"]["field"] == "idempotency_key"

    manager_api.post(f"/incidents/{incident['id']}/compensate", LIABILITY)
    run_bulk(airline.clock.now)
    link = IncidentCase.objects.get(case=first)
    assert link.breach is not None and link.breach.case_id == first.pk


def test_a_key_used_for_another_case_is_taken(airline: Any) -> None:
    first, second = airline.passengers(2)
    now = airline.clock.now
    report = {"actor": None, "now": now, "source": "report", "description": "x", "idempotency_key": "k-1"}
    breach, created = do_report_breach(case=first, promise_code="boarding-info", **report)
    again, created_again = do_report_breach(case=first, promise_code="boarding-info", **report)
    assert created and not created_again and again.pk == breach.pk
    with pytest.raises(DomainError) as taken:
        do_report_breach(case=second, promise_code="boarding-info", **report)
    assert taken.value.code == "idempotency_key_taken" and taken.value.status == 409
    assert Breach.objects.count() == 1


def test_an_incident_key_excludes_only_when_the_incident_has_the_case(manager_api: Any, airline: Any) -> None:
    attached, stranger = airline.passengers(2)
    typhoon = declare(
        manager_api,
        starts_at="2026-02-27T08:00:00+08:00",
        ends_at="2026-02-28T08:00:00+08:00",
        force_majeure=True,
        force_majeure_reason="the airport was closed",
    )
    manager_api.post(f"/incidents/{typhoon['id']}/attach/references", {"references": [attached.external_ref]})
    breach, _created = do_report_breach(
        actor=None,
        now=airline.clock.now,
        case=stranger,
        source="report",
        description="x",
        promise_code="boarding-info",
        idempotency_key=f"incident:{typhoon['id']}:breach:{stranger.pk}",
    )
    assert exclusion_for(breach) == Exclusion.NONE
    IncidentCase.objects.create(incident_id=typhoon["id"], case=stranger, attached_at=airline.clock.now)
    assert exclusion_for(breach) == Exclusion.FORCE_MAJEURE
    assert not Compensation.objects.filter(breach__case=attached).exists()


def test_a_run_launched_by_someone_deactivated_since_approves_nothing(
    api: Any, manager: Any, manager_api: Any, airline: Any
) -> None:
    airline.passengers(3)
    incident = declare(manager_api)
    manager_api.post(f"/incidents/{incident['id']}/attach/query", {})
    rule = {"mode": "grant", "kind": "voucher", "amount": "50", "currency": "CNY", "reason": "delay", "issue": True}
    assert manager_api.post(f"/incidents/{incident['id']}/compensate", rule).status_code == 202
    manager.is_active = False
    manager.save(update_fields=["is_active"])

    run_bulk(airline.clock.now)

    grants = Compensation.objects.filter(case__incident_links__incident_id=incident["id"])
    assert grants.count() == 3 and set(grants.values_list("status", flat=True)) == {"proposed"}
    notes = set(IncidentCase.objects.values_list("outcome_note", flat=True))
    assert notes == {"above_limit"}
    rows = api.get(f"/incidents/{incident['id']}/cases").json()["items"]
    assert {row["outcome_code"] for row in rows} == {"above_limit"}
    assert "waiting for approval" in rows[0]["outcome_note"]


def test_a_customer_with_two_affected_cases_is_told_about_each(api: Any, airline: Any) -> None:
    first, second = airline.passengers(2)
    Case.objects.filter(pk=second.pk).update(customer_id=first.customer_id)
    incident = declare(api)
    api.post(
        f"/incidents/{incident['id']}/attach/references", {"references": [first.external_ref, second.external_ref]}
    )
    api.post(f"/incidents/{incident['id']}/notify", {})
    run_bulk(airline.clock.now)

    emails = OutboxMessage.objects.filter(event="incident_notice", channel="email")
    assert sorted(emails.values_list("case_id", flat=True)) == sorted([first.pk, second.pk])
    for message in emails:
        assert f"#{message.case_id}" in message.body

    api.post(f"/incidents/{incident['id']}/notify", {})
    run_bulk(airline.clock.now)
    assert emails.count() == 2


def test_a_grant_that_rounds_to_nothing_is_refused(manager_api: Any, airline: Any) -> None:
    airline.passengers(1)
    incident = declare(manager_api)
    manager_api.post(f"/incidents/{incident['id']}/attach/query", {})
    rule = {"mode": "grant", "kind": "voucher", "amount": "0.001", "currency": "CNY", "reason": "delay"}
    refused = manager_api.post(f"/incidents/{incident['id']}/compensate", rule)
    assert refused.status_code == 400 and refused.json()["error"]["code"] == "invalid_amount"


def test_one_case_that_breaks_is_skipped_and_the_run_goes_on(
    manager_api: Any, airline: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from promisedesk.notifications import outbox

    cases = airline.passengers(3)
    incident = declare(manager_api)
    manager_api.post(f"/incidents/{incident['id']}/attach/query", {})
    real = outbox.render_message

    def breaks_for_one(template: str, language: str, context: dict[str, Any]) -> tuple[str, str]:
        if context["case"].pk == cases[1].pk:
            raise RuntimeError("a template fell over")
        return real(template, language, context)

    monkeypatch.setattr(outbox, "render_message", breaks_for_one)
    rule = {"mode": "grant", "kind": "voucher", "amount": "50", "currency": "CNY", "reason": "delay", "issue": True}
    run = manager_api.post(f"/incidents/{incident['id']}/compensate", rule).json()
    run_bulk(airline.clock.now)

    progress = manager_api.get(f"/incidents/{incident['id']}/runs/{run['id']}").json()
    assert progress["status"] == "done" and progress["changed"] == 2
    assert progress["skip_reasons"] == {"step_failed": 1}
    broken = IncidentCase.objects.get(case=cases[1])
    assert broken.outcome == "skipped" and broken.outcome_note == "step_failed"
    assert not Compensation.objects.filter(case=cases[1]).exists()  # its savepoint was rolled back
    assert Compensation.objects.filter(case__in=[cases[0], cases[2]], status="issued").count() == 2


def test_a_transient_database_error_leaves_the_batch_for_the_next_round(
    api: Any, airline: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from django.db import OperationalError

    from promisedesk.recovery import bulk

    airline.passengers(2)
    incident = declare(api)
    api.post(f"/incidents/{incident['id']}/attach/query", {})
    run = api.post(f"/incidents/{incident['id']}/notify", {}).json()
    real = bulk.notify_case

    def busy(*args: Any) -> str | None:
        raise OperationalError("database is locked")

    monkeypatch.setattr(bulk, "notify_case", busy)
    assert not run_bulk(airline.clock.now)
    progress = api.get(f"/incidents/{incident['id']}/runs/{run['id']}").json()
    assert progress["status"] == "running" and progress["processed"] == 0 and progress["last_error"] == ""

    monkeypatch.setattr(bulk, "notify_case", real)
    run_bulk(airline.clock.now)
    assert api.get(f"/incidents/{incident['id']}").json()["counts"]["notified"] == 2


def test_the_desk_refuses_a_csv_too_large_by_its_size_before_reading_it(
    desk_manager: Any, api: Any, airline: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from django.core.files.uploadedfile import SimpleUploadedFile

    from promisedesk.recovery import references, views

    incident = declare(api)
    monkeypatch.setattr(references, "MAX_CSV_BYTES", 1024 * 1024)
    parsed: list[bytes] = []

    def parse(data: bytes) -> list[Any]:
        parsed.append(data)
        return []

    monkeypatch.setattr(views, "parse_csv", parse)
    upload = SimpleUploadedFile("big.csv", b"FLT-P-0\n" * (1024 * 1024 // 8 + 1), content_type="text/csv")

    response = desk_manager.post(f"/desk/incidents/{incident['id']}/attach/csv/", {"file": upload})

    assert response.status_code == 422 and not parsed
    assert response.context["csv_form"].errors["file"] == ["The file is larger than 1 MB."]
    assert not IncidentCase.objects.exists()


def test_compensated_counts_only_approved_or_issued_and_the_rest_await_approval(
    api: Any, manager: Any, manager_api: Any, airline: Any
) -> None:
    from promisedesk.conftest import make_promise

    make_promise(
        api,
        code="bags-on-time",
        applies_to={"services": ["flight"], "channels": [], "customer_tiers": [], "priorities": []},
        liability={"kind": "voucher", "amount": "30.00", "currency": "CNY", "verification_required": True},
    )
    airline.passengers(2)
    airline.passengers(1, first=10, service="hotel")
    incident = declare(manager_api, services=["flight", "hotel"])
    manager_api.post(f"/incidents/{incident['id']}/attach/query", {})

    manager_api.post(f"/incidents/{incident['id']}/compensate", {"mode": "liability", "promise_code": "bags-on-time"})
    run_bulk(airline.clock.now)
    counts = manager_api.get(f"/incidents/{incident['id']}").json()["counts"]
    assert (counts["compensated"], counts["awaiting_approval"], counts["skipped"]) == (0, 2, 1)

    # the hotel guest's grant, launched by someone whose limit was lowered since, waits for approval
    rule = {"mode": "grant", "kind": "voucher", "amount": "50", "currency": "CNY", "reason": "care", "issue": True}
    manager_api.post(f"/incidents/{incident['id']}/compensate", rule)
    manager.groups.clear()
    run_bulk(airline.clock.now)
    counts = api.get(f"/incidents/{incident['id']}").json()["counts"]
    assert (counts["compensated"], counts["awaiting_approval"]) == (0, 3)
    waiting = api.get(f"/incidents/{incident['id']}/cases", state="awaiting_approval").json()
    assert waiting["count"] == 3

    Compensation.objects.filter(grant_key__isnull=False).update(status="approved")
    counts = api.get(f"/incidents/{incident['id']}").json()["counts"]
    assert (counts["compensated"], counts["awaiting_approval"]) == (1, 2)


def test_relaunching_a_grant_run_with_another_amount_keeps_the_first_grant_and_says_so(
    manager_api: Any, airline: Any
) -> None:
    airline.passengers(2)
    incident = declare(manager_api)
    manager_api.post(f"/incidents/{incident['id']}/attach/query", {})
    rule = {"mode": "grant", "kind": "voucher", "amount": "50", "currency": "CNY", "reason": "delay", "issue": True}
    manager_api.post(f"/incidents/{incident['id']}/compensate", rule)
    run_bulk(airline.clock.now)

    again = manager_api.post(f"/incidents/{incident['id']}/compensate", rule | {"amount": "80"}).json()
    run_bulk(airline.clock.now)

    grants = Compensation.objects.filter(grant_key__startswith=f"incident:{incident['id']}:case:")
    assert grants.count() == 2 and set(grants.values_list("amount", flat=True)) == {50}
    progress = manager_api.get(f"/incidents/{incident['id']}/runs/{again['id']}").json()
    assert progress["changed"] == 0 and progress["skip_reasons"] == {"kept_first_grant": 2}
    rows = manager_api.get(f"/incidents/{incident['id']}/cases").json()["items"]
    assert {row["outcome_note"] for row in rows} == {"granted before: the first grant is kept"}


def test_the_force_majeure_switch_decides_from_the_locked_row(manager: Any, manager_api: Any, airline: Any) -> None:
    from promisedesk.recovery.actions import do_set_force_majeure
    from promisedesk.recovery.models import Incident

    incident = declare(manager_api)
    stale = Incident.objects.get(pk=incident["id"])  # the page was read before…
    marked = manager_api.post(
        f"/incidents/{incident['id']}/force-majeure", {"force_majeure": True, "reason": "airport closed"}
    )
    assert marked.status_code == 200  # …another manager marked it meanwhile

    switched = do_set_force_majeure(stale, actor=manager, now=airline.clock.now, on=None, reason="reopened")
    assert switched.force_majeure is False
    assert Incident.objects.get(pk=incident["id"]).force_majeure is False
