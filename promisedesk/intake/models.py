"""Intake from every channel: idempotency keys, mailbox routing, webhook sources, the quarantine."""

from __future__ import annotations

import base64
import secrets
from typing import Any

from django.conf import settings
from django.core.validators import RegexValidator
from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower
from django.utils.translation import gettext_lazy as _

from promisedesk.cases.models import Case, CaseEvent, Service

SOURCE_CODE = RegexValidator(r"^[a-z0-9][a-z0-9_-]{0,31}$", _("lower-case letters, digits, - and _ (at most 32)"))


class IntakeKey(models.Model):
    """One delivery seen by intake, by its idempotency key within a source.

    The unique constraint on (source, key) is what makes a retried delivery harmless:
    whoever inserts the key first does the work in the same transaction, and every
    other delivery of the key reads what that work made (a case and an event, or a
    quarantined message) instead of doing it again.
    """

    source = models.CharField(max_length=64, help_text="web, email, or hook:<source code>")
    key = models.CharField(max_length=255)
    case = models.ForeignKey(Case, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    event = models.ForeignKey(CaseEvent, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    quarantined = models.ForeignKey(
        "QuarantinedMessage", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created = models.BooleanField(default=False, help_text="the delivery opened its case")
    received_at = models.DateTimeField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["source", "key"], name="intake_key_once_per_source")]

    def __str__(self) -> str:
        return f"{self.source}:{self.key}"


class Mailbox(models.Model):
    """Which service a new case gets when mail without a thread token arrives at an address.

    A complaints mailbox opens a complaint (a recovery case) instead of a request.

    `address` is a whole address (``support@example.com``, matched without its
    +tag), a whole domain (``*@example.com``) or ``*``, the default for any other.
    """

    address = models.CharField(max_length=254, unique=True)
    service = models.ForeignKey(Service, on_delete=models.PROTECT, related_name="+")
    note = models.CharField(max_length=200, blank=True, default="")
    complaints = models.BooleanField(
        default=False, db_default=False, help_text="new mail here is a complaint (complaints@…), not a request"
    )
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["address"]
        verbose_name_plural = "mailboxes"
        constraints = [
            models.CheckConstraint(
                condition=Q(address="*")
                | Q(address__regex=r"^[^@\s*]+@[^@\s*]+$")
                | Q(address__regex=r"^\*@[^@\s*]+$"),
                name="mailbox_address_form",
            ),
            models.CheckConstraint(condition=Q(address=Lower("address")), name="mailbox_lower_case"),
        ]

    def __str__(self) -> str:
        return f"{self.address} → {self.service_id}"


def new_webhook_secret() -> str:
    """A Standard Webhooks secret: ``whsec_`` and 32 random bytes in base64."""
    return "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()


class HookChannel(models.TextChoices):
    CHAT = "chat", _("chat")
    SOCIAL = "social", _("social media")


class WebhookSource(models.Model):
    """A chat or social-media tool that posts customer messages to /hooks/<code>/, signed with its secret."""

    code = models.CharField(max_length=32, unique=True, validators=[SOURCE_CODE])
    name = models.CharField(max_length=200)
    secret = models.CharField(max_length=100, default=new_webhook_secret)
    channel = models.CharField(max_length=10, choices=HookChannel.choices, default=HookChannel.CHAT)
    default_service = models.ForeignKey(Service, on_delete=models.PROTECT, related_name="+")
    active = models.BooleanField(default=True)
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["code"]
        constraints = [
            models.CheckConstraint(condition=Q(channel__in=["chat", "social"]), name="webhook_source_channel"),
            models.CheckConstraint(condition=Q(secret__startswith="whsec_"), name="webhook_source_secret_form"),
        ]

    def __str__(self) -> str:
        return self.name


class Reason(models.TextChoices):
    """Why a message waits for a person instead of going into a case by itself."""

    NO_SENDER = "no_sender", _("no usable sender")
    UNREADABLE = "unreadable", _("unreadable message")
    FORGED_TOKEN = "forged_token", _("forged thread token")
    CONFLICTING_TOKENS = "conflicting_tokens", _("tokens name different cases")
    UNKNOWN_CASE = "unknown_case", _("case not found")
    OTHER_CUSTOMER = "other_customer", _("sender is not the case's customer")
    AUTO_SUBMITTED = "auto_submitted", _("automatic reply")
    NO_MAILBOX = "no_mailbox", _("no mailbox for the recipient")
    REFUSED = "refused", _("refused by the case")
    PROCESSING_FAILED = "processing_failed", _("processing failed")


class QuarantineStatus(models.TextChoices):
    HELD = "held", _("held")
    RELEASED = "released", _("released")
    DISCARDED = "discarded", _("discarded")


class QuarantinedMessage(models.Model):
    """A message intake would not put into a case by itself: kept whole, with why, until staff decide.

    Released means it went into `case` (threaded or as a new case); discarded keeps
    the message and the reason given. Nothing is ever deleted by intake.
    """

    source = models.CharField(max_length=100, help_text="where it came from: smtp, maildir, imap, …")
    reason = models.CharField(max_length=24, choices=Reason.choices)
    context = models.JSONField(default=dict, blank=True, help_text="details for the reason, e.g. the case named")
    raw = models.BinaryField()
    size = models.PositiveBigIntegerField(default=0)
    sender = models.CharField(max_length=254, blank=True, default="")
    subject = models.CharField(max_length=500, blank=True, default="")
    message_id = models.CharField(max_length=255, blank=True, default="")
    recipients = models.JSONField(default=list, blank=True)
    received_at = models.DateTimeField()
    status = models.CharField(max_length=10, choices=QuarantineStatus.choices, default=QuarantineStatus.HELD)
    decided_at = models.DateTimeField(null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    decision_note = models.TextField(blank=True, default="")
    case = models.ForeignKey(Case, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    event = models.ForeignKey(CaseEvent, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        ordering = ["-received_at", "-id"]
        indexes = [models.Index(fields=["status", "received_at"])]
        constraints = [
            models.CheckConstraint(
                condition=(Q(status="held") & Q(decided_at__isnull=True))
                | (Q(status="released") & Q(decided_at__isnull=False))
                | (Q(status="discarded") & Q(decided_at__isnull=False) & ~Q(decision_note="")),
                name="quarantine_decision_recorded",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.reason}: {self.subject or self.message_id}"

    def explanation(self) -> str:
        """Why the message is held, in a sentence in the active language."""
        template = EXPLANATIONS.get(self.reason, EXPLANATIONS[Reason.REFUSED])
        context = {"token": "", "where": "", "case": "", "sender": "", "value": "", "error": "", "cases": ""}
        context.update({k: str(v) for k, v in self.context.items() if not isinstance(v, list)})
        context["cases"] = ", ".join(f"#{c}" for c in self.context.get("cases", []))
        return str(template) % context


EXPLANATIONS: dict[str, Any] = {
    Reason.NO_SENDER: _("The message has no sender address a reply could go to."),
    Reason.UNREADABLE: _("The message could not be read as email."),
    Reason.FORGED_TOKEN: _("The thread token %(token)s (in %(where)s) was not issued by this desk."),
    Reason.CONFLICTING_TOKENS: _("The address and the subject name different cases (%(cases)s)."),
    Reason.UNKNOWN_CASE: _("The thread token names case #%(case)s, which does not exist."),
    Reason.OTHER_CUSTOMER: _("The thread token names case #%(case)s, whose customer is not the sender %(sender)s."),
    Reason.AUTO_SUBMITTED: _("The message was sent automatically (Auto-Submitted: %(value)s), e.g. an absence reply."),
    Reason.NO_MAILBOX: _("No mailbox maps these recipients to a service, and there is no default (*) mailbox."),
    Reason.REFUSED: _("The case refused the message: %(error)s"),
    Reason.PROCESSING_FAILED: _("Recording the message failed (%(error)s); it is kept here whole."),
}
