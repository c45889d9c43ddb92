"""Desk fixtures: a logged-in staff browser session and a small world of promises and cases."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
from django.test import Client

from promisedesk.breaches.tests.conftest import coach_line, root_causes  # noqa: F401
from promisedesk.conftest import Api, FrozenClock, make_calendar, make_customer, make_promise, make_service, open_case


@pytest.fixture
def desk(staff: Any, clock: FrozenClock) -> Client:
    """The test client logged in as the staff member `agent`."""
    client = Client()
    client.force_login(staff)
    return client


@dataclass
class World:
    api: Api
    calendar: dict[str, Any]
    customer: dict[str, Any]

    def case(self, **overrides: Any) -> dict[str, Any]:
        return open_case(self.api, self.customer["id"], **overrides)


@pytest.fixture
def world(api: Api) -> World:
    """A Shanghai office calendar, a service, the reply-4h promise on that calendar and a customer."""
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
    customer = make_customer(api, preferences={"pillow": "firm", "call_after": "18:00"})
    return World(api=api, calendar=calendar, customer=customer)
