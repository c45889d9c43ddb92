"""Escalations in the admin, read-only: chains are edited on the escalation page, through the actions."""

from __future__ import annotations

from django.contrib import admin

from promisedesk.commitments.admin import ReadOnlyAdmin

from .models import Escalation, EscalationLevel, EscalationPolicy


class LevelInline(admin.TabularInline):
    model = EscalationLevel
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False

    def has_change_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False


@admin.register(EscalationPolicy)
class EscalationPolicyAdmin(ReadOnlyAdmin):
    list_display = ("__str__", "updated_at", "updated_by")
    inlines = [LevelInline]


@admin.register(Escalation)
class EscalationAdmin(ReadOnlyAdmin):
    list_display = ("id", "case", "promise_code", "role", "status", "fire_at", "fired_at", "notify_at", "reason")
    list_filter = ("status", "role", "reason")
    search_fields = ("promise_code", "case__external_ref")
    raw_id_fields = ("case", "commitment")
    list_select_related = ("case__customer", "case__service")
    date_hierarchy = "fire_at"
