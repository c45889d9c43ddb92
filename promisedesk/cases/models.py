"""Customers, services, service cases and their append-only timelines."""

from __future__ import annotations

import secrets
from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class Channel(models.TextChoices):
    WEB = "web", _("web form")
    EMAIL = "email", _("email")
    API = "api", _("API")
    PHONE = "phone", _("phone")
    WALK_IN = "walk_in", _("walk-in")
    CHAT = "chat", _("chat")
    SOCIAL = "social", _("social media")


class Priority(models.TextChoices):
    LOW = "low", _("low")
    NORMAL = "normal", _("normal")
    HIGH = "high", _("high")
    URGENT = "urgent", _("urgent")


class Stage(models.TextChoices):
    NEED_IDENTIFICATION = "need_identification", _("need identification")
    DESIGN = "design", _("design / plan")
    DELIVERY = "delivery", _("delivery")
    EXPERIENCE = "experience", _("experience")
    FEEDBACK = "feedback", _("feedback")
    CLOSED = "closed", _("closed")


# The service process in order: an event moves a case forward along it, never back.
STAGE_ORDER = {stage: number for number, stage in enumerate(Stage.values)}


class CaseKind(models.TextChoices):
    SERVICE = "service", _("service")
    COMPLAINT = "complaint", _("complaint")


class Locale(models.TextChoices):
    EN = "en", "English"
    ZH_HANS = "zh-Hans", "简体中文"


class Customer(models.Model):
    """Someone the business serves; tier and preferences shape what is promised to them."""

    external_ref = models.CharField(max_length=100, null=True, blank=True, unique=True)
    name = models.CharField(max_length=200)
    email = models.EmailField(blank=True, default="")
    phone = models.CharField(max_length=40, blank=True, default="")
    tier = models.CharField(max_length=40, blank=True, default="standard")
    locale = models.CharField(max_length=8, choices=Locale.choices, default=Locale.ZH_HANS)
    preferences = models.JSONField(default=dict, blank=True)
    timezone = models.CharField(max_length=64, blank=True, default="", help_text="IANA zone; empty means the site's")
    created_at = models.DateTimeField()

    def __str__(self) -> str:
        return self.name


class Service(models.Model):
    """Something the business sells (an installation, a coach seat, a night's stay)."""

    code = models.CharField(max_length=64, unique=True)
    name = models.CharField(max_length=200)
    price = models.DecimalField(max_digits=14, decimal_places=2, null=True, blank=True)
    currency = models.CharField(max_length=3, default="CNY")

    class Meta:
        ordering = ["code"]

    def __str__(self) -> str:
        return self.name


def new_access_token() -> str:
    """The secret in a customer's case link: 256 random bits, so it cannot be guessed."""
    return secrets.token_urlsafe(32)


class Case(models.Model):
    """One service instance, judged against the promises in force when it opened."""

    external_ref = models.CharField(max_length=100, null=True, blank=True, unique=True)
    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="cases")
    service = models.ForeignKey(Service, on_delete=models.PROTECT, related_name="cases")
    channel = models.CharField(max_length=10, choices=Channel.choices, default=Channel.API)
    priority = models.CharField(max_length=8, choices=Priority.choices, default=Priority.NORMAL)
    price = models.DecimalField(max_digits=14, decimal_places=2, null=True, blank=True)
    currency = models.CharField(max_length=3, default="CNY")
    opened_at = models.DateTimeField()
    appointment_start = models.DateTimeField(null=True, blank=True)
    appointment_end = models.DateTimeField(null=True, blank=True)
    kind = models.CharField(max_length=10, choices=CaseKind.choices, default=CaseKind.SERVICE, db_default="service")
    about = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="complaints",
        help_text="for a complaint: the case it is about",
    )
    stage = models.CharField(max_length=24, choices=Stage.choices, default=Stage.NEED_IDENTIFICATION)
    substatus = models.CharField(max_length=64, blank=True, default="")
    summary = models.CharField(max_length=500, blank=True, default="")
    department = models.ForeignKey(
        "accounts.Department", null=True, blank=True, on_delete=models.SET_NULL, related_name="cases"
    )
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="assigned_cases"
    )
    access_token = models.CharField(max_length=64, unique=True, default=new_access_token, editable=False)
    last_event_at = models.DateTimeField()
    created_at = models.DateTimeField()
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-opened_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(appointment_end__isnull=True) | Q(appointment_end__gt=models.F("appointment_start")),
                name="case_appointment_ends_after_start",
            ),
            # Only a complaint is about another case, and never about itself.
            models.CheckConstraint(
                condition=Q(about__isnull=True) | (Q(kind="complaint") & ~Q(about=models.F("id"))),
                name="case_about_only_for_complaints",
            ),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.service.name} – {self.customer.name}"


