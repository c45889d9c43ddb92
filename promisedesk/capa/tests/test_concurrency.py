"""Racing chasers: every threshold of every action told exactly once, whichever worker does it.

Real commits (transaction=True) and real threads with their own connections; on
PostgreSQL the workers split the work with SKIP LOCKED, on SQLite they take turns.
"""

from __future__ import annotations

import threading
from collections import Counter
from datetime import timedelta
from typing import Any

import pytest
from django.db import connection

from promisedesk.capa.chase import ChaseResult, chase_due
from promisedesk.capa.models import CapaAlert, CapaEvent
from promisedesk.notifications.models import OutboxMessage

from .conftest import new_action

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.postgres, pytest.mark.usefixtures("root_causes")]

TIMEOUT = 120


def _race(moment: Any, workers: int = 4, batch: int = 7) -> list[ChaseResult]:
    results: list[ChaseResult] = []
    failures: list[BaseException] = []
    start = threading.Barrier(workers, timeout=TIMEOUT)

    def work() -> None:
        try:
            start.wait()
            results.append(chase_due(moment, batch=batch))
        except BaseException as exc:
            failures.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=work) for _ in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(TIMEOUT)
    assert not failures, failures
    assert len(results) == workers
    return results


def test_racing_chasers_remind_and_escalate_each_action_once(clock: Any, owner: Any, team: Any) -> None:
    actions = [new_action(clock.now, days=4) for _ in range(60)]

    # when four workers reach the three-quarter point at once, then the due date
    reminded = _race(clock.now + timedelta(days=3))
    overdue = _race(clock.now + timedelta(days=5))

    # then each action got one reminder and one overdue alert, and the emails to match
    assert sum(r.reminded for r in reminded) == 60 and sum(r.overdue for r in overdue) == 60
    alerts = Counter(CapaAlert.objects.values_list("action_id", "kind"))
    assert len(alerts) == 120 and set(alerts.values()) == {1}
    mail = Counter(OutboxMessage.objects.filter(event_key__startswith="capa:").values_list("event_key", "recipient"))
    assert len(mail) == 60 * (1 + 3) and set(mail.values()) == {1}
    history = Counter(CapaEvent.objects.filter(type__startswith="alert_").values_list("action_id", "type"))
    assert len(history) == 120 and set(history.values()) == {1}
    assert not chase_due(clock.now + timedelta(days=30))
    assert {a.pk for a in actions} == {pk for pk, _ in alerts}
