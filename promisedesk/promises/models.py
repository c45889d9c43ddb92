"""Promises and their versions.

A promise is identified by its code; what it says lives in numbered versions. A
published version is never edited: changing a promise makes a new draft, and a case
is judged by the version in force when it started.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class Kind(models.TextChoices):
    TIME = "time", _("time")
    QUALITY = "quality", _("quality")
    BEHAVIOUR = "behaviour", _("behaviour")
    EFFECT = "effect", _("effect")
    METHOD = "method", _("method")
    AFTER_SALES = "after_sales", _("after-sales")
    PERSONALISED = "personalised", _("personalised")


class Coverage(models.TextChoices):
    FULL = "full", _("full (unconditional)")
    LIMITED = "limited", _("limited")


class Form(models.TextChoices):
    WRITTEN = "written", _("written")
    ORAL = "oral", _("oral")


class VersionStatus(models.TextChoices):
    DRAFT = "draft", _("draft")
    PUBLISHED = "published", _("published")
    SUPERSEDED = "superseded", _("superseded")
    RETIRED = "retired", _("retired")


class Promise(models.Model):
    """The stable identity of a promise; its words and rules are in PromiseVersion."""

    code = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["code"]

    def __str__(self) -> str:
        return self.code


class PromiseVersion(models.Model):
    """One version of a promise: statement, kind, coverage, standard and liability."""

    promise = models.ForeignKey(Promise, on_delete=models.PROTECT, related_name="versions")
    number = models.PositiveIntegerField()
    status = models.CharField(max_length=12, choices=VersionStatus.choices, default=VersionStatus.DRAFT)
    title = models.CharField(max_length=200)
    statement = models.JSONField(help_text="text per language: {'en': …, 'zh-Hans': …}")
    kind = models.CharField(max_length=16, choices=Kind.choices)
    coverage = models.CharField(max_length=8, choices=Coverage.choices, default=Coverage.FULL)
    form = models.CharField(max_length=8, choices=Form.choices, default=Form.WRITTEN)
    applies_to = models.JSONField(default=dict)
    standard = models.JSONField(default=dict)
    calendar = models.ForeignKey(
        "calendars.BusinessCalendar", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    liability = models.JSONField(null=True, blank=True)
    created_at = models.DateTimeField()
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    published_at = models.DateTimeField(null=True, blank=True)
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    superseded_at = models.DateTimeField(null=True, blank=True)
    retired_at = models.DateTimeField(null=True, blank=True)
    retired_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["promise__code", "number"]
        constraints = [
            models.UniqueConstraint(fields=["promise", "number"], name="promise_version_number_unique"),
            models.UniqueConstraint(fields=["promise"], condition=Q(status="draft"), name="promise_one_draft"),
            models.UniqueConstraint(fields=["promise"], condition=Q(status="published"), name="promise_one_published"),
        ]

    def __str__(self) -> str:
        return f"{self.promise.code} v{self.number} ({self.status})"

    def statement_in(self, language: str) -> str:
        texts: dict[str, Any] = self.statement or {}
        lang = "zh-Hans" if language.lower().startswith("zh") else "en"
        return str(texts.get(lang) or next(iter(texts.values()), ""))

    def title_in(self, language: str) -> str:
        return self.title

    def in_force_at(self, moment: Any) -> bool:
        """Whether this version was the published one at moment."""
        if self.published_at is None or self.published_at > moment:
            return False
        ended = self.superseded_at or self.retired_at
        return ended is None or ended > moment

    def applies(self, *, service: str, channel: str, tier: str, priority: str, case_kind: str = "service") -> bool:
        """An empty list in applies_to means every value.

        `case_kinds` is the exception: absent or empty it means service cases only, so a
        recovery promise (acknowledge a complaint within an hour) never lands on an
        ordinary case and an ordinary promise never lands on a complaint.
        """
        rules = self.applies_to or {}
        if case_kind not in (rules.get("case_kinds") or ["service"]):
            return False
        pairs = (("services", service), ("channels", channel), ("customer_tiers", tier), ("priorities", priority))
        return all(not rules.get(key) or value in rules[key] for key, value in pairs)

    def save(self, *args: Any, **kwargs: Any) -> None:
        # Publication is a one-way door; only the lifecycle fields may change after it.
        if self.pk and self.status != VersionStatus.DRAFT:
            allowed = {"status", "superseded_at", "retired_at", "retired_by", "published_at", "published_by"}
            fields = kwargs.get("update_fields")
            if fields is None or not set(fields) <= allowed:
                raise ValueError("a published promise version is immutable")
        super().save(*args, **kwargs)
