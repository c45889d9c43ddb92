"""Portal fixtures: a customer's case with a promise on business hours, and the link to its page."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from django.core.cache import cache

from promisedesk.cases.models import Case
from promisedesk.conftest import Api, make_calendar, make_customer, make_promise, make_service, open_case


@pytest.fixture(autouse=True)
def media(settings: Any, tmp_path: Path) -> Path:
    """Uploaded files go to a folder of the test's own."""
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@pytest.fixture(autouse=True)
def fresh_rate_limits() -> Iterator[None]:
    """The per-address limit lives in the cache, which outlives a test."""
    cache.clear()
    yield
    cache.clear()


@dataclass
class Portal:
    api: Api
    calendar: dict[str, Any]
    customer: dict[str, Any]

    def case(self, customer: dict[str, Any] | None = None, **overrides: Any) -> Case:
        made = open_case(self.api, (customer or self.customer)["id"], **overrides)
        return Case.objects.select_related("customer", "service").get(pk=made["id"])

    def customer_like(self, **overrides: Any) -> dict[str, Any]:
        return make_customer(self.api, **overrides)


def link(case: Case, **query: str) -> str:
    path = f"/c/{case.access_token}/"
    if query:
        path += "?" + "&".join(f"{k}={v}" for k, v in query.items())
    return path


@pytest.fixture
def portal(api: Api) -> Portal:
    """A Shanghai office calendar, the install service, "reply within 4 working hours" on it, and Li Lei."""
    calendar = make_calendar(api)
    make_service(api)
    make_promise(
        api,
        standard={
            "start_on": "case_opened",
            "stop_on": ["first_response"],
            "target": "PT4H",
            "calendar": calendar["id"],
            "warn_at": "75%",
        },
    )
    customer = make_customer(api, name="Li Lei", locale="en")
    return Portal(api=api, calendar=calendar, customer=customer)
