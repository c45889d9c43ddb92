"""Incident fixtures: an airline with a flight service, a promise on every flight, passengers on one flight."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import transaction
from django.test import Client

from promisedesk.accounts.actions import do_create_token
from promisedesk.breaches.models import ApprovalLimit
from promisedesk.cases.actions import do_open_case
from promisedesk.cases.models import Case, Customer
from promisedesk.conftest import SHANGHAI, Api, FrozenClock, make_promise, make_service

DEPARTURE = datetime(2026, 3, 2, 15, 0, tzinfo=SHANGHAI)  # the clock fixture starts at 09:00 that Monday


def manager_user(username: str = "mia", limit: str = "500") -> Any:
    """A member of staff in the manager group, approving up to limit CNY."""
    user = get_user_model().objects.create_user(username, password=f"pw-{username}-123", is_staff=True)
    user.groups.add(Group.objects.get_or_create(name="manager")[0])
    ApprovalLimit.objects.update_or_create(role="manager", currency="CNY", defaults={"max_amount": Decimal(limit)})
    return user


@dataclass
class Airline:
    api: Api
    clock: FrozenClock

    def passengers(self, count: int, *, first: int = 0, departure: datetime = DEPARTURE, **case: Any) -> list[Case]:
        """count passengers (each with email and phone, half in English) booked on the flight at departure."""
        now = self.clock.now
        customers = Customer.objects.bulk_create(
            [
                Customer(
                    external_ref=f"P-{n}",
                    name=f"Passenger {n}",
                    email=f"p{n}@example.com",
                    phone=f"1390000{n:04d}",
                    locale="en" if n % 2 else "zh-Hans",
                    timezone="Europe/London" if n % 2 else "",
                    created_at=now,
                )
                for n in range(first, first + count)
            ]
        )
        cases = []
        with transaction.atomic():
            for customer in customers:
                opened, _ = do_open_case(
                    actor=None,
                    now=now,
                    customer_id=customer.pk,
                    service_code=case.get("service", "flight"),
                    external_ref=f"FLT-{customer.external_ref}",
                    channel=case.get("channel", "web"),
                    appointment_start=departure,
                    appointment_end=departure + timedelta(hours=3),
                )
                cases.append(opened)
        return cases


@pytest.fixture
def airline(api: Api, clock: FrozenClock) -> Airline:
    """The `flight` service (CNY 1280) and a round-the-clock promise on it paying a CNY 20 voucher at once."""
    make_service(api, "flight", price="1280.00")
    make_service(api, "hotel", price="600.00")
    make_promise(
        api,
        code="boarding-info",
        applies_to={"services": ["flight"], "channels": [], "customer_tiers": [], "priorities": []},
        standard={"start_on": "case_opened", "stop_on": ["first_response"], "target": "PT4H", "warn_at": "75%"},
    )
    return Airline(api=api, clock=clock)


@pytest.fixture
def manager(db: Any) -> Any:
    return manager_user()


@pytest.fixture
def manager_api(manager: Any, clock: FrozenClock) -> Api:
    return Api(Client(), do_create_token(manager, clock.now))


@pytest.fixture
def desk_manager(manager: Any) -> Client:
    client = Client()
    client.force_login(manager)
    return client


def incident_body(**overrides: Any) -> dict[str, Any]:
    body = {
        "code": "ES5199",
        "title": "ES5199 delayed",
        "reason": "航路雷雨天气",
        "reason_en": "thunderstorms on the route",
        "starts_at": datetime(2026, 3, 2, 12, 0, tzinfo=SHANGHAI).isoformat(),
        "ends_at": datetime(2026, 3, 2, 23, 0, tzinfo=SHANGHAI).isoformat(),
        "new_time": datetime(2026, 3, 2, 17, 30, tzinfo=SHANGHAI).isoformat(),
        "services": ["flight"],
        "locations": ["PVG"],
    }
    return body | overrides


def declare(api: Api, **overrides: Any) -> dict[str, Any]:
    response = api.post("/incidents", incident_body(**overrides))
    assert response.status_code == 201, response.content
    return response.json()