class CaseEvent(models.Model):
    """One entry of a case's timeline. Entries are appended, never changed or removed."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="events")
    type = models.CharField(max_length=64)
    at = models.DateTimeField()
    note = models.TextField(blank=True, default="")
    data = models.JSONField(default=dict, blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    system = models.BooleanField(default=False, help_text="recorded by promisedesk itself")
    visible_to_customer = models.BooleanField(
        default=False, db_default=False, help_text="shown on the customer's case page"
    )
    recorded_at = models.DateTimeField()

    class Meta:
        ordering = ["at", "id"]
        indexes = [models.Index(fields=["case", "at"])]
        constraints = [
            # What staff write to each other must never reach the customer, whatever the code path.
            models.CheckConstraint(
                condition=~Q(type="internal_note") | Q(visible_to_customer=False),
                name="internal_note_never_visible",
            )
        ]

    def __str__(self) -> str:
        return f"{self.type} at {self.at:%Y-%m-%d %H:%M}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None:
            raise ValueError("case events are append-only")
        super().save(*args, **kwargs)


class Attachment(models.Model):
    """A file that came with a case: from an email, the customer's page or a member of staff."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="attachments")
    event = models.ForeignKey(CaseEvent, null=True, blank=True, on_delete=models.SET_NULL, related_name="attachments")
    file = models.FileField(upload_to="attachments/%Y/%m/")
    filename = models.CharField(max_length=255)
    content_type = models.CharField(max_length=100, default="application/octet-stream")
    size = models.PositiveBigIntegerField()
    sha256 = models.CharField(max_length=64)
    uploaded_at = models.DateTimeField()

    class Meta:
        ordering = ["uploaded_at", "id"]

    def __str__(self) -> str:
        return self.filename


class StageLabel(models.Model):
    """An organisation's own name for a stage, and its sub-statuses, for one service or for all."""

    service = models.ForeignKey(Service, null=True, blank=True, on_delete=models.CASCADE, related_name="stage_labels")
    stage = models.CharField(max_length=24, choices=Stage.choices)
    label_en = models.CharField(max_length=100, blank=True, default="")
    label_zh_hans = models.CharField(max_length=100, blank=True, default="")
    substatuses = models.JSONField(
        default=list,
        blank=True,
        help_text='[{"code": "waiting_parts", "label_en": "Waiting for parts", "label_zh_hans": "等待配件"}, …]',
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["service", "stage"], condition=Q(service__isnull=False), name="stage_label_once_per_service"
            ),
            models.UniqueConstraint(fields=["stage"], condition=Q(service__isnull=True), name="stage_label_once"),
        ]

    def __str__(self) -> str:
        return f"{self.stage}: {self.label_en or self.label_zh_hans}"

    def label_in(self, language: str) -> str:
        """The organisation's name in language (zh… or en); "" when it gave none in that language."""
        return self.label_zh_hans if language.lower().startswith("zh") else self.label_en

    def substatus_items(self) -> list[dict[str, str]]:
        """The sub-statuses as {code, label_en, label_zh_hans}; a bare code (older rows) has no words."""
        items = []
        for item in self.substatuses or []:
            if isinstance(item, str):
                items.append({"code": item, "label_en": "", "label_zh_hans": ""})
            elif isinstance(item, dict) and isinstance(item.get("code"), str):
                items.append(
                    {
                        "code": item["code"],
                        "label_en": str(item.get("label_en") or ""),
                        "label_zh_hans": str(item.get("label_zh_hans") or ""),
                    }
                )
        return items

    def substatus_codes(self) -> list[str]:
        return [item["code"] for item in self.substatus_items()]

    def substatus_label(self, code: str, language: str) -> str:
        """The words for a sub-status code in language; the code itself when it has none."""
        zh = language.lower().startswith("zh")
        for item in self.substatus_items():
            if item["code"] == code:
                first, second = (
                    (item["label_zh_hans"], item["label_en"]) if zh else (item["label_en"], item["label_zh_hans"])
                )
                return first or second or code.replace("_", " ")
        return code.replace("_", " ")


BUILTIN_EVENT_TYPES = (
    "case_opened",
    "first_response",
    "progress_update",
    "assigned",
    "appointment_scheduled",
    "arrived",
    "delivered",
    "customer_waiting",
    "customer_replied",
    "resolved",
    "closed",
    "reopened",
    "internal_note",
    "stage_changed",
)
# Staff notes to each other: never shown to the customer (a database constraint says so too).
INTERNAL_NOTE = "internal_note"
# An explicit move to another stage; clocks also hear it as `stage_<stage>` (see cases.actions).
STAGE_CHANGED = "stage_changed"
