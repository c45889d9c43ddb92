"""The desk in a real browser (Debian's Chromium through Playwright) against a live server.

Server time is frozen by the `clock` fixture (time-machine patches the whole process, so
the live server thread sees it too); countdowns are anchored to the server's time, so the
browser's own clock does not matter.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest

from promisedesk.conftest import BROWSER_TESTS, SCREENSHOTS

pytestmark = BROWSER_TESTS


sync_api = pytest.importorskip("playwright.sync_api")
expect = sync_api.expect


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
    page.screenshot(path=f"{SCREENSHOTS}/promisedesk-queue.png", full_page=True)


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
    page.screenshot(path=f"{SCREENSHOTS}/promisedesk-case.png", full_page=True)


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


COACH_PROMISES = [
    ("depart-on-time", "time", "Depart on time", "The coach leaves within 5 minutes of the timetable."),
    ("announce-terminus", "behaviour", "Announce the terminus", "The crew announce where the coach ends its trip."),
    ("board-in-stations", "method", "Board only in stations", "Passengers board only inside the stations."),
    ("no-overcharging", "behaviour", "No overcharging", "You pay the published fare and nothing more."),
    ("courtesy", "behaviour", "Courtesy", "Our crew are polite and helpful to every passenger."),
]


def _coach_case(api: Any, ref: str = "TICKET-7") -> dict[str, Any]:
    """The Shanghai–Nantong coach line with its five published promises: twice the fare once verified."""
    from promisedesk.conftest import make_customer, make_promise, make_service, open_case

    make_service(api, "coach", price="68.00")
    twice_the_fare = {"kind": "cash", "multiple_of_price": "2", "verification_required": True, "automatic": True}
    for code, kind, title, statement in COACH_PROMISES:
        standard = {"start_on": "boarding_closed", "stop_on": "departed", "target": "PT5M"} if kind == "time" else {}
        make_promise(
            api,
            code=code,
            kind=kind,
            title=title,
            statement={"en": statement, "zh-Hans": statement},
            standard=standard,
            liability=twice_the_fare,
        )
    customer = make_customer(api, name="Wang Fang", email="passenger@example.com", locale="zh-Hans")
    return open_case(api, customer["id"], "coach", external_ref=ref)


@pytest.fixture
def team_lead(staff: Any, root_causes: Any) -> Any:
    """agent approves up to 500 CNY; promisedesk itself only up to 100, so twice the fare (136) waits for a person."""
    from django.contrib.auth.models import Group

    from promisedesk.breaches.tests.conftest import allow

    allow("automatic", "100")
    allow("team_lead", "500")
    staff.groups.add(Group.objects.create(name="team_lead"))
    return staff


def test_claim_verify_and_compensate_without_a_reload(
    page: Any, live_server: Any, api: Any, clock: Any, team_lead: Any
) -> None:
    case = _coach_case(api)
    log_in(page, live_server)
    page.goto(f"{live_server.url}/desk/cases/{case['id']}/")
    page.evaluate("window.__notReloaded = true")
    makegood = page.locator("#makegood")
    expect(makegood).to_contain_text("No promise on this case has been reported broken.")

    # the customer's claim, in two clicks: the promise, then Record
    makegood.locator(".claim-choice", has_text="courtesy").click()
    makegood.get_by_role("button", name="Record").click()
    breach = makegood.locator("article.breach")
    expect(breach).to_have_attribute("data-status", "suspected")
    expect(breach).to_contain_text("customer claim")
    expect(breach.locator(".history")).to_contain_text("breach reported")
    expect(makegood.locator(".claim-choice", has_text="courtesy")).to_have_count(0)

    # verified with a root cause: the compensation appears, the clock shows the breach
    breach.locator("select[name=root_cause]").select_option("staffing")
    breach.locator("input[name=note]").fill("Confirmed with the driver's dashcam")
    breach.get_by_role("button", name="Verify").click()
    expect(breach).to_have_attribute("data-status", "verified")
    compensation = breach.locator(".comp")
    expect(compensation.locator(".comp-amount")).to_have_text("136.00 CNY")
    expect(compensation).to_have_attribute("data-status", "proposed")
    expect(breach.locator(".root-cause")).to_have_text("Not enough staff")
    courtesy_clock = page.locator("#case-live tr[data-clock]", has_text="courtesy")
    expect(courtesy_clock).to_have_attribute("data-state", "breached")
    page.screenshot(path=f"{SCREENSHOTS}/promisedesk-makegood-verified.png", full_page=True)

    compensation.get_by_role("button", name="Approve").click()
    expect(compensation).to_have_attribute("data-status", "approved")
    compensation.locator("input[name=reference]").fill("ALIPAY-889")
    compensation.get_by_role("button", name="Issue").click()
    expect(compensation).to_have_attribute("data-status", "issued")
    expect(compensation.locator(".reference")).to_have_text("ALIPAY-889")
    expect(breach.locator(".history")).to_contain_text("compensation issued")
    expect(page.locator("#timeline")).to_contain_text("compensation issued")
    assert page.evaluate("window.__notReloaded") is True
    page.screenshot(path=f"{SCREENSHOTS}/promisedesk-makegood-issued.png", full_page=True)
    page.set_viewport_size({"width": 390, "height": 844})
    page.screenshot(path=f"{SCREENSHOTS}/promisedesk-makegood-phone.png", full_page=True)


def test_verdict_error_shows_inline(page: Any, live_server: Any, api: Any, clock: Any, team_lead: Any) -> None:
    case = _coach_case(api)
    log_in(page, live_server)
    page.goto(f"{live_server.url}/desk/cases/{case['id']}/")
    page.locator(".claim-choice", has_text="no-overcharging").click()
    page.locator("#report-form").get_by_role("button", name="Record").click()
    breach = page.locator("#makegood article.breach")
    breach.get_by_role("button", name="Reject").click()
    expect(breach.locator(".error")).to_contain_text("Say why the breach is rejected")
    expect(breach).to_have_attribute("data-status", "suspected")
    breach.locator("input[name=note]").fill("The fare matched the published table")
    breach.get_by_role("button", name="Reject").click()
    expect(breach).to_have_attribute("data-status", "rejected")
    expect(breach.locator(".verdict-note")).to_have_text("The fare matched the published table")


def test_breach_queue_and_ledger_work_in_place(
    page: Any, live_server: Any, api: Any, clock: Any, team_lead: Any
) -> None:
    from promisedesk.breaches.actions import do_report_breach
    from promisedesk.cases.models import Case

    first = Case.objects.get(pk=_coach_case(api)["id"])
    for code, note in (
        ("courtesy", "The driver shouted at an old man"),
        ("no-overcharging", "Charged 80 for a 68 fare"),
    ):
        clock.advance(minutes=5)
        do_report_breach(actor=None, now=clock.now, case=first, source="claim", description=note, promise_code=code)
    log_in(page, live_server)
    page.click("nav.mainnav >> text=Breaches")
    expect(page.locator("h1")).to_have_text("Breaches")
    rows = page.locator("tbody.breach-row")
    expect(rows).to_have_count(2)
    expect(rows.first).to_contain_text("The driver shouted")  # the oldest first
    expect(page.locator("#breach-tabs a[aria-current=page] .count")).to_have_text("2")
    page.screenshot(path=f"{SCREENSHOTS}/promisedesk-breaches.png", full_page=True)
    page.evaluate("window.__notReloaded = true")

    oldest = rows.first
    oldest.locator("select[name=root_cause]").select_option("staffing")
    oldest.get_by_role("button", name="Verify").click()
    expect(page.locator("tbody.breach-row").first).to_have_attribute("data-status", "verified")
    expect(page.locator("tbody.breach-row").first).to_contain_text("136.00 CNY")
    expect(page.locator("#breach-tabs a[aria-current=page] .count")).to_have_text("1")
    assert page.evaluate("window.__notReloaded") is True

    page.click("nav.mainnav >> text=Ledger")
    expect(page.locator("h1")).to_have_text("Compensation ledger")
    expect(page.locator("#ledger-totals")).to_contain_text("136.00")
    expect(page.locator("a", has_text="Export CSV")).to_have_attribute("href", "/desk/compensations/export.csv")
    page.evaluate("window.__notReloaded = true")
    row = page.locator("tbody.ledger-row").first
    row.get_by_role("button", name="Approve").click()
    expect(page.locator("tbody.ledger-row").first).to_have_attribute("data-status", "approved")
    page.screenshot(path=f"{SCREENSHOTS}/promisedesk-ledger.png", full_page=True)
    row = page.locator("tbody.ledger-row").first
    row.locator("input[name=reason]").fill("Refunded in cash at the station")
    row.get_by_role("button", name="Decline").click()
    expect(page.locator("tbody.ledger-row").first).to_have_attribute("data-status", "declined")
    expect(page.locator("#ledger-totals .total-amount")).to_have_text("0")
    assert page.evaluate("window.__notReloaded") is True
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(f"{live_server.url}/desk/breaches/?status=all")
    page.screenshot(path=f"{SCREENSHOTS}/promisedesk-breaches-phone.png", full_page=True)
    page.goto(f"{live_server.url}/desk/compensations/")
    page.screenshot(path=f"{SCREENSHOTS}/promisedesk-ledger-phone.png", full_page=True)


def test_walk_in_logged_in_two_clicks_then_assigned_noted_and_updated(
    page: Any, live_server: Any, world: Any, clock: Any
) -> None:
    from promisedesk.accounts.actions import do_create_department
    from promisedesk.cases.models import Case, CaseEvent

    do_create_department(actor=None, now=clock.now, code="customer_centre", name="Customer centre", members=["agent"])
    log_in(page, live_server)
    page.goto(f"{live_server.url}/desk/promises/")  # any page will do

    # click 1: the top bar's button opens the dialog, with the cursor in the search field
    page.click("#log-contact-open")
    dialog = page.locator("dialog#log-contact")
    expect(dialog).to_be_visible()
    expect(dialog.locator("#log_q")).to_be_focused()
    dialog.locator("summary", has_text="Or a new customer").press("Enter")
    dialog.locator("#log_new_name").fill("Zhang Min")
    dialog.locator("#log_new_phone").fill("13700000042")
    dialog.locator("#log_service").select_option("install")
    dialog.locator("#log_summary").fill("The gold-card discount was missing from my bill")
    # click 2: "Walk-in" opens the case and goes to it
    dialog.get_by_role("button", name="Walk-in").click()
    expect(page.locator("h1")).to_contain_text("Case #")
    case = Case.objects.get(customer__name="Zhang Min")
    assert case.channel == "walk_in" and case.created_by is not None and case.created_by.username == "agent"
    expect(page).to_have_url(f"{live_server.url}/desk/cases/{case.pk}/")
    page.evaluate("window.__notReloaded = true")

    # assign it to the customer centre
    page.locator("#assign_department").select_option("customer_centre")
    page.locator("#assign_assignee").select_option("agent")
    page.locator("#assign-form button[type=submit]").click()
    expect(page.locator("#case-assignment")).to_contain_text("Customer centre")
    expect(page.locator("#timeline [data-type=assigned]")).to_be_visible()

    # an internal note, then an update to the customer: they look different
    page.locator("#note_text").fill("Front desk says he was charged the standard rate")
    page.locator("#note-form button[type=submit]").click()
    internal = page.locator("#timeline li.event.internal")
    expect(internal).to_contain_text("charged the standard rate")
    expect(internal.locator(".tag.internal")).to_have_text("staff only")
    page.locator("#note-form label.audience-customer").click()
    expect(page.locator("#note-form button[type=submit]")).to_have_text(re.compile("Send update to the customer"))
    page.locator("#note_text").fill("We are refunding the difference today")
    page.locator("#note-form button[type=submit]").click()
    update = page.locator("#timeline li.event.customer-visible[data-type=progress_update]")
    expect(update).to_contain_text("refunding the difference")
    expect(update.locator(".tag.seen")).to_contain_text("customer sees this")
    assert page.evaluate("window.__notReloaded") is True
    assert CaseEvent.objects.get(case=case, type="internal_note").visible_to_customer is False
    page.screenshot(path=f"{SCREENSHOTS}/promisedesk-walk-in-case.png", full_page=True)


def test_log_dialog_works_from_the_keyboard(page: Any, live_server: Any, world: Any, clock: Any) -> None:
    from promisedesk.cases.models import Case

    log_in(page, live_server)
    page.wait_for_load_state()  # htmx is ready (before that the button is a plain link to the form's page)
    page.locator("#log-contact-open").focus()
    page.keyboard.press("Enter")
    dialog = page.locator("dialog#log-contact")
    expect(dialog).to_be_visible()
    expect(dialog.locator("#log_q")).to_be_focused()
    page.keyboard.type("1380000")  # Li Lei's phone: the one match comes chosen
    expect(dialog.locator('input[name="customer"]')).to_be_checked()
    dialog.locator("#log_service").select_option("install")
    dialog.locator("#log_summary").fill("Asks when the pool opens")
    page.screenshot(path=f"{SCREENSHOTS}/promisedesk-log-dialog.png")
    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
    page.locator("#log-contact-open").press("Enter")
    expect(dialog.locator("#log_q")).to_be_focused()
    page.keyboard.type("1380000")
    expect(dialog.locator('input[name="customer"]')).to_be_checked()
    dialog.locator("#log_service").select_option("install")
    dialog.locator("#log_summary").fill("Asks when the pool opens")
    dialog.locator("#log_q").press("Enter")  # Enter sends the form, as a phone call
    expect(page.locator("h1")).to_contain_text("Case #")
    assert Case.objects.get().channel == "phone"
