"""Opening a complaint and taking it through the recovery steps, handover and closing.

A complaint is opened as a case of kind complaint through `cases.actions.do_open_case`,
so the published recovery promises attach with their clocks; the `Complaint` row is
written in the same transaction. Each step is an action of its own (see `steps.py`);
`do_record_step` checks the order, records the step once and lets the step do its work,
all while holding the complaint row.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from django.contrib.auth.models import User
from django.db import IntegrityError, transaction

from promisedesk.accounts.models import Department
from promisedesk.breaches.models import Breach, RootCause
from promisedesk.cases.actions import do_assign, do_change_stage, do_open_case
from promisedesk.cases.models import Case, CaseEvent, CaseKind, Channel, Stage
from promisedesk.errors import Conflict, DomainError, NotFound

from . import steps as step_actions
from .models import (
    SEVERITY_PRIORITY,
    STEP_ORDER,
    Complaint,
    ComplaintCategory,
    ComplaintStatus,
    RecoveryStep,
    Remedy,
    Severity,
    StepStatus,
)
from .steps import StepFields

MAX_ACCOUNT = 10_000
MAX_REASON = 2_000
SUMMARY_LENGTH = 200
BREACH_PREFIX = "breach-"


def _text(value: str, field: str, *, required: bool, limit: int) -> str:
    cleaned = (value or "").strip()
    if required and not cleaned:
        raise DomainError("missing_field", f"{field.replace('_', ' ')} is required", field)
    if len(cleaned) > limit:
        raise DomainError("too_long", f"{field.replace('_', ' ')} has at most {limit} characters", field)
    return cleaned


def _choice(value: str, choices: list[str], field: str) -> str:
    if value not in choices:
        raise DomainError("invalid", f"{field.replace('_', ' ')} is one of {', '.join(choices)}", field)
    return value


def _about(about_case_id: int | None, customer_id: int | None) -> tuple[Case | None, int]:
    """The case complained about and the customer complaining; a complaint about someone else's
    case is refused, so no customer can reach (or learn of) another's case through a complaint."""
    about = None
    if about_case_id is not None:
        about = Case.objects.select_related("service").filter(pk=about_case_id).first()
        if about is None:
            raise NotFound(f"case {about_case_id}", "about")
        if customer_id is not None and about.customer_id != customer_id:
            raise DomainError("not_your_case", f"case {about_case_id} belongs to another customer", "about", status=403)
        customer_id = about.customer_id
    if customer_id is None:
        raise DomainError("missing_field", "name the customer, or the case the complaint is about", "customer")
    return about, customer_id


def _category(code: str | None) -> ComplaintCategory | None:
    if not code:
        return None
    found = ComplaintCategory.objects.filter(code=code, active=True).first()
    if found is None:
        raise DomainError("unknown_category", f"{code!r} is not a complaint category in the list", "category")
    return found


def _existing(external_ref: str, customer_id: int, about: Case | None) -> tuple[Complaint, bool] | None:
    """The complaint this reference already opened, when it is the same customer's about the same case.

    A reference naming another customer's case (or another case of theirs) is refused without
    telling what it names, so a reference cannot be used to look at someone else's complaint.
    """
    case = Case.objects.filter(external_ref=external_ref).first()
    if case is None:
        return None
    found = Complaint.objects.select_related("case").filter(case=case).first()
    about_id = about.pk if about is not None else None
    if found is None or case.customer_id != customer_id or case.about_id != about_id:
        raise Conflict("external_ref_taken", f"{external_ref!r} is already used for another case", "external_ref")
    return found, False


def _check_reference(external_ref: str | None, source_breach: Breach | None) -> None:
    """`breach-…` references belong to the complaints promisedesk raises itself (see `auto.py`)."""
    if external_ref and external_ref.startswith(BREACH_PREFIX) and source_breach is None:
        raise DomainError(
            "reserved_reference", f"references starting with {BREACH_PREFIX!r} are reserved", "external_ref"
        )


def _check_opened_at(opened_at: datetime | None, about: Case | None) -> None:
    if opened_at is not None and about is not None and opened_at < about.opened_at:
        raise DomainError("before_case", "a complaint cannot open before the case it is about", "opened_at")


def summary_of(account: str) -> str:
    """The first line of the customer's account, short enough for a queue row."""
    first = account.strip().splitlines()[0] if account.strip() else ""
    return first if len(first) <= SUMMARY_LENGTH else first[: SUMMARY_LENGTH - 1] + "…"


