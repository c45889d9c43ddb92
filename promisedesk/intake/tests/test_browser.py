"""The request form on a phone-sized screen, in a real browser (Debian's Chromium through Playwright)."""

from __future__ import annotations

import re
from typing import Any

import pytest

from promisedesk.cases.models import Case
from promisedesk.conftest import BROWSER_TESTS

PHONE = {"width": 375, "height": 740}

pytestmark = BROWSER_TESTS

sync_api = pytest.importorskip("playwright.sync_api")
expect = sync_api.expect


def _phone(browser: Any, locale: str) -> Any:
    context = browser.new_context(viewport=PHONE, locale=locale, is_mobile=True, has_touch=True)
    tab = context.new_page()
    tab.set_default_timeout(10_000)
    return context, tab


def _fits(tab: Any) -> None:
    """Nothing wider than the screen: no sideways scrolling on a phone (once layout has settled)."""
    fits = f"document.documentElement.scrollWidth <= {PHONE['width']}"
    try:
        tab.wait_for_function(fits, timeout=5_000)
    except sync_api.TimeoutError:
        pytest.fail(f"the page is {tab.evaluate('document.documentElement.scrollWidth')} px wide on a phone")


def test_a_customer_sends_a_request_from_a_phone(browser, live_server, service, clock):
    context, tab = _phone(browser, "en-GB")
    try:
        tab.goto(f"{live_server.url}/request/")
        expect(tab.locator("h1")).to_have_text("Ask us for help")
        _fits(tab)
        expect(tab.locator("#id_website")).not_to_be_in_viewport()  # the honeypot stays out of sight
        box = tab.locator("button.primary").bounding_box()
        assert box["width"] > 300 and box["height"] >= 44  # a thumb-sized button across the screen
        tab.fill("#id_name", "Han Meimei")
        tab.fill("#id_email", "han@example.com")
        tab.fill("#id_need", "<b>Please</b> install broadband at Room 1203.")
        tab.click("button.primary")
        expect(tab.locator("h1")).to_have_text("Thank you — we have your request")
        _fits(tab)
        case = Case.objects.get()
        expect(tab.locator(".case-link a")).to_have_attribute("href", re.compile(rf"/c/{case.access_token}/$"))
    finally:
        context.close()


def test_the_form_in_chinese_shows_what_is_missing(browser, live_server, service, clock):
    context, tab = _phone(browser, "zh-CN")
    try:
        tab.goto(f"{live_server.url}/request/")
        expect(tab.locator("h1")).to_have_text("您需要什么帮助？")
        tab.fill("#id_name", "王芳")
        tab.fill("#id_need", "宽带坏了")
        tab.click("button.primary")
        expect(tab.locator(".field-error")).to_have_text("请填写电子邮箱或电话号码。")
        _fits(tab)
        expect(tab.locator("#id_need")).to_have_value("宽带坏了")
        assert not Case.objects.exists()
    finally:
        context.close()
