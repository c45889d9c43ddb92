"""Breaches and compensations in the admin.

Breaches and compensations are read-only here: they are verified, approved, issued
and declined through the breach actions (the API, or the staff desk's case page,
breach queue and ledger, which "View on site" opens), which record who did what and
pay at most once. Root causes and approval limits are reference data and edited here.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest
from django.urls import reverse

from .models import ApprovalLimit, Breach, Compensation, RootCause


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Breach)
class BreachAdmin(ReadOnlyAdmin):
    list_display = ("id", "case", "promise_code", "source", "status", "detected_at", "root_cause", "verified_at")
    list_filter = ("status", "source", "exclusion", "promise_code")
    search_fields = ("promise_code", "description", "root_cause", "case__external_ref")
    list_select_related = ("case__customer", "case__service")
    date_hierarchy = "detected_at"

    def view_on_site(self, obj: Breach) -> str:
        return reverse("desk:case", args=[obj.case_id]) + f"#breach-{obj.pk}"


@admin.register(Compensation)
class CompensationAdmin(ReadOnlyAdmin):
    list_display = (
        "id",
        "breach",
        "grant_key",
        "case",
        "kind",
        "amount",
        "currency",
        "status",
        "created_at",
        "issued_at",
    )
    list_filter = ("status", "kind", "currency")
    search_fields = ("reference", "case__external_ref", "breach__promise_code")
    list_select_related = ("breach", "case__customer", "case__service")
    date_hierarchy = "created_at"

    def view_on_site(self, obj: Compensation) -> str:
        anchor = f"#breach-{obj.breach_id}" if obj.breach_id else ""
        return reverse("desk:case", args=[obj.case_id]) + anchor


@admin.register(RootCause)
class RootCauseAdmin(admin.ModelAdmin):
    list_display = ("code", "name_en", "name_zh", "active")
    list_filter = ("active",)
    search_fields = ("code", "name_en", "name_zh")

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # verdicts refer to root causes by code; retire one by unticking "active"


@admin.register(ApprovalLimit)
class ApprovalLimitAdmin(admin.ModelAdmin):
    list_display = ("role", "currency", "max_amount")
    list_filter = ("role", "currency")
