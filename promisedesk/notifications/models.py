"""The outbox: every message promisedesk owes someone, written in the same transaction
as the change that owes it, and delivered later by the worker."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class Channel(models.TextChoices):
    EMAIL = "email", _("email")
    SMS = "sms", _("SMS")
    WEBHOOK = "webhook", _("webhook")


class OutboxStatus(models.TextChoices):
    PENDING = "pending", _("pending")
    SENT = "sent", _("sent")
    FAILED = "failed", _("failed")


class OutboxMessage(models.Model):
    """One message to one recipient on one channel, for one event — never two."""

    event_key = models.CharField(max_length=120, help_text="what the message is about, e.g. breach:12:verified")
    recipient = models.CharField(max_length=254)
    channel = models.CharField(max_length=10, choices=Channel.choices)
    language = models.CharField(max_length=8)
    subject = models.CharField(max_length=300, blank=True, default="")
    body = models.TextField()
    event = models.CharField(
        max_length=64, blank=True, default="", help_text="the template's event, e.g. case_received"
    )
    case = models.ForeignKey("cases.Case", null=True, blank=True, on_delete=models.CASCADE, related_name="messages")
    endpoint = models.ForeignKey(
        "notifications.WebhookEndpoint", null=True, blank=True, on_delete=models.CASCADE, related_name="messages"
    )
    claimed_until = models.DateTimeField(null=True, blank=True, help_text="a worker is sending it until then")
    provider_ref = models.CharField(max_length=200, blank=True, default="", help_text="the provider's message id")
    status = models.CharField(max_length=10, choices=OutboxStatus.choices, default=OutboxStatus.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True, default="")
    created_at = models.DateTimeField()
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["event_key", "recipient", "channel"], name="outbox_once_per_event"),
            models.CheckConstraint(condition=~Q(status="sent") | Q(sent_at__isnull=False), name="outbox_sent_has_time"),
        ]
        indexes = [
            models.Index(fields=["next_attempt_at"], condition=Q(status="pending"), name="outbox_due"),
        ]

    def __str__(self) -> str:
        return f"{self.channel} to {self.recipient}: {self.event_key} ({self.status})"

    @property
    def address(self) -> str:
        """Where the message goes, for people: the endpoint's URL for a webhook (its `recipient`
        names the endpoint, so two endpoints sharing a URL each get their own row), else `recipient`."""
        if self.channel == Channel.WEBHOOK and self.endpoint_id is not None:
            return self.endpoint.url  # type: ignore[union-attr]  # endpoint_id is set
        return self.recipient

    @property
    def delivery_key(self) -> str:
        """The same for every attempt at this row and different for every row, even across
        databases that reuse ids: it names the message to the receiver (Message-ID, webhook-id),
        so a resend after a crash is recognisably the same message."""
        return f"{self.pk}.{int(self.created_at.timestamp())}"


class OutboxRetry(models.Model):
    """Someone asked for a failed message to be sent again: who, when, and what had gone wrong."""

    message = models.ForeignKey(OutboxMessage, on_delete=models.CASCADE, related_name="retries")
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    requested_at = models.DateTimeField()
    previous_attempts = models.PositiveIntegerField()
    previous_error = models.TextField(blank=True, default="")

    class Meta:
        ordering = ["-requested_at", "-id"]

    def __str__(self) -> str:
        return f"retry of message {self.message_id} at {self.requested_at}"


class NotificationTemplate(models.Model):
    """A manager's wording for one event in one language; without one, the built-in wording is used."""

    event = models.CharField(max_length=64)
    language = models.CharField(max_length=8)
    subject = models.CharField(
        max_length=2000, blank=True, default="", help_text="a template: its tags make it longer than the subject"
    )
    body = models.TextField()
    updated_at = models.DateTimeField()
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["event", "language"]
        constraints = [models.UniqueConstraint(fields=["event", "language"], name="template_once_per_language")]

    def __str__(self) -> str:
        return f"{self.event} ({self.language})"


class WebhookEndpoint(models.Model):
    """An outside system told about events by signed HTTP POSTs (Standard Webhooks)."""

    name = models.CharField(max_length=100, unique=True)
    url = models.URLField(max_length=500)
    secret = models.CharField(max_length=200, help_text="whsec_… base64 key used to sign every delivery")
    events = models.JSONField(default=list, blank=True, help_text="event names to send; empty means all")
    active = models.BooleanField(default=True)
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    @property
    def recipient(self) -> str:
        """The `recipient` of this endpoint's outbox rows: the endpoint itself, not its URL, which
        another endpoint may share (the unique event/recipient/channel would drop its row)."""
        return f"endpoint:{self.pk}"

    def wants(self, event: str) -> bool:
        return self.active and (not self.events or event in self.events)
