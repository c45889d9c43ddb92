from __future__ import annotations

from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command
from django.test import Client

from promisedesk.accounts.models import ApiToken


def test_createtoken_prints_a_working_token_as_last_line(db):
    get_user_model().objects.create_user("manager", is_staff=True)
    out = StringIO()
    call_command("createtoken", "manager", stdout=out)
    token = out.getvalue().strip().splitlines()[-1]
    response = Client().get("/api/v1/cases", HTTP_AUTHORIZATION=f"Bearer {token}")
    assert response.status_code == 200
    # only a digest is stored
    assert not ApiToken.objects.filter(digest=token).exists()


def test_createtoken_for_unknown_user_fails(db):
    with pytest.raises(CommandError, match="no user named"):
        call_command("createtoken", "nobody")


def test_token_of_a_non_staff_user_is_refused(db):
    get_user_model().objects.create_user("customer")
    out = StringIO()
    call_command("createtoken", "customer", stdout=out)
    token = out.getvalue().strip().splitlines()[-1]
    response = Client().get("/api/v1/cases", HTTP_AUTHORIZATION=f"Bearer {token}")
    assert response.status_code == 401


def test_wrong_token_is_refused(db):
    response = Client().get("/api/v1/cases", HTTP_AUTHORIZATION="Bearer pd_wrong")
    assert response.status_code == 401 and response.json()["error"]["code"] == "unauthorized"
