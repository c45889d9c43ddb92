"""Complaints as recovery cases: what the customer said and wants, and the recovery steps taken.

A complaint is a case of kind `complaint` (so its recovery promises run on the same
clocks as any other promise) with one `Complaint` row beside it holding what only a
complaint has. The six recovery steps are recorded once each, in order; a skipped
step carries its reason, which the database insists on.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class Remedy(models.TextChoices):
    """What the customer says would put it right."""

    APOLOGY = "apology", _("an apology")
    EXPLANATION = "explanation", _("an explanation")
    REDO = "redo", _("redo or repair")
    REPLACEMENT = "replacement", _("a replacement")
    REFUND = "refund", _("a refund")
    COMPENSATION = "compensation", _("compensation")
    OTHER = "other", _("something else")


class Severity(models.TextChoices):
    LOW = "low", _("low")
    MEDIUM = "medium", _("medium")
    HIGH = "high", _("high")
    CRITICAL = "critical", _("critical")


# A complaint case is worked at the priority its severity calls for.
SEVERITY_PRIORITY = {"low": "low", "medium": "normal", "high": "high", "critical": "urgent"}


class ComplaintStatus(models.TextChoices):
    OPEN = "open", _("open")
    RESOLVED = "resolved", _("resolved")
    CLOSED = "closed", _("closed")


class Step(models.TextChoices):
    """The recovery steps, in the order they are taken."""

    LISTEN = "listen", _("Listen")
    APOLOGISE = "apologise", _("Apologise")
    COLLECT_FACTS = "collect_facts", _("Collect the facts")
    OFFER = "offer", _("Offer a solution")
    TELL_RESULT = "tell_result", _("Tell the result")
    FOLLOW_UP = "follow_up", _("Follow up")


STEP_ORDER: tuple[str, ...] = tuple(Step.values)


def next_step(taken: Iterable[str]) -> str | None:
    """The first recovery step neither done nor skipped, given the steps recorded (None: all are)."""
    recorded = set(taken)
    return next((step for step in STEP_ORDER if step not in recorded), None)


class StepStatus(models.TextChoices):
    DONE = "done", _("done")
    SKIPPED = "skipped", _("skipped")


class ComplaintCategory(models.Model):
    """What a complaint is about (billing, staff attitude, cleanliness …); kept by managers."""

    code = models.SlugField(max_length=64, unique=True)
    name_en = models.CharField(max_length=200)
    name_zh = models.CharField(max_length=200)
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ["code"]
        verbose_name_plural = "complaint categories"

    def __str__(self) -> str:
        return self.code

    def name_in(self, language: str) -> str:
        return self.name_zh if language.lower().startswith("zh") else self.name_en


class Complaint(models.Model):
    """What a complaint case holds beyond any case.

    `case` is the complaint case itself (kind complaint; `case.about` is the case complained
    about, or none for a general complaint). `account` is the customer's own words, kept as
    given. A closed complaint always has a root cause, and a complaint raised by a breach
    is raised once for it (`source_breach` is unique); both are database constraints.
    """

    case = models.OneToOneField("cases.Case", on_delete=models.CASCADE, related_name="complaint")
    account = models.TextField(help_text="the customer's account, verbatim")
    remedy_wanted = models.CharField(max_length=16, choices=Remedy.choices, default=Remedy.OTHER)
    remedy_detail = models.TextField(blank=True, default="")
    severity = models.CharField(max_length=10, choices=Severity.choices, default=Severity.MEDIUM)
    category = models.ForeignKey(
        ComplaintCategory, null=True, blank=True, on_delete=models.PROTECT, related_name="complaints"
    )
    root_cause = models.CharField(max_length=64, blank=True, default="", help_text="code of a breaches.RootCause")
    status = models.CharField(max_length=10, choices=ComplaintStatus.choices, default=ComplaintStatus.OPEN)
    follow_up_due_at = models.DateTimeField(null=True, blank=True)
    follow_up_commitment = models.OneToOneField(
        "commitments.Commitment", null=True, blank=True, on_delete=models.SET_NULL, related_name="follow_up_of"
    )
    source_breach = models.OneToOneField(
        "breaches.Breach",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="raised_complaint",
        help_text="the verified breach that raised this complaint by itself",
    )
    created_at = models.DateTimeField()
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    resolved_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["status", "severity"], name="complaint_queue")]
        constraints = [
            # "Every closed complaint gets a root-cause category."
            models.CheckConstraint(
                condition=~Q(status="closed") | (~Q(root_cause="") & Q(closed_at__isnull=False)),
                name="complaint_closed_has_root_cause",
            ),
            models.CheckConstraint(
                condition=Q(status="open") | Q(resolved_at__isnull=False),
                name="complaint_resolved_has_time",
            ),
        ]

    def __str__(self) -> str:
        return f"complaint {self.pk} (case {self.case_id})"


class RecoveryStep(models.Model):
    """One recovery step of a complaint, done or skipped, once.

    Steps are recorded in order (the actions check that every earlier step is recorded);
    the unique constraint makes a step happen once however often it is sent, and the check
    constraint refuses a skip without its reason.
    """

    complaint = models.ForeignKey(Complaint, on_delete=models.CASCADE, related_name="steps")
    step = models.CharField(max_length=16, choices=Step.choices)
    status = models.CharField(max_length=8, choices=StepStatus.choices)
    reason = models.TextField(blank=True, default="", help_text="why the step was skipped")
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    at = models.DateTimeField()
    data = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["complaint", "step"], name="recovery_step_once"),
            models.CheckConstraint(
                condition=~Q(status="skipped") | ~Q(reason=""), name="recovery_step_skip_has_reason"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.step} {self.status} on complaint {self.complaint_id}"
