"""Incidents in the admin, read-only: they are declared, attached, told and compensated through
the incident actions (the API or the desk's incident page, which "View on site" opens), which
record who did what and never do anything twice."""

from __future__ import annotations

from django.contrib import admin
from django.urls import reverse

from promisedesk.breaches.admin import ReadOnlyAdmin

from .models import BulkRun, Incident, IncidentCase


@admin.register(Incident)
class IncidentAdmin(ReadOnlyAdmin):
    list_display = ("code", "title", "starts_at", "ends_at", "status", "force_majeure", "created_by")
    list_filter = ("status", "force_majeure")
    search_fields = ("code", "title", "reason")
    date_hierarchy = "starts_at"

    def view_on_site(self, obj: Incident) -> str:
        return reverse("recovery:incident", args=[obj.pk])


@admin.register(IncidentCase)
class IncidentCaseAdmin(ReadOnlyAdmin):
    list_display = ("incident", "case", "method", "attached_at", "notified_at", "outcome")
    list_filter = ("method", "outcome")
    search_fields = ("incident__code", "case__external_ref")
    list_select_related = ("incident", "case__customer", "case__service")


@admin.register(BulkRun)
class BulkRunAdmin(ReadOnlyAdmin):
    list_display = ("incident", "kind", "status", "processed", "total", "started_at", "finished_at", "launched_by")
    list_filter = ("kind", "status")
    list_select_related = ("incident", "launched_by")
