"""The CAPA API: create, list (with its query count), read with effectiveness and history, move, edit, errors."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from promisedesk.capa.models import ActionStatus

pytestmark = pytest.mark.usefixtures("root_causes")


def _body(clock: Any, **overrides: Any) -> dict[str, Any]:
    return {
        "kind": "corrective",
        "title": "Fix the dispatch process",
        "root_cause": "dispatch",
        "owner": "olga",
        "due_at": (clock.now + timedelta(days=14)).isoformat(),
        **overrides,
    }


def _error(response: Any, status: int, code: str, field: str | None = None) -> dict[str, Any]:
    assert response.status_code == status, response.content
    error = response.json()["error"]
    assert error["code"] == code, error
    if field is not None:
        assert error["field"] == field, error
    return error


def test_create_answers_the_action_with_its_history(api, clock, owner, team, promise) -> None:
    response = api.post("/capa-actions", _body(clock, promise="reply-4h"))
    assert response.status_code == 201, response.content
    got = response.json()
    assert got["status"] == "open" and got["owner"] == "olga" and got["promise"] == "reply-4h"
    assert got["department"] == "dispatch_team"  # the owner's one department
    assert got["created_by"] == "agent" and got["overdue"] is False
    assert [e["type"] for e in got["history"]] == ["created"]
    assert got["effectiveness"]["verdict"] == "not_done" and got["effectiveness"]["after"] is None


@pytest.mark.parametrize(
    ("overrides", "status", "code", "field"),
    [
        ({"root_cause": None}, 400, "missing_field", "root_cause"),
        ({"root_cause": "nonsense"}, 400, "unknown_root_cause", "root_cause"),
        ({"owner": "nobody"}, 400, "unknown_user", "owner"),
        ({"due_at": "2026-03-01T09:00:00+08:00"}, 400, "due_in_past", "due_at"),
        ({"due_at": "2026-03-20T09:00:00"}, 422, "invalid", "due_at"),
        ({"promise": "no-such"}, 404, "not_found", "promise"),
        ({"breach": 999}, 404, "not_found", "breach"),
        ({"incident": 999}, 404, "not_found", "incident"),
        ({"complaint_case": 999}, 404, "not_found", "complaint_case"),
        ({"department": "nope"}, 400, "unknown_department", "department"),
        ({"window_days": 0}, 422, "invalid", "window_days"),
        ({"colour": "red"}, 422, "unknown_field", "colour"),
        ({"title": ""}, 422, "invalid", "title"),
    ],
)
def test_create_refuses_bad_input_clearly(api, clock, owner, overrides, status, code, field) -> None:
    _error(api.post("/capa-actions", _body(clock, **overrides)), status, code, field)


def test_preventive_action_may_leave_the_root_cause_open(api, clock, owner) -> None:
    response = api.post("/capa-actions", _body(clock, kind="preventive", root_cause=None))
    assert response.status_code == 201, response.content
    assert response.json()["root_cause"] is None


def test_a_service_case_is_not_a_complaint(api, clock, owner, promise) -> None:
    from promisedesk.conftest import make_customer, make_service, open_case

    make_service(api)
    case = open_case(api, make_customer(api)["id"])
    _error(api.post("/capa-actions", _body(clock, complaint_case=case["id"])), 400, "not_a_complaint")


def test_list_filters_and_its_query_count_is_constant(api, clock, owner, boss, promise) -> None:
    for n in range(3):
        api.post("/capa-actions", _body(clock, title=f"a{n}", promise="reply-4h"))
    with CaptureQueriesContext(connection) as few:
        assert api.get("/capa-actions").json()["count"] == 3
    for n in range(12):
        api.post(
            "/capa-actions",
            _body(clock, title=f"b{n}", owner="boss", due_at=(clock.now + timedelta(days=1)).isoformat()),
        )
    with CaptureQueriesContext(connection) as many:
        got = api.get("/capa-actions").json()
    assert got["count"] == 15 and len(many) == len(few)
    assert api.get("/capa-actions", owner="olga").json()["count"] == 3
    assert api.get("/capa-actions", promise="reply-4h").json()["count"] == 3
    clock.advance(days=2)
    overdue = api.get("/capa-actions", overdue="true").json()
    assert overdue["count"] == 12 and all(item["overdue"] for item in overdue["items"])
    assert api.get("/capa-actions", overdue="false").json()["count"] == 3
    _error(api.get("/capa-actions", status="bogus"), 422, "invalid", "status")
    _error(api.get("/capa-actions", limit=100000), 400, "invalid", "limit")


def test_owner_starts_and_completes_a_manager_checks(api, owner_api, boss_api, clock, owner) -> None:
    created = api.post("/capa-actions", _body(clock)).json()
    path = f"/capa-actions/{created['id']}"
    # any staff member may create, but only the owner or a manager may move it
    _error(api.post(f"{path}/start"), 403, "forbidden")
    assert owner_api.post(f"{path}/start").json()["status"] == "in_progress"
    _error(owner_api.post(f"{path}/start"), 409, "wrong_status", "status")
    _error(owner_api.post(f"{path}/complete", {"note": ""}), 422, "invalid", "note")
    clock.advance(days=3)
    done = owner_api.post(f"{path}/complete", {"note": "Dispatch now checks the roster at 06:00."}).json()
    assert done["status"] == "done" and done["done_at"] is not None
    _error(owner_api.post(f"{path}/check", {"verdict": "effective"}), 403, "forbidden")
    _error(boss_api.post(f"{path}/check", {"verdict": "not_effective"}), 400, "missing_field", "note")
    checked = boss_api.post(f"{path}/check", {"verdict": "effective"}).json()
    assert checked["status"] == ActionStatus.CHECKED and checked["checked_by"] == "boss"
    assert [e["type"] for e in checked["history"]] == ["created", "started", "completed", "checked"]
    _error(boss_api.post(f"{path}/cancel", {"reason": "late"}), 409, "wrong_status")


def test_cancel_needs_a_reason(owner_api, clock, owner) -> None:
    created = owner_api.post("/capa-actions", _body(clock)).json()
    path = f"/capa-actions/{created['id']}"
    _error(owner_api.post(f"{path}/cancel", {}), 422, "missing_field", "reason")
    _error(owner_api.post(f"{path}/cancel", {"reason": "   "}), 400, "missing_field", "reason")
    got = owner_api.post(f"{path}/cancel", {"reason": "Covered by action 7."}).json()
    assert got["status"] == "cancelled" and got["cancel_reason"] == "Covered by action 7."


def test_moving_the_due_date_needs_a_reason_and_is_recorded(owner_api, clock, owner, boss) -> None:
    created = owner_api.post("/capa-actions", _body(clock)).json()
    path = f"/capa-actions/{created['id']}"
    later = (clock.now + timedelta(days=30)).isoformat()
    _error(owner_api.patch(path, {"due_at": later}), 400, "missing_field", "reason")
    got = owner_api.patch(path, {"due_at": later, "reason": "Waiting for the new roster tool."}).json()
    assert got["due_at"].startswith("2026-04-01")
    moved = got["history"][-1]
    assert moved["type"] == "due_changed" and moved["note"] == "Waiting for the new roster tool."
    assert moved["actor"] == "olga" and moved["data"]["after"].startswith("2026-04-01")
    handed = owner_api.patch(path, {"owner": "boss", "reason": "Boss takes it over."}).json()
    assert handed["owner"] == "boss" and handed["history"][-1]["type"] == "owner_changed"
    # the former owner may no longer change it
    _error(owner_api.patch(path, {"description": "x"}), 403, "forbidden")


def test_unknown_action_is_a_404(api) -> None:
    _error(api.get("/capa-actions/999"), 404, "not_found")
    _error(api.post("/capa-actions/999/start"), 404, "not_found")
    _error(api.patch("/capa-actions/999", {"description": "x"}), 404, "not_found")


def test_root_cause_list_managed_by_managers_only(api, boss_api) -> None:
    _error(api.post("/root-causes/dispatch/deactivate"), 403, "forbidden")
    assert boss_api.post("/root-causes/dispatch/deactivate").json()["active"] is False
    _error(boss_api.post("/root-causes/nope/deactivate"), 404, "not_found")
    assert boss_api.post("/root-causes/dispatch/activate").json()["active"] is True
