"""The escalation page: staff see chains and escalations; managers edit the chains."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from promisedesk.conftest import make_promise
from promisedesk.escalations.models import EscalationPolicy

from .conftest import Office, at

pytestmark = pytest.mark.django_db


@pytest.fixture
def desk(staff: Any, clock: Any) -> Client:
    client = Client()
    client.force_login(staff)
    return client


@pytest.fixture
def manager_desk(manager_user: Any, clock: Any) -> Client:
    client = Client()
    client.force_login(manager_user)
    return client


def _levels(policy: EscalationPolicy) -> list[tuple[str, Any]]:
    return [(level.role, level.threshold) for level in policy.levels.order_by("id")]


def test_page_needs_a_login(client: Client) -> None:
    response = client.get("/desk/escalation/")
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")


def test_agent_sees_the_builtin_chain_and_escalations_but_no_edit_links(office: Office, desk: Client) -> None:
    office.promise()
    case = office.case(at(2, 9))
    office.run(at(2, 12))

    page = desk.get("/desk/escalation/?status=fired").content.decode()

    assert "Organisation default" in page and "built-in" in page
    assert "at the warning" in page and "90 %" in page and "100 %" in page
    assert f'href="/desk/cases/{case.pk}/"' in page and "agent" in page
    assert "/desk/escalation/chains/default/" not in page
    assert desk.get("/desk/escalation/chains/default/").status_code == 403


def test_page_queries_do_not_grow_with_the_escalations(office: Office, desk: Client) -> None:
    office.promise()
    office.case(at(2, 9))
    office.run(at(2, 12))
    with CaptureQueriesContext(connection) as one:
        assert desk.get("/desk/escalation/?status=all").status_code == 200
    for hour in (9, 10):
        office.case(at(3, hour))
    office.run(at(3, 16))
    with CaptureQueriesContext(connection) as many:
        assert desk.get("/desk/escalation/?status=all").status_code == 200
    assert len(many) == len(one)


def test_pending_tab_lists_soonest_first_and_skipped_shows_the_reason(office: Office, desk: Client) -> None:
    office.promise()
    office.case(at(2, 9), assignee=None)
    office.run(at(2, 12))

    pending = desk.get("/desk/escalation/").content.decode()
    assert pending.index("2026-03-02 13:36") < pending.index("2026-03-02 14:00")
    skipped = desk.get("/desk/escalation/?status=skipped").content.decode()
    assert "the promise has no owner and the case no assignee" in skipped


def test_manager_edits_the_default_chain(office: Office, manager_desk: Client) -> None:
    form = manager_desk.get("/desk/escalation/chains/default/").content.decode()
    assert 'name="team_lead_threshold"' in form and 'value="90"' in form

    response = manager_desk.post(
        "/desk/escalation/chains/default/",
        {"owner_on": "on", "owner_threshold": "", "manager_on": "on", "manager_threshold": "95"},
    )

    assert response.status_code == 302 and response["Location"] == "/desk/escalation/"
    policy = EscalationPolicy.objects.get(promise_code="")
    assert [(role, None if t is None else int(t)) for role, t in _levels(policy)] == [("owner", None), ("manager", 95)]
    page = manager_desk.get("/desk/escalation/").content.decode()
    assert "The escalation chain was saved." in page and "manager_mia" in page


def test_falling_thresholds_are_refused_on_the_field(office: Office, manager_desk: Client) -> None:
    response = manager_desk.post(
        "/desk/escalation/chains/default/",
        {"team_lead_on": "on", "team_lead_threshold": "95", "manager_on": "on", "manager_threshold": "90"},
        HTTP_ACCEPT_LANGUAGE="zh-hans",
    )
    assert response.status_code == 422
    page = response.content.decode()
    assert 'class="field invalid"' in page
    assert not EscalationPolicy.objects.exists()


def test_manager_gives_a_promise_its_own_chain_then_removes_it(office: Office, manager_desk: Client) -> None:
    make_promise(office.api, code="callback-30m")
    overview = manager_desk.get("/desk/escalation/").content.decode()
    assert '<option value="callback-30m">' in overview

    assert manager_desk.get("/desk/escalation/chains/?promise=callback-30m")["Location"] == (
        "/desk/escalation/chains/callback-30m/"
    )
    response = manager_desk.post(
        "/desk/escalation/chains/callback-30m/", {"team_lead_on": "on", "team_lead_threshold": "50"}
    )
    assert response.status_code == 302
    assert _levels(EscalationPolicy.objects.get(promise_code="callback-30m")) == [("team_lead", 50)]

    response = manager_desk.post("/desk/escalation/chains/callback-30m/delete/")
    assert response.status_code == 302
    assert not EscalationPolicy.objects.filter(promise_code="callback-30m").exists()


def test_unknown_promise_chain_is_404(manager_desk: Client) -> None:
    assert manager_desk.get("/desk/escalation/chains/nope/").status_code == 404
    assert manager_desk.get("/desk/escalation/chains/?promise=nope").status_code == 404
    assert manager_desk.post("/desk/escalation/chains/nope/delete/").status_code == 404


def test_page_in_chinese(office: Office, desk: Client) -> None:
    page = desk.get("/desk/escalation/", HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    for text in ("升级", "组织默认", "负责人", "组长", "经理"):
        assert text in page, text
