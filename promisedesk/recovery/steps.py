"""One affected case's step in a bulk run: tell the customer, or compensate them — never twice.

Each step returns None when it did something, or the reason it had nothing (or not
everything) to do (`already_notified`, `no_contact`, `currency_mismatch`,
`promise_not_applicable`, …), which the run counts. The bulk runner calls each step
in its own savepoint inside the batch's transaction, so a step that breaks is undone
alone and recorded by `step_failed`.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from django.utils import translation
from django.utils.translation import gettext as _

from promisedesk.breaches.actions import do_report_breach
from promisedesk.breaches.compensations import do_approve_compensation, do_issue_compensation, do_propose_grant
from promisedesk.breaches.models import Compensation, CompensationStatus, Exclusion, Source
from promisedesk.cases.models import Case, CaseEvent
from promisedesk.errors import DomainError
from promisedesk.notifications.events import case_link, customer_zone
from promisedesk.notifications.outbox import customer_channels, customer_language, queue_for_customer

from .models import BulkRun, Incident, IncidentCase, Outcome, RunKind

NOTICE_TEMPLATE = "incident_notice"
NOTICE_EVENT = "incident_notice"


def notice_key(incident: Incident, case_id: int) -> str:
    """The outbox key of an incident's notice: one message per affected case and channel, however often
    launched (a customer with two affected cases is told about each)."""
    return f"incident:{incident.pk}:case:{case_id}:notice"


def grant_key(incident: Incident, case_id: int) -> str:
    return f"incident:{incident.pk}:case:{case_id}"


def breach_key(incident: Incident, case_id: int) -> str:
    return f"incident:{incident.pk}:breach:{case_id}"


def notice_context(incident: Incident, case: Case, language: str, zone: ZoneInfo, message: str) -> dict[str, Any]:
    """What the incident_notice template is given: the reason in the customer's language and the
    new time in their time zone."""
    return {
        "incident": {"code": incident.code, "title": incident.title},
        "case": case,
        "reason": incident.reason_in(language),
        "new_time": incident.new_time.astimezone(zone) if incident.new_time else None,
        "zone": str(zone),
        "message": message,
        "link": case_link(case),
    }


def notice_note(context: dict[str, Any], language: str) -> str:
    """The notice as one line on the customer's case page, in their language."""
    with translation.override(language):
        parts = [str(context["reason"])]
        if context["new_time"] is not None:
            parts.append(
                _("New time: %(time)s (%(zone)s)")
                % {"time": f"{context['new_time']:%Y-%m-%d %H:%M}", "zone": context["zone"]}
            )
        if context["message"]:
            parts.append(str(context["message"]))
        return " ".join(parts)


def notify_case(run: BulkRun, link: IncidentCase, now: datetime) -> str | None:
    """Tell the case's customer (every channel they have) and put the notice on their case page."""
    if not IncidentCase.objects.filter(pk=link.pk, notified_at__isnull=True).update(notified_at=now):
        return "already_notified"
    incident, case = run.incident, link.case
    language = customer_language(case.customer)
    context = notice_context(incident, case, language, customer_zone(case), str(run.parameters.get("message", "")))
    CaseEvent.objects.create(
        case=case,
        type=NOTICE_EVENT,
        at=now,
        note=notice_note(context, language),
        data={
            "incident": incident.pk,
            "code": incident.code,
            "new_time": incident.new_time.isoformat() if incident.new_time else None,
            "run": run.pk,
        },
        system=True,
        visible_to_customer=True,
        recorded_at=now,
    )
    queue_for_customer(
        customer=case.customer,
        case_id=case.pk,
        event_key=notice_key(incident, case.pk),
        template=NOTICE_TEMPLATE,
        context=context,
        now=now,
    )
    # Without an email or a phone the notice is on their case page only: worth a call.
    return None if customer_channels(case.customer) else "no_contact"


def _settle_link(
    link: IncidentCase,
    now: datetime,
    outcome: str,
    note: str = "",
    compensation: Compensation | None = None,
    breach_id: int | None = None,
) -> None:
    IncidentCase.objects.filter(pk=link.pk).update(
        compensated_at=now,
        outcome=outcome,
        outcome_note=note[:200],
        compensation=compensation,
        breach_id=breach_id,
    )


