"""The desk in a real browser (Debian's Chromium through Playwright) against a live server.

Server time is frozen by the `clock` fixture (time-machine patches the whole process, so
the live server thread sees it too); countdowns are anchored to the server's time, so the
browser's own clock does not matter.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(not CHROMIUM.exists(), reason="Chromium not found at /usr/bin/chromium: browser tests skipped"),
]

# Playwright's sync API runs an event loop in this thread; Django must still be allowed to query.
os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

sync_api = pytest.importorskip("playwright.sync_api")
expect = sync_api.expect


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with sync_api.sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield launched
        launched.close()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="en-GB")
    tab = context.new_page()
    tab.set_default_timeout(10_000)
    yield tab
    context.close()


def log_in(page: Any, live_server: Any) -> None:
    page.goto(f"{live_server.url}/desk/")
    expect(page).to_have_url(re.compile(r"/accounts/login/\?next=/desk/$"))
    page.fill("#id_username", "agent")
    page.fill("#id_password", "pw-agent-123")
    page.click("button.primary")
    expect(page).to_have_url(f"{live_server.url}/desk/")


def test_queue_shows_a_ticking_countdown(page: Any, live_server: Any, world: Any, clock: Any) -> None:
    case = world.case(external_ref="B-1")
    clock.advance(hours=1)  # 10:00; due at 14:00 Shanghai
    log_in(page, live_server)
    row = page.locator(f'tr[data-clock] a[href="/desk/cases/{case["id"]}/"]')
    expect(row).to_be_visible()
    countdown = page.locator(".countdown").first
    expect(countdown).to_have_text(re.compile(r"^(4:00:00|3:59:\d\d)$"))
    expect(page.locator("td.due time").first).to_contain_text("2026-03-02 14:00")
    first = countdown.text_content()
    # countdown.js ticks every second; wait for the text to change rather than sleeping
    page.wait_for_function(
        "([el, before]) => el.textContent !== before", arg=[countdown.element_handle(), first], timeout=5_000
    )
    page.screenshot(path="/tmp/promisedesk-queue.png", full_page=True)


def test_event_form_meets_the_clock_without_a_reload(page: Any, live_server: Any, world: Any, clock: Any) -> None:
    case = world.case(external_ref="B-2")
    clock.advance(hours=1)
    log_in(page, live_server)
    page.click(f'a[href="/desk/cases/{case["id"]}/"]')
    expect(page.locator("h1")).to_contain_text(f"Case #{case['id']}")
    clock_row = page.locator("#case-live tr[data-clock]").first
    expect(clock_row).to_have_attribute("data-state", "running")
    page.evaluate("window.__notReloaded = true")

    page.select_option("#id_type", "first_response")
    page.fill("#id_note", "Called the customer back")
    page.click("#event-form button[type=submit]")

    expect(page.locator("#case-live tr[data-clock]").first).to_have_attribute("data-state", "met")
    expect(page.locator("#case-live .badge.state-met")).to_have_text("met")
    expect(page.locator("#timeline")).to_contain_text("Called the customer back")
    expect(page.locator("#event-form .notice")).to_be_visible()
    assert page.evaluate("window.__notReloaded") is True
    page.screenshot(path="/tmp/promisedesk-case.png", full_page=True)


def test_event_form_shows_an_error_inline(page: Any, live_server: Any, world: Any, clock: Any) -> None:
    case = world.case(external_ref="B-3")
    log_in(page, live_server)
    page.goto(f"{live_server.url}/desk/cases/{case['id']}/")
    page.evaluate("window.__notReloaded = true")
    page.fill("#id_custom_type", "Not Snake Case")
    page.click("#event-form button[type=submit]")
    expect(page.locator("#event-form .error")).to_contain_text("lower_snake_case")
    expect(page.locator("#case-live tr[data-clock]").first).to_have_attribute("data-state", "running")
    assert page.evaluate("window.__notReloaded") is True


def test_oral_promise_is_recorded_and_marked_kept(page: Any, live_server: Any, world: Any, clock: Any) -> None:
    case = world.case(external_ref="B-4")
    log_in(page, live_server)
    page.goto(f"{live_server.url}/desk/cases/{case['id']}/")
    page.fill("#id_statement", "Call back about the pool opening time")
    page.fill("#id_minutes", "30")
    page.click("#oral-form button[type=submit]")
    oral = page.locator("#case-live tr[data-clock]", has_text="Call back about the pool opening time")
    expect(oral).to_have_attribute("data-state", "running")
    expect(oral.locator(".countdown")).to_have_text(re.compile(r"^(0:30:00|0:29:\d\d)$"))
    oral.locator("button", has_text="Mark kept").click()
    expect(page.locator("#case-live tr[data-clock]", has_text="Call back about")).to_have_attribute("data-state", "met")


def test_language_switch_to_chinese(page: Any, live_server: Any, world: Any, clock: Any) -> None:
    world.case(external_ref="B-5")
    log_in(page, live_server)
    expect(page.locator("nav.mainnav")).to_contain_text("Queue")
    page.get_by_role("button", name="简体中文").click()
    expect(page.locator("nav.mainnav")).to_contain_text("待办队列")
    expect(page.locator("h1")).to_have_text("待办队列")
    expect(page.locator(".badge.state-running").first).to_have_text("计时中")
    expect(page).to_have_url(f"{live_server.url}/desk/")
    page.get_by_role("button", name="English").click()
    expect(page.locator("h1")).to_have_text("Queue")
