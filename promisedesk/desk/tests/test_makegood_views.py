"""Breach and make-good on the desk: claims, verdicts, compensations, the breach queue and the ledger."""

from __future__ import annotations

import csv
import io
from typing import Any

import pytest
from django.contrib.auth.models import Group
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from promisedesk.breaches.models import Breach, Compensation
from promisedesk.breaches.tests.conftest import allow
from promisedesk.commitments.models import Commitment
from promisedesk.conftest import make_customer, make_promise, make_service, open_case

pytestmark = pytest.mark.django_db
HTMX = {"HX-Request": "true"}


def _commitment(case_id: int, code: str = "courtesy") -> Commitment:
    return Commitment.objects.get(case_id=case_id, promise_code=code)


def _claim(desk: Client, case_id: int, code: str = "courtesy", **extra: Any) -> Any:
    """The two clicks: pick the promise, press Record (the source defaults to the customer's claim)."""
    data = {"commitment": _commitment(case_id, code).pk, "view": "case", **extra}
    return desk.post(f"/desk/cases/{case_id}/breaches/", data, headers=HTMX)


def _verify(desk: Client, breach: Breach, view: str = "case", **extra: Any) -> Any:
    data = {"verdict": "verified", "root_cause": "staffing", "note": "", "view": view, **extra}
    return desk.post(f"/desk/breaches/{breach.pk}/verify/", data, headers=HTMX)


def _verified_compensation(desk: Client, case_id: int, code: str = "courtesy") -> Compensation:
    _claim(desk, case_id, code)
    _verify(desk, Breach.objects.get(case_id=case_id, promise_code=code, status="suspected"))
    return Compensation.objects.get(case_id=case_id, breach__promise_code=code)


def _coach_case(api: Any, ref: str) -> dict[str, Any]:
    return open_case(api, make_customer(api, name=f"Passenger {ref}")["id"], "coach", external_ref=ref)


# The case page -------------------------------------------------------------------------------------


def test_case_page_has_the_makegood_section_and_a_claim_form(desk: Client, coach_line, clock) -> None:
    page = desk.get(f"/desk/cases/{coach_line['id']}/").content.decode()
    assert 'id="makegood"' in page and "Breaches & make-good" in page
    assert "No promise on this case has been reported broken." in page
    assert page.count('name="commitment"') == 5  # one choice per promise on the case
    assert f'value="{_commitment(coach_line["id"]).pk}"' in page
    assert '<option value="claim">customer claim</option>' in page


def test_claim_in_two_clicks_records_a_suspected_breach(desk: Client, coach_line, clock, staff) -> None:
    response = _claim(desk, coach_line["id"])
    assert response.status_code == 200, response.content.decode()[:2000]
    body = response.content.decode()
    assert body.lstrip().startswith('<section id="makegood"')
    assert 'id="case-live"' in body and 'hx-swap-oob="true"' in body and "<html" not in body
    breach = Breach.objects.get()
    assert (breach.source, breach.status, breach.reported_by) == ("claim", "suspected", staff)
    assert f'data-breach="{breach.pk}" data-status="suspected"' in body
    assert "customer claim" in body and "breach reported" in body
    # claimed once: the promise is no longer offered, and the root-cause verdict form is
    assert f'data-commitment="{breach.commitment_id}"' not in body
    assert f'hx-post="/desk/breaches/{breach.pk}/verify/"' in body
    assert '<option value="staffing">Not enough staff</option>' in body


def test_report_with_source_and_description(desk: Client, coach_line, clock) -> None:
    response = _claim(desk, coach_line["id"], "no-overcharging", source="inspection", description="charged 80 for 68")
    assert response.status_code == 200
    breach = Breach.objects.get()
    assert (breach.source, breach.description, breach.promise_code) == (
        "inspection",
        "charged 80 for 68",
        "no-overcharging",
    )
    assert "charged 80 for 68" in response.content.decode()


def test_the_same_report_posted_twice_records_one_breach(desk: Client, coach_line, clock) -> None:
    _claim(desk, coach_line["id"], idempotency_key="desk-abc")
    again = _claim(desk, coach_line["id"], idempotency_key="desk-abc")
    assert again.status_code == 200
    assert Breach.objects.count() == 1


