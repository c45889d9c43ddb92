"""Whether an escalation email held for business hours is still wanted when its time comes.

An escalation's email waits in the outbox until the next working instant of the
promise's calendar (Friday evening's warning goes out on Monday morning). Should the
promise be kept or withdrawn meanwhile, or its clock restarted, telling someone on Monday
that it is at risk would be wrong: the delivery asks this check first and fails such a
message as superseded instead of sending it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from promisedesk.commitments.models import State
from promisedesk.notifications.models import OutboxMessage

from .models import Escalation

PREFIX = "escalation:"
WHY: dict[str, str] = {
    State.MET: "the promise was kept before it was sent",
    State.CANCELLED: "the promise was withdrawn before it was sent",
}
RESTARTED = "the promise's clock was restarted before it was sent"


def superseded(messages: Sequence[OutboxMessage]) -> Mapping[int, str]:
    """{message id: why} for the escalation emails among messages whose promise was kept,
    withdrawn or restarted since the escalation fired (one query for the whole batch)."""
    wanted: dict[int, list[int]] = {}
    for message in messages:
        key = message.event_key.removeprefix(PREFIX)
        if message.event_key.startswith(PREFIX) and key.isdigit():
            wanted.setdefault(int(key), []).append(message.pk)
    if not wanted:
        return {}
    rows = Escalation.objects.filter(pk__in=wanted).values_list(
        "pk", "run_started_at", "commitment__started_at", "commitment__state"
    )
    out: dict[int, str] = {}
    for pk, run, started_at, state in rows:
        if started_at != run or state == State.PENDING:
            why = RESTARTED
        elif state in WHY:
            why = WHY[state]
        else:
            continue  # still running, paused or broken: the people are told
        out.update(dict.fromkeys(wanted[pk], why))
    return out
