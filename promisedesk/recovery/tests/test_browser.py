"""An incident of 500 customers in a real browser: declare, attach, notify all, compensate all.

Server time is frozen by the `clock` fixture. The worker's step (`run_bulk`) is driven from
the test between the page's polls, a batch at a time, and the test waits for the page's
counts to show each batch (Playwright's `expect` waits for the DOM; nothing sleeps).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest

from promisedesk.breaches.models import Compensation
from promisedesk.conftest import BROWSER_TESTS, SCREENSHOTS
from promisedesk.notifications.models import OutboxMessage
from promisedesk.recovery.bulk import run_bulk

from .conftest import manager_user

pytestmark = BROWSER_TESTS

sync_api = pytest.importorskip("playwright.sync_api")
expect = sync_api.expect

PASSENGERS = 500
BATCH = 200


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="en-GB")
    tab = context.new_page()
    tab.set_default_timeout(15_000)
    yield tab
    context.close()


def log_in(page: Any, live_server: Any, username: str) -> None:
    page.goto(f"{live_server.url}/desk/incidents/")
    page.fill("#id_username", username)
    page.fill("#id_password", f"pw-{username}-123")
    page.click("button.primary")
    expect(page).to_have_url(f"{live_server.url}/desk/incidents/")


def work_batches(clock: Any, page: Any, count: str, expected: list[int]) -> None:
    """One worker batch at a time; after each, the polled counts must show it without a reload."""
    for total in expected:
        run_bulk(clock.now, max_batches=1, batch=BATCH)
        expect(page.locator(f'#incident-live [data-count="{count}"]')).to_have_text(str(total))


def test_an_incident_of_500_customers(page: Any, live_server: Any, airline: Any, clock: Any) -> None:
    manager_user("mia", limit="500")
    airline.passengers(PASSENGERS)
    log_in(page, live_server, "mia")

    # declare
    page.click("text=Declare an incident")
    page.fill("#id_title", "ES5199 delayed")
    page.fill("#id_code", "ES5199")
    page.fill("#id_reason", "航路雷雨天气")
    page.fill("#id_reason_en", "thunderstorms on the route")
    page.fill("#id_starts_at", "2026-03-02T12:00")
    page.fill("#id_ends_at", "2026-03-02T23:00")
    page.fill("#id_new_time", "2026-03-02T17:30")
    page.check("input[name=services][value=flight]")
    page.click("form.declare-form button[type=submit]")
    expect(page.locator("h1")).to_contain_text("ES5199 delayed")

    # attach 500 by query
    page.click("#attach-query button[type=submit]")
    expect(page.locator(".notice")).to_contain_text("500 cases attached; 0 were attached already.")
    expect(page.locator('#incident-live [data-count="affected"]')).to_have_text("500")
    expect(page.locator("#notice-preview")).to_contain_text("航路雷雨天气")

    # notify all, watching the counts move with each batch the worker does
    page.fill("#id_message", "Meals are served at gate 12.")
    page.click("#notify-form button[type=submit]")
    expect(page.locator("#incident-live")).to_have_attribute("data-polling", "true")
    page.evaluate("window.__notReloaded = true")
    work_batches(clock, page, "notified", [200, 400, 500])
    run = page.locator('#incident-live li[data-kind="notify"]')
    expect(run).to_have_attribute("data-status", "done")
    expect(run.locator("progress")).to_have_attribute("value", "500")
    expect(page.locator("#incident-live")).not_to_have_attribute("data-polling", "true")  # polling stopped
    assert page.evaluate("window.__notReloaded") is True
    assert OutboxMessage.objects.filter(event="incident_notice").count() == 2 * PASSENGERS

    # compensate all with a voucher, approved within the manager's limit and issued
    page.click("#compensate-box > summary")
    page.check("input[name=mode][value=grant]")
    page.select_option("#id_kind", "voucher")
    page.fill("#id_amount", "200")
    page.fill("#id_reason", "ES5199 delay")
    page.check("#id_issue")
    page.click("#compensate-form button[type=submit]")
    expect(page.locator(".notice")).to_contain_text("Compensating every affected customer has started.")
    work_batches(clock, page, "compensated", [200, 400, 500])
    expect(page.locator('#incident-live li[data-kind="compensate"]')).to_have_attribute("data-status", "done")
    assert Compensation.objects.filter(status="issued", grant_key__startswith="incident:").count() == PASSENGERS

    # the affected cases show what was done for each
    page.reload()
    first = page.locator(".affected-table tbody tr").first
    expect(first).to_contain_text("✓")
    expect(first).to_contain_text(re.compile(r"voucher 200\.00 CNY · issued"))
    page.screenshot(path=f"{SCREENSHOTS}/promisedesk-incident.png", full_page=True)

    # and the same page on a phone
    page.set_viewport_size({"width": 390, "height": 844})
    page.reload()
    expect(page.locator('#incident-live [data-count="compensated"]')).to_have_text("500")
    page.screenshot(path=f"{SCREENSHOTS}/promisedesk-incident-phone.png", full_page=False)
