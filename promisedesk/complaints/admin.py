"""Complaint categories are reference data, kept by managers here; complaints themselves are
worked on the desk (their steps go through the actions), so the admin only shows them."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest
from django.urls import reverse

from .models import Complaint, ComplaintCategory, RecoveryStep


@admin.register(ComplaintCategory)
class ComplaintCategoryAdmin(admin.ModelAdmin):
    list_display = ("code", "name_en", "name_zh", "active")
    list_filter = ("active",)
    search_fields = ("code", "name_en", "name_zh")


class StepInline(admin.TabularInline):
    model = RecoveryStep
    extra = 0
    can_delete = False
    readonly_fields = ("step", "status", "reason", "actor", "at", "data")

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Complaint)
class ComplaintAdmin(admin.ModelAdmin):
    list_display = ("id", "case", "severity", "category", "status", "root_cause", "created_at")
    list_filter = ("status", "severity", "category")
    search_fields = ("account", "case__external_ref", "case__customer__name")
    list_select_related = ("case__customer", "case__service", "category")
    readonly_fields = [f.name for f in Complaint._meta.fields]
    inlines = [StepInline]

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def view_on_site(self, obj: Complaint) -> str:
        return reverse("complaints:complaint", args=[obj.pk])
