"""The case page: facts, customer, clocks and timeline, and the htmx forms that change them."""

from __future__ import annotations

from datetime import datetime

import pytest
from django.test import Client

from promisedesk.cases.models import CaseEvent
from promisedesk.commitments.models import Commitment
from promisedesk.conftest import SHANGHAI, make_promise

pytestmark = pytest.mark.django_db
HTMX = {"HX-Request": "true"}


def test_case_page_when_anonymous_redirects_to_login(client: Client, world) -> None:
    case = world.case()
    response = client.get(f"/desk/cases/{case['id']}/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_case_page_of_unknown_case_is_404(desk: Client) -> None:
    assert desk.get("/desk/cases/999/").status_code == 404


def test_case_page_shows_facts_customer_appointment_clocks_and_timeline(desk: Client, world, clock) -> None:
    case = world.case(
        external_ref="BB-7",
        summary="Fibre at 12 Fuxing Rd",
        channel="phone",
        appointment={"start": "2026-03-03T09:00:00+08:00", "end": "2026-03-03T11:00:00+08:00"},
    )
    response = desk.get(f"/desk/cases/{case['id']}/")
    assert response.status_code == 200
    page = response.content.decode()
    for text in ("BB-7", "Fibre at 12 Fuxing Rd", "Li Lei", "gold", "pillow", "firm", "phone", "68.00 CNY"):
        assert text in page
    assert "2026-03-03 09:00" in page and "11:00" in page
    # the clock: version 1 of reply-4h, linked to the catalogue, due 14:00 Shanghai
    assert 'href="/desk/promises/reply-4h/#v1"' in page
    assert "2026-03-02 14:00" in page
    assert 'data-state="running"' in page
    # the timeline, newest first
    assert page.index('data-type="appointment_scheduled"') < page.index('data-type="case_opened"')
    assert "case opened" in page


def test_case_page_styles_system_events_apart(desk: Client, world, clock) -> None:
    case = world.case()
    clock.advance(hours=6)
    from promisedesk.commitments.sweeper import sweep

    sweep(clock.now)
    page = desk.get(f"/desk/cases/{case['id']}/").content.decode()
    assert '<li class="event system" data-type="promise_breached">' in page
    assert "promise breached" in page
    assert '<li class="event customer-visible" data-type="case_opened">' in page


def test_case_page_query_count_is_fixed(desk: Client, world, clock, django_assert_max_num_queries) -> None:
    case = world.case()
    for n in range(5):
        desk.post(f"/desk/cases/{case['id']}/oral/", {"statement": f"Promise {n}", "minutes": "30"})
        desk.post(f"/desk/cases/{case['id']}/events/", {"type": "progress_update", "note": f"note {n}"})
    # session, user, case, clocks, timeline, breaches; stage names, departments, their members, staff,
    # the customer's other cases, the case's files
    with django_assert_max_num_queries(12):
        response = desk.get(f"/desk/cases/{case['id']}/")
    assert len(response.context["clocks"]) == 6


def test_event_form_appends_and_rerenders_clocks_and_timeline(desk: Client, world, clock) -> None:
    case = world.case()
    clock.advance(hours=1)
    response = desk.post(
        f"/desk/cases/{case['id']}/events/",
        {"type": "first_response", "note": "Called the customer back"},
        headers=HTMX,
    )
    assert response.status_code == 200
    body = response.content.decode()
    # the form comes back empty, with the live region swapped out of band
    assert body.lstrip().startswith('<form id="event-form"')
    assert 'id="case-live"' in body and 'hx-swap-oob="true"' in body
    assert 'data-state="met"' in body
    assert "Called the customer back" in body
    assert "<html" not in body
    event = CaseEvent.objects.get(case_id=case["id"], type="first_response")
    assert event.actor is not None and event.actor.username == "agent" and event.note == "Called the customer back"
    assert Commitment.objects.get(case_id=case["id"]).state == "met"


def test_event_form_moves_the_stage_out_of_band(desk: Client, world, clock) -> None:
    case = world.case()
    body = desk.post(f"/desk/cases/{case['id']}/events/", {"type": "arrived"}, headers=HTMX).content.decode()
    assert 'id="case-stage"' in body and "delivery" in body


def test_event_form_accepts_a_custom_type(desk: Client, world, clock) -> None:
    case = world.case()
    response = desk.post(f"/desk/cases/{case['id']}/events/", {"custom_type": "site_survey_done"}, headers=HTMX)
    assert response.status_code == 200
    assert CaseEvent.objects.filter(case_id=case["id"], type="site_survey_done").exists()
    assert "site_survey_done" in response.content.decode()


@pytest.mark.parametrize(
    "data, message",
    [
        ({"custom_type": "Not Snake"}, "lower_snake_case"),
        ({"custom_type": "promise_breached"}, "records this event type itself"),
        ({}, "Choose an event or type a custom one."),
        ({"type": "arrived", "custom_type": "also_this"}, "not both"),
        ({"type": "no_such_builtin"}, "Select a valid choice"),
    ],
)
def test_event_form_shows_errors_inline(desk: Client, world, clock, data: dict, message: str) -> None:
    case = world.case()
    before = CaseEvent.objects.count()
    response = desk.post(f"/desk/cases/{case['id']}/events/", data, headers=HTMX)
    assert response.status_code == 422
    body = response.content.decode()
    assert body.lstrip().startswith('<form id="event-form"')
    assert message in body
    assert CaseEvent.objects.count() == before


def test_event_form_without_htmx_redirects_back_to_the_case(desk: Client, world, clock) -> None:
    case = world.case()
    response = desk.post(f"/desk/cases/{case['id']}/events/", {"type": "progress_update", "note": "on the way"})
    assert response.status_code == 302
    assert response["Location"] == f"/desk/cases/{case['id']}/"
    failed = desk.post(f"/desk/cases/{case['id']}/events/", {"custom_type": "Bad Type"})
    assert failed.status_code == 422
    assert "<html" in failed.content.decode() and "lower_snake_case" in failed.content.decode()


def test_event_form_on_unknown_case_is_404(desk: Client) -> None:
    assert desk.post("/desk/cases/999/events/", {"type": "arrived"}, headers=HTMX).status_code == 404


def test_case_page_refuses_get_on_post_urls(desk: Client, world) -> None:
    case = world.case()
    assert desk.get(f"/desk/cases/{case['id']}/events/").status_code == 405


def test_oral_form_records_a_promise_due_in_minutes(desk: Client, world, clock) -> None:
    case = world.case()
    response = desk.post(
        f"/desk/cases/{case['id']}/oral/",
        {"statement": "Call back about the pool opening time", "minutes": "30", "owner": ""},
        headers=HTMX,
    )
    assert response.status_code == 200
    body = response.content.decode()
    assert body.lstrip().startswith('<form id="oral-form"')
    assert "Call back about the pool opening time" in body
    oral = Commitment.objects.get(case_id=case["id"], promise_version__isnull=True)
    assert oral.owner is not None and oral.owner.username == "agent"
    assert oral.due_at == datetime(2026, 3, 2, 9, 30, tzinfo=SHANGHAI)
    assert oral.state == "running"


def test_oral_form_records_a_promise_with_due_time_and_owner(desk: Client, world, clock, django_user_model) -> None:
    django_user_model.objects.create_user("zhang.wei", is_staff=True)
    case = world.case()
    response = desk.post(
        f"/desk/cases/{case['id']}/oral/",
        {"statement": "Installer calls before arriving", "due_at": "2026-03-02T16:15", "owner": "zhang.wei"},
        headers=HTMX,
    )
    assert response.status_code == 200
    oral = Commitment.objects.get(case_id=case["id"], promise_version__isnull=True)
    assert oral.owner is not None and oral.owner.username == "zhang.wei"
    assert oral.due_at == datetime(2026, 3, 2, 16, 15, tzinfo=SHANGHAI)


@pytest.mark.parametrize(
    "data, message",
    [
        ({"statement": "x", "minutes": "30", "owner": "nobody"}, "no staff member with that username"),
        ({"statement": "x", "due_at": "2026-03-02T08:00"}, "must fall due after now"),
        ({"statement": "x"}, "either the minutes"),
        ({"statement": "x", "minutes": "30", "due_at": "2026-03-02T16:00"}, "either the minutes"),
        ({"statement": "", "minutes": "30"}, "This field is required"),
        ({"statement": "x", "minutes": "0"}, "greater than or equal to 1"),
        ({"statement": "x", "due_at": "tomorrow"}, "Enter a valid date/time"),
    ],
)
def test_oral_form_shows_errors_inline(desk: Client, world, clock, data: dict, message: str) -> None:
    case = world.case()
    response = desk.post(f"/desk/cases/{case['id']}/oral/", data, headers=HTMX)
    assert response.status_code == 422
    assert message in response.content.decode()
    assert not Commitment.objects.filter(case_id=case["id"], promise_version__isnull=True).exists()


def test_mark_kept_meets_an_oral_promise(desk: Client, world, clock) -> None:
    case = world.case()
    desk.post(f"/desk/cases/{case['id']}/oral/", {"statement": "Call back", "minutes": "30"}, headers=HTMX)
    oral = Commitment.objects.get(case_id=case["id"], promise_version__isnull=True)
    page = desk.get(f"/desk/cases/{case['id']}/").content.decode()
    assert f'hx-post="/desk/commitments/{oral.pk}/fulfil/"' in page
    clock.advance(minutes=10)
    response = desk.post(f"/desk/commitments/{oral.pk}/fulfil/", headers=HTMX)
    assert response.status_code == 200
    body = response.content.decode()
    assert body.lstrip().startswith('<div id="case-live"')
    oral.refresh_from_db()
    assert oral.state == "met" and oral.met_at == clock.now
    assert "promise marked kept" in body
    # kept once; a second press says so inline
    again = desk.post(f"/desk/commitments/{oral.pk}/fulfil/", headers=HTMX)
    assert again.status_code == 422
    assert "no longer open" in again.content.decode()


def test_mark_kept_is_not_for_written_promises(desk: Client, world, clock) -> None:
    case = world.case()
    written = Commitment.objects.get(case_id=case["id"])
    page = desk.get(f"/desk/cases/{case['id']}/").content.decode()
    assert f"/desk/commitments/{written.pk}/fulfil/" not in page
    response = desk.post(f"/desk/commitments/{written.pk}/fulfil/", headers=HTMX)
    assert response.status_code == 422
    written.refresh_from_db()
    assert written.state == "running"


def test_case_live_partial_polls_every_30_seconds(desk: Client, world, clock) -> None:
    case = world.case()
    page = desk.get(f"/desk/cases/{case['id']}/").content.decode()
    assert f'hx-get="/desk/cases/{case["id"]}/live/" hx-trigger="every 30s"' in page
    partial = desk.get(f"/desk/cases/{case['id']}/live/", headers=HTMX).content.decode()
    assert partial.lstrip().startswith('<div id="case-live"') and "<form id=" not in partial


def test_case_page_shows_a_promise_with_a_pending_clock(desk: Client, api, world, clock) -> None:
    make_promise(
        api,
        code="on-arrival",
        title="Start on arrival",
        standard={"start_on": "arrived", "stop_on": ["delivered"], "target": "PT2H"},
    )
    case = world.case()
    page = desk.get(f"/desk/cases/{case['id']}/").content.decode()
    assert 'data-state="pending"' in page and "on-arrival" in page
