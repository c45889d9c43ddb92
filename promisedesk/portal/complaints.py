"""A complaint as the customer reads it: where it stands, in their words, and the complaints about a case.

Used by the case page: a complaint case shows its own stage in recovery terms; a service
case lists the complaints made about it (with the link to each), and offers a short form
to make one. No staff words (step codes, root causes, internal notes) reach the page.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.utils.translation import gettext_lazy

from promisedesk.breaches.models import Compensation
from promisedesk.cases.models import Case, CaseKind
from promisedesk.complaints.models import STEP_ORDER, Complaint, ComplaintStatus, Remedy, next_step
from promisedesk.complaints.selectors import grant_key

# What the customer is told, by the next step to be taken (None: every step is recorded).
WHERE_IT_STANDS: dict[str | None, Any] = {
    "listen": gettext_lazy("Received: we will contact you to hear what happened."),
    "apologise": gettext_lazy("We have heard what happened."),
    "collect_facts": gettext_lazy("We are looking into what happened."),
    "offer": gettext_lazy("We are working out how to put it right."),
    "tell_result": gettext_lazy("We have offered you a solution; we will tell you the result."),
    "follow_up": gettext_lazy("Resolved: we will check back with you that all is well."),
    None: gettext_lazy("We have checked back with you."),
}
CLOSED = gettext_lazy("Closed: thank you for telling us.")
# The remedies a customer may ask for on the page, in their words.
REMEDY_CHOICES: list[tuple[str, Any]] = [
    (Remedy.APOLOGY, gettext_lazy("An apology")),
    (Remedy.EXPLANATION, gettext_lazy("An explanation")),
    (Remedy.REDO, gettext_lazy("Do it again, or repair it")),
    (Remedy.REPLACEMENT, gettext_lazy("A replacement")),
    (Remedy.REFUND, gettext_lazy("A refund")),
    (Remedy.COMPENSATION, gettext_lazy("Compensation")),
    (Remedy.OTHER, gettext_lazy("Something else")),
]


@dataclass
class ComplaintStanding:
    complaint: Complaint
    case: Case
    step_number: int
    text: str
    compensation: Compensation | None

    @property
    def closed(self) -> bool:
        return self.complaint.status == ComplaintStatus.CLOSED

    @property
    def steps_total(self) -> int:
        return len(STEP_ORDER)


def standing(complaint: Complaint, compensation: Compensation | None = None) -> ComplaintStanding:
    """Where one complaint stands, from its (prefetched) steps."""
    taken = {row.step for row in complaint.steps.all()}
    current = next_step(taken)
    text = CLOSED if complaint.status == ComplaintStatus.CLOSED else WHERE_IT_STANDS[current]
    return ComplaintStanding(complaint, complaint.case, len(taken), str(text), compensation)


def own_complaint(case: Case) -> ComplaintStanding | None:
    """For a complaint case: where it stands and what it offers; None for any other case."""
    if case.kind != CaseKind.COMPLAINT:
        return None
    found = Complaint.objects.filter(case=case).select_related("case").prefetch_related("steps").first()
    if found is None:
        return None
    return standing(found, Compensation.objects.filter(grant_key=grant_key(found.pk)).first())


def complaints_about(case: Case) -> list[ComplaintStanding]:
    """The complaints made about case (only ever the same customer's: they are refused otherwise),
    in two queries however many there are."""
    found = (
        Complaint.objects.filter(case__about=case, case__customer_id=case.customer_id)
        .select_related("case")
        .prefetch_related("steps")
        .order_by("created_at", "id")
    )
    return [standing(c) for c in found[:20]]


def may_complain(case: Case) -> bool:
    """A complaint is made about a service case; a complaint case is answered on its own page."""
    return case.kind == CaseKind.SERVICE
