"""The database holds the action's invariants, whatever code writes to it."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import IntegrityError, transaction

from promisedesk.capa.models import CapaEvent, CorrectiveAction

from .conftest import new_action

pytestmark = pytest.mark.usefixtures("root_causes")


def _refused(action: CorrectiveAction, **fields: Any) -> None:
    with pytest.raises(IntegrityError), transaction.atomic():
        CorrectiveAction.objects.filter(pk=action.pk).update(**fields)


@pytest.mark.postgres
def test_invariants_are_database_constraints(clock: Any, owner: Any) -> None:
    action = new_action(clock.now)
    _refused(action, status="done", next_check_at=None)  # done without done_at
    _refused(action, status="checked", done_at=clock.now, next_check_at=None)  # checked without a verdict
    _refused(action, verdict="effective")  # a verdict on an open action
    _refused(action, status="cancelled", cancelled_at=clock.now, next_check_at=None)  # cancelled without a reason
    _refused(action, status="cancelled", cancel_reason="x", cancelled_at=clock.now)  # still chased once cancelled
    _refused(action, root_cause=None)  # a corrective action without its root cause
    _refused(action, window_days=0)
    _refused(action, due_at=clock.now)  # due no later than it was opened
    # and the same changes with what they need are accepted
    CorrectiveAction.objects.filter(pk=action.pk).update(
        status="cancelled", cancel_reason="x", cancelled_at=clock.now, next_check_at=None
    )


def test_history_is_append_only(clock: Any, owner: Any) -> None:
    action = new_action(clock.now)
    entry = CapaEvent.objects.get(action=action)
    entry.note = "rewritten"
    with pytest.raises(ValueError, match="append-only"):
        entry.save()


def test_next_chase_moves_from_three_quarters_to_the_due_date_then_stops(clock: Any, owner: Any) -> None:
    action = new_action(clock.now, days=4)
    assert action.next_chase(set()) == action.due_soon_at() == clock.now + (action.due_at - clock.now) * 0.75
    assert action.next_chase({"due_soon"}) == action.due_at
    assert action.next_chase({"due_soon", "overdue"}) is None