def do_open_complaint(
    *,
    actor: User | None,
    now: datetime,
    account: str,
    customer_id: int | None = None,
    about_case_id: int | None = None,
    channel: str = Channel.PHONE,
    remedy_wanted: str = Remedy.OTHER,
    remedy_detail: str = "",
    severity: str = Severity.MEDIUM,
    category: str | None = None,
    department: str | None = None,
    assignee: str | int | None = None,
    service_code: str | None = None,
    external_ref: str | None = None,
    source_breach: Breach | None = None,
    opened_at: datetime | None = None,
    amount_in_dispute: Decimal | None = None,
) -> tuple[Complaint, bool]:
    """Open a complaint from any channel; returns (complaint, created).

    The customer is the one named, or the customer of the case complained about; a
    complaint about another customer's case is refused (`not_your_case`). The service is
    the one named, else that of the case complained about. The same `external_ref`
    returns the complaint opened the first time, even when two requests race, but only to
    the same customer about the same case (else `external_ref_taken`); `breach-…` references
    are kept for raised complaints (`reserved_reference`), and a complaint does not open
    before the case it is about (`before_case`). The
    department (and person) responsible get the case, recorded as `assigned`. The amount in
    dispute is the complaint case's price (a promise may refund a share of it).
    """
    account = _text(account, "account", required=True, limit=MAX_ACCOUNT)
    remedy_detail = _text(remedy_detail, "remedy_detail", required=False, limit=MAX_REASON)
    _choice(remedy_wanted, Remedy.values, "remedy_wanted")
    _choice(severity, Severity.values, "severity")
    _choice(channel, Channel.values, "channel")
    _check_reference(external_ref, source_breach)
    about, customer = _about(about_case_id, customer_id)
    if external_ref and (found := _existing(external_ref, customer, about)) is not None:
        return found
    _check_opened_at(opened_at, about)
    chosen_category = _category(category)
    service = service_code or (about.service.code if about is not None else None)
    if not service:
        raise DomainError("missing_field", "a general complaint needs the service it concerns", "service")
    if department and not Department.objects.filter(code=department).exists():
        raise DomainError("unknown_department", f"there is no department {department!r}", "department")
    with transaction.atomic():
        case, created = do_open_case(
            actor=actor,
            now=now,
            customer_id=customer,
            service_code=service,
            external_ref=external_ref,
            channel=channel,
            priority=SEVERITY_PRIORITY[severity],
            opened_at=opened_at,
            price=amount_in_dispute,
            summary=summary_of(account),
            kind=CaseKind.COMPLAINT,
            about=about,
        )
        if not created:  # a racing request with the same reference won: its complaint came with it
            return _existing(case.external_ref or "", customer, about) or (Complaint.objects.get(case=case), False)
        complaint = Complaint.objects.create(
            case=case,
            account=account,
            remedy_wanted=remedy_wanted,
            remedy_detail=remedy_detail,
            severity=severity,
            category=chosen_category,
            source_breach=source_breach,
            created_at=now,
            created_by=actor,
        )
        if department or assignee is not None:
            do_assign(case, actor=actor, now=now, department=department or None, assignee=assignee)
        return complaint, True


def lock(complaint: Complaint) -> Complaint:
    """The complaint row, locked for the rest of the transaction, with its case and customer."""
    return (
        Complaint.objects.select_for_update(of=("self",))
        .select_related("case__customer", "case__about", "case__assignee", "case__service")
        .get(pk=complaint.pk)
    )


def check_order(complaint: Complaint, step: str) -> None:
    """A step is taken once, and only after every earlier step is done or skipped."""
    taken = set(RecoveryStep.objects.filter(complaint=complaint).values_list("step", flat=True))
    if step in taken:
        raise Conflict("step_recorded", f"the step {step} is already recorded", "step")
    missing = [earlier for earlier in STEP_ORDER[: STEP_ORDER.index(step)] if earlier not in taken]
    if missing:
        raise DomainError(
            "step_out_of_order", f"{missing[0]} comes first: take it or skip it with a reason", "step", status=409
        )


