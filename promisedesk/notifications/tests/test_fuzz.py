"""Schemathesis drives the notification endpoints as a manager (the project-wide fuzz test
runs as staff, who get 403 on every write here): whatever it sends, the answer is a success
or a client error in the documented shape — never a server error."""

from __future__ import annotations

import json

import pytest
import schemathesis
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error

from promisedesk.accounts.actions import do_create_token
from promisedesk.notifications import transports
from promisedesk.notifications.actions import new_secret
from promisedesk.notifications.models import WebhookEndpoint
from promisedesk.notifications.transports import TransportError
from promisedesk.tests.test_openapi_fuzz import keep_connection  # noqa: F401  (a fixture)
from promisedesk.wsgi import application

from .conftest import message

schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", application).include(
    path_regex=r"^/api/v1/(outbox|webhook-endpoints|notification-templates)"
)


@pytest.fixture
def manager_token(db, clock, keep_connection, monkeypatch):  # noqa: F811
    def offline(url: str, **kwargs: object) -> object:
        raise TransportError(f"{url}: no network in this test")

    # Generated endpoints have generated URLs: "send test" must not go looking for them.
    monkeypatch.setattr(transports, "http_post", offline)
    user = get_user_model().objects.create_user("fuzzing-manager", is_staff=True)
    user.groups.add(Group.objects.get_or_create(name="manager")[0])
    # Something for the generated requests to hit besides 404s; it is never reached.
    WebhookEndpoint.objects.create(
        name="crm", url="http://127.0.0.1:9/hook", secret=new_secret(), events=[], created_at=clock.now
    )
    message("email", "li@example.com", clock.now, status="failed")
    return do_create_token(user, clock.now)


@schema.parametrize()
@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
def test_no_input_to_the_notification_endpoints_produces_a_server_error(case, manager_token):
    response = case.call(headers={"Authorization": f"Bearer {manager_token}"})
    case.validate_response(response, checks=(not_a_server_error,))
    if 400 <= response.status_code < 500 and response.status_code != 405:
        body = json.loads(response.content or b"{}")
        assert set(body.get("error", {})) == {"code", "message", "field"}, body
