"""What customers send from their case page, recorded once however often the form is posted."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class SubmissionKind(models.TextChoices):
    REPLY = "reply", _("reply")
    INFORMATION = "information", _("information")
    CLAIM = "claim", _("claim")
    COMPLAINT = "complaint", _("complaint")


class CustomerSubmission(models.Model):
    """One form the customer sent from their case page.

    Every form on the page carries a random key made when the page was rendered; the
    unique constraint on (case, key) makes a double submit (a second tap, a resent
    POST after a dropped connection) land on the first submission instead of making
    a second message or claim. The rows also pace the customer: the page accepts only
    so many submissions per case in a window (see `portal.rules`).
    """

    case = models.ForeignKey("cases.Case", on_delete=models.CASCADE, related_name="portal_submissions")
    key = models.CharField(max_length=64)
    kind = models.CharField(max_length=12, choices=SubmissionKind.choices)
    event = models.ForeignKey(
        "cases.CaseEvent", null=True, blank=True, on_delete=models.SET_NULL, related_name="portal_submissions"
    )
    breach = models.ForeignKey(
        "breaches.Breach", null=True, blank=True, on_delete=models.SET_NULL, related_name="portal_submissions"
    )
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [models.UniqueConstraint(fields=["case", "key"], name="portal_submission_once")]
        indexes = [models.Index(fields=["case", "created_at"], name="portal_submission_pace")]

    def __str__(self) -> str:
        return f"{self.kind} on case {self.case_id}"
