"""The customer's page on a phone-sized screen, in Debian's Chromium through Playwright, against a live server.

Server time is frozen by the `clock` fixture (time-machine patches the whole process, the
live server's thread included); countdowns are anchored to the server's time, so the
browser's own clock does not matter.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from promisedesk.breaches.models import Breach
from promisedesk.cases.models import Attachment, CaseEvent
from promisedesk.conftest import BROWSER_TESTS, SCREENSHOTS, make_promise

from .conftest import Portal, link

PHONE = {"width": 375, "height": 740}


pytestmark = BROWSER_TESTS


sync_api = pytest.importorskip("playwright.sync_api")
expect = sync_api.expect


@pytest.fixture
def phone(browser: Any) -> Iterator[Any]:
    context = browser.new_context(viewport=PHONE, locale="zh-CN", is_mobile=True, has_touch=True)
    tab = context.new_page()
    tab.set_default_timeout(10_000)
    yield tab
    context.close()


def fits_the_screen(page: Any) -> bool:
    return bool(page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"))


def test_customer_follows_replies_adds_information_and_claims_on_a_phone(
    phone: Any, live_server: Any, portal: Portal, clock: Any, tmp_path: Path
) -> None:
    make_promise(
        portal.api,
        code="satisfied",
        kind="quality",
        title="Satisfied",
        statement={
            "en": "You are satisfied with the installation, or we refund it.",
            "zh-Hans": "安装满意，否则退款。",
        },
        standard={},
        liability={"kind": "refund", "percent_of_price": "100", "verification_required": True, "automatic": False},
    )
    customer = portal.customer_like(name="Li Lei", locale="en")
    case = portal.case(customer, appointment={"start": "2026-03-03T09:00:00+08:00", "end": "2026-03-03T12:00:00+08:00"})
    clock.advance(hours=1)  # 10:00; the 4-hour reply is due at 14:00

    # open the link: status, appointment and the promises with their due times, ticking
    phone.goto(f"{live_server.url}{link(case)}")
    expect(phone.locator("h1")).to_have_text(f"Your case #{case.pk}")
    expect(phone.locator(".appointment")).to_have_text("2026-03-03 09:00–12:00")
    reply_card = phone.locator("article.promise", has_text="We reply within 4 working hours.")
    expect(reply_card).to_have_attribute("data-state", "running")
    expect(reply_card.locator(".due time")).to_have_text("2026-03-02 14:00")
    countdown = reply_card.locator(".countdown .left")
    expect(countdown).to_have_text(re.compile(r"^(4:00:00|3:59:\d\d)$"))
    first = countdown.text_content()
    phone.wait_for_function(
        "([el, before]) => el.textContent !== before", arg=[countdown.element_handle(), first], timeout=5_000
    )
    assert fits_the_screen(phone)
    phone.screenshot(path=f"{SCREENSHOTS}/promisedesk-portal-phone.png", full_page=True)

    # reply (a script in it is shown as text and never runs)
    phone.fill("#reply-text", "Please call after 18:00 <script>window.__pwned = 1</script>")
    phone.locator("#reply-form button[type=submit]").click()
    expect(phone.locator(".notice")).to_contain_text("Your message is on your case")
    mine = phone.locator("#updates li.update.mine").first
    expect(mine).to_contain_text("Please call after 18:00 <script>window.__pwned = 1</script>")
    assert phone.evaluate("window.__pwned") is None

    # add information with a photo
    photo = tmp_path / "router-light.png"
    photo.write_bytes(b"\x89PNG\r\n\x1a\n" + b"\x00" * 64)
    phone.fill("#info-text", "The light on the router is red")
    phone.set_input_files("#info-file", str(photo))
    phone.locator("#info-form button[type=submit]").click()
    expect(phone.locator(".notice")).to_contain_text("The information is on your case")
    added = phone.locator("#updates li.update.mine").first
    expect(added).to_contain_text("You added information")
    expect(added.locator(".file a")).to_have_text("router-light.png")
    with phone.expect_download() as download:
        added.locator(".file a").click()
    assert download.value.suggested_filename == "router-light.png"

    # claim the broken promise, in two taps; a double tap is still one claim
    satisfied = phone.locator("article.promise", has_text="You are satisfied with the installation")
    expect(reply_card.locator("details.claim")).to_have_count(0)  # not due yet: nothing to claim
    satisfied.locator("summary").click()
    satisfied.locator("textarea").fill("The socket hangs off the wall")
    satisfied.locator("button[type=submit]").dblclick()
    expect(phone.locator(".notice")).to_contain_text("We have received your claim")
    claim = phone.locator("#claims .claim-row")
    expect(claim).to_have_count(1)
    expect(claim).to_have_attribute("data-status", "suspected")
    expect(claim).to_contain_text("Your claim")
    expect(claim).to_contain_text("The socket hangs off the wall")
    expect(phone.locator("article.promise", has_text="You are satisfied").locator("details.claim")).to_have_count(0)
    assert fits_the_screen(phone)
    phone.screenshot(path=f"{SCREENSHOTS}/promisedesk-portal-phone-after.png", full_page=True)

    assert Breach.objects.filter(case=case, source="claim").count() == 1
    assert CaseEvent.objects.filter(case=case, type="customer_replied").count() == 2
    assert Attachment.objects.filter(case=case).count() == 1

    # the other language, one tap away
    phone.get_by_role("link", name="简体中文").click()
    expect(phone.locator("h1")).to_have_text(f"您的服务单 #{case.pk}")
    expect(phone.locator("#promises h2")).to_have_text("我们对您的承诺")
    expect(phone.locator("#claims .claim-row")).to_contain_text("正在核实")
    assert fits_the_screen(phone)
    phone.screenshot(path=f"{SCREENSHOTS}/promisedesk-portal-phone-zh.png", full_page=True)


def test_claim_on_an_overdue_promise_from_a_phone(phone: Any, live_server: Any, portal: Portal, clock: Any) -> None:
    case = portal.case()
    clock.advance(hours=6)  # 15:00: the reply was due at 14:00 and nobody replied
    phone.goto(f"{live_server.url}{link(case, lang='en')}")
    card = phone.locator("article.promise", has_text="We reply within 4 working hours.")
    expect(card).to_have_attribute("data-state", "overdue")
    expect(card.locator(".countdown .label")).to_have_text("Overdue by")
    expect(card.locator(".countdown .left")).to_have_text(re.compile(r"^1:00:\d\d$"))
    card.locator("summary").click()
    card.locator("button[type=submit]").click()
    claim = phone.locator("#claims .claim-row")
    expect(claim).to_have_attribute("data-status", "verified")
    expect(claim).to_contain_text("Confirmed: we did not keep this promise")
    expect(claim.locator(".compensation")).to_contain_text("a voucher · 20.00 CNY")


def test_another_cases_page_and_internal_notes_never_show(
    phone: Any, live_server: Any, portal: Portal, clock: Any, staff: Any
) -> None:
    from promisedesk.cases.actions import do_append_event

    mine = portal.case()
    theirs = portal.case(portal.customer_like(name="Zhang Wei", email="zhang@example.com"))
    do_append_event(mine, actor=staff, now=clock.now, type="internal_note", note="Difficult customer")
    do_append_event(theirs, actor=staff, now=clock.now, type="progress_update", note="Zhang's parts arrived")
    phone.goto(f"{live_server.url}{link(mine, lang='en')}")
    expect(phone.locator("h1")).to_have_text(f"Your case #{mine.pk}")
    body = phone.locator("body")
    expect(body).not_to_contain_text("Difficult customer")
    expect(body).not_to_contain_text("Zhang")
    response = phone.goto(f"{live_server.url}/c/{'A' * 43}/")
    assert response.status == 404
    expect(phone.locator("body")).to_have_text("Not found.")
