"""Breaches in the admin, read-only: they are verified and made good through the breach API."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from .models import Breach


@admin.register(Breach)
class BreachAdmin(admin.ModelAdmin):
    list_display = ("id", "case", "promise_code", "source", "status", "detected_at", "root_cause")
    list_filter = ("status", "source", "promise_code")
    search_fields = ("promise_code", "description", "root_cause", "case__external_ref")
    list_select_related = ("case__customer", "case__service")
    date_hierarchy = "detected_at"

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
