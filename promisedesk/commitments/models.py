"""Commitments: one promise kept (or not) on one case, with its clock."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class State(models.TextChoices):
    PENDING = "pending", _("pending")
    RUNNING = "running", _("running")
    PAUSED = "paused", _("paused")
    MET = "met", _("met")
    BREACHED = "breached", _("breached")
    CANCELLED = "cancelled", _("cancelled")


OPEN_STATES = (State.PENDING, State.RUNNING, State.PAUSED)


class Commitment(models.Model):
    """A promise applied to a case, pinned to the version in force when the case started.

    Oral promises made by staff have no promise version: their statement, owner and
    due time are their own. The clock's history is kept as closed running segments
    so that a calendar change can recompute the due time from it.
    `next_check_at` is the next instant the sweeper must look at this row (warning,
    due time or scheduled start); it is null on every clock that needs no sweep.
    """

    case = models.ForeignKey("cases.Case", on_delete=models.CASCADE, related_name="commitments")
    promise_version = models.ForeignKey(
        "promises.PromiseVersion", null=True, blank=True, on_delete=models.PROTECT, related_name="commitments"
    )
    promise_code = models.CharField(max_length=64, null=True, blank=True)
    version_number = models.PositiveIntegerField(null=True, blank=True)
    statement = models.TextField(blank=True, default="")
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="commitments"
    )
    rules = models.JSONField(default=dict, help_text="start_on, stop_on, pause_on, resume_on event lists")
    calendar = models.ForeignKey(
        "calendars.BusinessCalendar", null=True, blank=True, on_delete=models.PROTECT, related_name="commitments"
    )
    target_us = models.BigIntegerField(null=True, blank=True, help_text="business microseconds allowed")
    warn_rule = models.CharField(max_length=32, null=True, blank=True)
    liability = models.JSONField(null=True, blank=True)

    state = models.CharField(max_length=10, choices=State.choices, default=State.PENDING)
    scheduled_start = models.DateTimeField(null=True, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    segment_started_at = models.DateTimeField(null=True, blank=True)
    consumed_us = models.BigIntegerField(default=0)
    segments = models.JSONField(default=list, help_text="closed running segments [[start, end], …] in epoch µs")
    paused_at = models.DateTimeField(null=True, blank=True)
    due_at = models.DateTimeField(null=True, blank=True)
    warn_at = models.DateTimeField(null=True, blank=True)
    warned_at = models.DateTimeField(null=True, blank=True)
    met_at = models.DateTimeField(null=True, blank=True)
    breached_at = models.DateTimeField(null=True, blank=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)
    stopped_at = models.DateTimeField(null=True, blank=True, help_text="when a breached clock was finally stopped")
    next_check_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["due_at", "id"]
        indexes = [
            models.Index(
                fields=["next_check_at"], condition=Q(next_check_at__isnull=False), name="commitment_due_sweep"
            ),
            models.Index(fields=["state", "due_at"], name="commitment_state_due"),
            # CAPA's effectiveness counts a promise's commitments by state before and after an action.
            models.Index(fields=["promise_code", "state"], name="commitment_promise_state"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["case", "promise_version"],
                condition=Q(promise_version__isnull=False),
                name="commitment_one_per_promise_per_case",
            ),
            models.CheckConstraint(
                condition=~Q(state="breached") | Q(breached_at__isnull=False), name="commitment_breach_has_time"
            ),
            models.CheckConstraint(condition=~Q(state="met") | Q(met_at__isnull=False), name="commitment_met_has_time"),
        ]

    def __str__(self) -> str:
        return f"{self.promise_code or 'oral'} on case {self.case_id} ({self.state})"

    @property
    def is_open(self) -> bool:
        return self.state in OPEN_STATES

    def label(self, language: str = "en") -> str:
        if self.promise_version_id is not None:
            return self.promise_version.title  # type: ignore[union-attr]
        return self.statement


class CommitmentAlert(models.Model):
    """A warning that a commitment is at risk, recorded once per commitment, kind and instant."""

    commitment = models.ForeignKey(Commitment, on_delete=models.CASCADE, related_name="alerts")
    kind = models.CharField(max_length=16, default="at_risk")
    at = models.DateTimeField(help_text="the instant the threshold was crossed")
    recorded_at = models.DateTimeField()

    class Meta:
        constraints = [
            # Once per threshold crossing: a clock restarted for a rebooked appointment warns anew.
            models.UniqueConstraint(fields=["commitment", "kind", "at"], name="commitment_alert_once"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} on commitment {self.commitment_id}"
