"""Declaring an incident, attaching its cases, telling and compensating them in bulk, over the API."""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from promisedesk.breaches.models import Breach, Compensation
from promisedesk.cases.models import CaseEvent
from promisedesk.conftest import SHANGHAI
from promisedesk.notifications.models import OutboxMessage
from promisedesk.recovery.bulk import run_bulk
from promisedesk.recovery.models import IncidentCase

from .conftest import declare

pytestmark = pytest.mark.django_db


def test_declare_checks_the_span_and_the_services(api: Any, airline: Any) -> None:
    incident = declare(api)
    assert incident["code"] == "ES5199" and incident["services"] == ["flight"] and incident["status"] == "open"
    assert incident["counts"] == {
        "affected": 0,
        "notified": 0,
        "compensated": 0,
        "awaiting_approval": 0,
        "excluded": 0,
        "skipped": 0,
    }

    backwards = api.post(
        "/incidents",
        {"title": "x", "reason": "y", "starts_at": "2026-03-02T12:00:00+08:00", "ends_at": "2026-03-02T11:00:00+08:00"},
    )
    assert backwards.status_code == 400 and backwards.json()["error"]["field"] == "ends_at"
    unknown = api.post(
        "/incidents", {"title": "x", "reason": "y", "starts_at": "2026-03-02T12:00:00+08:00", "services": ["ship"]}
    )
    assert unknown.status_code == 400 and unknown.json()["error"]["code"] == "unknown_service"
    again = api.post(
        "/incidents", {"title": "x", "reason": "y", "starts_at": "2026-03-02T12:00:00+08:00", "code": "ES5199"}
    )
    assert again.status_code == 409 and again.json()["error"]["code"] == "duplicate_code"
    unnamed = api.post("/incidents", {"title": "Outage", "reason": "power", "starts_at": "2026-03-02T12:00:00+08:00"})
    assert unnamed.status_code == 201 and unnamed.json()["code"] == f"INC-{unnamed.json()['id']}"


def test_attach_by_query_takes_the_span_and_the_services_and_never_twice(api: Any, airline: Any) -> None:
    on_board = airline.passengers(3)
    airline.passengers(2, first=100, departure=datetime(2026, 3, 3, 9, 0, tzinfo=SHANGHAI))  # tomorrow: not affected
    airline.passengers(1, first=200, service="hotel")  # another service
    incident = declare(api)

    first = api.post(f"/incidents/{incident['id']}/attach/query", {})
    assert first.status_code == 200, first.content
    assert first.json()["attached"] == 3 and first.json()["already"] == 0
    second = api.post(f"/incidents/{incident['id']}/attach/query", {})
    assert second.json()["attached"] == 0 and second.json()["already"] == 3
    assert sorted(IncidentCase.objects.values_list("case_id", flat=True)) == sorted(c.pk for c in on_board)
    assert CaseEvent.objects.filter(type="incident_attached").count() == 3
    assert api.get(f"/incidents/{incident['id']}").json()["counts"]["affected"] == 3


def test_attach_by_query_filters_by_channel(api: Any, airline: Any) -> None:
    airline.passengers(2)
    airline.passengers(1, first=50, channel="phone")
    incident = declare(api)
    body = api.post(f"/incidents/{incident['id']}/attach/query", {"channels": ["phone"], "open_only": True}).json()
    assert body["attached"] == 1
    bad = api.post(f"/incidents/{incident['id']}/attach/query", {"channels": ["pigeon"]})
    assert bad.status_code == 422 and bad.json()["error"]["field"] == "channels.0"


def test_attach_by_csv_names_unknown_references_and_attaches_nothing(api: Any, airline: Any) -> None:
    cases = airline.passengers(3)
    incident = declare(api)
    first, second, third = cases
    lines = ["external_ref,seat", f"{first.external_ref},1A", "NOPE-1,2B", f"{second.external_ref},3C", ""]
    csv = "\n".join([*lines, f"#{third.pk},4D", "NOPE-2,5E", ""])
    url = f"/api/v1/incidents/{incident['id']}/attach/csv"
    upload = {"file": _file("affected.csv", csv)}

    refused = api.client.post(url, upload, **api.headers)
    assert refused.status_code == 400
    error = refused.json()["error"]
    assert error["code"] == "unknown_references" and error["field"] == "references"
    assert "'NOPE-1' (line 3)" in error["message"] and "'NOPE-2' (line 7)" in error["message"]
    assert not IncidentCase.objects.exists()

    # with skip_unknown the known ones are attached and the unknown ones listed
    accepted = api.client.post(url, {"file": _file("affected.csv", csv), "skip_unknown": "true"}, **api.headers)
    assert accepted.status_code == 200, accepted.content
    body = accepted.json()
    assert body["attached"] == 3 and body["unknown"] == [
        {"reference": "NOPE-1", "line": 3},
        {"reference": "NOPE-2", "line": 7},
    ]
    # a plain list of references, one of them attached already
    again = api.post(
        f"/incidents/{incident['id']}/attach/references", {"references": [cases[0].external_ref, str(cases[1].pk)]}
    )
    assert again.json()["attached"] == 0 and again.json()["already"] == 2
    assert IncidentCase.objects.count() == 3