@pytest.mark.parametrize(
    "data, message",
    [
        ({"commitment": ""}, "Choose the promise that was broken."),
        ({"commitment": "abc"}, "Enter a whole number."),
        ({"commitment": "999999"}, "That promise is not on this case."),
        ({"source": "clock"}, "Select a valid choice."),
    ],
)
def test_report_errors_show_inline(desk: Client, coach_line, clock, data: dict, message: str) -> None:
    payload = {"commitment": _commitment(coach_line["id"]).pk, "view": "case", **data}
    response = desk.post(f"/desk/cases/{coach_line['id']}/breaches/", payload, headers=HTMX)
    assert response.status_code == 422
    body = response.content.decode()
    assert body.lstrip().startswith('<section id="makegood"')
    assert message in body
    assert not Breach.objects.exists()


def test_a_second_claim_on_the_same_promise_is_refused_inline(desk: Client, coach_line, clock) -> None:
    _claim(desk, coach_line["id"])
    second = _claim(desk, coach_line["id"])
    assert second.status_code == 422
    assert "already recorded as broken" in second.content.decode()
    assert Breach.objects.count() == 1


def test_verify_shows_the_compensation_and_breaches_the_clock(desk: Client, coach_line, clock) -> None:
    _claim(desk, coach_line["id"])
    breach = Breach.objects.get()
    response = _verify(desk, breach, note="seen on the dashcam")
    assert response.status_code == 200, response.content.decode()[:2000]
    body = response.content.decode()
    assert 'data-status="verified"' in body and "Verified." in body
    assert "Not enough staff" in body and "seen on the dashcam" in body
    compensation = Compensation.objects.get()
    assert f'data-compensation="{compensation.pk}" data-status="approved"' in body  # automatic, no limit set
    assert "136.00 CNY" in body and "cash" in body
    for label in ("breach reported", "breach verified", "compensation proposed", "compensation approved"):
        assert label in body
    # the clocks come back out of band: the courtesy promise is now breached
    courtesy = _commitment(coach_line["id"])
    assert f'data-clock="{courtesy.pk}" data-state="breached"' in body


def test_verify_without_a_root_cause_says_so(desk: Client, coach_line, clock) -> None:
    _claim(desk, coach_line["id"])
    response = _verify(desk, Breach.objects.get(), root_cause="")
    assert response.status_code == 422
    assert "Choose the root cause before verifying the breach." in response.content.decode()
    assert Breach.objects.get().status == "suspected"


def test_reject_needs_a_reason(desk: Client, coach_line, clock) -> None:
    _claim(desk, coach_line["id"])
    breach = Breach.objects.get()
    no_reason = _verify(desk, breach, verdict="rejected", root_cause="")
    assert no_reason.status_code == 422
    assert "Say why the breach is rejected" in no_reason.content.decode()
    assert Breach.objects.get().status == "suspected"
    rejected = _verify(desk, breach, verdict="rejected", root_cause="", note="the recording shows a polite driver")
    assert rejected.status_code == 200
    body = rejected.content.decode()
    assert 'data-status="rejected"' in body and "the recording shows a polite driver" in body
    assert "breach rejected" in body and not Compensation.objects.exists()
    # a rejected claim does not stop a new one: the promise is offered again
    assert f'data-commitment="{breach.commitment_id}"' in body


def test_a_decided_breach_cannot_be_decided_again(desk: Client, coach_line, clock) -> None:
    _claim(desk, coach_line["id"])
    breach = Breach.objects.get()
    _verify(desk, breach)
    again = _verify(desk, breach, verdict="rejected", note="no")
    assert again.status_code == 422 and "already has its verdict" in again.content.decode()


def test_approve_above_the_limit_shows_the_error(desk: Client, coach_line, clock, staff) -> None:
    allow("automatic", "100")  # 136.00 is above what promisedesk approves by itself
    allow("agent", "100")
    staff.groups.add(Group.objects.create(name="agent"))
    compensation = _verified_compensation(desk, coach_line["id"])
    assert compensation.status == "proposed"
    response = desk.post(f"/desk/compensations/{compensation.pk}/approve/", {"view": "case"}, headers=HTMX)
    assert response.status_code == 422
    body = response.content.decode()
    assert "136.00 CNY is above your approval limit of 100.00 CNY" in body
    assert body.lstrip().startswith('<section id="makegood"')
    compensation.refresh_from_db()
    assert compensation.status == "proposed"
    allow("team_lead", "500")
    staff.groups.add(Group.objects.create(name="team_lead"))
    approved = desk.post(f"/desk/compensations/{compensation.pk}/approve/", {"view": "case"}, headers=HTMX)
    assert approved.status_code == 200 and "Approved." in approved.content.decode()
    compensation.refresh_from_db()
    assert compensation.status == "approved" and compensation.approved_by == staff


