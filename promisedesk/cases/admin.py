"""Customers, services and cases in the admin. Cases and their timelines are read-only here:
they change through the case actions, which move the clocks with them."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.http import HttpRequest

from .models import Attachment, Case, CaseEvent, Customer, Service, StageLabel


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Customer)
class CustomerAdmin(admin.ModelAdmin):
    list_display = ("name", "tier", "email", "phone", "locale", "external_ref")
    list_filter = ("tier", "locale")
    search_fields = ("name", "email", "phone", "external_ref")
    readonly_fields = ("created_at",)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # customers arrive through intake (API, forms, integrations)


@admin.register(Service)
class ServiceAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "price", "currency")
    search_fields = ("code", "name")
    list_filter = ("currency",)

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> tuple[str, ...]:
        return ("code",) if obj is not None else ()  # promises refer to services by code


class EventInline(admin.TabularInline):
    model = CaseEvent
    fields = ("at", "type", "note", "actor", "system", "visible_to_customer", "recorded_at")
    readonly_fields = fields
    extra = 0
    can_delete = False
    ordering = ("at", "id")

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Case)
class CaseAdmin(ReadOnlyAdmin):
    list_display = (
        "id",
        "external_ref",
        "customer",
        "service",
        "channel",
        "priority",
        "stage",
        "department",
        "assignee",
        "opened_at",
    )
    list_filter = ("stage", "channel", "priority", "service", "department")
    search_fields = ("external_ref", "customer__name", "summary")
    list_select_related = ("customer", "service", "department", "assignee")
    date_hierarchy = "opened_at"
    inlines = (EventInline,)


class StageLabelForm(forms.ModelForm):
    class Meta:
        model = StageLabel
        fields = ("service", "stage", "label_en", "label_zh_hans", "substatuses")

    def clean_substatuses(self) -> list[dict[str, str]]:
        from promisedesk.errors import DomainError

        from .actions import normalise_substatuses

        try:
            return normalise_substatuses(self.cleaned_data.get("substatuses") or [])
        except DomainError as exc:
            raise forms.ValidationError(exc.message) from exc


@admin.register(StageLabel)
class StageLabelAdmin(admin.ModelAdmin):
    """The organisation's names for stages, also set on the desk's Stages page and with PUT /stage-labels."""

    form = StageLabelForm
    list_display = ("stage", "service", "label_en", "label_zh_hans")
    list_filter = ("stage", "service")
    list_select_related = ("service",)


@admin.register(Attachment)
class AttachmentAdmin(ReadOnlyAdmin):
    list_display = ("filename", "case", "content_type", "size", "uploaded_at")
    search_fields = ("filename", "sha256", "case__external_ref")
    list_select_related = ("case__customer", "case__service")
    date_hierarchy = "uploaded_at"


@admin.register(CaseEvent)
class CaseEventAdmin(ReadOnlyAdmin):
    list_display = ("case", "type", "at", "actor", "system", "visible_to_customer", "recorded_at")
    list_filter = ("system", "visible_to_customer", "type")
    search_fields = ("type", "note", "case__external_ref")
    list_select_related = ("case__customer", "case__service", "actor")
    date_hierarchy = "at"
