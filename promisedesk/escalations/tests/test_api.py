"""Chains and escalations over HTTP: read by staff, changed by managers, every bad input a 4xx."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest
from django.contrib.auth.models import Group
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from promisedesk.accounts.actions import do_create_token
from promisedesk.conftest import Api, FrozenClock, make_promise
from promisedesk.escalations.models import EscalationPolicy

from .conftest import Office, at

pytestmark = pytest.mark.django_db

BUILTIN = [
    {"role": "owner", "threshold": None},
    {"role": "team_lead", "threshold": 90.0},
    {"role": "manager", "threshold": 100.0},
]


@pytest.fixture
def manager_api(manager_user: Any, clock: FrozenClock) -> Api:
    return Api(Client(), do_create_token(manager_user, clock.now))


def test_default_chain_is_the_builtin_one_until_set(api: Api) -> None:
    listed = api.get("/escalation-policies").json()
    assert listed == {
        "items": [{"promise_code": None, "builtin": True, "levels": BUILTIN, "updated_at": None, "updated_by": None}],
        "count": 1,
    }
    assert api.get("/escalation-policies/default").json()["builtin"] is True


def test_manager_sets_the_default_and_a_promise_chain(manager_api: Api, api: Api) -> None:
    make_promise(api)
    body = {"levels": [{"role": "manager", "threshold": 100}, {"role": "owner", "threshold": None}]}
    response = manager_api.put("/escalation-policies/default", body)
    assert response.status_code == 200, response.content
    assert response.json()["levels"] == [{"role": "owner", "threshold": None}, {"role": "manager", "threshold": 100.0}]
    assert response.json()["updated_by"] == "manager_mia"

    body = {"levels": [{"role": "team_lead", "threshold": "87.5"}]}
    response = manager_api.put("/escalation-policies/reply-4h", body)
    assert response.status_code == 200, response.content

    listed = api.get("/escalation-policies").json()
    assert [(p["promise_code"], p["builtin"]) for p in listed["items"]] == [(None, False), ("reply-4h", False)]
    assert listed["items"][1]["levels"] == [{"role": "team_lead", "threshold": 87.5}]
    assert listed["count"] == 2


def test_replacing_a_chain_keeps_one_row_per_role(manager_api: Api) -> None:
    for threshold in (80, 95):
        body = {"levels": [{"role": "team_lead", "threshold": threshold}]}
        assert manager_api.put("/escalation-policies/default", body).status_code == 200
    policy = EscalationPolicy.objects.get()
    assert [(level.role, level.threshold) for level in policy.levels.all()] == [("team_lead", 95)]


def test_deleting_a_promise_chain_falls_back_to_the_default(manager_api: Api, api: Api) -> None:
    make_promise(api)
    manager_api.put("/escalation-policies/reply-4h", {"levels": []})
    assert manager_api.delete("/escalation-policies/reply-4h").status_code == 204
    assert api.get("/escalation-policies/reply-4h").status_code == 404
    again = manager_api.delete("/escalation-policies/reply-4h")
    assert again.status_code == 404 and again.json()["error"]["code"] == "not_found"


def test_agent_cannot_change_chains(api: Api) -> None:
    response = api.put("/escalation-policies/default", {"levels": []})
    assert response.status_code == 403
    assert response.json() == {
        "error": {"code": "forbidden", "message": "only managers can change escalation chains", "field": None}
    }
    assert not EscalationPolicy.objects.exists()


def _level(role: str, threshold: Any, **extra: Any) -> dict[str, Any]:
    return {"role": role, "threshold": threshold, **extra}


RISE = "thresholds_must_rise"


@pytest.mark.parametrize(
    ("levels", "code", "field"),
    [
        ([_level("owner", 95), _level("team_lead", 90)], RISE, "levels.1.threshold"),
        ([_level("team_lead", 90), _level("manager", 90)], RISE, "levels.1.threshold"),
        ([_level("team_lead", 90), _level("manager", None)], RISE, "levels.1.threshold"),
        ([_level("manager", 80), _level("owner", 90)], RISE, "levels.0.threshold"),
        ([_level("owner", 50), _level("owner", 60)], "duplicate_role", "levels.1.role"),
        ([_level("owner", 0)], "invalid", "levels.0.threshold"),
        ([_level("owner", 101)], "invalid", "levels.0.threshold"),
        ([_level("owner", "NaN")], "invalid", "levels.0.threshold"),
        ([_level("owner", 50.123)], "invalid", "levels.0.threshold"),
        ([_level("director", 50)], "invalid", "levels.0.role"),
        ([_level("owner", 50, extra=1)], "unknown_field", "levels.0.extra"),
    ],
)
def test_bad_chains_are_refused_with_the_field(manager_api: Api, levels: list[Any], code: str, field: str) -> None:
    response = manager_api.put("/escalation-policies/default", {"levels": levels})
    assert response.status_code in (400, 422), response.content
    assert response.json()["error"]["code"] == code
    assert response.json()["error"]["field"] == field
    assert not EscalationPolicy.objects.exists()


def test_chain_for_an_unknown_promise_is_404(manager_api: Api) -> None:
    response = manager_api.put("/escalation-policies/no-such-promise", {"levels": []})
    assert response.status_code == 404
    assert response.json()["error"]["field"] == "promise_code"


def test_escalations_list_filters_by_case_and_status_in_two_queries(office: Office) -> None:
    office.promise()
    first, second = office.case(at(2, 9)), office.case(at(2, 9, 30))
    office.run(at(2, 13, 50))  # first: owner and lead told, manager pending; second: owner told, two pending

    everything = office.api.get("/escalations").json()
    assert everything["count"] == 6
    with CaptureQueriesContext(connection) as queries:
        response = office.api.get("/escalations", case=first.pk, status="fired")
    assert response.status_code == 200
    assert len(queries) == 3, [q["sql"] for q in queries.captured_queries]  # the token, the count, the page
    items = response.json()["items"]
    assert [(e["role"], e["to"], e["status"]) for e in items] == [
        ("team_lead", ["lead"], "fired"),
        ("owner", ["agent"], "fired"),
    ]
    assert datetime.fromisoformat(items[0]["fire_at"]) == at(2, 13, 36)
    pending = office.api.get("/escalations", case=second.pk, status="pending").json()
    assert sorted(e["role"] for e in pending["items"]) == ["manager", "team_lead"]


def test_escalations_list_refuses_bad_filters(api: Api) -> None:
    response = api.get("/escalations", status="sent")
    assert response.status_code == 422 and response.json()["error"]["field"] == "status"
    response = api.get("/escalations", limit=1000)
    assert response.status_code == 400 and response.json()["error"]["field"] == "limit"


def test_manager_group_member_who_is_inactive_cannot_edit(manager_user: Any) -> None:
    from promisedesk.escalations.actions import can_edit_chains

    assert can_edit_chains(manager_user)
    manager_user.is_active = False
    assert not can_edit_chains(manager_user)
    manager_user.is_active = True
    manager_user.groups.remove(Group.objects.get(name="manager"))
    assert not can_edit_chains(manager_user)
