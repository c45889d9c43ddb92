"""The demo's complaints: opened as complaint cases and taken through the recovery steps as planned.

A planned complaint (`CasePlan.complaint`) is opened through `complaints.actions.do_open_complaint`
about the customer's stay when they have one, so it gets the recovery promises; its `recovery`
steps are recorded by `do_record_step` as they happened. At the offer, the customer centre
supervisor (a team lead, whose limit covers it) approves and issues the goodwill refund at once.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from promisedesk.breaches.compensations import do_approve_compensation, do_issue_compensation
from promisedesk.breaches.models import Compensation
from promisedesk.cases.models import Case, CaseKind
from promisedesk.complaints.actions import do_open_complaint, do_record_step
from promisedesk.complaints.models import Complaint, ComplaintCategory
from promisedesk.complaints.selectors import grant_key
from promisedesk.complaints.steps import StepFields

from . import catalogue
from .story import CasePlan, Step


def ensure_categories(report_created: dict[str, int]) -> None:
    """The complaint categories, created when missing (an edited one is left as the manager left it)."""
    existing = set(ComplaintCategory.objects.values_list("code", flat=True))
    for code, en, zh in catalogue.COMPLAINT_CATEGORIES:
        if code not in existing:
            ComplaintCategory.objects.create(code=code, name_en=en, name_zh=zh)
            report_created["complaint categories"] = report_created.get("complaint categories", 0) + 1


def _about(plan: CasePlan, customer_id: int, spec: dict[str, Any]) -> int | None:
    """The case complained about: the one the plan names, else the customer's latest stay before it."""
    if spec.get("about_ref"):
        return Case.objects.filter(external_ref=spec["about_ref"]).values_list("pk", flat=True).first()
    stays = Case.objects.filter(
        customer_id=customer_id,
        service__code=spec.get("about_service") or "",
        kind=CaseKind.SERVICE,
        opened_at__lte=plan.opened_at,
    )
    return stays.order_by("-opened_at", "-id").values_list("pk", flat=True).first()


def open_complaint(plan: CasePlan, actor: Any, customer_id: int) -> Case:
    spec = plan.complaint or {}
    complaint, _created = do_open_complaint(
        actor=actor,
        now=plan.opened_at,
        account=spec["account"],
        customer_id=customer_id,
        about_case_id=_about(plan, customer_id, spec),
        service_code=plan.service,
        channel=plan.channel,
        remedy_wanted=spec["remedy_wanted"],
        remedy_detail=spec.get("remedy_detail", ""),
        severity=spec["severity"],
        category=spec.get("category"),
        external_ref=plan.external_ref,
        opened_at=plan.opened_at,
        amount_in_dispute=plan.price,
    )
    return complaint.case


def play_recovery(case: Case, step: Step, actor: Any) -> None:
    """One recovery step as planned: {step, …its fields}; the offer's refund is approved and issued."""
    complaint = Complaint.objects.get(case=case)
    data = dict(step.data)
    name = data.pop("step")
    if step.note:
        data["note"] = step.note
    if "skip" in data:
        do_record_step(complaint, actor=actor, now=step.at, step=name, action="skip", reason=data["skip"])
        return
    if name == "offer":
        amount = Decimal(data.pop("amount"))
        fields = StepFields(compensation_kind="refund", compensation_amount=amount, **data)
        do_record_step(complaint, actor=actor, now=step.at, step=name, action="done", fields=fields)
        grant = Compensation.objects.get(grant_key=grant_key(complaint.pk))
        do_approve_compensation(grant, actor=actor, now=step.at)
        do_issue_compensation(grant, actor=actor, now=step.at)
        return
    do_record_step(complaint, actor=actor, now=step.at, step=name, action="done", fields=StepFields(**data))