def test_csv_without_a_header_and_bad_files(api: Any, airline: Any) -> None:
    cases = airline.passengers(2)
    incident = declare(api)
    url = f"/api/v1/incidents/{incident['id']}/attach/csv"
    plain = api.client.post(
        url, {"file": _file("a.csv", f"{cases[0].external_ref}\r\n{cases[1].pk}\r\n")}, **api.headers
    )
    assert plain.status_code == 200 and plain.json()["attached"] == 2
    binary = api.client.post(url, {"file": _file("a.csv", b"\xff\xfe\x00x")}, **api.headers)
    assert binary.status_code == 400 and binary.json()["error"]["code"] == "invalid_csv"
    empty = api.client.post(url, {"file": _file("a.csv", "\n\n")}, **api.headers)
    assert empty.status_code == 400 and empty.json()["error"]["code"] == "no_references"


def test_notify_tells_each_customer_once_per_channel_in_their_language_and_zone(api: Any, airline: Any) -> None:
    cases = airline.passengers(4)
    incident = declare(api)
    api.post(f"/incidents/{incident['id']}/attach/query", {})

    run = api.post(f"/incidents/{incident['id']}/notify", {"message": "Meals are served at gate 12."})
    assert run.status_code == 202 and run.json()["total"] == 4 and run.json()["status"] == "running"
    twice = api.post(f"/incidents/{incident['id']}/notify", {})
    assert twice.status_code == 409 and twice.json()["error"]["code"] == "run_in_progress"

    result = run_bulk(airline.clock.now, batch=3)
    assert result.batches == 2 and result.cases == 4 and result.finished == 1
    progress = api.get(f"/incidents/{incident['id']}/runs/{run.json()['id']}").json()
    assert progress["status"] == "done" and progress["processed"] == 4 and progress["changed"] == 4
    assert progress["percent"] == 100

    messages = OutboxMessage.objects.filter(
        event_key__startswith=f"incident:{incident['id']}:case:", event="incident_notice"
    )
    assert Counter(messages.values_list("channel", flat=True)) == {"email": 4, "sms": 4}
    english = messages.get(channel="email", recipient="p1@example.com")
    assert "thunderstorms on the route" in english.body and "2026-03-02 09:30 (Europe/London time)" in english.body
    assert "Meals are served at gate 12." in english.body and f"/c/{cases[1].access_token}/" in english.body
    chinese = messages.get(channel="email", recipient="p0@example.com")
    assert "航路雷雨天气" in chinese.body and "2026-03-02 17:30" in chinese.body
    notices = CaseEvent.objects.filter(type="incident_notice", visible_to_customer=True)
    assert notices.count() == 4

    # launched again: nobody is told twice
    again = api.post(f"/incidents/{incident['id']}/notify", {})
    assert again.status_code == 202
    run_bulk(airline.clock.now)
    assert api.get(f"/incidents/{incident['id']}/runs/{again.json()['id']}").json()["skip_reasons"] == {
        "already_notified": 4
    }
    assert messages.count() == 8 and notices.count() == 4
    assert api.get(f"/incidents/{incident['id']}").json()["counts"]["notified"] == 4