def test_approve_sets_the_amount_when_none_was_computed(desk: Client, api, clock, root_causes, staff) -> None:
    allow("manager", "5000")
    staff.groups.add(Group.objects.create(name="manager"))
    assert api.post("/services", {"code": "stay", "name": "Stay", "price": None, "currency": "CNY"}).status_code == 201
    make_promise(
        api, code="full-refund", kind="effect", standard={}, liability={"kind": "refund", "percent_of_price": "100"}
    )
    case = open_case(api, make_customer(api)["id"], "stay")
    _claim(desk, case["id"], "full-refund", source="report")  # verified at once: the promise needs no verification
    compensation = Compensation.objects.get()
    page = desk.get(f"/desk/cases/{case['id']}/").content.decode()
    assert "amount to be set" in page and 'name="amount"' in page
    bad = desk.post(f"/desk/compensations/{compensation.pk}/approve/", {"amount": "-5", "view": "case"}, headers=HTMX)
    assert bad.status_code == 422 and "Amount: Ensure this value is greater than or equal to 0." in bad.content.decode()
    response = desk.post(
        f"/desk/compensations/{compensation.pk}/approve/", {"amount": "880.005", "view": "case"}, headers=HTMX
    )
    assert response.status_code == 200, response.content.decode()[:2000]
    compensation.refresh_from_db()
    assert str(compensation.amount) == "880.010" and compensation.status == "approved"
    assert "880.01 CNY" in response.content.decode()


def test_issue_shows_the_reference(desk: Client, coach_line, clock) -> None:
    compensation = _verified_compensation(desk, coach_line["id"])
    response = desk.post(
        f"/desk/compensations/{compensation.pk}/issue/", {"reference": "ALIPAY-889", "view": "case"}, headers=HTMX
    )
    assert response.status_code == 200
    body = response.content.decode()
    assert '<code class="reference">ALIPAY-889</code>' in body
    assert f'data-compensation="{compensation.pk}" data-status="issued"' in body
    assert "compensation issued" in body
    again = desk.post(f"/desk/compensations/{compensation.pk}/issue/", {"view": "case"}, headers=HTMX)
    assert again.status_code == 422  # issued already: no form is offered, and a replay says why
    assert Compensation.objects.get().reference == "ALIPAY-889"


def test_issue_without_a_reference_makes_one_up(desk: Client, coach_line, clock) -> None:
    compensation = _verified_compensation(desk, coach_line["id"])
    desk.post(f"/desk/compensations/{compensation.pk}/issue/", {"view": "case"}, headers=HTMX)
    compensation.refresh_from_db()
    assert compensation.reference.startswith(f"C-{compensation.pk}-")


def test_decline_needs_a_reason(desk: Client, coach_line, clock) -> None:
    compensation = _verified_compensation(desk, coach_line["id"])
    empty = desk.post(f"/desk/compensations/{compensation.pk}/decline/", {"reason": " ", "view": "case"}, headers=HTMX)
    assert empty.status_code == 422 and "Say why the compensation is declined" in empty.content.decode()
    declined = desk.post(
        f"/desk/compensations/{compensation.pk}/decline/",
        {"reason": "refunded at the counter", "view": "case"},
        headers=HTMX,
    )
    assert declined.status_code == 200
    assert "refunded at the counter" in declined.content.decode()
    assert Compensation.objects.get().status == "declined"


