"""Intake's set-up in the admin: mailboxes and webhook sources (through the intake actions);
keys and the quarantine read-only (staff decide about held messages on the desk)."""

from __future__ import annotations

from typing import Any, cast

from django import forms
from django.contrib import admin, messages
from django.contrib.auth.models import User
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from promisedesk.cases.admin import ReadOnlyAdmin
from promisedesk.errors import DomainError

from . import actions
from .models import IntakeKey, Mailbox, QuarantinedMessage, WebhookSource


def _staff(request: HttpRequest) -> User:
    return cast(User, request.user)  # the admin is for logged-in staff only


class MailboxForm(forms.ModelForm):
    class Meta:
        model = Mailbox
        fields = ("address", "service", "note", "complaints")

    def clean_address(self) -> str:
        try:
            return actions._mailbox_address(self.cleaned_data["address"])
        except DomainError as exc:
            raise forms.ValidationError(_("Give an address, *@domain, or * for any other.")) from exc


@admin.register(Mailbox)
class MailboxAdmin(admin.ModelAdmin):
    form = MailboxForm
    list_display = ("address", "service", "complaints", "note")
    list_select_related = ("service",)
    search_fields = ("address", "note")

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> tuple[str, ...]:
        return ("address",) if obj is not None else ()

    def save_model(self, request: HttpRequest, obj: Mailbox, form: Any, change: bool) -> None:
        now, user = timezone.now(), _staff(request)
        if change:
            actions.do_update_mailbox(obj.pk, actor=user, now=now, service=obj.service.code, note=obj.note)
        else:
            made = actions.do_create_mailbox(
                actor=user, now=now, address=obj.address, service=obj.service.code, note=obj.note
            )
            obj.pk, obj.created_at = made.pk, made.created_at


class SourceForm(forms.ModelForm):
    class Meta:
        model = WebhookSource
        fields = ("code", "name", "channel", "default_service", "active")


@admin.register(WebhookSource)
class WebhookSourceAdmin(admin.ModelAdmin):
    form = SourceForm
    list_display = ("code", "name", "channel", "default_service", "active")
    list_filter = ("channel", "active")
    list_select_related = ("default_service",)
    actions = ("rotate_secret",)

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> tuple[str, ...]:
        return ("code",) if obj is not None else ()

    def save_model(self, request: HttpRequest, obj: WebhookSource, form: Any, change: bool) -> None:
        now, user = timezone.now(), _staff(request)
        fields: dict[str, Any] = {
            "name": obj.name,
            "channel": obj.channel,
            "default_service": obj.default_service.code,
            "active": obj.active,
        }
        if change:
            actions.do_update_source(obj.code, actor=user, now=now, **fields)
            return
        made = actions.do_create_source(actor=user, now=now, code=obj.code, **fields)
        obj.pk, obj.secret, obj.created_at = made.pk, made.secret, made.created_at
        self.message_user(
            request, _("Secret for %(code)s (shown once): %(secret)s") % {"code": made.code, "secret": made.secret}
        )

    @admin.action(description=_("Rotate the secret (shown once)"))
    def rotate_secret(self, request: HttpRequest, queryset: QuerySet[WebhookSource]) -> None:
        for source in queryset:
            rotated = actions.do_rotate_secret(source.code, actor=_staff(request), now=timezone.now())
            self.message_user(
                request,
                _("New secret for %(code)s (shown once): %(secret)s")
                % {"code": rotated.code, "secret": rotated.secret},
                messages.WARNING,
            )


@admin.register(IntakeKey)
class IntakeKeyAdmin(ReadOnlyAdmin):
    list_display = ("source", "key", "case", "held", "created", "received_at")
    list_filter = ("source",)
    search_fields = ("key",)
    list_select_related = ("case__customer", "case__service")

    @admin.display(description=_("quarantined message"))
    def held(self, obj: IntakeKey) -> int | None:
        return obj.quarantined_id  # the id only: the row holds the whole message


@admin.register(QuarantinedMessage)
class QuarantinedMessageAdmin(ReadOnlyAdmin):
    list_display = ("received_at", "reason", "status", "sender", "subject", "case")
    list_filter = ("status", "reason", "source")
    search_fields = ("sender", "subject", "message_id")
    exclude = ("raw",)
