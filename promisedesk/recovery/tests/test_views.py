"""The desk's incident pages: staff only, declaring, attaching, launching runs, the live counts."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from promisedesk.breaches.models import Compensation
from promisedesk.recovery.bulk import run_bulk
from promisedesk.recovery.models import BulkRun, Incident, IncidentCase

from .conftest import declare

pytestmark = pytest.mark.django_db


@pytest.fixture
def desk(staff: Any, clock: Any) -> Client:
    client = Client()
    client.force_login(staff)
    return client


def test_the_pages_are_for_staff_only(client: Client, airline: Any, api: Any) -> None:
    incident = declare(api)
    page = f"/desk/incidents/{incident['id']}/"
    assert client.get(page).status_code == 302
    assert client.get("/desk/incidents/")["Location"].startswith("/accounts/login/")
    customer = get_user_model().objects.create_user("visitor", password="pw-visitor-123")
    client.force_login(customer)
    assert client.get(page).status_code == 403
    assert client.post(f"{page}notify/").status_code == 403
    live = Client().get(f"{page}live/", headers={"HX-Request": "true"})
    assert live.status_code == 401 and live["HX-Redirect"].startswith("/accounts/login/")


def test_declare_form_makes_an_incident_and_shows_errors(desk: Client, airline: Any) -> None:
    refused = desk.post(
        "/desk/incidents/new/",
        {"title": "ES5199 delayed", "reason": "storms", "starts_at": "2026-03-02T12:00", "ends_at": "2026-03-02T11:00"},
    )
    assert refused.status_code == 422 and "the incident ends before it starts" in refused.content.decode()
    made = desk.post(
        "/desk/incidents/new/",
        {
            "title": "ES5199 delayed",
            "code": "ES5199",
            "reason": "航路雷雨天气",
            "reason_en": "storms",
            "starts_at": "2026-03-02T12:00",
            "new_time": "2026-03-02T17:30",
            "services": ["flight"],
            "locations": "PVG, CTU",
        },
    )
    incident = Incident.objects.get(code="ES5199")
    assert made.status_code == 302 and made["Location"] == f"/desk/incidents/{incident.pk}/"
    assert (
        incident.locations == ["PVG", "CTU"] and incident.new_time is not None and incident.new_time.hour == 9
    )  # 17:30 Shanghai in UTC
    assert list(incident.services.values_list("code", flat=True)) == ["flight"]
    listing = desk.get("/desk/incidents/").content.decode()
    assert "ES5199" in listing


def test_attach_notify_and_watch_the_counts(desk: Client, airline: Any, api: Any) -> None:
    cases = airline.passengers(3)
    incident = declare(api)
    page = f"/desk/incidents/{incident['id']}/"

    attached = desk.post(f"{page}attach/query/", {"open_only": "on"}, follow=True)
    assert "3 cases attached; 0 were attached already." in attached.content.decode()
    csv = SimpleUploadedFile("a.csv", f"{cases[0].external_ref}\nGHOST\n".encode(), content_type="text/csv")
    unknown = desk.post(f"{page}attach/csv/", {"file": csv})
    assert unknown.status_code == 422 and "&#x27;GHOST&#x27; (line 2)" in unknown.content.decode()

    preview = desk.post(f"{page}preview/", {"message": "Meals at gate 12."}).content.decode()
    assert "Meals at gate 12." in preview and "航路雷雨天气" in preview

    assert desk.post(f"{page}notify/", {"message": ""}).status_code == 302
    running = desk.get(page).content.decode()
    assert 'hx-trigger="every 1s"' in running and '<progress max="3" value="0"' in running
    again = desk.post(f"{page}notify/", {"message": ""})
    assert again.status_code == 422 and "already running" in again.content.decode()

    run_bulk(airline.clock.now, max_batches=1, batch=2)
    partial = desk.get(f"{page}live/").content.decode()
    assert 'data-count="notified">2<' in partial and 'hx-trigger="every 1s"' in partial
    run_bulk(airline.clock.now)
    done = desk.get(f"{page}live/").content.decode()
    assert 'data-count="notified">3<' in done and "hx-trigger" not in done  # polling stops
    table = desk.get(f"{page}?state=not_notified").content.decode()
    assert "No case here." in table


def test_compensation_needs_approval_rights_on_the_page(
    desk: Client, desk_manager: Client, airline: Any, api: Any
) -> None:
    airline.passengers(2)
    incident = declare(api)
    page = f"/desk/incidents/{incident['id']}/"
    desk.post(f"{page}attach/query/", {})
    rule = {"mode": "grant", "kind": "voucher", "amount": "200", "currency": "CNY", "reason": "delay", "approve": "on"}

    refused = desk.post(f"{page}compensate/", rule)
    assert refused.status_code == 422 and "needs approval rights" in refused.content.decode()
    assert desk_manager.post(f"{page}compensate/", rule).status_code == 302
    run_bulk(airline.clock.now)
    assert set(Compensation.objects.values_list("status", flat=True)) == {"approved"}
    body = desk_manager.get(page).content.decode()
    assert 'data-count="compensated">2<' in body and "voucher 200.00 CNY" in body


def test_force_majeure_toggle_is_for_managers_and_explained(
    desk: Client, desk_manager: Client, api: Any, airline: Any
) -> None:
    incident = declare(api)
    page = f"/desk/incidents/{incident['id']}/"
    assert "Mark force majeure" not in desk.get(page).content.decode()
    assert desk.post(f"{page}force-majeure/", {"reason": "typhoon"}).status_code == 422
    assert desk_manager.post(f"{page}force-majeure/", {"reason": "Typhoon: airport closed"}).status_code == 302
    body = desk_manager.get(page).content.decode()
    assert "pays no liability" in body and "Typhoon: airport closed" in body and "Unmark force majeure" in body


def test_close_and_cancel_from_the_page(desk: Client, api: Any, airline: Any) -> None:
    airline.passengers(1)
    incident = declare(api)
    page = f"/desk/incidents/{incident['id']}/"
    desk.post(f"{page}attach/query/", {})
    desk.post(f"{page}notify/", {})
    refused = desk.post(f"{page}close/", follow=True).content.decode()
    assert "still running" in refused
    run = BulkRun.objects.get()
    desk.post(f"{page}runs/{run.pk}/cancel/")
    assert desk.post(f"{page}close/").status_code == 302
    closed = desk.get(page).content.decode()
    assert "Closed at" in closed and "Notify all" not in closed
    assert IncidentCase.objects.count() == 1
    assert desk.get("/desk/incidents/9999/").status_code == 404


@pytest.mark.parametrize("path", ["recovery/incident", "recovery/incidentcase", "recovery/bulkrun"])
def test_admin_lists_incidents_read_only(client: Client, api: Any, airline: Any, path: str) -> None:
    airline.passengers(1)
    incident = declare(api)
    api.post(f"/incidents/{incident['id']}/attach/query", {})
    api.post(f"/incidents/{incident['id']}/notify", {})
    boss = get_user_model().objects.create_superuser("boss", password="pw-boss-1234")
    client.force_login(boss)
    assert client.get(f"/admin/{path}/?q=ES").status_code == 200
    assert client.get(f"/admin/{path}/add/").status_code == 403


def test_the_incident_page_reads_as_many_rows_in_as_few_queries(desk: Client, airline: Any, api: Any) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    incident = declare(api)
    page = f"/desk/incidents/{incident['id']}/"
    airline.passengers(3)
    desk.post(f"{page}attach/query/", {"open_only": "on"})
    desk.post(f"{page}notify/", {"message": ""})
    run_bulk(airline.clock.now)
    with CaptureQueriesContext(connection) as few:
        assert desk.get(page).status_code == 200
    airline.passengers(12, first=100)
    desk.post(f"{page}attach/query/", {"open_only": "on"})
    desk.post(f"{page}notify/", {"message": ""})
    run_bulk(airline.clock.now)
    with CaptureQueriesContext(connection) as many:
        page_with_more = desk.get(page)
    assert page_with_more.status_code == 200 and IncidentCase.objects.count() == 15
    assert len(many) == len(few), [q["sql"] for q in many.captured_queries]
