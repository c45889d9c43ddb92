"""Chasing actions' due dates like any commitment, exactly once per threshold, however many workers run.

`chase_due(now)` settles the actions whose `next_check_at` has come, a batch at a time,
each batch in one transaction:
1. Lock up to `batch` actions with `next_check_at <= now`, read through the partial
   index `capa_chase_due` alone (an idle pass is one index probe), FOR UPDATE SKIP
   LOCKED on PostgreSQL so racing workers split the work; SQLite's IMMEDIATE
   transactions serialise them instead.
2. For each, the threshold reached: past the due date, `overdue` (the owner and their
   department's lead and manager are told); past three quarters of the time, `due_soon`
   (the owner is reminded). A worker that was down past the due date sends only the
   overdue alert: a "due soon" reminder after the fact would be noise. An alert already
   recorded for that due date (one query for the batch) is not sent again.
3. Write the batch's alerts, emails and history entries with one insert each, and move
   every `next_check_at` on (the due date, or nothing more to chase). The alert's unique
   (action, kind, due date) and the outbox's unique (event, recipient, channel) make a
   duplicate impossible even if the locking were wrong: the batch would fail and roll
   back whole, and a worker that dies mid-batch leaves every row still due.
Every action a batch looks at leaves it with `next_check_at` after now or null, so each pass ends.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from functools import cache
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import translation

from promisedesk.accounts.roles import MANAGER_GROUP
from promisedesk.escalations.messages import staff_language
from promisedesk.notifications.models import NotificationTemplate, OutboxMessage
from promisedesk.notifications.outbox import staff_emails
from promisedesk.notifications.templating import render_builtin, render_override

from .models import AlertKind, CapaAlert, CapaEvent, CorrectiveAction

log = logging.getLogger("promisedesk.capa")

BATCH = 200
TEMPLATE = "capa_action_due"


@dataclass
class ChaseResult:
    """What one pass did: reminders before the due date, overdue alerts, emails queued."""

    reminded: int = 0
    overdue: int = 0
    emails: int = 0

    def __str__(self) -> str:
        return f"capa chase: {self.reminded} reminded, {self.overdue} overdue, {self.emails} emails"

    def __bool__(self) -> bool:
        return bool(self.reminded or self.overdue)


def due_actions(now: datetime) -> Any:
    """Actions whose next instant of interest has come, by the partial index `capa_chase_due` only."""
    return CorrectiveAction.objects.filter(next_check_at__lte=now).order_by("next_check_at", "id")


def chase_due(now: datetime, *, batch: int = BATCH) -> ChaseResult:
    """Remind and escalate every action due at now, each threshold once. Safe in many processes at once."""
    total = ChaseResult()
    while True:
        claimed = _chase_batch(now, batch, total)
        if claimed < batch:
            return total


def _chase_batch(now: datetime, batch: int, total: ChaseResult) -> int:
    """Steps 1–3 for one batch in one transaction; returns how many actions it claimed."""
    with transaction.atomic():
        rows = list(
            due_actions(now)
            .select_for_update(skip_locked=True, of=("self",))
            .select_related("owner", "promise", "department__lead", "department__manager")[:batch]
        )
        if not rows:
            return 0
        work = _Batch(now, _renderer(staff_language()), cache(_managers))
        sent = set(CapaAlert.objects.filter(action__in=rows).values_list("action_id", "kind", "due_at").order_by())
        for action in rows:
            _settle(action, work, sent, total)
        CapaAlert.objects.bulk_create(work.alerts)
        OutboxMessage.objects.bulk_create(work.messages, ignore_conflicts=True)
        CapaEvent.objects.bulk_create(work.events)
        CorrectiveAction.objects.bulk_update(rows, ["next_check_at"])
        total.emails += len(work.messages)
    return len(rows)


@dataclass
class _Batch:
    """What step 3 writes for one batch, and what every action of it shares."""

    now: datetime
    render: Callable[[dict[str, Any]], tuple[str, str]]
    managers: Callable[[], list[Any]]
    alerts: list[CapaAlert] = field(default_factory=list)
    messages: list[OutboxMessage] = field(default_factory=list)
    events: list[CapaEvent] = field(default_factory=list)


def _settle(action: CorrectiveAction, work: _Batch, sent: set[tuple[int, str, datetime]], total: ChaseResult) -> None:
    """Step 2 for one action: the alert it is owed (unless recorded already) and its next instant."""
    kind = AlertKind.OVERDUE if work.now >= action.due_at else AlertKind.DUE_SOON
    if (action.pk, kind.value, action.due_at) not in sent:
        people = _recipients(action, kind, work.managers)
        addresses = list(dict.fromkeys(p.email for p in people if p.is_active and p.email))
        work.alerts.append(
            CapaAlert(action=action, kind=kind, due_at=action.due_at, recipients=addresses, recorded_at=work.now)
        )
        work.messages += _messages(action, kind, addresses, work)
        told = {"to": [p.get_username() for p in people]}
        work.events.append(CapaEvent(action=action, type=f"alert_{kind}", at=work.now, data=told))
        if kind == AlertKind.OVERDUE:
            total.overdue += 1
        else:
            total.reminded += 1
    done = {AlertKind.DUE_SOON.value, kind.value} if kind == AlertKind.OVERDUE else {kind.value}
    action.next_check_at = action.next_chase(done)


def _managers() -> list[Any]:
    return list(get_user_model().objects.filter(groups__name=MANAGER_GROUP, is_active=True).order_by("id"))


def _recipients(action: CorrectiveAction, kind: str, managers: Callable[[], list[Any]]) -> list[Any]:
    """The owner; past the due date also the department's lead and manager (without a department: the managers)."""
    people = [action.owner]
    if kind != AlertKind.OVERDUE:
        return people
    department = action.department
    if department is not None:
        people += [p for p in (department.lead, department.manager) if p is not None]
    else:
        people += managers()
    return list({p.pk: p for p in people}.values())


