"""Breaches and make-good: a promise not kept, its verdict, and what the customer gets."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class Source(models.TextChoices):
    CLOCK = "clock", _("clock")
    CLAIM = "claim", _("customer claim")
    REPORT = "report", _("staff report")
    INSPECTION = "inspection", _("inspection")
    SURVEY = "survey", _("survey")


class Status(models.TextChoices):
    SUSPECTED = "suspected", _("suspected")
    VERIFIED = "verified", _("verified")
    REJECTED = "rejected", _("rejected")


class Exclusion(models.TextChoices):
    NONE = "", _("none")
    CUSTOMER_PAUSE = "customer_pause", _("paused by the customer longer than the promise allows")
    FORCE_MAJEURE = "force_majeure", _("force majeure incident")


class RootCause(models.Model):
    """A category of why promises break, maintained by the organisation."""

    code = models.SlugField(max_length=64, unique=True)
    name_en = models.CharField(max_length=200)
    name_zh = models.CharField(max_length=200)
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ["code"]

    def __str__(self) -> str:
        return self.code

    def name_in(self, language: str) -> str:
        return self.name_zh if language.lower().startswith("zh") else self.name_en


class Breach(models.Model):
    """One broken promise.

    A commitment is breached at most once: rejected claims aside, the unique
    constraint allows one breach row per commitment. `settled_at` marks that the
    make-good step (compensation and the message to the customer) has been done,
    so a worker that died in between finds the rest still to do.
    """

    case = models.ForeignKey("cases.Case", on_delete=models.CASCADE, related_name="breaches")
    commitment = models.ForeignKey(
        "commitments.Commitment", null=True, blank=True, on_delete=models.PROTECT, related_name="breaches"
    )
    promise_code = models.CharField(max_length=64, null=True, blank=True)
    source = models.CharField(max_length=12, choices=Source.choices)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.SUSPECTED)
    description = models.TextField(blank=True, default="")
    detected_at = models.DateTimeField(help_text="when the promise was broken (the due time for a clock)")
    recorded_at = models.DateTimeField()
    root_cause = models.CharField(max_length=64, blank=True, default="")
    reported_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    idempotency_key = models.CharField(max_length=200, null=True, blank=True, unique=True)
    verified_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    verified_at = models.DateTimeField(null=True, blank=True)
    verdict_note = models.TextField(blank=True, default="")
    exclusion = models.CharField(max_length=20, choices=Exclusion.choices, blank=True, default="")
    settled_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-detected_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["commitment"],
                condition=Q(commitment__isnull=False) & ~Q(status="rejected"),
                name="breach_once_per_commitment",
            ),
        ]
        indexes = [
            models.Index(
                fields=["recorded_at"],
                condition=Q(status="verified", settled_at__isnull=True),
                name="breach_to_settle",
            ),
            models.Index(fields=["status", "recorded_at"], name="breach_queue"),
            models.Index(fields=["verified_at"], condition=Q(status="verified"), name="breach_verified_at"),
            # The CAPA to-do list: verified breaches still waiting for their root cause.
            models.Index(
                fields=["detected_at"], condition=Q(status="verified", root_cause=""), name="breach_without_cause"
            ),
        ]

    def __str__(self) -> str:
        return f"breach of {self.promise_code or 'oral promise'} on case {self.case_id}"

    @staticmethod
    def initial_status(liability: dict | None) -> str:
        """Verified at once unless the promise pays only "once verified" (一经查实)."""
        if liability and liability.get("verification_required"):
            return Status.SUSPECTED
        return Status.VERIFIED


class CompensationStatus(models.TextChoices):
    PROPOSED = "proposed", _("proposed")
    APPROVED = "approved", _("approved")
    ISSUED = "issued", _("issued")
    DECLINED = "declined", _("declined")


KIND_LABELS = {
    "refund": _("refund"),
    "voucher": _("voucher"),
    "discount": _("discount"),
    "gift": _("gift"),
    "cash": _("cash"),
    "apology": _("apology"),
}


class Compensation(models.Model):
    """What the customer gets for one breach (at most one per breach, ever), or a grant.

    The amount is computed from the liability of the promise version the commitment
    was pinned to and the case's price, in the case's currency; `basis` keeps the
    inputs so the figure can be explained later. A grant is compensation offered
    without a broken promise (a complaint's remedy, an incident's voucher): it has no
    breach but a `grant_key` naming what it is for, unique, so it is offered once.
    """

    breach = models.OneToOneField(Breach, null=True, blank=True, on_delete=models.PROTECT, related_name="compensation")
    grant_key = models.CharField(
        max_length=120, null=True, blank=True, unique=True, help_text="what a grant is for, e.g. complaint:12"
    )
    reason = models.TextField(blank=True, default="", help_text="why a grant is offered")
    case = models.ForeignKey("cases.Case", on_delete=models.CASCADE, related_name="compensations")
    kind = models.CharField(max_length=16)
    amount = models.DecimalField(max_digits=14, decimal_places=3, null=True, blank=True)
    currency = models.CharField(max_length=3)
    status = models.CharField(max_length=10, choices=CompensationStatus.choices, default=CompensationStatus.PROPOSED)
    basis = models.JSONField(default=dict)
    reference = models.CharField(max_length=100, blank=True, default="", help_text="voucher code or refund reference")
    decline_reason = models.TextField(blank=True, default="")
    created_at = models.DateTimeField()
    approved_at = models.DateTimeField(null=True, blank=True)
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    issued_at = models.DateTimeField(null=True, blank=True)
    issued_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    declined_at = models.DateTimeField(null=True, blank=True)
    declined_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(amount__isnull=True) | Q(amount__gte=0), name="compensation_not_negative"
            ),
            models.CheckConstraint(
                condition=~Q(status="issued") | Q(amount__isnull=False), name="compensation_issued_has_amount"
            ),
            # Either it makes good on a breach or it is a named grant, never both and never neither.
            models.CheckConstraint(
                condition=Q(breach__isnull=False, grant_key__isnull=True)
                | Q(breach__isnull=True, grant_key__isnull=False),
                name="compensation_breach_or_grant",
            ),
        ]

    def __str__(self) -> str:
        what = f"breach {self.breach_id}" if self.breach_id else self.grant_key
        return f"{self.kind} {self.amount} {self.currency} for {what} ({self.status})"

    @property
    def kind_label(self) -> str:
        return str(KIND_LABELS.get(self.kind, self.kind))


class Role(models.TextChoices):
    AUTOMATIC = "automatic", _("automatic approval")
    AGENT = "agent", _("agent")
    TEAM_LEAD = "team_lead", _("team lead")
    MANAGER = "manager", _("manager")


class ApprovalLimit(models.Model):
    """The largest compensation a role may approve, per currency.

    Staff belong to roles through Django groups of the same name; superusers have
    no limit. The `automatic` row is what promisedesk approves by itself when a
    promise says its liability is automatic.
    """

    role = models.CharField(max_length=16, choices=Role.choices)
    currency = models.CharField(max_length=3)
    max_amount = models.DecimalField(max_digits=14, decimal_places=3)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["role", "currency"], name="approval_limit_once")]

    def __str__(self) -> str:
        return f"{self.role}: up to {self.max_amount} {self.currency}"
