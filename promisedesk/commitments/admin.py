"""Commitment clocks in the admin, read-only: the clock engine and the actions move them."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from .models import Commitment, CommitmentAlert


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Commitment)
class CommitmentAdmin(ReadOnlyAdmin):
    list_display = ("id", "case", "promise_code", "version_number", "owner", "state", "due_at", "met_at", "breached_at")
    list_filter = ("state", "promise_code")
    search_fields = ("promise_code", "statement", "case__external_ref", "owner__username")
    list_select_related = ("case__customer", "case__service", "owner")
    date_hierarchy = "due_at"


@admin.register(CommitmentAlert)
class CommitmentAlertAdmin(ReadOnlyAdmin):
    list_display = ("commitment", "kind", "at", "recorded_at")
    list_filter = ("kind",)
    list_select_related = ("commitment",)
