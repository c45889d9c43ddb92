"""API tokens in the admin: seen and revoked here, issued with `promisedesk createtoken`."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from .models import ApiToken, Department


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    list_display = ("user", "label", "created_at", "last_used_at")
    list_filter = ("created_at",)
    search_fields = ("user__username", "label")
    readonly_fields = ("user", "digest", "created_at", "last_used_at")
    fields = ("user", "label", "digest", "created_at", "last_used_at")
    list_select_related = ("user",)

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # the raw token is shown once, by the command that makes it


@admin.register(Department)
class DepartmentAdmin(admin.ModelAdmin):
    """Teams that work cases; the lead and manager are whom at-risk warnings escalate to."""

    list_display = ("code", "name", "lead", "manager")
    search_fields = ("code", "name")
    list_select_related = ("lead", "manager")
    filter_horizontal = ("members",)
