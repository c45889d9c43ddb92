"""Breaches: a promise not kept on a case."""

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


class Breach(models.Model):
    """One broken promise. A commitment can be breached once, ever (unique constraint)."""

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
    root_cause = models.CharField(max_length=100, blank=True, default="")
    reported_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-detected_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["commitment"], condition=Q(commitment__isnull=False), name="breach_once_per_commitment"
            ),
        ]

    @staticmethod
    def initial_status(liability: dict | None) -> str:
        """Verified at once unless the promise pays only "once verified" (一经查实)."""
        if liability and liability.get("verification_required"):
            return Status.SUSPECTED
        return Status.VERIFIED

    def __str__(self) -> str:
        return f"breach of {self.promise_code or 'oral promise'} on case {self.case_id}"
