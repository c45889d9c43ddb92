"""Fixtures shared by every app's tests: an API client with a token, frozen time, factories."""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.contrib.auth import get_user_model
from django.test import Client

from promisedesk.accounts.actions import do_create_token

SHANGHAI = ZoneInfo("Asia/Shanghai")
TWO_WINDOWS = {d: [["09:00", "12:00"], ["13:00", "18:00"]] for d in ("mon", "tue", "wed", "thu", "fri")}


@pytest.fixture(autouse=True)
def fast_password_hashing(settings: Any) -> None:
    # PBKDF2 is slow on purpose; tests that make users need not be.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def scratch_sms_folder(settings: Any, tmp_path_factory: Any) -> None:
    # The development SMS backend writes files; tests must not write into the source tree.
    settings.PROMISEDESK_SMS_DIR = tmp_path_factory.getbasetemp() / "sms"


class Api:
    """A thin JSON client for /api/v1 that carries a bearer token."""

    def __init__(self, client: Client, token: str | None):
        self.client = client
        self.headers = {"HTTP_AUTHORIZATION": f"Bearer {token}"} if token else {}

    def _call(self, method: str, path: str, body: Any = None, **params: Any) -> Any:
        url = "/api/v1" + path
        kwargs: dict[str, Any] = dict(self.headers)
        if body is not None:
            kwargs.update(data=json.dumps(body), content_type="application/json")
        elif params:
            kwargs["data"] = params
        return getattr(self.client, method)(url, **kwargs)

    def get(self, path: str, **params: Any) -> Any:
        return self._call("get", path, **params)

    def post(self, path: str, body: Any = None) -> Any:
        return self._call("post", path, body if body is not None else {})

    def patch(self, path: str, body: Any) -> Any:
        return self._call("patch", path, body)

    def put(self, path: str, body: Any) -> Any:
        return self._call("put", path, body)

    def delete(self, path: str) -> Any:
        return self._call("delete", path)


class FrozenClock:
    """Time for the code under test; tests move it with `advance` or `to`."""

    def __init__(self, traveller: Any, start: datetime):
        self.traveller = traveller
        self.now = start

    def to(self, moment: datetime) -> datetime:
        self.now = moment
        self.traveller.move_to(moment)
        return moment

    def advance(self, **delta: float) -> datetime:
        return self.to(self.now + timedelta(**delta))


@pytest.fixture
def clock() -> Iterator[FrozenClock]:
    start = datetime(2026, 3, 2, 9, 0, tzinfo=SHANGHAI)  # a Monday morning
    with time_machine.travel(start, tick=False) as traveller:
        yield FrozenClock(traveller, start)


@pytest.fixture
def staff(db: Any) -> Any:
    return get_user_model().objects.create_user("agent", password="pw-agent-123", is_staff=True)


@pytest.fixture
def api(staff: Any, clock: FrozenClock) -> Api:
    return Api(Client(), do_create_token(staff, clock.now))


@pytest.fixture
def anonymous_api(db: Any) -> Api:
    return Api(Client(), None)


def make_calendar(api: Api, **overrides: Any) -> dict[str, Any]:
    body = {
        "name": "Shanghai office",
        "timezone": "Asia/Shanghai",
        "weekly_hours": TWO_WINDOWS,
        "holidays": [],
        "extra_workdays": [],
        "region": None,
        **overrides,
    }
    response = api.post("/calendars", body)
    assert response.status_code == 201, response.content
    return response.json()


def make_service(api: Api, code: str = "install", price: str = "68.00") -> dict[str, Any]:
    response = api.post("/services", {"code": code, "name": code.title(), "price": price, "currency": "CNY"})
    assert response.status_code == 201, response.content
    return response.json()


def make_customer(api: Api, **overrides: Any) -> dict[str, Any]:
    body = {
        "name": "Li Lei",
        "email": "li@example.com",
        "phone": "13800000000",
        "tier": "gold",
        "locale": "zh-Hans",
        **overrides,
    }
    response = api.post("/customers", body)
    assert response.status_code == 201, response.content
    return response.json()


def make_promise(api: Api, code: str = "reply-4h", publish: bool = True, **overrides: Any) -> dict[str, Any]:
    body = {
        "code": code,
        "title": "Reply within 4 working hours",
        "statement": {"en": "We reply within 4 working hours.", "zh-Hans": "4个工作小时内答复。"},
        "kind": "time",
        "coverage": "full",
        "form": "written",
        "applies_to": {"services": [], "channels": [], "customer_tiers": [], "priorities": []},
        "standard": {"start_on": "case_opened", "stop_on": ["first_response"], "target": "PT4H", "warn_at": "75%"},
        "liability": {
            "kind": "voucher",
            "amount": "20.00",
            "currency": "CNY",
            "verification_required": False,
            "automatic": True,
        },
        **overrides,
    }
    response = api.post("/promises", body)
    assert response.status_code == 201, response.content
    if publish:
        response = api.post(f"/promises/{code}/publish")
        assert response.status_code == 200, response.content
    return response.json()


def open_case(api: Api, customer: int, service: str = "install", **overrides: Any) -> dict[str, Any]:
    response = api.post("/cases", {"customer": customer, "service": service, **overrides})
    assert response.status_code in (200, 201), response.content
    return response.json()


# -- browser tests ------------------------------------------------------------------------------

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
# `pytestmark` of every browser test module: a live server needs real transactions.
BROWSER_TESTS = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(not CHROMIUM.exists(), reason="Chromium not found at /usr/bin/chromium: browser tests skipped"),
]
# Screenshots for a person to look at after a run; nothing reads them back.
SCREENSHOTS = tempfile.gettempdir()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Debian's Chromium driven by Playwright, one per test module."""
    sync_api = pytest.importorskip("playwright.sync_api")
    # Playwright's sync API runs an event loop in this thread; Django must still be allowed to query.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    with sync_api.sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield launched
        launched.close()