def test_bulk_vouchers_are_approved_within_the_launchers_limit_and_issued(manager_api: Any, airline: Any) -> None:
    airline.passengers(3)
    hotel_guest = airline.passengers(1, first=40, service="hotel")[0]
    incident = declare(manager_api, services=["flight", "hotel"])
    manager_api.post(f"/incidents/{incident['id']}/attach/query", {})
    rule = {
        "mode": "grant",
        "kind": "voucher",
        "amount": "200",
        "currency": "CNY",
        "reason": "ES5199 delay",
        "issue": True,
    }

    run = manager_api.post(f"/incidents/{incident['id']}/compensate", rule)
    assert run.status_code == 202, run.content
    run_bulk(airline.clock.now)

    grants = Compensation.objects.filter(grant_key__startswith=f"incident:{incident['id']}:case:")
    assert grants.count() == 4 and set(grants.values_list("status", flat=True)) == {"issued"}
    assert grants.get(case=hotel_guest).amount == 200
    issued = OutboxMessage.objects.filter(event="compensation_issued", channel="email")
    assert issued.count() == 4
    counts = manager_api.get(f"/incidents/{incident['id']}").json()["counts"]
    assert counts["compensated"] == 4

    # launched again with the same rule: nothing new
    manager_api.post(f"/incidents/{incident['id']}/compensate", rule)
    run_bulk(airline.clock.now)
    assert grants.count() == 4 and issued.count() == 4


def test_launching_compensation_needs_approval_rights(api: Any, manager_api: Any, airline: Any) -> None:
    airline.passengers(1)
    incident = declare(manager_api)
    manager_api.post(f"/incidents/{incident['id']}/attach/query", {})
    rule = {"mode": "grant", "kind": "voucher", "amount": "200", "currency": "CNY", "reason": "delay"}
    agent = api.post(f"/incidents/{incident['id']}/compensate", rule)
    assert agent.status_code == 403 and agent.json()["error"]["code"] == "above_limit"
    too_much = manager_api.post(f"/incidents/{incident['id']}/compensate", rule | {"amount": "900"})
    assert too_much.status_code == 403 and "limit is 500" in too_much.json()["error"]["message"]
    liability = api.post(
        f"/incidents/{incident['id']}/compensate", {"mode": "liability", "promise_code": "boarding-info"}
    )
    assert liability.status_code == 403 and liability.json()["error"]["code"] == "forbidden"


def test_per_promise_liability_pays_by_the_promise_unless_force_majeure(manager_api: Any, airline: Any) -> None:
    delayed = airline.passengers(2)
    storm_hit = airline.passengers(2, first=60, departure=datetime(2026, 3, 3, 15, 0, tzinfo=SHANGHAI))
    hotel = airline.passengers(1, first=80, service="hotel")  # no such promise on a hotel stay
    delay = declare(manager_api, services=["flight", "hotel"])
    refs = [case.external_ref for case in [*delayed, *hotel]]
    manager_api.post(f"/incidents/{delay['id']}/attach/references", {"references": refs})
    typhoon = declare(
        manager_api,
        code="TYPHOON",
        title="Typhoon",
        starts_at="2026-03-02T08:00:00+08:00",
        ends_at=None,
        services=["flight"],
        force_majeure=True,
        force_majeure_reason="Typhoon signal 8: the airport is closed by the authorities",
    )
    refs = [case.external_ref for case in storm_hit]
    manager_api.post(f"/incidents/{typhoon['id']}/attach/references", {"references": refs})
    assert typhoon["force_majeure"] is True and typhoon["force_majeure_by"] == "mia"

    for incident in (delay, typhoon):
        run = manager_api.post(
            f"/incidents/{incident['id']}/compensate", {"mode": "liability", "promise_code": "boarding-info"}
        )
        assert run.status_code == 202, run.content
    run_bulk(airline.clock.now)

    paid = Compensation.objects.filter(breach__case__in=delayed)
    assert paid.count() == 2 and {c.amount for c in paid} == {20}
    excluded = Breach.objects.filter(case__in=storm_hit)
    assert excluded.count() == 2 and set(excluded.values_list("exclusion", flat=True)) == {"force_majeure"}
    assert not Compensation.objects.filter(breach__case__in=storm_hit).exists()
    assert not Breach.objects.filter(case__in=hotel).exists()
    delay_counts = manager_api.get(f"/incidents/{delay['id']}").json()["counts"]
    assert delay_counts == {
        "affected": 3,
        "notified": 0,
        "compensated": 2,
        "awaiting_approval": 0,
        "excluded": 0,
        "skipped": 1,
    }
    typhoon_counts = manager_api.get(f"/incidents/{typhoon['id']}").json()["counts"]
    assert typhoon_counts["excluded"] == 2 and typhoon_counts["compensated"] == 0
    skipped = manager_api.get(f"/incidents/{delay['id']}/cases", state="skipped").json()["items"]
    assert [row["case"] for row in skipped] == [hotel[0].pk] and skipped[0]["outcome_code"] == "promise_not_applicable"
    assert skipped[0]["outcome_note"] == "promise not on the case"

    # a second liability run pays nobody twice, and a grant run leaves liability-paid cases alone
    manager_api.post(f"/incidents/{delay['id']}/compensate", {"mode": "liability", "promise_code": "boarding-info"})
    run_bulk(airline.clock.now)
    assert Breach.objects.filter(case__in=delayed).count() == 2
    grant = {"mode": "grant", "kind": "voucher", "amount": "50", "currency": "CNY", "reason": "care"}
    manager_api.post(f"/incidents/{delay['id']}/compensate", grant)
    run_bulk(airline.clock.now)
    assert not Compensation.objects.filter(case__in=delayed, grant_key__isnull=False).exists()
    assert Compensation.objects.filter(case__in=hotel, grant_key__isnull=False).count() == 1