def test_root_cause_can_be_named_for_a_breach_verified_at_once(desk: Client, api, clock, root_causes) -> None:
    make_service(api, "clinic", price="30.00")
    make_promise(api, code="kind-words", kind="behaviour", standard={}, liability=None)
    case = open_case(api, make_customer(api)["id"], "clinic")
    _claim(desk, case["id"], "kind-words", source="report")
    breach = Breach.objects.get()
    assert breach.status == "verified" and breach.root_cause == ""
    page = desk.get(f"/desk/cases/{case['id']}/").content.decode()
    assert "Name the root cause" in page and "This promise pays no compensation." in page
    response = desk.post(
        f"/desk/breaches/{breach.pk}/root-cause/", {"root_cause": "dispatch", "view": "case"}, headers=HTMX
    )
    assert response.status_code == 200
    assert "Dispatch process" in response.content.decode() and "root cause named" in response.content.decode()
    unknown = desk.post(f"/desk/breaches/{breach.pk}/root-cause/", {"root_cause": "luck", "view": "case"}, headers=HTMX)
    assert unknown.status_code == 422 and "not in the list" in unknown.content.decode()


def test_makegood_forms_work_without_htmx(desk: Client, coach_line, clock) -> None:
    commitment = _commitment(coach_line["id"])
    response = desk.post(f"/desk/cases/{coach_line['id']}/breaches/", {"commitment": commitment.pk})
    assert response.status_code == 302 and response["Location"] == f"/desk/cases/{coach_line['id']}/#makegood"
    failed = desk.post(f"/desk/breaches/{Breach.objects.get().pk}/verify/", {"verdict": "verified"})
    assert failed.status_code == 422
    assert "<html" in failed.content.decode() and "Choose the root cause" in failed.content.decode()


def test_case_poll_brings_the_section_back_only_when_it_changed(desk: Client, coach_line, clock) -> None:
    case_id = coach_line["id"]
    page = desk.get(f"/desk/cases/{case_id}/")
    stamp = page.context["makegood"].stamp
    assert 'hx-include="#makegood-stamp"' in page.content.decode()
    same = desk.get(f"/desk/cases/{case_id}/live/", {"makegood_stamp": stamp}, headers=HTMX).content.decode()
    assert 'id="makegood"' not in same
    Breach.objects.create(
        case_id=case_id, source="claim", detected_at=clock.now, recorded_at=clock.now, promise_code="courtesy"
    )
    from promisedesk.breaches.actions import case_event

    case_event(case_id, "breach_reported", clock.now, None, breach=Breach.objects.get().pk)
    changed = desk.get(f"/desk/cases/{case_id}/live/", {"makegood_stamp": stamp}, headers=HTMX).content.decode()
    assert '<section id="makegood"' in changed and 'hx-swap-oob="true"' in changed


def test_case_page_query_count_does_not_grow_with_breaches(
    desk: Client, api, coach_line, clock, django_assert_max_num_queries
) -> None:
    _verified_compensation(desk, coach_line["id"], "courtesy")
    with CaptureQueriesContext(connection) as one:
        desk.get(f"/desk/cases/{coach_line['id']}/")
    with_one = len(one)  # now: the next request empties the connection's query log
    for code in ("no-overcharging", "announce-terminus", "board-in-stations"):
        _verified_compensation(desk, coach_line["id"], code)
    with django_assert_max_num_queries(with_one):
        response = desk.get(f"/desk/cases/{coach_line['id']}/")
    assert len(response.context["makegood"].rows) == 4
    # session, user, case, clocks, timeline, breaches, root causes; and for working the case: stage names,
    # departments, their members, staff, the customer's other cases, the case's files
    assert with_one <= 13


# The breach queue ----------------------------------------------------------------------------------


def _three_claims(desk: Client, api: Any, clock: Any, first: dict[str, Any]) -> list[Breach]:
    """Claims on three cases a minute apart; the middle one gets its verdict."""
    cases = [first, _coach_case(api, "T-2"), _coach_case(api, "T-3")]
    for case in cases:
        clock.advance(minutes=1)
        _claim(desk, case["id"])
    breaches = list(Breach.objects.order_by("recorded_at"))
    _verify(desk, breaches[1])
    return breaches


