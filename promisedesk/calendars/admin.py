"""Business calendars in the admin. Changes go through the calendar actions, so open clocks are recomputed."""

from __future__ import annotations

from datetime import date
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django import forms
from django.contrib import admin
from django.http import HttpRequest
from django.utils import timezone

from promisedesk.errors import DomainError
from promisedesk.lib.businesstime import parse_weekly_hours

from .actions import do_change_calendar, do_create_calendar
from .models import BusinessCalendar

EDITABLE = ("name", "timezone", "weekly_hours", "holidays", "extra_workdays")


class CalendarForm(forms.ModelForm):
    """Checks what the calendar actions check, so that saving cannot fail after the form said yes."""

    class Meta:
        model = BusinessCalendar
        fields = (*EDITABLE, "region")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for name in ("holidays", "extra_workdays"):
            if name in self.fields:
                self.fields[name].required = False

    def clean_timezone(self) -> str:
        name = self.cleaned_data["timezone"]
        try:
            ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise forms.ValidationError(f"{name!r} is not an IANA time zone such as Asia/Shanghai") from exc
        return name

    def clean_weekly_hours(self) -> dict[str, Any]:
        weekly = self.cleaned_data["weekly_hours"]
        try:
            parsed = parse_weekly_hours(weekly)
        except (ValueError, TypeError, AttributeError) as exc:
            raise forms.ValidationError(str(exc)) from exc
        if not any(parsed.values()):
            raise forms.ValidationError("a calendar needs at least one working window in the week")
        return weekly

    def _days(self, name: str) -> list[str]:
        values = self.cleaned_data.get(name) or []
        if not isinstance(values, list):
            raise forms.ValidationError('a list of dates like ["2026-10-01"]')
        try:
            return sorted({date.fromisoformat(v).isoformat() for v in values})
        except (ValueError, TypeError) as exc:
            raise forms.ValidationError(f"not a list of dates like 2026-10-01: {exc}") from exc

    def clean_holidays(self) -> list[str]:
        return self._days("holidays")

    def clean_extra_workdays(self) -> list[str]:
        return self._days("extra_workdays")


@admin.register(BusinessCalendar)
class BusinessCalendarAdmin(admin.ModelAdmin):
    form = CalendarForm
    list_display = ("name", "timezone", "region", "revision", "updated_at")
    list_filter = ("timezone", "region")
    search_fields = ("name",)
    readonly_fields = ("revision", "created_at", "updated_at")

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> tuple[str, ...]:
        # A region's statutory days are imported once, when the calendar is created.
        return (*self.readonly_fields, "region") if obj is not None else self.readonly_fields

    def save_model(self, request: HttpRequest, obj: BusinessCalendar, form: Any, change: bool) -> None:
        now = timezone.now()
        try:
            if not change:
                data = {k: form.cleaned_data.get(k) for k in (*EDITABLE, "region")}
                created = do_create_calendar(now=now, **data)
                obj.pk = created.pk
                return
            changes = {k: form.cleaned_data[k] for k in form.changed_data if k in EDITABLE}
            if changes:
                original = BusinessCalendar.objects.get(pk=obj.pk)
                do_change_calendar(original, now=now, reason=f"changed in the admin by {request.user}", **changes)
        except DomainError as exc:
            # The form has been accepted by now; report what the action refused instead of a server error.
            self.message_user(request, exc.message, level="ERROR")
