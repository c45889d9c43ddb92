"""Corrective and preventive actions (CAPA): what the organisation changes after promises break.

An action names the root cause it addresses, the promise it should improve, an owner
and a due date. The due date is chased like any commitment (capa/chase.py): the owner
is reminded when three quarters of the time is used and, with their department's lead
and manager, told when it passes. Once done, a manager checks whether it worked,
helped by the promise's breach rate before and after (capa/effectiveness.py).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class Kind(models.TextChoices):
    CORRECTIVE = "corrective", _("corrective")
    PREVENTIVE = "preventive", _("preventive")


class ActionStatus(models.TextChoices):
    OPEN = "open", _("open")
    IN_PROGRESS = "in_progress", _("in progress")
    DONE = "done", _("done, awaiting check")
    CHECKED = "checked", _("checked")
    CANCELLED = "cancelled", _("cancelled")


# Statuses in which the owner still owes the work, so the due date is chased.
WORKING = (ActionStatus.OPEN, ActionStatus.IN_PROGRESS)


class Verdict(models.TextChoices):
    EFFECTIVE = "effective", _("effective")
    NOT_EFFECTIVE = "not_effective", _("not effective")


class AlertKind(models.TextChoices):
    DUE_SOON = "due_soon", _("three quarters of the time used")
    OVERDUE = "overdue", _("overdue")


# The share of the time from creation to the due date after which the owner is reminded.
DUE_SOON_SHARE = 0.75
DEFAULT_WINDOW_DAYS = 30
MAX_WINDOW_DAYS = 365


class CorrectiveAction(models.Model):
    """One corrective or preventive action, from open to checked (or cancelled with a reason).

    Invariants held by the database: a corrective action names its root cause; done
    and checked actions have `done_at`; a checked one has its verdict and who checked
    it, and only a checked one has a verdict; a cancelled one has its reason; only an
    action still being worked has a `next_check_at` (the next instant the chaser must
    look at it, read through a partial index so an idle pass costs one index probe).
    """

    kind = models.CharField(max_length=12, choices=Kind.choices, default=Kind.CORRECTIVE)
    title = models.CharField(max_length=200)
    description = models.TextField(blank=True, default="")
    root_cause = models.ForeignKey(
        "breaches.RootCause",
        to_field="code",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="capa_actions",
    )
    promise = models.ForeignKey(
        "promises.Promise", null=True, blank=True, on_delete=models.PROTECT, related_name="capa_actions"
    )
    breach = models.ForeignKey(
        "breaches.Breach", null=True, blank=True, on_delete=models.PROTECT, related_name="capa_actions"
    )
    incident = models.ForeignKey(
        "recovery.Incident", null=True, blank=True, on_delete=models.PROTECT, related_name="capa_actions"
    )
    complaint_case = models.ForeignKey(
        "cases.Case",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="capa_actions",
        help_text="the complaint (a case of kind complaint) that led to it",
    )
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="capa_actions")
    department = models.ForeignKey(
        "accounts.Department", null=True, blank=True, on_delete=models.SET_NULL, related_name="capa_actions"
    )
    status = models.CharField(max_length=12, choices=ActionStatus.choices, default=ActionStatus.OPEN)
    due_at = models.DateTimeField()
    window_days = models.PositiveSmallIntegerField(
        default=DEFAULT_WINDOW_DAYS, help_text="days before and after completion compared by the effectiveness check"
    )
    created_at = models.DateTimeField()
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    started_at = models.DateTimeField(null=True, blank=True)
    done_at = models.DateTimeField(null=True, blank=True)
    done_note = models.TextField(blank=True, default="")
    checked_at = models.DateTimeField(null=True, blank=True)
    checked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    verdict = models.CharField(max_length=14, choices=Verdict.choices, blank=True, default="")
    check_note = models.TextField(blank=True, default="")
    cancelled_at = models.DateTimeField(null=True, blank=True)
    cancel_reason = models.TextField(blank=True, default="")
    next_check_at = models.DateTimeField(null=True, blank=True, help_text="the next instant the chaser looks at it")

    class Meta:
        ordering = ["due_at", "id"]
        indexes = [
            models.Index(fields=["next_check_at"], condition=Q(next_check_at__isnull=False), name="capa_chase_due"),
            models.Index(fields=["status", "due_at"], name="capa_status_due"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=~Q(kind="corrective") | Q(root_cause__isnull=False), name="capa_corrective_has_root_cause"
            ),
            models.CheckConstraint(
                condition=~Q(status__in=["done", "checked"]) | Q(done_at__isnull=False), name="capa_done_has_time"
            ),
            models.CheckConstraint(
                condition=~Q(status="checked") | (Q(checked_at__isnull=False) & ~Q(verdict="")),
                name="capa_checked_has_verdict",
            ),
            models.CheckConstraint(
                condition=Q(status="checked") | Q(verdict=""), name="capa_verdict_only_when_checked"
            ),
            models.CheckConstraint(
                condition=~Q(status="cancelled") | (Q(cancelled_at__isnull=False) & ~Q(cancel_reason="")),
                name="capa_cancelled_has_reason",
            ),
            models.CheckConstraint(
                condition=Q(status__in=["open", "in_progress"]) | Q(next_check_at__isnull=True),
                name="capa_chased_only_while_worked",
            ),
            models.CheckConstraint(
                condition=Q(window_days__gte=1) & Q(window_days__lte=MAX_WINDOW_DAYS), name="capa_window_in_range"
            ),
            models.CheckConstraint(condition=Q(due_at__gt=models.F("created_at")), name="capa_due_after_creation"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} action {self.pk}: {self.title}"

    @property
    def is_working(self) -> bool:
        return self.status in WORKING

    def is_overdue(self, now: datetime) -> bool:
        return self.is_working and self.due_at <= now

    def due_soon_at(self) -> datetime:
        """The instant three quarters of the time from creation to the due date have passed."""
        return self.created_at + (self.due_at - self.created_at) * DUE_SOON_SHARE

    def next_chase(self, sent: set[str]) -> datetime | None:
        """The next instant the chaser must look, given the alert kinds already sent for the current due date."""
        if not self.is_working or AlertKind.OVERDUE in sent:
            return None
        if AlertKind.DUE_SOON not in sent:
            return self.due_soon_at()
        return self.due_at


class CapaAlert(models.Model):
    """A reminder sent about an action: once per action, kind and due date.

    Moving the due date later re-arms the chase for the new date (a new promise by the
    owner); the unique constraint makes a second reminder for the same date impossible,
    however many workers run.
    """

    action = models.ForeignKey(CorrectiveAction, on_delete=models.CASCADE, related_name="alerts")
    kind = models.CharField(max_length=10, choices=AlertKind.choices)
    due_at = models.DateTimeField(help_text="the due date the alert was about")
    recipients = models.JSONField(default=list)
    recorded_at = models.DateTimeField()

    class Meta:
        ordering = ["recorded_at", "id"]
        constraints = [models.UniqueConstraint(fields=["action", "kind", "due_at"], name="capa_alert_once")]

    def __str__(self) -> str:
        return f"{self.kind} alert on action {self.action_id}"


class CapaEvent(models.Model):
    """One entry of an action's history: who did what, when, and why. Append-only."""

    action = models.ForeignKey(CorrectiveAction, on_delete=models.CASCADE, related_name="events")
    type = models.CharField(max_length=32)
    at = models.DateTimeField()
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    note = models.TextField(blank=True, default="")
    data = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["at", "id"]
        indexes = [models.Index(fields=["action", "at"], name="capa_event_action_at")]

    def __str__(self) -> str:
        return f"{self.type} on action {self.action_id}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        # History is written once; a correction is a new entry, never an edit.
        if self.pk is not None and not self._state.adding:
            raise ValueError("an action's history is append-only")
        super().save(*args, **kwargs)