def test_breach_queue_lists_suspected_breaches_oldest_first(desk: Client, api, coach_line, clock) -> None:
    oldest, verified, newest = _three_claims(desk, api, clock, coach_line)
    response = desk.get("/desk/breaches/")
    assert response.status_code == 200
    assert [row.breach.pk for row in response.context["rows"]] == [oldest.pk, newest.pk]
    page = response.content.decode()
    assert page.index(f'id="breach-row-{oldest.pk}"') < page.index(f'id="breach-row-{newest.pk}"')
    assert response.context["counts"] == {"suspected": 2, "verified": 1, "rejected": 0, "all": 3}
    assert f'hx-post="/desk/breaches/{oldest.pk}/verify/"' in page
    every = desk.get("/desk/breaches/?status=all").context["rows"]
    assert [row.breach.pk for row in every] == [newest.pk, verified.pk, oldest.pk]
    assert [r.breach.pk for r in desk.get("/desk/breaches/?status=verified").context["rows"]] == [verified.pk]


def test_breach_queue_filters_by_source_and_promise(desk: Client, api, coach_line, clock) -> None:
    _claim(desk, coach_line["id"])
    _claim(desk, coach_line["id"], "no-overcharging", source="inspection")
    by_source = desk.get("/desk/breaches/?source=inspection").context["rows"]
    assert [r.breach.promise_code for r in by_source] == ["no-overcharging"]
    by_promise = desk.get("/desk/breaches/?promise=courtesy").context
    assert [r.breach.promise_code for r in by_promise["rows"]] == ["courtesy"]
    assert by_promise["counts"]["suspected"] == 1
    bad = desk.get("/desk/breaches/?status=sideways&promise=nope&source=gossip")
    assert bad.status_code == 200 and len(bad.context["rows"]) == 2
    assert "were not understood" in bad.content.decode()


def test_breach_queue_inline_verdict_rerenders_the_row_and_the_counts(desk: Client, coach_line, clock) -> None:
    _claim(desk, coach_line["id"])
    breach = Breach.objects.get()
    response = _verify(desk, breach, view="queue", next="/desk/breaches/?source=claim")
    assert response.status_code == 200
    body = response.content.decode()
    assert body.lstrip().startswith(f'<tbody class="breach-row bstatus-verified" id="breach-row-{breach.pk}"')
    assert "136.00 CNY" in body and "Verified." in body
    assert '<nav id="breach-tabs"' in body and 'hx-swap-oob="true"' in body
    assert "<html" not in body
    failed = _verify(desk, breach, view="queue", verdict="rejected", note="changed my mind")
    assert failed.status_code == 422 and "already has its verdict" in failed.content.decode()


def test_breach_queue_reject_without_a_reason_shows_the_error_in_the_row(desk: Client, coach_line, clock) -> None:
    _claim(desk, coach_line["id"])
    breach = Breach.objects.get()
    response = _verify(desk, breach, view="queue", verdict="rejected", root_cause="")
    assert response.status_code == 422
    body = response.content.decode()
    assert body.lstrip().startswith("<tbody") and "Say why the breach is rejected" in body


def test_breach_queue_without_htmx_goes_back_to_the_page(desk: Client, coach_line, clock) -> None:
    _claim(desk, coach_line["id"])
    breach = Breach.objects.get()
    data = {"verdict": "verified", "root_cause": "staffing", "view": "queue", "next": "/desk/breaches/?status=all"}
    response = desk.post(f"/desk/breaches/{breach.pk}/verify/", data)
    assert response.status_code == 302 and response["Location"] == "/desk/breaches/?status=all"
    evil = desk.post(f"/desk/breaches/{breach.pk}/verify/", {**data, "next": "https://evil.example/"})
    assert evil.status_code == 422 and "<html" in evil.content.decode()  # already decided; shown on the queue page


@pytest.mark.parametrize("path", ["/desk/breaches/", "/desk/compensations/", "/desk/compensations/export.csv"])
def test_makegood_pages_are_for_staff(client: Client, django_user_model, path: str) -> None:
    assert client.get(path).status_code == 302
    client.force_login(django_user_model.objects.create_user("guest", password="pw-guest-123"))
    assert client.get(path).status_code == 403


def test_breach_queue_query_count_does_not_grow_with_rows(desk: Client, api, coach_line, clock) -> None:
    def claims(count: int) -> None:
        for n in range(count):
            case = _coach_case(api, f"QC-{Breach.objects.count()}-{n}")
            _claim(desk, case["id"])

    claims(2)
    _verify(desk, Breach.objects.earliest("id"))
    with CaptureQueriesContext(connection) as few:
        first = desk.get("/desk/breaches/?status=all")
    with_few = len(few)  # now: the next request empties the connection's query log
    claims(8)
    for breach in Breach.objects.filter(status="suspected")[:3]:
        _verify(desk, breach)
    with CaptureQueriesContext(connection) as many:
        second = desk.get("/desk/breaches/?status=all")
    assert len(first.context["rows"]) == 2 and len(second.context["rows"]) == 10
    assert len(many) == with_few <= 8