def do_record_step(
    complaint: Complaint,
    *,
    actor: User | None,
    now: datetime,
    step: str,
    action: str,
    reason: str = "",
    fields: StepFields | None = None,
) -> RecoveryStep:
    """Take (`done`) or skip (`skip`, with a reason) one recovery step, in order, once.

    The step's own work (the apology sent, the compensation offered, the result told, the
    follow-up arranged) happens in the same transaction; see `steps.py`.
    """
    _choice(step, list(STEP_ORDER), "step")
    _choice(action, ["done", "skip"], "action")
    reason = _text(reason, "reason", required=action == "skip", limit=MAX_REASON)
    fields = fields or StepFields()
    try:
        with transaction.atomic():
            locked = lock(complaint)
            if locked.status == ComplaintStatus.CLOSED:
                raise Conflict("complaint_closed", "the complaint is closed", "step")
            check_order(locked, step)
            done = action == "done"
            data = step_actions.HANDLERS[step](locked, actor=actor, now=now, done=done, reason=reason, fields=fields)
            return RecoveryStep.objects.create(
                complaint=locked,
                step=step,
                status=StepStatus.DONE if done else StepStatus.SKIPPED,
                reason=reason,
                actor=actor,
                at=now,
                data=data,
            )
    except IntegrityError as exc:
        if RecoveryStep.objects.filter(complaint=complaint, step=step).exists():  # a racing request was first
            raise Conflict("step_recorded", f"the step {step} is already recorded", "step") from exc
        raise


def check_root_cause(code: str) -> str:
    code = (code or "").strip()
    if not code:
        raise DomainError("missing_field", "a closed complaint needs its root cause", "root_cause")
    if not RootCause.objects.filter(code=code, active=True).exists():
        raise DomainError("unknown_root_cause", f"{code!r} is not a root cause in the list", "root_cause")
    return code


def close_locked(complaint: Complaint, *, actor: User | None, now: datetime, root_cause: str) -> Complaint:
    """Close a resolved complaint whose follow-up is recorded (inside the caller's transaction)."""
    complaint.root_cause = check_root_cause(root_cause)
    complaint.status, complaint.closed_at = ComplaintStatus.CLOSED, now
    complaint.save(update_fields=["root_cause", "status", "closed_at"])
    CaseEvent.objects.create(
        case=complaint.case,
        type="complaint_root_caused",
        at=now,
        data={"root_cause": complaint.root_cause},
        actor=actor,
        system=True,
        recorded_at=now,
    )
    if complaint.case.stage != Stage.CLOSED:
        do_change_stage(
            complaint.case, actor=actor, now=now, stage=Stage.CLOSED, at=max(now, complaint.case.last_event_at)
        )
    return complaint


def do_close_complaint(complaint: Complaint, *, actor: User | None, now: datetime, root_cause: str) -> Complaint:
    """Close the complaint with its root cause: once the result is told and the follow-up recorded."""
    with transaction.atomic():
        locked = lock(complaint)
        if locked.status == ComplaintStatus.CLOSED:
            raise Conflict("complaint_closed", "the complaint is already closed")
        if not RecoveryStep.objects.filter(complaint=locked, step="follow_up").exists():
            raise DomainError(
                "steps_open", "a complaint closes after its follow-up is done or skipped", "step", status=409
            )
        return close_locked(locked, actor=actor, now=now, root_cause=root_cause)


def do_handover(
    complaint: Complaint,
    *,
    actor: User | None,
    now: datetime,
    department: str | None,
    assignee: str | int | None = None,
    reason: str,
) -> CaseEvent:
    """Hand the complaint to another department (and person), saying why.

    Recorded on the complaint case as `assigned` {department, assignee, from_department,
    from_assignee} with the reason as its note; a handover that changes nothing is refused
    (`nothing_changes`). An open follow-up goes with the complaint: to the new person, else to
    the new department's lead, else it stays with its owner.
    """
    reason = _text(reason, "reason", required=True, limit=MAX_REASON)
    with transaction.atomic():
        locked = lock(complaint)
        event = do_assign(locked.case, actor=actor, now=now, department=department, assignee=assignee, note=reason)
        if event is None:
            raise Conflict("nothing_changes", "the complaint is already with that department and person", "department")
        follow_up = locked.follow_up_commitment
        if follow_up is not None and follow_up.is_open:
            case = Case.objects.select_related("department").get(pk=locked.case_id)
            new_owner = case.assignee_id or (case.department.lead_id if case.department is not None else None)
            if new_owner is not None and new_owner != follow_up.owner_id:
                follow_up.owner_id = new_owner
                follow_up.save(update_fields=["owner"])
        return event


__all__ = ["do_close_complaint", "do_handover", "do_open_complaint", "do_record_step"]
