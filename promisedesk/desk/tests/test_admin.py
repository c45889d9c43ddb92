"""The admin registers every model; append-only and published rows cannot be changed there."""

from __future__ import annotations

import json

import pytest
from django.test import Client

from promisedesk.cases.models import CaseEvent
from promisedesk.commitments.models import Commitment
from promisedesk.promises.models import PromiseVersion

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client_(world, clock, django_user_model) -> Client:
    boss = django_user_model.objects.create_superuser("boss", password="pw-boss-1234")
    client = Client()
    client.force_login(boss)
    return client


@pytest.mark.parametrize(
    "path",
    [
        "accounts/apitoken",
        "accounts/department",
        "cases/stagelabel",
        "cases/attachment",
        "calendars/businesscalendar",
        "promises/promise",
        "promises/promiseversion",
        "cases/customer",
        "cases/service",
        "cases/case",
        "cases/caseevent",
        "commitments/commitment",
        "commitments/commitmentalert",
        "breaches/breach",
        "breaches/compensation",
        "breaches/rootcause",
        "breaches/approvallimit",
    ],
)
def test_admin_changelists_render(admin_client_: Client, world, path: str) -> None:
    world.case()
    response = admin_client_.get(f"/admin/{path}/")
    assert response.status_code == 200
    assert admin_client_.get(f"/admin/{path}/?q=x").status_code == 200


def test_case_events_are_read_only_in_admin(admin_client_: Client, world) -> None:
    world.case()
    event = CaseEvent.objects.earliest("id")
    page = admin_client_.get(f"/admin/cases/caseevent/{event.pk}/change/")
    assert page.status_code == 200
    assert b'name="note"' not in page.content
    assert admin_client_.get("/admin/cases/caseevent/add/").status_code == 403
    assert admin_client_.post(f"/admin/cases/caseevent/{event.pk}/delete/", {"post": "yes"}).status_code == 403


def test_published_version_is_read_only_in_admin(admin_client_: Client, world) -> None:
    version = PromiseVersion.objects.get()
    page = admin_client_.get(f"/admin/promises/promiseversion/{version.pk}/change/")
    assert page.status_code == 200
    assert b'name="title"' not in page.content


def test_draft_version_is_edited_through_the_action(admin_client_: Client, api, world) -> None:
    api.patch("/promises/reply-4h", {"title": "Reply within 3 working hours"})
    draft = PromiseVersion.objects.get(status="draft")
    page = admin_client_.get(f"/admin/promises/promiseversion/{draft.pk}/change/")
    assert b'name="title"' in page.content
    form = {
        "title": "Reply within 2 working hours",
        "statement": '{"en": "We reply within 2 working hours.", "zh-Hans": "2个工作小时内答复。"}',
        "kind": "time",
        "coverage": "full",
        "form": "written",
        "applies_to": "{}",
        "standard": json.dumps({**draft.standard, "target": "PT2H"}),
        "liability": json.dumps(draft.liability),
    }
    response = admin_client_.post(f"/admin/promises/promiseversion/{draft.pk}/change/", form)
    assert response.status_code == 302, response.content.decode()[:2000]
    draft.refresh_from_db()
    assert draft.title == "Reply within 2 working hours"
    assert draft.standard["target"] == "PT2H"


def test_publish_action_in_admin(admin_client_: Client, api, world) -> None:
    api.patch("/promises/reply-4h", {"title": "Reply within 3 working hours"})
    promise = PromiseVersion.objects.get(status="draft").promise
    response = admin_client_.post(
        "/admin/promises/promise/", {"action": "publish_draft", "_selected_action": [promise.pk]}
    )
    assert response.status_code == 302
    assert PromiseVersion.objects.get(status="published").number == 2


def test_commitments_cannot_be_changed_in_admin(admin_client_: Client, world) -> None:
    world.case()
    commitment = Commitment.objects.get()
    page = admin_client_.get(f"/admin/commitments/commitment/{commitment.pk}/change/")
    assert page.status_code == 200
    assert b'name="state"' not in page.content


def test_calendar_change_in_admin_goes_through_the_action(admin_client_: Client, world) -> None:
    from promisedesk.calendars.models import BusinessCalendar

    calendar = BusinessCalendar.objects.get()
    form = {
        "name": calendar.name,
        "timezone": "Asia/Shanghai",
        "weekly_hours": '{"mon": [["09:00", "17:00"]]}',
        "holidays": "[]",
        "extra_workdays": "[]",
    }
    response = admin_client_.post(f"/admin/calendars/businesscalendar/{calendar.pk}/change/", form)
    assert response.status_code == 302, response.content.decode()[:3000]
    calendar.refresh_from_db()
    assert calendar.revision == 2
    bad = admin_client_.post(
        f"/admin/calendars/businesscalendar/{calendar.pk}/change/", {**form, "timezone": "Mars/Olympus"}
    )
    assert bad.status_code == 200 and b"IANA" in bad.content


def test_draft_with_a_bad_standard_is_refused_on_its_field(admin_client_: Client, api, world) -> None:
    api.patch("/promises/reply-4h", {"title": "Reply within 3 working hours"})
    draft = PromiseVersion.objects.get(status="draft")
    form = {
        "title": draft.title,
        "statement": json.dumps(draft.statement),
        "kind": "time",
        "coverage": "full",
        "form": "written",
        "applies_to": "{}",
        "standard": json.dumps({**draft.standard, "target": "soon"}),
        "liability": json.dumps(draft.liability),
    }
    response = admin_client_.post(f"/admin/promises/promiseversion/{draft.pk}/change/", form)
    assert response.status_code == 200
    assert "standard" in response.context["adminform"].form.errors
    draft.refresh_from_db()
    assert draft.standard["target"] == "PT4H"


def test_breaches_and_compensations_in_admin_link_to_the_desk(admin_client_: Client, api, coach_line) -> None:
    from promisedesk.breaches.models import Compensation

    breach = api.post("/breaches", {"case": coach_line["id"], "promise_code": "courtesy", "source": "claim"}).json()
    api.post(f"/breaches/{breach['id']}/verify", {"verdict": "verified", "root_cause": "staffing"})
    on_the_desk = f'href="/desk/cases/{coach_line["id"]}/#breach-{breach["id"]}"'
    page = admin_client_.get(f"/admin/breaches/breach/{breach['id']}/change/").content.decode()
    assert 'name="status"' not in page and on_the_desk in page  # read-only, one click from the desk
    compensation = Compensation.objects.get()
    page = admin_client_.get(f"/admin/breaches/compensation/{compensation.pk}/change/").content.decode()
    assert 'name="status"' not in page and on_the_desk in page
