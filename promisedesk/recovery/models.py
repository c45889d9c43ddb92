"""Incidents: one event outside a single case (a delayed flight, an outage) affecting many.

An incident groups the cases it affected (`IncidentCase`, attached once each). Telling
every affected customer and compensating them are bulk runs (`BulkRun`), worked through
in batches by the worker so that thousands of cases are handled in one go, with progress,
and resumed where they stopped after a crash. Every per-case step is guarded by a
database constraint, so a run repeated or raced never writes anything twice.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

if TYPE_CHECKING:
    from promisedesk.cases.models import Case, Service


class IncidentStatus(models.TextChoices):
    OPEN = "open", _("open")
    CLOSED = "closed", _("closed")


class Incident(models.Model):
    """An incident groups the cases it affected; force majeure lifts their promises' liability.

    `reason` (and `reason_en` for customers who read English) is what customers are told;
    `new_time` is the new time they are given ("your new departure time"), if any. The
    span `starts_at`–`ends_at` (open-ended while `ends_at` is empty) is what attaching by
    query and the force-majeure exclusion look at. Marking and unmarking force majeure
    records who, when and why (`history` keeps every change).
    """

    code = models.CharField(max_length=40, unique=True, help_text="a short reference, e.g. ES5199-0302")
    title = models.CharField(max_length=200)
    reason = models.TextField(blank=True, default="")
    reason_en = models.TextField(blank=True, default="", help_text="the reason in English; empty: `reason` is used")
    new_time = models.DateTimeField(null=True, blank=True, help_text="the new time customers are given, if any")
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField(null=True, blank=True)
    services: models.ManyToManyField[Service, models.Model] = models.ManyToManyField(
        "cases.Service", blank=True, related_name="incidents"
    )
    locations = models.JSONField(default=list, blank=True, help_text="places affected, e.g. airports or districts")
    force_majeure = models.BooleanField(default=False)
    force_majeure_reason = models.TextField(blank=True, default="")
    force_majeure_at = models.DateTimeField(null=True, blank=True)
    force_majeure_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    status = models.CharField(max_length=8, choices=IncidentStatus.choices, default=IncidentStatus.OPEN)
    closed_at = models.DateTimeField(null=True, blank=True)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    history = models.JSONField(default=list, blank=True, help_text="[{at, by, action, reason}, …] appended only")
    cases: models.ManyToManyField[Case, IncidentCase] = models.ManyToManyField(
        "cases.Case", through="IncidentCase", related_name="incidents"
    )
    created_at = models.DateTimeField()
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-starts_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(ends_at__isnull=True) | models.Q(ends_at__gt=models.F("starts_at")),
                name="incident_ends_after_start",
            ),
            models.CheckConstraint(
                condition=Q(status="open", closed_at__isnull=True) | Q(status="closed", closed_at__isnull=False),
                name="incident_closed_has_time",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.title}"

    def covers(self, moment: datetime) -> bool:
        return self.starts_at <= moment and (self.ends_at is None or moment <= self.ends_at)

    def reason_in(self, language: str) -> str:
        """The reason in language (zh… or en), falling back to the other wording."""
        if language.lower().startswith("en") and self.reason_en.strip():
            return self.reason_en
        return self.reason or self.reason_en

    @property
    def is_open(self) -> bool:
        return self.status == IncidentStatus.OPEN


class AttachMethod(models.TextChoices):
    QUERY = "query", _("by query")
    CSV = "csv", _("by CSV upload")
    API = "api", _("by list of references")


class Outcome(models.TextChoices):
    """What the compensation run did for one affected case."""

    NONE = "", _("not yet")
    GRANTED = "granted", _("granted")
    LIABILITY = "liability", _("breach reported, paid by the promise")
    EXCLUDED = "excluded", _("force majeure: nothing owed")
    SKIPPED = "skipped", _("skipped")


class IncidentCase(models.Model):
    """A case affected by an incident; attached once, told once, compensated once.

    `notified_at` is set by compare-and-set in the same transaction as the customer's
    messages and the notice on their timeline, so a case is never told twice.
    """

    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="affected")
    case = models.ForeignKey("cases.Case", on_delete=models.CASCADE, related_name="incident_links")
    attached_at = models.DateTimeField()
    attached_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    method = models.CharField(max_length=8, choices=AttachMethod.choices, default=AttachMethod.API)
    notified_at = models.DateTimeField(null=True, blank=True)
    compensated_at = models.DateTimeField(null=True, blank=True, help_text="when the compensation run dealt with it")
    outcome = models.CharField(max_length=10, choices=Outcome.choices, blank=True, default="")
    outcome_note = models.CharField(
        max_length=200, blank=True, default="", help_text="why it was skipped: a code (recovery.display)"
    )
    compensation = models.ForeignKey(
        "breaches.Compensation", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    breach = models.ForeignKey("breaches.Breach", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["incident", "case"], name="incident_case_once"),
            models.CheckConstraint(
                condition=Q(compensated_at__isnull=True, outcome="") | Q(compensated_at__isnull=False) & ~Q(outcome=""),
                name="incident_case_outcome_when_compensated",
            ),
        ]

    def __str__(self) -> str:
        return f"case {self.case_id} in incident {self.incident_id}"

    @property
    def note_text(self) -> str:
        """The outcome note in words, in the active language."""
        from .display import outcome_note_text

        return outcome_note_text(self.outcome_note, self.case.currency) if self.outcome_note else ""


class RunKind(models.TextChoices):
    NOTIFY = "notify", _("notify")
    COMPENSATE = "compensate", _("compensate")


class RunStatus(models.TextChoices):
    RUNNING = "running", _("running")
    DONE = "done", _("done")
    FAILED = "failed", _("failed")
    CANCELLED = "cancelled", _("cancelled")


class BulkRun(models.Model):
    """One bulk operation over an incident's cases, worked through in batches by the worker.

    The run covers the cases attached when it was launched (`IncidentCase.id <= last_id`);
    `cursor` is the last one done, moved by compare-and-set with the batch that did them,
    so a worker that dies mid-batch leaves the cursor where the last committed batch left
    it. At most one run of a kind is running per incident (a database constraint).
    """

    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="runs")
    kind = models.CharField(max_length=10, choices=RunKind.choices)
    parameters = models.JSONField(default=dict, blank=True, help_text="the message, or the compensation rule")
    status = models.CharField(max_length=10, choices=RunStatus.choices, default=RunStatus.RUNNING)
    total = models.PositiveIntegerField(default=0)
    processed = models.PositiveIntegerField(default=0)
    changed = models.PositiveIntegerField(default=0, help_text="cases this run told or compensated")
    skipped = models.PositiveIntegerField(default=0, help_text="cases done before, or not applicable")
    skip_reasons = models.JSONField(default=dict, blank=True, help_text="{reason: count}")
    cursor = models.BigIntegerField(default=0, help_text="the last IncidentCase id done")
    last_id = models.BigIntegerField(default=0, help_text="the last IncidentCase id the run covers")
    last_error = models.TextField(blank=True, default="", help_text="why it stopped: a code (recovery.display)")
    error_params = models.JSONField(default=dict, blank=True, help_text="the parameters of last_error's wording")
    started_at = models.DateTimeField()
    updated_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)
    launched_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-started_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["incident", "kind"], condition=Q(status="running"), name="bulk_run_one_running"
            ),
            models.CheckConstraint(condition=Q(processed__lte=models.F("total")), name="bulk_run_processed_le_total"),
            models.CheckConstraint(
                condition=Q(status="running", finished_at__isnull=True) | ~Q(status="running"),
                name="bulk_run_running_unfinished",
            ),
        ]
        indexes = [models.Index(fields=["started_at"], condition=Q(status="running"), name="bulk_run_running")]

    def __str__(self) -> str:
        return f"{self.kind} run {self.pk} of incident {self.incident_id} ({self.status})"

    @property
    def percent(self) -> int:
        return 100 if not self.total else min(100, self.processed * 100 // self.total)

    @property
    def is_running(self) -> bool:
        return self.status == RunStatus.RUNNING

    @property
    def error_text(self) -> str:
        """Why the run stopped, in words, in the active language."""
        from .display import run_error_text

        return run_error_text(self.last_error, self.error_params) if self.last_error else ""
