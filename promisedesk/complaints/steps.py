"""What each recovery step does on the complaint case, called by `actions.do_record_step`.

Every handler runs inside the transaction that holds the complaint row and returns the
data kept on the step. `done` says whether the step was taken or skipped (with `reason`).

- listen: the customer's account as heard is kept; the complaint is acknowledged
  (`complaint_acknowledged`, which the "acknowledge within …" recovery promise stops on).
- apologise: sent as a message in the customer's language (`complaint_apology`), or
  logged as said by phone or in person.
- collect_facts: an internal note (with files) on the complaint case.
- offer: a solution the customer sees, and compensation proposed as a grant
  (`complaint:<id>`), so approval limits apply before it is issued.
- tell_result: `resolved` with the outcome (the customer is told; the "resolve within …"
  promise stops), and the follow-up arranged as an oral promise on the owner's queue.
- follow_up: `follow_up_done` meets that promise; with a root cause the complaint closes.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.contrib.auth.models import User
from django.utils import translation
from django.utils.translation import gettext

from promisedesk.cases.actions import do_add_note, do_append_event, do_record_oral_commitment
from promisedesk.cases.models import CaseEvent
from promisedesk.errors import DomainError

from .models import Complaint, ComplaintStatus
from .selectors import grant_key

ACKNOWLEDGED = "complaint_acknowledged"
APOLOGY = "apology_given"
OFFERED = "solution_offered"
FOLLOWED_UP = "follow_up_done"
APOLOGY_WAYS = ("message", "phone", "in_person")
MAX_TEXT = 4_000


def follow_up_statement(locale: str) -> str:
    """The follow-up as the customer reads it among their promises, in their language."""
    with translation.override(locale):
        return gettext("We will check back with you that everything is put right.")


def follow_up_delay() -> timedelta:
    """How long after the result is told the customer is called back (PROMISEDESK_COMPLAINT_FOLLOW_UP_DAYS)."""
    return timedelta(days=float(settings.PROMISEDESK_COMPLAINT_FOLLOW_UP_DAYS))


@dataclass
class StepFields:
    """What a step may come with; each step reads its own and ignores none silently (see `check`)."""

    account: str = ""  # listen: the account as heard, verbatim
    how: str = ""  # apologise: message | phone | in_person
    note: str = ""  # apologise: own words; collect_facts: findings; follow_up: what the customer said
    solution: str = ""  # offer
    compensation_kind: str = ""  # offer: refund, voucher, … (none: no compensation)
    compensation_amount: Decimal | None = None
    outcome: str = ""  # tell_result
    follow_up_at: datetime | None = None  # tell_result: when to follow up (default: in three days)
    root_cause: str = ""  # follow_up: closes the complaint with it
    uploads: list[Any] = field(default_factory=list)  # collect_facts: files from the desk form

    def given(self) -> set[str]:
        blank: dict[str, Any] = {"uploads": []}
        return {name for name, value in vars(self).items() if value not in (None, "", blank.get(name, ""))}


ALLOWED = {
    "listen": {"account"},
    "apologise": {"how", "note"},
    "collect_facts": {"note", "uploads"},
    "offer": {"solution", "compensation_kind", "compensation_amount"},
    "tell_result": {"outcome", "follow_up_at"},
    "follow_up": {"note", "root_cause"},
}


def check(step: str, fields: StepFields, *, done: bool = True) -> None:
    """Refuse a field that belongs to another step, or any field on a skip: it would be silently lost."""
    stray = sorted(fields.given() - (ALLOWED[step] if done else set()))
    if stray:
        why = f"{stray[0]} is not part of the {step} step" if done else f"a skipped {step} step takes no {stray[0]}"
        raise DomainError("unknown_field", why, stray[0])


def _optional(value: str, name: str, limit: int = MAX_TEXT) -> str:
    from .actions import _text

    return _text(value, name, required=False, limit=limit)


def _required(value: str, name: str) -> str:
    value = (value or "").strip()
    if not value:
        raise DomainError("missing_field", f"{name.replace('_', ' ')} is required to complete this step", name)
    if len(value) > MAX_TEXT:
        raise DomainError("too_long", f"{name.replace('_', ' ')} has at most {MAX_TEXT} characters", name)
    return value


def _event(complaint: Complaint, actor: User | None, now: datetime, type: str, **kwargs: Any) -> CaseEvent:
    at = max(now, complaint.case.last_event_at)
    event = do_append_event(complaint.case, actor=actor, now=now, at=at, type=type, **kwargs)
    complaint.case = event.case  # the case row as the event left it (stage, last event)
    return event


def _acknowledge(complaint: Complaint, actor: User | None, now: datetime) -> None:
    if not CaseEvent.objects.filter(case=complaint.case, type=ACKNOWLEDGED).exists():
        _event(complaint, actor, now, ACKNOWLEDGED, visible_to_customer=True)


def listen(
    complaint: Complaint, *, actor: User | None, now: datetime, done: bool, reason: str, fields: StepFields
) -> dict[str, Any]:
    check("listen", fields, done=done)
    if not done:
        return {}
    from .actions import MAX_ACCOUNT

    account = _optional(fields.account, "account", MAX_ACCOUNT)
    _acknowledge(complaint, actor, now)
    return {"account": account} if account else {}


def apologise(
    complaint: Complaint, *, actor: User | None, now: datetime, done: bool, reason: str, fields: StepFields
) -> dict[str, Any]:
    from promisedesk.notifications.events import case_link
    from promisedesk.notifications.outbox import queue_for_customer

    check("apologise", fields, done=done)
    if not done:
        return {}
    if fields.how not in APOLOGY_WAYS:
        raise DomainError("invalid", f"how is one of {', '.join(APOLOGY_WAYS)}", "how")
    words = _optional(fields.note, "note")
    _acknowledge(complaint, actor, now)  # an apology acknowledges a complaint nobody listened to first
    _event(complaint, actor, now, APOLOGY, data={"how": fields.how}, visible_to_customer=True)
    queued = 0
    if fields.how == "message":
        case = complaint.case
        about = case.about
        context = {
            "case": case,
            "customer": case.customer,
            "about": about,
            "about_summary": about.summary if about is not None else "",
            "complaint_summary": case.summary,
            "words": words,
            "link": case_link(case),
        }
        queued = len(
            queue_for_customer(
                customer=case.customer,
                case_id=case.pk,
                event_key=f"complaint:{complaint.pk}:apology",
                template="complaint_apology",
                context=context,
                now=now,
            )
        )
    return {"how": fields.how, "words": words, "messages": queued}


def collect_facts(
    complaint: Complaint, *, actor: User | None, now: datetime, done: bool, reason: str, fields: StepFields
) -> dict[str, Any]:
    check("collect_facts", fields, done=done)
    if not done:
        return {}
    note = _required(fields.note, "note")
    event = do_add_note(
        complaint.case,
        actor=actor,
        now=max(now, complaint.case.last_event_at),
        text=note,
        to_customer=False,
        uploads=fields.uploads,
    )
    return {"note": note, "event": event.pk, "files": len(fields.uploads)}


def offer(
    complaint: Complaint, *, actor: User | None, now: datetime, done: bool, reason: str, fields: StepFields
) -> dict[str, Any]:
    from promisedesk.breaches.compensations import do_propose_grant

    check("offer", fields, done=done)
    if not done:
        return {}
    solution = _required(fields.solution, "solution")
    data: dict[str, Any] = {"solution": solution}
    if fields.compensation_kind:
        grant, _created = do_propose_grant(
            complaint.case,
            key=grant_key(complaint.pk),
            kind=fields.compensation_kind,
            amount=fields.compensation_amount,
            reason=solution,
            actor=actor,
            now=now,
        )
        data["compensation"] = grant.pk
    elif fields.compensation_amount is not None:
        raise DomainError("missing_field", "say what kind of compensation the amount is", "compensation_kind")
    _event(
        complaint,
        actor,
        now,
        OFFERED,
        note=solution,
        data={"compensation": data.get("compensation")},
        visible_to_customer=True,
    )
    return data


def tell_result(
    complaint: Complaint, *, actor: User | None, now: datetime, done: bool, reason: str, fields: StepFields
) -> dict[str, Any]:
    if not done:  # the customer is always told the result of their complaint
        raise DomainError(
            "step_required", "tell the customer the result: this step cannot be skipped", "step", status=409
        )
    check("tell_result", fields, done=done)
    due = fields.follow_up_at or now + follow_up_delay()
    if due <= now:
        raise DomainError("in_past", "the follow-up must lie after now", "follow_up_at")
    outcome = _required(fields.outcome, "outcome")
    _event(complaint, actor, now, "resolved", note=outcome, visible_to_customer=True)
    owner = complaint.case.assignee or actor
    commitment = do_record_oral_commitment(
        complaint.case,
        actor=actor,
        now=now,
        statement=follow_up_statement(complaint.case.customer.locale),
        owner=owner.pk if owner is not None else None,
        due_at=due,
        stop_on=[FOLLOWED_UP],
    )
    complaint.status, complaint.resolved_at = ComplaintStatus.RESOLVED, now
    complaint.follow_up_due_at, complaint.follow_up_commitment = due, commitment
    complaint.save(update_fields=["status", "resolved_at", "follow_up_due_at", "follow_up_commitment"])
    return {"outcome": outcome, "follow_up_at": due.isoformat(), "commitment": commitment.pk}


def follow_up(
    complaint: Complaint, *, actor: User | None, now: datetime, done: bool, reason: str, fields: StepFields
) -> dict[str, Any]:
    from promisedesk.commitments.actions import do_cancel_commitment

    from .actions import check_root_cause, close_locked

    check("follow_up", fields, done=done)
    root_cause = check_root_cause(fields.root_cause) if fields.root_cause.strip() else complaint.root_cause
    note = ""
    if done:
        note = _required(fields.note, "note")
        _event(
            complaint,
            actor,
            now,
            FOLLOWED_UP,
            data={"by": actor.get_username() if actor else None},
            visible_to_customer=True,
        )
    elif complaint.follow_up_commitment is not None and complaint.follow_up_commitment.is_open:
        do_cancel_commitment(complaint.follow_up_commitment, actor=actor, now=now, reason=reason)
    if root_cause:
        close_locked(complaint, actor=actor, now=now, root_cause=root_cause)
    return {"note": note, "closed": bool(root_cause)}


Handler = Callable[..., dict[str, Any]]
HANDLERS: dict[str, Handler] = {
    "listen": listen,
    "apologise": apologise,
    "collect_facts": collect_facts,
    "offer": offer,
    "tell_result": tell_result,
    "follow_up": follow_up,
}
