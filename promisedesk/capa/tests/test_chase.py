"""Chasing an action's due date: reminded at three quarters of the time, escalated when it passes, each once."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from promisedesk.capa.actions import do_complete_action, do_update_action
from promisedesk.capa.chase import chase_due
from promisedesk.capa.models import CapaAlert, CapaEvent, CorrectiveAction
from promisedesk.notifications.models import OutboxMessage

from .conftest import new_action

pytestmark = pytest.mark.usefixtures("root_causes")


def _mail(action: CorrectiveAction) -> list[tuple[str, str]]:
    rows = OutboxMessage.objects.filter(event_key__startswith=f"capa:{action.pk}:").order_by("id")
    return [(m.event_key.split(":")[2], m.recipient) for m in rows]


def test_owner_reminded_at_three_quarters_then_everyone_told_when_overdue(clock, owner, team) -> None:
    action = new_action(clock.now, days=8)  # three quarters: 6 days in
    assert action.next_check_at == clock.now + timedelta(days=6)
    assert not chase_due(clock.now + timedelta(days=5, hours=23))

    got = chase_due(clock.now + timedelta(days=6))
    assert (got.reminded, got.overdue, got.emails) == (1, 0, 1)
    assert _mail(action) == [("due_soon", "olga@example.com")]
    action.refresh_from_db()
    assert action.next_check_at == action.due_at

    got = chase_due(clock.now + timedelta(days=9))
    assert (got.reminded, got.overdue, got.emails) == (0, 1, 3)
    assert {r for _, r in _mail(action)[1:]} == {"olga@example.com", "lead@example.com", "boss@example.com"}
    action.refresh_from_db()
    assert action.next_check_at is None
    assert not chase_due(clock.now + timedelta(days=30))  # nothing more, ever
    assert [e.type for e in CapaEvent.objects.filter(action=action)] == ["created", "alert_due_soon", "alert_overdue"]


def test_a_worker_down_past_the_due_date_sends_only_the_overdue_alert(clock, owner, team) -> None:
    action = new_action(clock.now, days=4)
    got = chase_due(clock.now + timedelta(days=5))
    assert (got.reminded, got.overdue) == (0, 1)
    assert {kind for kind, _ in _mail(action)} == {"overdue"}


def test_the_message_names_the_action_and_links_to_it(clock, owner, team) -> None:
    action = new_action(clock.now, days=4, title="Train the coach crews")
    chase_due(clock.now + timedelta(days=5))
    message = OutboxMessage.objects.filter(recipient="lead@example.com").get()
    assert "Train the coach crews" in message.subject
    assert f"/desk/capa/{action.pk}/" in message.body and message.language == "zh-Hans"


def test_no_department_tells_the_managers(clock, boss) -> None:
    from .conftest import person

    person("solo")
    action = new_action(clock.now, owner="solo", days=1)
    assert action.department is None
    chase_due(clock.now + timedelta(days=2))
    assert {r for _, r in _mail(action)} == {"solo@example.com", "boss@example.com"}


def test_done_and_cancelled_actions_are_not_chased(clock, owner, boss) -> None:
    action = new_action(clock.now, days=4)
    do_complete_action(action, actor=owner, now=clock.now + timedelta(days=1), note="done early")
    assert not chase_due(clock.now + timedelta(days=10))
    assert not CapaAlert.objects.exists()


def test_a_later_due_date_re_arms_the_chase(clock, owner, team) -> None:
    action = new_action(clock.now, days=4)
    chase_due(clock.now + timedelta(days=5))  # overdue for the first date
    later = clock.now + timedelta(days=5, hours=1)
    do_update_action(action, actor=owner, now=later, due_at=later + timedelta(days=4), reason="new supplier date")
    action.refresh_from_db()
    assert action.next_check_at is not None
    chase_due(later + timedelta(days=5))
    kinds = list(CapaAlert.objects.filter(action=action).order_by("id").values_list("kind", flat=True))
    assert kinds == ["overdue", "overdue"]  # one per due date; the 75 % point had passed already on the new date


def test_an_idle_pass_is_one_query(clock, owner) -> None:
    for _ in range(20):
        new_action(clock.now, days=30)
    with CaptureQueriesContext(connection) as queries:
        assert not chase_due(clock.now + timedelta(days=1))
    selects = [q for q in queries if q["sql"].lstrip().upper().startswith("SELECT")]
    assert len(selects) == 1 and "next_check_at" in selects[0]["sql"]


def test_the_alert_row_refuses_a_second_reminder_for_the_same_date(clock, owner) -> None:
    from django.db import IntegrityError, transaction

    action = new_action(clock.now, days=4)
    CapaAlert.objects.create(action=action, kind="overdue", due_at=action.due_at, recorded_at=clock.now)
    with pytest.raises(IntegrityError), transaction.atomic():
        CapaAlert.objects.create(action=action, kind="overdue", due_at=action.due_at, recorded_at=clock.now)


def test_an_alert_recorded_by_another_worker_sends_nothing_twice(clock, owner, team) -> None:
    # given a worker that recorded the alert but whose schedule change this pass has not seen
    action = new_action(clock.now, days=4)
    chase_due(clock.now + timedelta(days=5))
    CorrectiveAction.objects.filter(pk=action.pk).update(next_check_at=action.due_at)
    # when another pass meets the same action
    got = chase_due(clock.now + timedelta(days=5))
    # then the unique alert stops it: no second email, and the schedule is settled
    assert not got and len(_mail(action)) == 3
    action.refresh_from_db()
    assert action.next_check_at is None


def _unused(_: Any) -> None:  # keeps Any imported for the fixtures' hints
    pass
