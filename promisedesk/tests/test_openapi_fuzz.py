"""Schemathesis drives every operation in the OpenAPI document with generated input.

Whatever it sends, promisedesk must answer with a client error in the documented
shape or a success — never a server error.
"""

from __future__ import annotations

import json

import pytest
import schemathesis
from django.contrib.auth import get_user_model
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error

from promisedesk.accounts.actions import do_create_token
from promisedesk.conftest import TWO_WINDOWS
from promisedesk.wsgi import application

schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", application)


@pytest.fixture
def keep_connection():
    # As Django's test client does: a WSGI request must not close the test transaction's connection.
    from django.core.signals import request_finished, request_started
    from django.db import close_old_connections

    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture
def token(db, clock, keep_connection):
    from promisedesk.calendars.actions import do_create_calendar
    from promisedesk.cases.actions import do_create_customer, do_create_service

    user = get_user_model().objects.create_user("fuzzer", is_staff=True)
    # Something for the generated requests to hit besides 404s.
    do_create_calendar(now=clock.now, name="Office", timezone="Asia/Shanghai", weekly_hours=TWO_WINDOWS)
    do_create_service(code="install", name="Install", price=None, currency="CNY")
    do_create_customer(now=clock.now, name="Li Lei")
    return do_create_token(user, clock.now)


@schema.parametrize()
@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
def test_no_input_produces_a_server_error(case, token):
    response = case.call(headers={"Authorization": f"Bearer {token}"})
    case.validate_response(response, checks=(not_a_server_error,))
    if 400 <= response.status_code < 500 and response.status_code != 405:
        body = json.loads(response.content or b"{}")
        assert set(body.get("error", {})) == {"code", "message", "field"}, body