def test_force_majeure_is_a_managers_decision_with_a_reason(api: Any, manager_api: Any, airline: Any) -> None:
    incident = declare(api)
    url = f"/incidents/{incident['id']}/force-majeure"
    assert api.post(url, {"force_majeure": True, "reason": "typhoon"}).status_code == 403
    assert manager_api.post(url, {"force_majeure": True, "reason": " "}).json()["error"]["field"] == "reason"
    marked = manager_api.post(url, {"force_majeure": True, "reason": "airport closed"})
    assert marked.status_code == 200 and marked.json()["force_majeure_reason"] == "airport closed"
    assert manager_api.post(url, {"force_majeure": True, "reason": "again"}).status_code == 409
    unmarked = manager_api.post(url, {"force_majeure": False, "reason": "it was our dispatch after all"}).json()
    assert unmarked["force_majeure"] is False
    assert [entry["action"] for entry in unmarked["history"]] == [
        "declared",
        "force_majeure_marked",
        "force_majeure_unmarked",
    ]


def test_close_refuses_while_a_run_is_running_and_then_refuses_changes(api: Any, airline: Any) -> None:
    airline.passengers(1)
    incident = declare(api)
    api.post(f"/incidents/{incident['id']}/attach/query", {})
    run = api.post(f"/incidents/{incident['id']}/notify", {}).json()
    assert api.post(f"/incidents/{incident['id']}/close", {}).status_code == 409
    cancelled = api.post(f"/incidents/{incident['id']}/runs/{run['id']}/cancel")
    assert cancelled.json()["status"] == "cancelled"
    assert api.post(f"/incidents/{incident['id']}/runs/{run['id']}/cancel").status_code == 409
    closed = api.post(f"/incidents/{incident['id']}/close", {"note": "all flown"})
    assert closed.status_code == 200 and closed.json()["status"] == "closed"
    assert api.post(f"/incidents/{incident['id']}/attach/query", {}).json()["error"]["code"] == "incident_closed"
    assert api.post(f"/incidents/{incident['id']}/notify", {}).status_code == 409


def test_api_errors_are_clear(api: Any, anonymous_api: Any, airline: Any) -> None:
    incident = declare(api)
    assert anonymous_api.get("/incidents").status_code == 401
    assert api.get("/incidents/999999").json()["error"]["code"] == "not_found"
    assert api.get(f"/incidents/{incident['id']}/runs/42").status_code == 404
    assert api.post(f"/incidents/{incident['id']}/notify", {}).json()["error"]["code"] == "no_cases"
    assert api.post("/incidents", {"title": "x", "reason": "y", "starts_at": "2026-03-02T12:00:00"}).status_code == 422
    assert api.post(f"/incidents/{incident['id']}/attach/references", {"references": []}).status_code == 400
    assert (
        api.post(f"/incidents/{incident['id']}/attach/references", {"references": ["a"], "refs": ["a"]}).json()[
            "error"
        ]["code"]
        == "unknown_field"
    )
    bad_mode = api.post(f"/incidents/{incident['id']}/compensate", {"mode": "lottery"})
    assert bad_mode.status_code == 422
    assert api.get("/incidents", limit=1000).status_code == 400


