"""Regressions found in review: permission checks on the locked row, the due date's minute."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from promisedesk.capa.actions import do_complete_action, do_start_action, do_update_action
from promisedesk.capa.models import ActionStatus, CapaEvent, CorrectiveAction
from promisedesk.errors import DomainError

from .conftest import new_action, person

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("root_causes")]


def test_the_owner_check_looks_at_the_locked_row_not_a_stale_copy(clock: Any, owner: Any, boss: Any) -> None:
    stale = new_action(clock.now)  # read by the first owner's request…
    successor = person("sam")
    do_update_action(stale, actor=boss, now=clock.now, owner="sam", reason="olga moved on")  # …handed over meanwhile

    with pytest.raises(DomainError) as refused:
        do_start_action(stale, actor=owner, now=clock.now)
    assert refused.value.code == "forbidden" and refused.value.status == 403
    assert CorrectiveAction.objects.get(pk=stale.pk).status == ActionStatus.OPEN

    # and the new owner, holding a copy that still names the old one, may work on it
    done = do_complete_action(stale, actor=successor, now=clock.now, note="dispatch rota fixed")
    assert done.status == ActionStatus.DONE


def test_a_due_date_within_a_minute_is_no_move_and_needs_no_reason(clock: Any, owner: Any) -> None:
    action = new_action(clock.now)
    same = do_update_action(action, actor=owner, now=clock.now, due_at=action.due_at + timedelta(seconds=40))
    assert same.due_at == action.due_at
    assert not CapaEvent.objects.filter(action=action, type="due_changed").exists()
    with pytest.raises(DomainError) as needs_reason:
        do_update_action(action, actor=owner, now=clock.now, due_at=action.due_at + timedelta(minutes=2))
    assert needs_reason.value.field == "reason"
