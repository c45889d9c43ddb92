"""Intake's settings, each with a default so nothing has to be configured to start.

Set them in settings.py (from the environment) to change them:

- PROMISEDESK_INTAKE_MAX_ATTACHMENT_BYTES: larger attachments are recorded as skipped (10 MiB).
- PROMISEDESK_INTAKE_MAX_ATTACHMENTS: files kept per message; the rest are recorded as skipped (20).
- PROMISEDESK_INTAKE_FORM_RATE_IP / _EMAIL: web-form submissions allowed per client IP / per
  email address, in django-ratelimit's notation ("20/h", "5/h").
- PROMISEDESK_INTAKE_SMTP_MAX_BYTES: the largest message the SMTP listener accepts (32 MiB).
"""

from __future__ import annotations

from django.conf import settings


def max_attachment_bytes() -> int:
    return int(getattr(settings, "PROMISEDESK_INTAKE_MAX_ATTACHMENT_BYTES", 10 * 1024 * 1024))


def max_attachments() -> int:
    return int(getattr(settings, "PROMISEDESK_INTAKE_MAX_ATTACHMENTS", 20))


def form_rate_ip() -> str:
    return str(getattr(settings, "PROMISEDESK_INTAKE_FORM_RATE_IP", "20/h"))


def form_rate_email() -> str:
    return str(getattr(settings, "PROMISEDESK_INTAKE_FORM_RATE_EMAIL", "5/h"))


def smtp_max_bytes() -> int:
    return int(getattr(settings, "PROMISEDESK_INTAKE_SMTP_MAX_BYTES", 32 * 1024 * 1024))
