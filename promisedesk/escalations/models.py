"""Escalation chains and the escalations they schedule.

A chain (EscalationPolicy + its levels) says who is told when a promise is at risk:
the owner, then the team lead, then the manager, each at its own share of the
promise's target business time. The organisation's default chain has the empty
promise code; a promise may have a chain of its own.

An Escalation is one level of one chain for one run of one commitment's clock. It
is scheduled when the clock's at-risk warning (or, for a clock that never warns,
its breach) is recorded, waits in the partial index `escalation_due` until its
instant comes, and then ends fired (someone was told), skipped (nobody to tell,
with the reason) or void (the clock stopped or restarted first, with the reason).
"""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

DEFAULT_KEY = ""  # the promise code of the organisation's default chain


class Role(models.TextChoices):
    OWNER = "owner", _("owner")
    TEAM_LEAD = "team_lead", _("team lead")
    MANAGER = "manager", _("manager")


# Up the chain: a level of a higher rank must come at a higher threshold.
ROLE_RANK = {Role.OWNER: 0, Role.TEAM_LEAD: 1, Role.MANAGER: 2}


class EscalationPolicy(models.Model):
    """Who is told when a promise is at risk: the default chain (promise_code "") or one promise's own."""

    promise_code = models.CharField(max_length=64, unique=True, blank=True)
    updated_at = models.DateTimeField()
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["promise_code"]
        verbose_name_plural = "escalation policies"

    def __str__(self) -> str:
        return self.promise_code or "default"

    @property
    def is_default(self) -> bool:
        return self.promise_code == DEFAULT_KEY


class EscalationLevel(models.Model):
    """One step of a chain: a role told when this share of the target business time is used.

    `threshold` is a percentage (0 < t ≤ 100); null means "at the promise's own
    at-risk warning" and is allowed only on the first level of a chain.
    """

    policy = models.ForeignKey(EscalationPolicy, on_delete=models.CASCADE, related_name="levels")
    role = models.CharField(max_length=16, choices=Role.choices)
    threshold = models.DecimalField(max_digits=5, decimal_places=2, null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["policy", "role"], name="escalation_level_once_per_role"),
            models.CheckConstraint(
                condition=Q(threshold__isnull=True) | (Q(threshold__gt=0) & Q(threshold__lte=100)),
                name="escalation_level_threshold_percent",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.role} at {self.threshold if self.threshold is not None else 'warning'}"


class Trigger(models.TextChoices):
    AT_RISK = "at_risk", _("at-risk warning")
    BREACH = "breach", _("breach")


class Status(models.TextChoices):
    # "scheduled", not "pending": the desk's catalogue words "pending" for a clock not yet started.
    PENDING = "pending", _("scheduled")
    FIRED = "fired", _("told")
    SKIPPED = "skipped", _("skipped")
    VOID = "void", _("void")


DONE_STATUSES = (Status.FIRED, Status.SKIPPED, Status.VOID)


class Reason(models.TextChoices):
    """Why a level told nobody (skipped) or no longer applies (void)."""

    NO_OWNER = "no_owner", _("the promise has no owner and the case no assignee")
    NO_DEPARTMENT = "no_department", _("the case has no department")
    NO_TEAM_LEAD = "no_team_lead", _("the department has no team lead")
    NO_MANAGER = "no_manager", _("the department has no manager and nobody is in the manager group")
    NO_EMAIL = "no_email", _("nobody to tell has an email address")
    MET = "met", _("the promise was kept first")
    CANCELLED = "cancelled", _("the promise was withdrawn first")
    RESTARTED = "restarted", _("the clock was restarted; the new run escalates anew")


class Escalation(models.Model):
    """One level of a chain for one run of one commitment's clock: told once, skipped or void.

    The run is named by the clock's `started_at` (a clock restarted for a rebooked
    appointment starts a new run and warns anew). While pending, `fire_at` is the
    next instant to look at the row; when done it is the instant the threshold was
    reached, `fired_at` when the row was settled and `notify_at` when the message
    is released (the next working instant of the promise's calendar).
    """

    commitment = models.ForeignKey("commitments.Commitment", on_delete=models.CASCADE, related_name="escalations")
    case = models.ForeignKey("cases.Case", on_delete=models.CASCADE, related_name="escalations")
    promise_code = models.CharField(max_length=64, null=True, blank=True)
    run_started_at = models.DateTimeField(help_text="the clock run this belongs to (its started_at)")
    role = models.CharField(max_length=16, choices=Role.choices)
    threshold = models.DecimalField(max_digits=5, decimal_places=2, null=True, blank=True)
    trigger = models.CharField(max_length=8, choices=Trigger.choices, default=Trigger.AT_RISK)
    cycle_at = models.DateTimeField(help_text="when the chain began: the warning or the breach")
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.PENDING)
    fire_at = models.DateTimeField(null=True, blank=True)
    fired_at = models.DateTimeField(null=True, blank=True)
    notify_at = models.DateTimeField(null=True, blank=True)
    recipients = models.JSONField(default=list, blank=True, help_text="[{id, username, email}] of those told")
    reason = models.CharField(max_length=16, choices=Reason.choices, blank=True, default="")
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["-id"]
        constraints = [
            # Each level of each run fires once, however many workers schedule it.
            models.UniqueConstraint(fields=["commitment", "role", "run_started_at"], name="escalation_once_per_run"),
            models.CheckConstraint(
                condition=~Q(status="pending") | Q(fire_at__isnull=False), name="escalation_pending_has_time"
            ),
            models.CheckConstraint(
                condition=Q(status="pending") | Q(fired_at__isnull=False), name="escalation_done_has_time"
            ),
            models.CheckConstraint(
                condition=~Q(status__in=["skipped", "void"]) | ~Q(reason=""), name="escalation_skip_has_reason"
            ),
        ]
        indexes = [
            models.Index(fields=["fire_at"], condition=Q(status="pending"), name="escalation_due"),
            models.Index(fields=["case", "status"], name="escalation_case_status"),
        ]

    def __str__(self) -> str:
        return f"{self.role} on commitment {self.commitment_id} ({self.status})"

    @property
    def usernames(self) -> list[str]:
        return [r.get("username", "") for r in self.recipients or []]

    def threshold_label(self) -> str:
        return format_threshold(self.threshold)


def format_threshold(value: Decimal | None) -> str:
    if value is None:
        return str(_("at the warning"))
    return f"{value.normalize():f} %"


class EscalationCursor(models.Model):
    """How far a stream of records (at-risk alerts, clock breaches) has been read, by id."""

    stream = models.CharField(max_length=32, unique=True)
    last_id = models.BigIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.stream} after {self.last_id}"
