"""Every change to a corrective or preventive action: create, start, complete, check, cancel, edit.

Each function takes the actor and `now`, runs in one transaction, locks the action,
checks its status under the lock (a second click is a 409, never a double change),
and appends a CapaEvent to the action's history.

Who may do what: any staff member may create an action; its owner or a manager may
start, complete, cancel or edit it; only a manager checks whether it worked.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.contrib.auth.models import User
from django.db import transaction

from promisedesk.accounts.models import Department
from promisedesk.accounts.roles import is_manager
from promisedesk.breaches.models import Breach, RootCause
from promisedesk.breaches.models import Status as BreachStatus
from promisedesk.cases.models import Case, CaseKind
from promisedesk.errors import Conflict, DomainError, NotFound
from promisedesk.promises.models import Promise
from promisedesk.recovery.models import Incident

from .models import (
    MAX_WINDOW_DAYS,
    WORKING,
    ActionStatus,
    AlertKind,
    CapaAlert,
    CapaEvent,
    CorrectiveAction,
    Kind,
    Verdict,
)

MAX_DUE = timedelta(days=3 * 365)


@dataclass
class Links:
    """What an action is about, each optional: the promise, a breach, an incident, a complaint case."""

    promise: str | None = None
    breach: int | None = None
    incident: int | None = None
    complaint_case: int | None = None


def record(action: CorrectiveAction, type: str, now: datetime, actor: User | None, note: str = "", **data: Any) -> None:
    CapaEvent.objects.create(action=action, type=type, at=now, actor=actor, note=note, data=data)


# -- checks -----------------------------------------------------------------------------------


def staff_member(username: str, field: str = "owner") -> User:
    found = User.objects.filter(username=username, is_active=True, is_staff=True).first()
    if found is None:
        raise DomainError("unknown_user", f"there is no staff member {username!r}", field)
    return found


def department_of(code: str | None) -> Department | None:
    if not code:
        return None
    found = Department.objects.filter(code=code).first()
    if found is None:
        raise DomainError("unknown_department", f"there is no department {code!r}", "department")
    return found


def root_cause_of(code: str | None, kind: str) -> RootCause | None:
    if not code:
        if kind == Kind.CORRECTIVE:
            raise DomainError("missing_field", "a corrective action names the root cause it removes", "root_cause")
        return None
    found = RootCause.objects.filter(code=code, active=True).first()
    if found is None:
        raise DomainError("unknown_root_cause", f"{code!r} is not a root cause in the list", "root_cause")
    return found


def check_due(due_at: datetime, now: datetime) -> None:
    if due_at.tzinfo is None:
        raise DomainError("invalid", "the due date needs a time zone offset", "due_at")
    if due_at <= now:
        raise DomainError("due_in_past", "the due date must lie in the future", "due_at")
    if due_at > now + MAX_DUE:
        raise DomainError("due_too_far", "the due date must lie within three years", "due_at")


def check_window(days: int) -> None:
    if not 1 <= days <= MAX_WINDOW_DAYS:
        raise DomainError("invalid", f"the comparison window is 1 to {MAX_WINDOW_DAYS} days", "window_days")


def _resolve_links(links: Links) -> dict[str, Any]:
    """The linked rows, checked; the promise defaults to the one the breach broke."""
    found: dict[str, Any] = {"promise": None, "breach": None, "incident": None, "complaint_case": None}
    if links.breach is not None:
        found["breach"] = Breach.objects.filter(pk=links.breach).first()
        if found["breach"] is None:
            raise NotFound(f"breach {links.breach}", "breach")
    if links.incident is not None:
        found["incident"] = Incident.objects.filter(pk=links.incident).first()
        if found["incident"] is None:
            raise NotFound(f"incident {links.incident}", "incident")
    if links.complaint_case is not None:
        case = Case.objects.filter(pk=links.complaint_case).first()
        if case is None:
            raise NotFound(f"case {links.complaint_case}", "complaint_case")
        if case.kind != CaseKind.COMPLAINT:
            raise DomainError("not_a_complaint", f"case {case.pk} is not a complaint", "complaint_case")
        found["complaint_case"] = case
    code = links.promise or (found["breach"].promise_code if found["breach"] is not None else None)
    if code:
        found["promise"] = Promise.objects.filter(code=code).first()
        if found["promise"] is None:
            raise NotFound(f"promise {code!r}", "promise")
    return found


def _home_department(owner: User) -> Department | None:
    """The owner's department when they belong to exactly one: whom an overdue action escalates to."""
    mine = list(Department.objects.filter(members=owner)[:2])
    return mine[0] if len(mine) == 1 else None


# -- create -------------------------------------------------------------------------------------