def test_list_endpoints_do_not_grow_queries_with_rows(api: Any, airline: Any) -> None:
    airline.passengers(5)
    for n in range(3):
        incident = declare(api, code=f"INC{n}")
        api.post(f"/incidents/{incident['id']}/attach/query", {})

    def queries(path: str, **params: Any) -> int:
        with CaptureQueriesContext(connection) as captured:
            assert api.get(path, **params).status_code == 200
        return len(captured)

    few, many = queries("/incidents", limit=1), queries("/incidents", limit=3)
    assert few == many <= 6
    rows = api.get(f"/incidents/{incident['id']}/cases").json()
    assert rows["count"] == 5 and rows["items"][0]["customer_name"] == "Passenger 0"
    assert queries(f"/incidents/{incident['id']}/cases", limit=1) == queries(
        f"/incidents/{incident['id']}/cases", limit=5
    )


def _file(name: str, content: str | bytes) -> Any:
    from django.core.files.uploadedfile import SimpleUploadedFile

    data = content.encode() if isinstance(content, str) else content
    return SimpleUploadedFile(name, data, content_type="text/csv")


__all__ = ["timedelta"]


def test_a_customer_without_email_or_phone_sees_the_notice_on_their_page(api: Any, airline: Any) -> None:
    case = airline.passengers(2)[0]
    case.customer.email, case.customer.phone = "", ""
    case.customer.save(update_fields=["email", "phone"])
    incident = declare(api)
    api.post(f"/incidents/{incident['id']}/attach/query", {})
    run = api.post(f"/incidents/{incident['id']}/notify", {}).json()
    run_bulk(airline.clock.now)
    progress = api.get(f"/incidents/{incident['id']}/runs/{run['id']}").json()
    assert progress["changed"] == 1 and progress["skip_reasons"] == {"no_contact": 1}
    assert CaseEvent.objects.filter(case=case, type="incident_notice", visible_to_customer=True).exists()
    assert not OutboxMessage.objects.filter(case=case, event="incident_notice").exists()


def test_a_run_that_breaks_is_marked_failed_and_the_worker_goes_on(
    api: Any, airline: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from promisedesk.recovery import bulk

    airline.passengers(3)
    broken, fine = declare(api), declare(api, code="OTHER")
    for incident in (broken, fine):
        api.post(f"/incidents/{incident['id']}/attach/references", {"references": ["FLT-P-0", "FLT-P-1", "FLT-P-2"]})
        api.post(f"/incidents/{incident['id']}/notify", {})
    real = bulk._advance

    def flaky(run: Any, *args: Any) -> bool:
        if run.incident.code == "ES5199":
            raise RuntimeError("the cursor fell over")
        return real(run, *args)

    monkeypatch.setattr(bulk, "_advance", flaky)
    result = run_bulk(airline.clock.now)
    assert result.failed == 1 and result.finished == 1
    failed = api.get(f"/incidents/{broken['id']}").json()["runs"][0]
    assert failed["status"] == "failed" and "the cursor fell over" in failed["last_error"]
    assert api.get(f"/incidents/{broken['id']}").json()["counts"]["notified"] == 0  # the batch was rolled back
    assert api.get(f"/incidents/{fine['id']}").json()["counts"]["notified"] == 3


def test_a_liability_run_after_a_force_majeure_incident_ended_still_pays_nothing(
    manager_api: Any, airline: Any
) -> None:
    # given a typhoon that is already over when its liability run is launched
    storm_hit = airline.passengers(2)
    typhoon = declare(
        manager_api,
        code="TYPHOON-PAST",
        starts_at="2026-02-27T08:00:00+08:00",
        ends_at="2026-02-28T08:00:00+08:00",
        force_majeure=True,
        force_majeure_reason="Typhoon signal 8: the airport was closed by the authorities",
    )
    refs = [case.external_ref for case in storm_hit]
    manager_api.post(f"/incidents/{typhoon['id']}/attach/references", {"references": refs})
    # when
    run = manager_api.post(
        f"/incidents/{typhoon['id']}/compensate", {"mode": "liability", "promise_code": "boarding-info"}
    )
    assert run.status_code == 202, run.content
    run_bulk(airline.clock.now)
    # then the breaches are on record, each excluded by the incident it was reported for
    breaches = Breach.objects.filter(case__in=storm_hit)
    assert breaches.count() == 2 and set(breaches.values_list("exclusion", flat=True)) == {"force_majeure"}
    assert not Compensation.objects.filter(case__in=storm_hit).exists()
    assert manager_api.get(f"/incidents/{typhoon['id']}").json()["counts"]["excluded"] == 2