def test_navigation_links_to_breaches_and_ledger(desk: Client) -> None:
    page = desk.get("/desk/").content.decode()
    assert 'href="/desk/breaches/"' in page and 'href="/desk/compensations/"' in page
    assert 'aria-current="page">Breaches' in desk.get("/desk/breaches/").content.decode()


# The ledger ----------------------------------------------------------------------------------------


def _two_compensations(desk: Client, case_id: int, clock: Any) -> tuple[Compensation, Compensation]:
    first = _verified_compensation(desk, case_id, "courtesy")
    clock.advance(minutes=1)
    second = _verified_compensation(desk, case_id, "no-overcharging")
    return first, second


def test_ledger_lists_compensations_with_totals(desk: Client, coach_line, clock) -> None:
    first, second = _two_compensations(desk, coach_line["id"], clock)
    response = desk.get("/desk/compensations/")
    assert response.status_code == 200
    assert [row.compensation.pk for row in response.context["rows"]] == [second.pk, first.pk]
    assert response.context["totals"] == [{"currency": "CNY", "amount": "272.00"}]
    page = response.content.decode()
    assert '<span class="total-amount">272.00</span>' in page and "2 compensations" in page
    assert f'hx-post="/desk/compensations/{first.pk}/issue/"' in page


@pytest.mark.parametrize(
    "query, count, total",
    [
        ("promise=courtesy", 1, "136.00"),
        ("status=issued", 0, None),
        ("status=approved", 2, "272.00"),
        ("since=2026-03-02&until=2026-03-02", 2, "272.00"),
        ("since=2026-03-03", 0, None),
        ("until=2026-03-01", 0, None),
    ],
)
def test_ledger_filters(desk: Client, coach_line, clock, query: str, count: int, total: str | None) -> None:
    _two_compensations(desk, coach_line["id"], clock)
    response = desk.get(f"/desk/compensations/?{query}")
    assert len(response.context["rows"]) == count
    assert response.context["totals"] == ([{"currency": "CNY", "amount": total}] if total else [])


@pytest.mark.parametrize("query", ["until=9999-12-31", "since=0001-01-01"])
def test_ledger_refuses_days_outside_the_supported_span(desk: Client, coach_line, clock, query: str) -> None:
    _two_compensations(desk, coach_line["id"], clock)
    page = desk.get(f"/desk/compensations/?{query}")
    assert page.status_code == 200 and "Choose a day between 1972 and 2190." in page.content.decode()
    assert len(page.context["rows"]) == 2  # the bad bound is reported and dropped
    assert desk.get(f"/desk/compensations/export.csv?{query}").status_code == 200


def test_ledger_days_are_read_in_the_server_time_zone(desk: Client, coach_line, clock) -> None:
    # 2026-03-02 00:30 in Shanghai is still 1 March in UTC: the ledger counts it on 2 March
    clock.to(clock.now.replace(hour=0, minute=30))
    _verified_compensation(desk, coach_line["id"])
    assert len(desk.get("/desk/compensations/?since=2026-03-02&until=2026-03-02").context["rows"]) == 1
    assert len(desk.get("/desk/compensations/?until=2026-03-01").context["rows"]) == 0


def test_ledger_excludes_declined_from_the_totals(desk: Client, coach_line, clock) -> None:
    first, _second = _two_compensations(desk, coach_line["id"], clock)
    response = desk.post(
        f"/desk/compensations/{first.pk}/decline/",
        {"reason": "paid at the counter", "view": "ledger", "next": "/desk/compensations/?status=approved"},
        headers=HTMX,
    )
    assert response.status_code == 200
    body = response.content.decode()
    assert body.lstrip().startswith(f'<tbody class="ledger-row cstatus-declined" id="comp-row-{first.pk}"')
    assert '<section id="ledger-totals"' in body and 'hx-swap-oob="true"' in body
    assert '<span class="total-amount">136.00</span>' in body  # the totals of the page it was on
    assert desk.get("/desk/compensations/").context["totals"] == [{"currency": "CNY", "amount": "136.00"}]
    assert desk.get("/desk/compensations/?status=declined").context["totals"] == []