def desk_link(action_id: int) -> str:
    return f"{settings.PROMISEDESK_BASE_URL}/desk/capa/{action_id}/"


def _context(action: CorrectiveAction, kind: str, language: str) -> dict[str, Any]:
    zone = ZoneInfo(settings.TIME_ZONE)
    with translation.override(language):
        action_kind = str(action.get_kind_display())
    return {
        "action": action,
        "action_kind": action_kind,
        "overdue": kind == AlertKind.OVERDUE,
        # Formatted here: the `date` filter would use whatever time zone is active.
        "due_at": action.due_at.astimezone(zone).strftime("%Y-%m-%d %H:%M"),
        "zone": str(zone),
        "owner": action.owner.get_full_name() or action.owner.get_username(),
        "promise_code": action.promise.code if action.promise_id else "",  # type: ignore[union-attr]
        "link": desk_link(action.pk),
    }


def _renderer(language: str) -> Callable[[dict[str, Any]], tuple[str, str]]:
    """render_message for one template and language, with the manager's override looked up once per batch."""
    override = NotificationTemplate.objects.filter(event=TEMPLATE, language=language).first()

    def render(context: dict[str, Any]) -> tuple[str, str]:
        with translation.override(language):
            if override is not None:
                try:
                    return render_override(override.subject, override.body, context)
                except Exception:
                    log.exception("the %s template for %s failed; the built-in wording is used", language, TEMPLATE)
            return render_builtin(TEMPLATE, context)

    return render


def _messages(action: CorrectiveAction, kind: str, addresses: list[str], work: _Batch) -> list[OutboxMessage]:
    """One email per address, in the staff's language, keyed by action, threshold and due date."""
    if not addresses:
        return []
    language = staff_language()
    subject, body = work.render(_context(action, kind, language))
    return staff_emails(
        addresses,
        event_key=f"capa:{action.pk}:{kind}:{int(action.due_at.timestamp())}",
        template=TEMPLATE,
        language=language,
        subject=subject,
        body=body,
        send_at=work.now,
        now=work.now,
    )
