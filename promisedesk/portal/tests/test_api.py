"""The customer link through the API, for staff and integrations that send their own messages."""

from __future__ import annotations

from typing import Any

import pytest

from promisedesk.conftest import Api

from .conftest import Portal

pytestmark = pytest.mark.django_db


def test_customer_link_is_the_link_every_message_carries(portal: Portal, api: Api) -> None:
    case = portal.case()
    response = api.get(f"/cases/{case.pk}/customer-link")
    assert response.status_code == 200
    assert response.json() == {"case": case.pk, "url": f"http://127.0.0.1:8000/c/{case.access_token}/"}


def test_customer_link_of_an_unknown_case_is_404(api: Api) -> None:
    response = api.get("/cases/999/customer-link")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"
    assert api.get(f"/cases/{2**70}/customer-link").status_code in (400, 404)


def test_customer_link_needs_a_staff_token(portal: Portal, anonymous_api: Api) -> None:
    case = portal.case()
    response = anonymous_api.get(f"/cases/{case.pk}/customer-link")
    assert response.status_code == 401
    assert case.access_token not in response.content.decode()


def test_customer_link_is_in_the_openapi_document(api: Any) -> None:
    paths = api.get("/openapi.json").json()["paths"]
    assert "get" in paths["/api/v1/cases/{case_id}/customer-link"]
