"""The promise catalogue in the admin.

A published version is immutable and shown read-only. A draft is edited through
do_edit_promise, and drafts are published or retired through the lifecycle actions.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, cast

from django import forms
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from promisedesk.errors import DomainError

from .actions import EDITABLE, do_edit_promise, do_publish_promise, do_retire_promise
from .models import Promise, PromiseVersion, VersionStatus
from .rules import normalise_applies_to, normalise_liability, normalise_standard, normalise_statement

if TYPE_CHECKING:
    from django.contrib.auth.models import User

LIFECYCLE = (
    "number",
    "status",
    "created_at",
    "created_by",
    "published_at",
    "published_by",
    "superseded_at",
    "retired_at",
    "retired_by",
)


class VersionInline(admin.TabularInline):
    model = PromiseVersion
    fields = ("number", "status", "title", "kind", "form", "published_at", "published_by")
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


def _each(request: HttpRequest, queryset: QuerySet[Promise], action: Any, done: str) -> None:
    for promise in queryset:
        try:
            action(actor=request.user, now=timezone.now(), code=promise.code)
        except DomainError as exc:
            messages.error(request, f"{promise.code}: {exc.message}")
        else:
            messages.success(request, f"{promise.code}: {done}")


@admin.register(Promise)
class PromiseAdmin(admin.ModelAdmin):
    list_display = ("code", "created_at")
    search_fields = ("code", "versions__title")
    readonly_fields = ("code", "created_at")
    inlines = (VersionInline,)
    actions = ("publish_draft", "retire_published")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # promises are written through the API, which checks the whole standard

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    @admin.action(description=_("Publish the draft"))
    def publish_draft(self, request: HttpRequest, queryset: QuerySet[Promise]) -> None:
        _each(request, queryset, do_publish_promise, "published")

    @admin.action(description=_("Retire the published version"))
    def retire_published(self, request: HttpRequest, queryset: QuerySet[Promise]) -> None:
        _each(request, queryset, do_retire_promise, "retired")


class VersionForm(forms.ModelForm):
    class Meta:
        model = PromiseVersion
        fields = EDITABLE

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if "applies_to" in self.fields:
            self.fields["applies_to"].required = False  # {} means "every case"

    def clean(self) -> dict[str, Any]:
        """The promise rules, so a bad standard is shown on its field instead of failing on save."""
        cleaned = super().clean() or {}
        if self.errors:
            return cleaned
        for name in ("statement", "standard", "liability", "applies_to"):
            if name in cleaned:
                try:
                    _check(name, cleaned[name], cleaned.get("kind", ""))
                except DomainError as exc:
                    self.add_error(name, exc.message)
        return cleaned


def _check(name: str, value: Any, kind: str) -> None:
    from promisedesk.cases.models import Service

    if name == "statement":
        normalise_statement(value)
    elif name == "standard":
        # the calendar is checked by the action, which looks it up
        normalise_standard({k: v for k, v in (value or {}).items() if k != "calendar"}, kind)
    elif name == "liability":
        normalise_liability(value)
    else:
        normalise_applies_to(value, known_services=set(Service.objects.values_list("code", flat=True)))


@admin.register(PromiseVersion)
class PromiseVersionAdmin(admin.ModelAdmin):
    form = VersionForm
    list_display = ("promise", "number", "title", "status", "kind", "coverage", "form", "calendar", "published_at")
    list_filter = ("status", "kind", "coverage", "form")
    search_fields = ("promise__code", "title")
    list_select_related = ("promise", "calendar")
    fields = ("promise", *EDITABLE, "calendar", *LIFECYCLE)

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> tuple[str, ...]:
        if obj is not None and obj.status != VersionStatus.DRAFT:
            return self.fields  # published versions are immutable
        # The calendar is part of the standard ({"calendar": id}); edit it there.
        return ("promise", "calendar", *LIFECYCLE)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def save_model(self, request: HttpRequest, obj: PromiseVersion, form: Any, change: bool) -> None:
        changes = {k: form.cleaned_data[k] for k in form.changed_data if k in EDITABLE}
        if not changes:
            return
        try:
            actor: User = cast("User", request.user)
            do_edit_promise(actor=actor, now=timezone.now(), code=obj.promise.code, **changes)
        except DomainError as exc:
            self.message_user(request, exc.message, level=messages.ERROR)