def test_ledger_inline_issue_and_above_limit_approve(desk: Client, coach_line, clock, staff) -> None:
    allow("automatic", "100")
    allow("agent", "100")
    staff.groups.add(Group.objects.create(name="agent"))
    compensation = _verified_compensation(desk, coach_line["id"])
    above = desk.post(
        f"/desk/compensations/{compensation.pk}/approve/",
        {"view": "ledger", "next": "/desk/compensations/"},
        headers=HTMX,
    )
    assert above.status_code == 422
    assert "above your approval limit of 100.00 CNY" in above.content.decode()
    assert above.content.decode().lstrip().startswith("<tbody")
    staff.is_superuser = True
    staff.save(update_fields=["is_superuser"])
    desk.post(f"/desk/compensations/{compensation.pk}/approve/", {"view": "ledger"}, headers=HTMX)
    issued = desk.post(
        f"/desk/compensations/{compensation.pk}/issue/", {"reference": "WX-77", "view": "ledger"}, headers=HTMX
    )
    assert issued.status_code == 200 and "WX-77" in issued.content.decode() and "Issued." in issued.content.decode()


def test_ledger_query_count_does_not_grow_with_rows(desk: Client, api, coach_line, clock) -> None:
    _verified_compensation(desk, coach_line["id"])
    with CaptureQueriesContext(connection) as one:
        first = desk.get("/desk/compensations/")
    with_one = len(one)  # now: the next request empties the connection's query log
    for n in range(4):
        _verified_compensation(desk, _coach_case(api, f"L-{n}")["id"])
    with CaptureQueriesContext(connection) as five:
        second = desk.get("/desk/compensations/")
    assert len(first.context["rows"]) == 1 and len(second.context["rows"]) == 5
    assert len(five) == with_one <= 6


def test_ledger_with_bad_filters_reports_and_ignores_them(desk: Client, coach_line, clock) -> None:
    _two_compensations(desk, coach_line["id"], clock)
    response = desk.get("/desk/compensations/?since=yesterday&status=lost&promise=nope")
    assert response.status_code == 200 and len(response.context["rows"]) == 2
    assert "were not understood" in response.content.decode()
    backwards = desk.get("/desk/compensations/?since=2026-03-05&until=2026-03-01")
    assert "The period ends before it starts." in backwards.content.decode()


def test_ledger_csv_downloads_the_filtered_rows(desk: Client, coach_line, clock) -> None:
    first, _second = _two_compensations(desk, coach_line["id"], clock)
    page = desk.get("/desk/compensations/?promise=courtesy&page=1").content.decode()
    assert 'href="/desk/compensations/export.csv?promise=courtesy"' in page
    response = desk.get("/desk/compensations/export.csv?promise=courtesy")
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert rows[0][:3] == ["id", "created_at", "case"]
    assert [(r[0], r[4], r[6], r[7]) for r in rows[1:]] == [(str(first.pk), "courtesy", "136.000", "CNY")]
    everything = desk.get("/desk/compensations/export.csv").content.decode().strip().splitlines()
    assert len(everything) == 3


# In Chinese ----------------------------------------------------------------------------------------


def test_makegood_in_chinese(desk: Client, coach_line, clock) -> None:
    _claim(desk, coach_line["id"])
    zh = {"Accept-Language": "zh-hans"}
    case_page = desk.get(f"/desk/cases/{coach_line['id']}/", headers=zh).content.decode()
    for text in ("违诺与补偿", "客户索赔", "核实", "驳回", "人手不足", "登记违诺或索赔"):
        assert text in case_page, text
    breach = Breach.objects.get()
    verified = desk.post(
        f"/desk/breaches/{breach.pk}/verify/", {"verdict": "verified", "view": "case"}, headers={**HTMX, **zh}
    ).content.decode()
    assert "请先选择根本原因" in verified
    assert "违诺" in desk.get("/desk/breaches/", headers=zh).content.decode()
    assert "补偿台账" in desk.get("/desk/compensations/", headers=zh).content.decode()