def do_create_action(
    *,
    actor: User | None,
    now: datetime,
    kind: str,
    title: str,
    owner: str,
    due_at: datetime,
    root_cause: str | None = None,
    description: str = "",
    department: str | None = None,
    links: Links | None = None,
    window_days: int = 30,
) -> CorrectiveAction:
    """Open an action. Any staff member may; the owner must be active staff and the due date ahead.

    Without a department the owner's own (when they have exactly one) is taken, so an
    overdue action has someone above the owner to tell.
    """
    if kind not in Kind.values:
        raise DomainError("invalid", f"kind is one of {', '.join(Kind.values)}", "kind")
    if not title.strip():
        raise DomainError("missing_field", "an action needs a title", "title")
    check_due(due_at, now)
    check_window(window_days)
    cause = root_cause_of(root_cause, kind)
    person = staff_member(owner)
    team = department_of(department) if department else _home_department(person)
    linked = _resolve_links(links or Links())
    with transaction.atomic():
        action = CorrectiveAction(
            kind=kind,
            title=title.strip(),
            description=description,
            root_cause=cause,
            owner=person,
            department=team,
            due_at=due_at,
            window_days=window_days,
            created_at=now,
            created_by=actor,
            **linked,
        )
        action.next_check_at = action.next_chase(set())
        action.save()
        record(action, "created", now, actor, due_at=due_at.isoformat(), owner=person.get_username())
    return action


# -- moves --------------------------------------------------------------------------------------


def may_work_on(user: Any, action: CorrectiveAction) -> bool:
    """The owner or a manager may start, complete, cancel or edit an action."""
    return bool(getattr(user, "is_authenticated", False)) and (user.pk == action.owner_id or is_manager(user))


def _require_owner_or_manager(actor: User | None, action: CorrectiveAction, what: str) -> None:
    if not may_work_on(actor, action):
        raise DomainError("forbidden", f"only the owner or a manager may {what} this action", status=403)


def _locked(action: CorrectiveAction, actor: User | None, verb: str) -> CorrectiveAction:
    """The action's row, locked; the owner-or-manager check looks at it, not at the copy read
    before (the action may have been handed over in between)."""
    locked = CorrectiveAction.objects.select_for_update(of=("self",)).select_related("owner").get(pk=action.pk)
    _require_owner_or_manager(actor, locked, verb)
    return locked


def _require_status(locked: CorrectiveAction, allowed: tuple[str, ...], what: str) -> None:
    if locked.status not in allowed:
        raise Conflict("wrong_status", f"an action that is {locked.status} cannot be {what}", "status")


def do_start_action(action: CorrectiveAction, *, actor: User | None, now: datetime, note: str = "") -> CorrectiveAction:
    """open → in progress."""
    with transaction.atomic():
        locked = _locked(action, actor, "start")
        _require_status(locked, (ActionStatus.OPEN,), "started")
        locked.status, locked.started_at = ActionStatus.IN_PROGRESS, now
        locked.save(update_fields=["status", "started_at"])
        record(locked, "started", now, actor, note)
    return locked


def do_complete_action(action: CorrectiveAction, *, actor: User | None, now: datetime, note: str) -> CorrectiveAction:
    """open or in progress → done, saying what was changed; the chase stops."""
    with transaction.atomic():
        locked = _locked(action, actor, "complete")
        if not note.strip():
            raise DomainError("missing_field", "say what was done", "note")
        _require_status(locked, WORKING, "completed")
        locked.status, locked.done_at, locked.done_note, locked.next_check_at = ActionStatus.DONE, now, note, None
        locked.started_at = locked.started_at or now
        locked.save(update_fields=["status", "done_at", "done_note", "next_check_at", "started_at"])
        record(locked, "completed", now, actor, note, overdue=now > locked.due_at)
    return locked


def do_check_action(
    action: CorrectiveAction, *, actor: User | None, now: datetime, verdict: str, note: str = ""
) -> CorrectiveAction:
    """done → checked: a manager's verdict on whether it worked, with the numbers seen at the time."""
    from .effectiveness import measure_action

    if not is_manager(actor):
        raise DomainError("forbidden", "only a manager checks whether an action worked", status=403)
    if verdict not in Verdict.values:
        raise DomainError("invalid", f"verdict is one of {', '.join(Verdict.values)}", "verdict")
    if verdict == Verdict.NOT_EFFECTIVE and not note.strip():
        raise DomainError("missing_field", "say why it did not work and what comes next", "note")
    with transaction.atomic():
        locked = CorrectiveAction.objects.select_for_update().get(pk=action.pk)
        _require_status(locked, (ActionStatus.DONE,), "checked")
        locked.status, locked.checked_at, locked.checked_by = ActionStatus.CHECKED, now, actor
        locked.verdict, locked.check_note = verdict, note
        locked.save(update_fields=["status", "checked_at", "checked_by", "verdict", "check_note"])
        effect = measure_action(locked, now)
        record(
            locked, "checked", now, actor, note, verdict=verdict, **({"numbers": effect.as_dict()} if effect else {})
        )
    return locked


