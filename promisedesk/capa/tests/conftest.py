"""CAPA fixtures: a manager, root causes, a promise, and actions made through the action functions."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.test import Client

from promisedesk.accounts.actions import do_create_token
from promisedesk.accounts.models import Department
from promisedesk.accounts.roles import MANAGER_GROUP
from promisedesk.breaches.tests.conftest import root_causes  # noqa: F401
from promisedesk.capa.actions import Links, do_create_action
from promisedesk.capa.models import CorrectiveAction
from promisedesk.conftest import Api, FrozenClock, make_promise


def person(username: str, *, manager: bool = False, email: str | None = None) -> Any:
    user = get_user_model().objects.create_user(
        username,
        email=f"{username}@example.com" if email is None else email,
        password=f"pw-{username}-123",
        is_staff=True,
    )
    if manager:
        user.groups.add(Group.objects.get_or_create(name=MANAGER_GROUP)[0])
    return user


@pytest.fixture
def boss(db: Any) -> Any:
    return person("boss", manager=True)


@pytest.fixture
def lead(db: Any) -> Any:
    return person("lead")


@pytest.fixture
def owner(db: Any) -> Any:
    return person("olga")


@pytest.fixture
def team(owner: Any, lead: Any, boss: Any) -> Department:
    department = Department.objects.create(code="dispatch_team", name="Dispatch", lead=lead, manager=boss)
    department.members.add(owner)
    return department


@pytest.fixture
def boss_api(boss: Any, clock: FrozenClock) -> Api:
    return Api(Client(), do_create_token(boss, clock.now))


@pytest.fixture
def owner_api(owner: Any, clock: FrozenClock) -> Api:
    return Api(Client(), do_create_token(owner, clock.now))


@pytest.fixture
def promise(api: Api) -> dict[str, Any]:
    return make_promise(api, code="reply-4h")


def new_action(
    now: datetime, *, owner: str = "olga", days: float = 10, actor: Any = None, **extra: Any
) -> CorrectiveAction:
    """A corrective action for the `dispatch` root cause, due `days` after now."""
    fields: dict[str, Any] = {"kind": "corrective", "title": "Fix dispatch", "root_cause": "dispatch", **extra}
    links = fields.pop("links", Links())
    return do_create_action(actor=actor, now=now, owner=owner, due_at=now + timedelta(days=days), links=links, **fields)
