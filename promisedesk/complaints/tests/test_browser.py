"""A complaint from intake to follow-up, in Debian's Chromium through Playwright, against a live server.

The guest complains from their stay's page; a member of staff takes it through every recovery
step on the guided page (one skipped with its reason), approves and issues the refund, tells
the result and follows up three days later; the guest's page then shows it closed, refunded.
Server time is frozen by the `clock` fixture and moved by the test.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from django.contrib.auth.models import Group

from promisedesk.breaches.models import Compensation
from promisedesk.cases.models import Case
from promisedesk.complaints.models import Complaint
from promisedesk.complaints.steps import follow_up_statement
from promisedesk.conftest import BROWSER_TESTS, SCREENSHOTS

from .conftest import allow

pytestmark = BROWSER_TESTS

sync_api = pytest.importorskip("playwright.sync_api")
expect = sync_api.expect


@pytest.fixture
def tab(browser: Any) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="en-GB")
    page = context.new_page()
    page.set_default_timeout(10_000)
    yield page
    context.close()


def log_in(page: Any, live_server: Any) -> None:
    page.goto(f"{live_server.url}/desk/complaints/")
    page.fill("#id_username", "agent")
    page.fill("#id_password", "pw-agent-123")
    page.click("button.primary")
    expect(page).to_have_url(f"{live_server.url}/desk/complaints/")


def take(page: Any, step: str) -> Any:
    current = page.locator(f'li.step[data-step="{step}"]')
    expect(current).to_have_attribute("data-state", "current")
    return current


def test_a_complaint_from_the_customers_page_to_the_follow_up(
    tab: Any, live_server: Any, hotel: dict[str, Any], staff: Any, clock: Any
) -> None:
    staff.groups.add(Group.objects.create(name="team_lead"))
    allow("team_lead", "500")
    stay = Case.objects.get(pk=hotel["stay"]["id"])

    # the guest complains from their stay's page
    tab.goto(f"{live_server.url}/c/{stay.access_token}/?lang=en")
    tab.locator("#complain summary").click()
    tab.fill("#complaint-text", "At check-out the gold-card discount was missing from my bill.")
    tab.select_option("#complaint-remedy", "refund")
    tab.fill("#complaint-detail", "Refund the difference")
    tab.click("#complaint-form button[type=submit]")
    expect(tab.locator(".notice")).to_contain_text("We have received your complaint")
    expect(tab.locator("#complaint .standing")).to_have_text("Received: we will contact you to hear what happened.")
    acknowledge = tab.locator("article.promise", has_text="We acknowledge your complaint within 1 working hour.")
    expect(acknowledge.locator(".due time")).to_have_text("2026-03-02 10:00")
    guest_page = tab.url
    complaint = Complaint.objects.get()

    # staff find it at the top of the queue and work it step by step
    log_in(tab, live_server)
    tab.click(f'tr[data-complaint="{complaint.pk}"] a')
    expect(tab.locator("#account")).to_contain_text("gold-card discount was missing")
    listen = take(tab, "listen")
    listen.locator("#step-account").fill("Charged 688 instead of the gold rate of 550.")
    listen.locator("#step-done button").click()
    expect(tab.locator('li.step[data-step="listen"]')).to_have_attribute("data-state", "done")

    apologise = take(tab, "apologise")
    apologise.locator("input[value=message]").check()
    apologise.locator("#step-note").fill("We will check your bill at once.")
    apologise.locator("#step-done button").click()

    facts = take(tab, "collect_facts")
    facts.locator("summary").click()
    facts.locator("#skip-reason").fill("")
    facts.locator("#step-skip button").click()  # the browser refuses an empty reason: nothing is sent
    expect(tab.locator('li.step[data-step="collect_facts"]')).to_have_attribute("data-state", "current")
    facts.locator("#skip-reason").fill("The folio shows the member rate was not applied.")
    facts.locator("#step-skip button").click()
    expect(tab.locator('li.step[data-step="collect_facts"]')).to_have_attribute("data-state", "skipped")

    offer = take(tab, "offer")
    offer.locator("#step-solution").fill("We refund the difference of CNY 138.")
    offer.locator("#step-kind").select_option("refund")
    offer.locator("#step-amount").fill("138")
    offer.locator("#step-done button").click()
    expect(tab.locator("#comp-status")).to_have_text("proposed")
    tab.click("#approve-form button")
    expect(tab.locator("#comp-status")).to_have_text("approved")
    tab.fill("#issue-form input[name=reference]", "RF-138")
    tab.click("#issue-form button")
    expect(tab.locator("#comp-status")).to_have_text("issued")

    clock.advance(hours=2)
    told = take(tab, "tell_result")
    told.locator("#step-outcome").fill("We refunded CNY 138 to your card; the front desk now applies the gold rate.")
    told.locator("#step-done button").click()
    expect(tab.locator("#complaint-status")).to_have_text("resolved")
    follow_up = tab.locator(".recovery-clocks li", has_text=follow_up_statement("zh-Hans"))  # the guest's language
    expect(follow_up).to_have_attribute("data-state", "running")
    expect(follow_up.locator("time")).to_have_text("2026-03-05 11:00")

    clock.advance(days=2)
    back = take(tab, "follow_up")
    back.locator("#step-note").fill("Called: the guest is happy with the refund.")
    back.locator("#step-root-cause").select_option("training")
    back.locator("#step-done button").click()
    expect(tab.locator("#complaint-status")).to_have_text("closed")
    expect(tab.locator('li.step[data-state="done"]')).to_have_count(5)
    tab.screenshot(path=f"{SCREENSHOTS}/promisedesk-complaint.png", full_page=True)

    # what the guest sees at the end
    tab.goto(guest_page)
    expect(tab.locator("h1")).to_have_text(f"Your complaint #{complaint.case_id}")
    expect(tab.locator("#complaint .standing")).to_have_text("Closed: thank you for telling us.")
    expect(tab.locator("#complaint .progress")).to_have_text("6 of 6 recovery steps taken.")
    expect(tab.locator("#complaint .compensation .how")).to_have_text("issued")
    expect(tab.locator("#complaint .reference")).to_have_text("RF-138")
    expect(tab.locator("li.update", has_text="We checked back with you")).to_have_count(1)
    expect(tab.locator("li.update", has_text="We received your complaint")).to_have_count(1)
    expect(tab.locator("li.update", has_text="We received your request")).to_have_count(0)
    expect(tab.locator("li.update", has_text="We refunded CNY 138 to your card")).to_have_count(1)
    expect(tab.locator("body")).not_to_contain_text("folio")  # staff notes stay on the desk
    tab.set_viewport_size({"width": 375, "height": 740})
    tab.screenshot(path=f"{SCREENSHOTS}/promisedesk-complaint-customer.png", full_page=True)
    assert tab.evaluate("document.documentElement.scrollWidth <= window.innerWidth")  # fits a phone
    resolve = tab.locator("article.promise", has_text="We resolve your complaint within 2 working days.")
    expect(resolve).to_have_attribute("data-state", re.compile("met"))
    grant = Compensation.objects.get(grant_key=f"complaint:{complaint.pk}")
    assert grant.status == "issued" and grant.approved_by == staff
