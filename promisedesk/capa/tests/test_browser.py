"""The CAPA board in a real browser: name a breach's root cause, open an action from it, move the
card through to checked, and see the promise's breach rate before and after."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest

from promisedesk.capa.models import CorrectiveAction
from promisedesk.commitments.models import Commitment, State
from promisedesk.conftest import BROWSER_TESTS, SCREENSHOTS, make_customer, make_promise, make_service, open_case

pytestmark = [*BROWSER_TESTS, pytest.mark.usefixtures("root_causes")]

sync_api = pytest.importorskip("playwright.sync_api")
expect = sync_api.expect


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="en-GB")
    tab = context.new_page()
    tab.set_default_timeout(10_000)
    yield tab
    context.close()


def log_in(page: Any, live_server: Any, username: str) -> None:
    page.goto(f"{live_server.url}/desk/capa/")
    page.fill("#id_username", username)
    page.fill("#id_password", f"pw-{username}-123")
    page.click("button.primary")
    expect(page).to_have_url(f"{live_server.url}/desk/capa/")


def _history(case_id: int, around: Any) -> None:
    """reply-4h kept 7 and broken twice more in the month before `around` (with the breach: 30 %), kept 9 and
    broken once after (10 %)."""
    rows = []
    for side, met, broken in ((-1, 7, 2), (1, 9, 1)):
        for n in range(met + broken):
            at = around + side * timedelta(days=1 + n)
            state = State.MET if n < met else State.BREACHED
            times = {"met_at": at} if state == State.MET else {"breached_at": at}
            rows.append(Commitment(case_id=case_id, promise_code="reply-4h", state=state, created_at=at, **times))
    Commitment.objects.bulk_create(rows)


def test_action_from_a_breach_through_to_checked(
    page: Any, live_server: Any, api: Any, clock: Any, boss: Any, owner: Any
) -> None:
    # given a verified breach nobody has named the root cause of
    make_service(api)
    make_promise(api)
    case = open_case(api, make_customer(api)["id"])
    breach = api.post("/breaches", {"case": case["id"], "promise_code": "reply-4h", "source": "report"}).json()
    clock.advance(hours=1)
    log_in(page, live_server, "boss")

    # the to-do list: one click names the root cause, in place
    page.click("text=Root causes to name")
    row = page.locator(f"#pending-{breach['id']}")
    row.locator("select[name=root_cause]").select_option("staffing")
    row.locator("button[type=submit]").click()
    expect(row.locator(".notice")).to_have_text("Not enough staff")

    # and opens an action prefilled from the breach
    row.locator("text=Open an action").click()
    expect(page.locator("#id_promise")).to_have_value("reply-4h")
    expect(page.locator("#id_root_cause")).to_have_value("staffing")
    page.fill("#id_title", "Two more agents on the early shift")
    page.click("text=Open the action")
    expect(page.locator("h1")).to_have_text("Two more agents on the early shift")
    action = CorrectiveAction.objects.get()
    assert action.breach_id == breach["id"]

    # on the board the card moves open → in progress → done → checked without a reload
    page.click("text=CAPA board")
    card = page.locator(f"article[data-action='{action.pk}']")
    expect(page.locator("[data-column=open]").locator(f"[data-action='{action.pk}']")).to_be_visible()
    card.locator("button.move-start").click()
    expect(page.locator("[data-column=in_progress]").locator(f"[data-action='{action.pk}']")).to_be_visible()
    card.locator("summary", has_text="Mark done").click()
    card.locator("textarea[name=note]").fill("Rota changed from next Monday.")
    card.locator("button.move-complete").click()
    expect(page.locator("[data-column=done]").locator(f"[data-action='{action.pk}']")).to_be_visible()
    page.screenshot(path=f"{SCREENSHOTS}/promisedesk-capa-board.png", full_page=True)

    # a month later the promise's history shows the effect on the action's page
    action.refresh_from_db()
    _history(case["id"], action.done_at)
    clock.advance(days=31)
    log_in(page, live_server, "boss")  # the session from a month ago has expired
    page.goto(f"{live_server.url}/desk/capa/{action.pk}/")
    effect = page.locator("#effect")
    expect(effect.locator(".effect-rate").first).to_have_text("30.0%")
    expect(effect.locator(".effect-rate").nth(1)).to_have_text("10.0%")
    expect(effect.locator(".effect-verdict")).to_contain_text("Improved")
    page.screenshot(path=f"{SCREENSHOTS}/promisedesk-capa-action.png", full_page=True)

    # the manager records the check from the board
    page.goto(f"{live_server.url}/desk/capa/")
    card.locator("summary", has_text="Check it").click()
    card.locator("select[name=verdict]").select_option("effective")
    card.locator("button.move-check").click()
    checked = page.locator("[data-column=checked]").locator(f"[data-action='{action.pk}']")
    expect(checked).to_be_visible()
    expect(checked.locator(".verdict")).to_have_text(re.compile("Effective"))
    action.refresh_from_db()
    assert action.status == "checked" and action.checked_by == boss


def test_board_on_a_phone_is_one_column(page: Any, live_server: Any, clock: Any, owner: Any) -> None:
    from .conftest import new_action

    new_action(clock.now - timedelta(days=20), days=10, title="Overdue one")
    page.set_viewport_size({"width": 390, "height": 800})
    log_in(page, live_server, "olga")
    card = page.locator("article.capa-card.overdue")
    expect(card).to_be_visible()
    assert card.bounding_box()["width"] > 300  # the column takes the phone's width
    expect(card.locator(".late")).to_contain_text("overdue by")
    page.screenshot(path=f"{SCREENSHOTS}/promisedesk-capa-phone.png", full_page=True)
