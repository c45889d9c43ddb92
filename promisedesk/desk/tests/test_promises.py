"""The promise catalogue pages."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from promisedesk.conftest import make_promise

pytestmark = pytest.mark.django_db

BUS: dict[str, Any] = {
    "title": "Courteous crews",
    "statement": {"en": "Any verified rudeness pays twice the fare.", "zh-Hans": "一经查实，双倍赔偿票价。"},
    "kind": "behaviour",
    "coverage": "limited",
    "standard": {"breach_by": "verified_report"},
    "liability": {
        "kind": "cash",
        "multiple_of_price": "2",
        "cap": "500",
        "currency": "CNY",
        "verification_required": True,
        "automatic": False,
    },
}


def test_catalogue_when_anonymous_redirects_to_login(client: Client) -> None:
    assert client.get("/desk/promises/").status_code == 302


def test_catalogue_lists_each_promise_with_its_latest_version(desk: Client, api, world, clock) -> None:
    make_promise(api, code="bus-courtesy", **BUS)
    api.patch("/promises/reply-4h", {"title": "Reply within 3 working hours"})  # a draft v2
    response = desk.get("/desk/promises/")
    assert response.status_code == 200
    page = response.content.decode()
    assert [row.version.promise.code for row in response.context["rows"]] == ["bus-courtesy", "reply-4h"]
    assert "Reply within 3 working hours" in page and "draft" in page
    assert "We reply within 4 working hours." in page
    assert "4 h" in page and "Shanghai office" in page
    assert "behaviour" in page and "limited" in page and "written" in page
    assert "cash · 2× the price · at most 500 CNY · once verified · on claim" in page
    assert "voucher · 20.00 CNY · paid automatically" in page


def test_catalogue_query_count_is_fixed(desk: Client, api, world, clock, django_assert_max_num_queries) -> None:
    for n in range(6):
        make_promise(api, code=f"p-{n}")
    with django_assert_max_num_queries(4):
        response = desk.get("/desk/promises/")
    assert len(response.context["rows"]) == 7


def test_catalogue_statement_follows_the_language(desk: Client, world, clock) -> None:
    page = desk.get("/desk/promises/", HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert "4个工作小时内答复。" in page


def test_promise_page_shows_every_version_with_its_history(desk: Client, api, world, clock) -> None:
    clock.advance(hours=1)
    api.patch("/promises/reply-4h", {"title": "Reply within 3 working hours"})
    api.post("/promises/reply-4h/publish")
    response = desk.get("/desk/promises/reply-4h/")
    assert response.status_code == 200
    page = response.content.decode()
    assert [row.version.number for row in response.context["rows"]] == [2, 1]
    assert 'id="v1"' in page and 'id="v2"' in page
    assert "superseded" in page and "published" in page
    assert "agent" in page  # who published
    assert "2026-03-02 10:00" in page  # v1 superseded when v2 was published
    assert "first response" in page  # the event that stops the clock


def test_promise_page_of_retired_promise_says_so(desk: Client, api, world, clock) -> None:
    api.post("/promises/reply-4h/retire")
    page = desk.get("/desk/promises/reply-4h/").content.decode()
    assert "retired" in page


def test_promise_page_of_unknown_code_is_404(desk: Client) -> None:
    assert desk.get("/desk/promises/nope/").status_code == 404
