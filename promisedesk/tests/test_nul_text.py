"""Text with a NUL character is refused by every API body (PostgreSQL cannot store one)."""

from __future__ import annotations

import pytest

from promisedesk.conftest import make_customer

pytestmark = [pytest.mark.django_db, pytest.mark.postgres]


def test_a_nul_in_a_text_field_is_a_4xx_naming_the_field(api) -> None:
    # when
    response = api.post("/customers", {"name": "Li\x00Lei", "email": "li@example.com"})
    # then
    assert response.status_code in (400, 422)
    error = response.json()["error"]
    assert error["field"] == "name" and "NUL" in error["message"]


def test_a_nul_nested_in_json_data_is_refused(api) -> None:
    # given
    customer = make_customer(api)
    # when
    response = api.patch(f"/customers/{customer['id']}", {"preferences": {"pillow": ["soft\x00"]}})
    # then
    assert response.status_code in (400, 422)
    assert response.json()["error"]["field"] == "preferences"


def test_text_without_nul_still_goes_through(api) -> None:
    response = api.post("/customers", {"name": "Li Lei", "email": "li@example.com"})
    assert response.status_code == 201, response.content
