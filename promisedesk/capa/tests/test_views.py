"""The CAPA desk pages: who may see and do what, the board, the new-action form, the action page,
and the root-cause to-do list."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from promisedesk.breaches.models import Breach, RootCause
from promisedesk.capa.actions import Links, do_complete_action
from promisedesk.capa.models import CapaEvent, CorrectiveAction
from promisedesk.conftest import make_customer, make_promise, make_service, open_case

from .conftest import new_action

pytestmark = pytest.mark.usefixtures("root_causes")
HTMX = {"HX-Request": "true"}


def client_for(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def desk(staff: Any, clock: Any) -> Client:
    return client_for(staff)


@pytest.fixture
def verified_breach(api: Any) -> dict[str, Any]:
    """A breach of reply-4h reported by staff: verified at once (no verification needed) and no root cause yet."""
    make_service(api)
    make_promise(api)
    case = open_case(api, make_customer(api)["id"])
    response = api.post(
        "/breaches",
        {"case": case["id"], "promise_code": "reply-4h", "source": "report", "description": "no reply all day"},
    )
    assert response.status_code == 201 and response.json()["status"] == "verified", response.content
    return response.json()


def test_desk_pages_are_for_staff_only(db: Any, clock: Any, owner: Any) -> None:
    action = new_action(clock.now)
    pages = ["/desk/capa/", "/desk/capa/new/", f"/desk/capa/{action.pk}/", "/desk/capa/root-causes/"]
    for url in pages:
        assert Client().get(url).status_code == 302
    customer = get_user_model().objects.create_user("guest", password="pw-guest-123")
    for url in pages:
        assert client_for(customer).get(url).status_code == 403
    assert client_for(customer).post(f"/desk/capa/{action.pk}/start/").status_code == 403


def test_board_shows_columns_and_overdue_cards_in_red(desk: Client, clock: Any, owner: Any) -> None:
    late = new_action(clock.now - timedelta(days=10), days=5, title="Late one")
    new_action(clock.now, title="Fresh one")
    page = desk.get("/desk/capa/").content.decode()
    assert 'data-column="open"' in page and 'data-column="checked"' in page
    card = page[page.index(f'data-action="{late.pk}"') - 200 : page.index(f'data-action="{late.pk}"')]
    assert "overdue" in card
    assert "Fresh one" in page and "overdue by" in page


def test_board_query_count_does_not_grow_with_cards(desk: Client, clock: Any, owner: Any, team: Any) -> None:
    new_action(clock.now)
    with CaptureQueriesContext(connection) as few:
        desk.get("/desk/capa/")
    for n in range(15):
        new_action(clock.now, title=f"n{n}")
    with CaptureQueriesContext(connection) as many:
        desk.get("/desk/capa/")
    assert len(many) == len(few)


def test_board_filters_mine_department_and_promise(clock: Any, owner: Any, boss: Any, team: Any, api: Any) -> None:
    make_promise(api, code="reply-4h")
    new_action(clock.now, title="Olga's", links=Links(promise="reply-4h"))
    new_action(clock.now, owner="boss", title="Boss's")
    mine = client_for(owner).get("/desk/capa/", {"mine": "on"}).content.decode()
    assert "Olga&#x27;s" in mine and "Boss&#x27;s" not in mine
    by_promise = client_for(owner).get("/desk/capa/", {"promise": "reply-4h"}).content.decode()
    assert "Olga&#x27;s" in by_promise and "Boss&#x27;s" not in by_promise
    by_team = client_for(owner).get("/desk/capa/", {"department": "dispatch_team"}).content.decode()
    assert "Olga&#x27;s" in by_team and "Boss&#x27;s" not in by_team


def test_any_staff_member_opens_an_action_prefilled_from_a_breach(
    desk: Client, clock: Any, owner: Any, verified_breach: dict[str, Any]
) -> None:
    Breach.objects.filter(pk=verified_breach["id"]).update(root_cause="staffing")
    form = desk.get(f"/desk/capa/new/?breach={verified_breach['id']}").content.decode()
    assert f'name="breach" value="{verified_breach["id"]}"' in form
    assert '<option value="reply-4h" selected>' in form and '<option value="staffing" selected>' in form
    due = (clock.now + timedelta(days=7)).strftime("%Y-%m-%dT%H:%M")
    response = desk.post(
        "/desk/capa/new/",
        {
            "kind": "corrective",
            "title": "More staff on the phones",
            "root_cause": "staffing",
            "promise": "reply-4h",
            "owner": "olga",
            "due_at": due,
            "window_days": "30",
            "breach": str(verified_breach["id"]),
        },
    )
    action = CorrectiveAction.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/desk/capa/{action.pk}/"
    assert action.breach_id == verified_breach["id"] and action.promise.code == "reply-4h"  # type: ignore[union-attr]
    assert action.created_by.username == "agent" and action.owner.username == "olga"  # type: ignore[union-attr]


def test_new_form_shows_the_error_in_place(desk: Client, clock: Any, owner: Any) -> None:
    response = desk.post(
        "/desk/capa/new/",
        {"kind": "corrective", "title": "x", "owner": "olga", "due_at": "2026-03-10T09:00", "window_days": "30"},
    )
    assert response.status_code == 422
    assert "names the root cause it removes" in response.content.decode()
    assert not CorrectiveAction.objects.exists()


def test_owner_moves_a_card_on_the_board_with_htmx(clock: Any, owner: Any) -> None:
    action = new_action(clock.now)
    olga = client_for(owner)
    response = olga.post(f"/desk/capa/{action.pk}/start/", {"view": "board", "query": ""}, headers=HTMX)
    assert response.status_code == 200
    board = response.content.decode()
    assert board.lstrip().startswith('<div id="board"')
    in_progress = board[board.index('data-column="in_progress"') : board.index('data-column="done"')]
    assert f'data-action="{action.pk}"' in in_progress
    response = olga.post(f"/desk/capa/{action.pk}/complete/", {"view": "board", "note": "roster fixed"}, headers=HTMX)
    done = response.content.decode()
    assert f'data-action="{action.pk}"' in done[done.index('data-column="done"') : done.index('data-column="checked"')]
    action.refresh_from_db()
    assert action.status == "done" and action.done_note == "roster fixed"


def test_another_agent_may_not_move_someone_elses_action(desk: Client, clock: Any, owner: Any) -> None:
    action = new_action(clock.now)
    response = desk.post(f"/desk/capa/{action.pk}/start/", {"view": "board"}, headers=HTMX)
    assert response.status_code == 422 and "owner or a manager" in response.content.decode()
    action.refresh_from_db()
    assert action.status == "open"


def test_manager_checks_on_the_action_page(clock: Any, owner: Any, boss: Any) -> None:
    action = new_action(clock.now)
    do_complete_action(action, actor=owner, now=clock.now + timedelta(days=1), note="done")
    page = client_for(owner).get(f"/desk/capa/{action.pk}/").content.decode()
    assert 'id="check"' not in page  # the owner does not check their own work
    manager = client_for(boss)
    assert 'id="check"' in manager.get(f"/desk/capa/{action.pk}/").content.decode()
    response = manager.post(f"/desk/capa/{action.pk}/check/", {"verdict": "effective", "note": ""})
    assert response.status_code == 302
    action.refresh_from_db()
    assert action.status == "checked" and action.checked_by == boss


def test_moving_the_due_date_on_the_page_needs_a_reason(clock: Any, owner: Any) -> None:
    action = new_action(clock.now)
    olga = client_for(owner)
    later = (clock.now + timedelta(days=20)).astimezone().strftime("%Y-%m-%dT%H:%M")
    form = {"owner": "olga", "due_at": later, "reason": "", "description": "", "window_days": "30"}
    response = olga.post(f"/desk/capa/{action.pk}/edit/", form)
    assert response.status_code == 422 and "Give the reason." in response.content.decode()
    response = olga.post(f"/desk/capa/{action.pk}/edit/", {**form, "reason": "supplier is late"})
    assert response.status_code == 302
    moved = CapaEvent.objects.filter(action=action, type="due_changed").get()
    assert moved.note == "supplier is late" and moved.actor == owner
    assert "supplier is late" in olga.get(f"/desk/capa/{action.pk}/").content.decode()


def test_action_page_shows_the_effect_bars(clock: Any, owner: Any, api: Any) -> None:
    make_promise(api, code="reply-4h")
    action = new_action(clock.now, links=Links(promise="reply-4h"))
    page = client_for(owner).get(f"/desk/capa/{action.pk}/").content.decode()
    assert 'class="effect-bars"' in page and "Not done yet" in page


def test_root_cause_to_do_list_and_one_click_categorise(desk: Client, verified_breach: dict[str, Any]) -> None:
    page = desk.get("/desk/capa/root-causes/").content.decode()
    assert f'id="pending-{verified_breach["id"]}"' in page
    assert f'id="pending-{verified_breach["id"]}"' in desk.get("/desk/capa/").content.decode()  # the board's to-do
    response = desk.post(
        f"/desk/capa/breaches/{verified_breach['id']}/root-cause/", {"root_cause": "staffing"}, headers=HTMX
    )
    assert response.status_code == 200 and "Not enough staff" in response.content.decode()
    assert Breach.objects.get(pk=verified_breach["id"]).root_cause == "staffing"
    assert f'id="pending-{verified_breach["id"]}"' not in desk.get("/desk/capa/root-causes/").content.decode()
    bad = desk.post(f"/desk/capa/breaches/{verified_breach['id']}/root-cause/", {"root_cause": "nope"}, headers=HTMX)
    assert bad.status_code == 422


def test_managers_keep_the_list_of_root_causes(desk: Client, boss: Any) -> None:
    form = {"code": "weather", "name_en": "Weather", "name_zh": "天气"}
    assert desk.post("/desk/capa/root-causes/add/", form).status_code == 422
    assert not RootCause.objects.filter(code="weather").exists()
    manager = client_for(boss)
    assert manager.post("/desk/capa/root-causes/add/", form).status_code == 302
    assert manager.post("/desk/capa/root-causes/add/", form).status_code == 422  # a duplicate
    assert desk.post("/desk/capa/root-causes/weather/active/", {"active": "0"}).status_code == 403
    assert manager.post("/desk/capa/root-causes/weather/active/", {"active": "0"}).status_code == 302
    assert RootCause.objects.get(code="weather").active is False