def do_cancel_action(action: CorrectiveAction, *, actor: User | None, now: datetime, reason: str) -> CorrectiveAction:
    """open or in progress → cancelled, with the reason (it stays in the history)."""
    with transaction.atomic():
        locked = _locked(action, actor, "cancel")
        if not reason.strip():
            raise DomainError("missing_field", "a cancelled action needs its reason", "reason")
        _require_status(locked, WORKING, "cancelled")
        locked.status, locked.cancelled_at, locked.cancel_reason = ActionStatus.CANCELLED, now, reason
        locked.next_check_at = None
        locked.save(update_fields=["status", "cancelled_at", "cancel_reason", "next_check_at"])
        record(locked, "cancelled", now, actor, reason)
    return locked


# -- edits --------------------------------------------------------------------------------------

# The desk's form shows the due date to the minute: a date within a minute of the current one is
# the same date sent back, not a move (which would need a reason).
SAME_DUE = timedelta(minutes=1)


def do_update_action(
    action: CorrectiveAction,
    *,
    actor: User | None,
    now: datetime,
    owner: str | None = None,
    due_at: datetime | None = None,
    reason: str = "",
    description: str | None = None,
    window_days: int | None = None,
) -> CorrectiveAction:
    """Hand over, move the due date (with the reason, recorded), reword, or widen the comparison window.

    A new due date re-arms the chase for that date; one within a minute of the current due
    date is no move. Only an action still being worked changes owner or due date; the
    description and window may change until it is checked.
    """
    if window_days is not None:
        check_window(window_days)
    person = staff_member(owner) if owner else None
    with transaction.atomic():
        locked = _locked(action, actor, "change")
        if due_at is not None and abs(due_at - locked.due_at) < SAME_DUE:
            due_at = None
        if due_at is not None:
            check_due(due_at, now)
            if not reason.strip():
                raise DomainError("missing_field", "moving the due date needs a reason", "reason")
        handing_over = person is not None and person.pk != locked.owner_id
        _require_status(locked, WORKING if (handing_over or due_at) else (*WORKING, ActionStatus.DONE), "changed")
        changed: list[str] = []
        if person is not None and person.pk != locked.owner_id:
            record(locked, "owner_changed", now, actor, reason, before=locked.owner.get_username(), after=owner)
            locked.owner = person
            changed.append("owner")
        if due_at is not None and due_at != locked.due_at:
            record(
                locked, "due_changed", now, actor, reason, before=locked.due_at.isoformat(), after=due_at.isoformat()
            )
            locked.due_at = due_at
            locked.next_check_at = locked.next_chase(sent_for(locked))
            changed += ["due_at", "next_check_at"]
        if description is not None and description != locked.description:
            record(locked, "description_changed", now, actor, before=locked.description)
            locked.description = description
            changed.append("description")
        if window_days is not None and window_days != locked.window_days:
            record(locked, "window_changed", now, actor, before=locked.window_days, after=window_days)
            locked.window_days = window_days
            changed.append("window_days")
        if changed:
            locked.save(update_fields=changed)
    return locked


def sent_for(action: CorrectiveAction) -> set[str]:
    """The alert kinds already sent for the action's current due date."""
    return set(CapaAlert.objects.filter(action=action, due_at=action.due_at).values_list("kind", flat=True))


# -- root causes --------------------------------------------------------------------------------


def do_set_root_cause_active(*, actor: User | None, now: datetime, code: str, active: bool) -> RootCause:
    """Retire a root cause from the choices (old verdicts keep naming it), or bring it back. Managers only."""
    if not is_manager(actor):
        raise DomainError("forbidden", "only managers change the list of root causes", status=403)
    with transaction.atomic():
        cause = RootCause.objects.select_for_update().filter(code=code).first()
        if cause is None:
            raise NotFound(f"root cause {code!r}", "code")
        if cause.active != active:
            cause.active = active
            cause.save(update_fields=["active"])
    return cause


def do_add_root_cause(*, actor: User | None, now: datetime, code: str, name_en: str, name_zh: str) -> RootCause:
    """A new root cause to choose from. Managers only; a code in use is a 409."""
    if not is_manager(actor):
        raise DomainError("forbidden", "only managers change the list of root causes", status=403)
    if not (code and name_en.strip() and name_zh.strip()):
        raise DomainError("missing_field", "a root cause needs a code and its name in both languages", "code")
    with transaction.atomic():
        if RootCause.objects.filter(code=code).exists():
            raise Conflict("duplicate", f"root cause {code!r} exists already", "code")
        return RootCause.objects.create(code=code, name_en=name_en.strip(), name_zh=name_zh.strip())


__all__ = [
    "AlertKind",
    "BreachStatus",
    "Links",
    "do_add_root_cause",
    "do_cancel_action",
    "do_check_action",
    "do_complete_action",
    "do_create_action",
    "do_set_root_cause_active",
    "do_start_action",
    "do_update_action",
]