STEP_FAILED = "step_failed"
KEPT_FIRST_GRANT = "kept_first_grant"


def step_failed(run: BulkRun, link: IncidentCase, now: datetime) -> str:
    """Record that a case's step broke unexpectedly (its savepoint rolled back): a compensation run
    marks the case skipped with the code, so the desk sees it and a later run may try it again."""
    if run.kind == RunKind.COMPENSATE and link.outcome in (Outcome.NONE, Outcome.SKIPPED):
        _settle_link(link, now, Outcome.SKIPPED, STEP_FAILED)
    return STEP_FAILED


def compensate_case(run: BulkRun, link: IncidentCase, now: datetime) -> str | None:
    """Compensate one affected case by the run's rule; a case compensated by the other rule is left alone."""
    rule = run.parameters
    mine = Outcome.GRANTED if rule["mode"] == "grant" else (Outcome.LIABILITY, Outcome.EXCLUDED)
    other = link.outcome not in ("", Outcome.SKIPPED) and link.outcome not in mine
    if other:
        return "compensated_otherwise"
    if rule["mode"] == "grant":
        return _grant(run, link, now)
    return _liability(run, link, now)


def _grant(run: BulkRun, link: IncidentCase, now: datetime) -> str | None:
    rule, case, actor = run.parameters, link.case, run.launched_by
    if case.currency != rule["currency"]:
        _settle_link(link, now, Outcome.SKIPPED, "currency_mismatch")  # shown with the case's currency
        return "currency_mismatch"
    amount = Decimal(rule["amount"]) if rule.get("amount") is not None else None
    grant, created = do_propose_grant(
        case,
        key=grant_key(run.incident, case.pk),
        kind=rule["kind"],
        amount=amount,
        reason=rule["reason"],
        actor=actor,
        now=now,
    )
    note = ""
    advanced = created
    if rule.get("approve") and grant.status == CompensationStatus.PROPOSED:
        try:
            grant = do_approve_compensation(grant, actor=actor, now=now)
            advanced = True
        except DomainError as exc:
            note = exc.code  # left proposed for someone with a higher limit
    if rule.get("issue") and grant.status == CompensationStatus.APPROVED:
        grant = do_issue_compensation(grant, actor=actor, now=now)
        advanced = True
    differs = not created and (grant.kind != rule["kind"] or (amount is not None and grant.amount != amount))
    if not advanced and link.outcome == Outcome.GRANTED:
        if differs:
            # A relaunch with another amount or kind never grants twice: the first grant stands, and says so.
            IncidentCase.objects.filter(pk=link.pk).update(outcome_note=KEPT_FIRST_GRANT)
            return KEPT_FIRST_GRANT
        return "already_compensated"
    _settle_link(link, now, Outcome.GRANTED, note, compensation=grant)
    return None


def _liability(run: BulkRun, link: IncidentCase, now: datetime) -> str | None:
    """Report the promise broken on the case; the ordinary make-good pays it by its version's liability,
    or nothing when a force-majeure incident covers it."""
    incident, case = run.incident, link.case
    if link.outcome in (Outcome.LIABILITY, Outcome.EXCLUDED):
        return "already_compensated"
    try:
        breach, _created = do_report_breach(
            actor=run.launched_by,
            now=now,
            case=case,
            source=Source.REPORT,
            description=f"{incident.code}: {incident.title}",
            promise_code=run.parameters["promise_code"],
            idempotency_key=breach_key(incident, case.pk),
        )
    except DomainError as exc:
        _settle_link(link, now, Outcome.SKIPPED, exc.code)
        return exc.code
    breach.refresh_from_db(fields=["exclusion", "status"])
    compensation = Compensation.objects.filter(breach=breach).first()
    outcome = Outcome.EXCLUDED if breach.exclusion == Exclusion.FORCE_MAJEURE else Outcome.LIABILITY
    _settle_link(link, now, outcome, compensation=compensation, breach_id=breach.pk)
    return None
