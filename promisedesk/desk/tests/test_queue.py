"""The queue of open promises: who may see it, what it lists and in which order."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client

from promisedesk.commitments.models import Commitment
from promisedesk.commitments.sweeper import sweep
from promisedesk.conftest import make_customer, make_promise

pytestmark = pytest.mark.django_db


def test_queue_when_anonymous_redirects_to_login(client: Client) -> None:
    response = client.get("/desk/")
    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/?next=/desk/"


def test_queue_refresh_when_session_expired_asks_htmx_to_go_to_login(client: Client) -> None:
    headers = {"HX-Request": "true", "HX-Current-URL": "http://testserver/desk/?view=at_risk"}
    response = client.get("/desk/queue/rows/?view=at_risk", headers=headers)
    assert response.status_code == 401
    assert response["HX-Redirect"] == "/accounts/login/?next=/desk/%3Fview%3Dat_risk"


def test_queue_when_not_staff_is_forbidden(client: Client, django_user_model) -> None:
    customer = django_user_model.objects.create_user("guest", password="pw-guest-123")
    client.force_login(customer)
    assert client.get("/desk/").status_code == 403


def test_root_redirects_to_queue(desk: Client) -> None:
    response = desk.get("/")
    assert response.status_code == 302
    assert response["Location"] == "/desk/"


def test_login_page_renders_and_logs_in(client: Client, staff) -> None:
    page = client.get("/accounts/login/")
    assert page.status_code == 200
    assert b'name="username"' in page.content
    response = client.post("/accounts/login/", {"username": "agent", "password": "pw-agent-123"})
    assert response.status_code == 302
    assert response["Location"] == "/desk/"


def test_login_with_a_wrong_password_says_so(client: Client, staff) -> None:
    response = client.post("/accounts/login/", {"username": "agent", "password": "nope"})
    assert response.status_code == 200
    assert b"did not match" in response.content


def test_logout_is_a_post_form(desk: Client) -> None:
    page = desk.get("/desk/").content.decode()
    assert 'action="/accounts/logout/" method="post"' in page
    assert desk.post("/accounts/logout/").status_code == 302
    assert desk.get("/desk/").status_code == 302


def test_queue_lists_open_commitments_soonest_due_first(desk: Client, world, clock) -> None:
    # given three cases opened an hour apart (each has a 4-working-hour reply clock)
    first = world.case(external_ref="Q-1")
    clock.advance(hours=1)
    second = world.case(external_ref="Q-2")
    clock.advance(hours=1)
    third = world.case(external_ref="Q-3")
    # when
    response = desk.get("/desk/")
    # then
    assert response.status_code == 200
    rows = response.context["rows"]
    assert [row.commitment.case_id for row in rows] == [first["id"], second["id"], third["id"]]
    page = response.content.decode()
    assert page.index(f'href="/desk/cases/{first["id"]}/"') < page.index(f'href="/desk/cases/{third["id"]}/"')
    assert "Li Lei" in page and "reply-4h" in page


def test_queue_shows_due_time_in_calendar_zone_and_a_countdown(desk: Client, world, clock) -> None:
    world.case()
    page = desk.get("/desk/").content.decode()
    # opened Monday 09:00 Shanghai; 4 working hours with a lunch break: due 14:00 Shanghai
    assert "2026-03-02 14:00" in page
    assert 'data-due="2026-03-02T14:00:00+08:00"' in page
    assert 'class="countdown"' in page and "5:00:00" in page
    assert 'data-server-now="2026-03-02T09:00:00+08:00"' in page


def test_queue_round_the_clock_due_time_shows_in_server_zone(desk: Client, api, world, clock) -> None:
    make_promise(
        api,
        code="callback-30m",
        standard={"start_on": "case_opened", "stop_on": ["first_response"], "target": "PT30M"},
    )
    world.case()
    page = desk.get("/desk/?promise=callback-30m").content.decode()
    assert "2026-03-02 09:30" in page
    assert 'title="Asia/Shanghai"' in page


def test_queue_puts_clocks_without_due_time_last(desk: Client, api, world, clock) -> None:
    make_promise(
        api,
        code="on-arrival",
        title="Start on arrival",
        standard={"start_on": "arrived", "stop_on": ["delivered"], "target": "PT2H"},
    )
    world.case()
    codes = [row.commitment.promise_code for row in desk.get("/desk/").context["rows"]]
    assert codes == ["reply-4h", "on-arrival"]


def test_queue_marks_at_risk_after_the_warning_time(desk: Client, world, clock) -> None:
    world.case()
    clock.advance(hours=2, minutes=30)  # 11:30; the warning comes after 3 of the 4 working hours, at 12:00
    assert desk.get("/desk/").context["rows"][0].mark == ""
    clock.advance(minutes=45)  # 12:15
    response = desk.get("/desk/")
    assert response.context["rows"][0].mark == "at_risk"
    assert "at risk" in response.content.decode()
    assert response.context["counts"]["at_risk"] == 1
    assert len(desk.get("/desk/?view=at_risk").context["rows"]) == 1


def test_queue_marks_breached_when_due_passed_even_before_the_sweep(desk: Client, world, clock) -> None:
    world.case()
    clock.advance(hours=6)  # 15:00, due 14:00
    response = desk.get("/desk/")
    assert response.context["rows"][0].mark == "breached"
    assert 'class="mark breached"' in response.content.decode()
    assert response.context["counts"]["breached"] == 1


def test_queue_recently_breached_view_lists_swept_breaches(desk: Client, world, clock) -> None:
    case = world.case()
    clock.advance(hours=6)
    sweep(clock.now)
    open_view = desk.get("/desk/")
    assert open_view.context["rows"] == []
    breached = desk.get("/desk/?view=breached")
    [row] = breached.context["rows"]
    assert row.commitment.case_id == case["id"] and row.commitment.state == "breached"
    assert "breached" in breached.content.decode()
    clock.advance(days=8)
    assert desk.get("/desk/?view=breached").context["rows"] == []


def test_queue_filters_by_promise_and_state(desk: Client, api, world, clock) -> None:
    make_promise(
        api,
        code="on-arrival",
        title="Start on arrival",
        standard={"start_on": "arrived", "stop_on": ["delivered"], "target": "PT2H"},
    )
    world.case()
    by_promise = desk.get("/desk/?promise=on-arrival").context["rows"]
    assert [r.commitment.promise_code for r in by_promise] == ["on-arrival"]
    by_state = desk.get("/desk/?state=pending").context["rows"]
    assert [r.commitment.state for r in by_state] == ["pending"]
    assert [r.commitment.promise_code for r in desk.get("/desk/?state=running").context["rows"]] == ["reply-4h"]


def test_queue_filter_for_oral_promises(desk: Client, world, clock) -> None:
    case = world.case()
    desk.post(f"/desk/cases/{case['id']}/oral/", {"statement": "Call back", "minutes": "30"})
    rows = desk.get("/desk/?promise=oral").context["rows"]
    assert [r.statement for r in rows] == ["Call back"]
    assert rows[0].is_oral


def test_queue_with_bad_filters_reports_and_ignores_them(desk: Client, world, clock) -> None:
    world.case()
    response = desk.get("/desk/?state=exploded&promise=nope&view=sideways&page=zz")
    assert response.status_code == 200
    assert len(response.context["rows"]) == 1
    assert "were not understood" in response.content.decode()


def test_queue_rows_partial_refreshes_itself_every_30_seconds(desk: Client, world, clock) -> None:
    world.case()
    page = desk.get("/desk/?promise=reply-4h").content.decode()
    assert 'hx-get="/desk/queue/rows/?promise=reply-4h"' in page
    assert 'hx-trigger="every 30s"' in page
    partial = desk.get("/desk/queue/rows/?promise=reply-4h", headers={"HX-Request": "true"})
    assert partial.status_code == 200
    body = partial.content.decode()
    assert body.lstrip().startswith('<section id="queue-rows"')
    assert "<html" not in body and "reply-4h" in body


def test_queue_paginates_by_50(desk: Client, api, world, clock) -> None:
    for n in range(51):
        world.case(external_ref=f"P-{n}")
    first = desk.get("/desk/")
    assert len(first.context["rows"]) == 50
    assert "Page 1 of 2" in first.content.decode()
    second = desk.get("/desk/?page=2")
    assert len(second.context["rows"]) == 1


def _many_cases(world, api, count: int) -> None:
    for n in range(count):
        customer = make_customer(api, name=f"Customer {n}", external_ref=f"C-{n}")
        world.api.post("/cases", {"customer": customer["id"], "service": "install", "external_ref": f"N-{n}"})


@pytest.mark.parametrize("count", [2, 20])
def test_queue_query_count_does_not_grow_with_rows(
    desk: Client, api, world, clock, count: int, django_assert_max_num_queries
) -> None:
    _many_cases(world, api, count)
    desk.post(f"/desk/cases/{Commitment.objects.earliest('id').case_id}/oral/", {"statement": "Call", "minutes": "5"})
    assert Commitment.objects.count() == count + 1
    # session, user, promise codes, departments, staff, stage names, page count, rows, tab counts
    with django_assert_max_num_queries(9):
        response = desk.get("/desk/")
    assert len(response.context["rows"]) == count + 1
    with django_assert_max_num_queries(9):
        desk.get("/desk/queue/rows/")


def test_queue_countdown_starts_from_server_time(desk: Client, world, clock) -> None:
    world.case()
    clock.advance(hours=2, minutes=30)  # 11:30; due 14:00 across the lunch hour
    page = desk.get("/desk/").content.decode()
    assert "2:30:00" in page
    clock.to(clock.now + timedelta(hours=3))  # 14:30: overdue by half an hour, not yet swept
    page = desk.get("/desk/").content.decode()
    assert "−0:30:00" in page
