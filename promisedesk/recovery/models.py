"""Incidents: one event outside a single case (a delayed flight, an outage) affecting many."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.conf import settings
from django.db import models

if TYPE_CHECKING:
    from promisedesk.cases.models import Case


class Incident(models.Model):
    """An incident groups the cases it affected; force majeure lifts their promises' liability."""

    title = models.CharField(max_length=200)
    reason = models.TextField(blank=True, default="")
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField(null=True, blank=True)
    force_majeure = models.BooleanField(default=False)
    cases: models.ManyToManyField[Case, IncidentCase] = models.ManyToManyField(
        "cases.Case", through="IncidentCase", related_name="incidents"
    )
    created_at = models.DateTimeField()
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-starts_at"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(ends_at__isnull=True) | models.Q(ends_at__gt=models.F("starts_at")),
                name="incident_ends_after_start",
            )
        ]

    def __str__(self) -> str:
        return self.title

    def covers(self, moment: object) -> bool:
        return self.starts_at <= moment and (self.ends_at is None or moment <= self.ends_at)  # type: ignore[operator]


class IncidentCase(models.Model):
    """A case affected by an incident; attached once."""

    incident = models.ForeignKey(Incident, on_delete=models.CASCADE)
    case = models.ForeignKey("cases.Case", on_delete=models.CASCADE)
    attached_at = models.DateTimeField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["incident", "case"], name="incident_case_once")]

    def __str__(self) -> str:
        return f"case {self.case_id} in incident {self.incident_id}"
