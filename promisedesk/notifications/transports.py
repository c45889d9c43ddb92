"""How an outbox message leaves promisedesk: one Transport per channel (the Healthchecks way).

`Transport.send(message, now)` returns the provider's reference for the message, or raises
`TransportError(message, permanent=…)`: a temporary failure (the provider is down, busy or
slow) is tried again later; a permanent one (no such address, the request refused) is not.

Every attempt at one outbox row names the message the same way (`OutboxMessage.delivery_key`:
the email's Message-ID, the webhook's `webhook-id`, the SMS file name), so when a worker
dies between sending and recording, the resend is recognisably the same message.

The HTTP transports all go through `http_post`, the one place that talks HTTP.
"""

from __future__ import annotations

import json
import logging
import smtplib
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, ClassVar, Protocol

import httpx
from django.conf import settings
from django.core.mail import EmailMessage
from standardwebhooks import Webhook

from promisedesk.intake.threading import reply_address, subject_tag

from .models import Channel, OutboxMessage

log = logging.getLogger("promisedesk.notifications")

# Seconds one HTTP request may take, connecting included; a slow provider is a temporary failure.
DEFAULT_HTTP_TIMEOUT = 10.0
# The longest "Retry-After" honoured; a provider asking for more gets our own backoff.
MAX_RETRY_AFTER = timedelta(hours=6)


class TransportError(Exception):
    """A message could not be sent. `permanent` says whether trying again could help;
    `retry_after` is how long the provider asked us to wait, when it said."""

    def __init__(self, message: str, permanent: bool = False, retry_after: timedelta | None = None):
        super().__init__(message)
        self.message = message
        self.permanent = permanent
        self.retry_after = retry_after


# --- HTTP ----------------------------------------------------------------------------------

_clients = threading.local()


def _client() -> httpx.Client:
    """One keep-alive client per thread (and so per process: a forked child starts without one),
    made anew when PROMISEDESK_HTTP_TIMEOUT changes."""
    timeout = float(getattr(settings, "PROMISEDESK_HTTP_TIMEOUT", DEFAULT_HTTP_TIMEOUT))
    cached: tuple[float, httpx.Client] | None = getattr(_clients, "cached", None)
    if cached is not None and cached[0] == timeout:
        return cached[1]
    if cached is not None:
        cached[1].close()
    client = httpx.Client(timeout=timeout, follow_redirects=False, headers={"User-Agent": "promisedesk"})
    _clients.cached = (timeout, client)
    return client


def http_post(
    url: str,
    *,
    content: bytes | None = None,
    data: dict[str, str] | None = None,
    headers: dict[str, str] | None = None,
    auth: tuple[str | bytes, str | bytes] | None = None,
) -> httpx.Response:
    """POST once and return the response, whatever its status; a network failure or a
    timeout is a temporary TransportError. Every HTTP transport sends through here."""
    try:
        given = httpx.USE_CLIENT_DEFAULT if auth is None else auth
        return _client().post(url, content=content, data=data, headers=headers, auth=given)
    except httpx.TimeoutException as exc:
        raise TransportError(f"{url}: timed out ({type(exc).__name__})") from exc
    except httpx.HTTPError as exc:
        raise TransportError(f"{url}: {type(exc).__name__}: {exc}") from exc


def check_status(response: httpx.Response, what: str) -> None:
    """2xx passes. 408, 429 and 5xx are temporary (the receiver may recover); any other
    status (4xx, a redirect) is permanent: sending the same request again would get the same."""
    code = response.status_code
    if 200 <= code < 300:
        return
    detail = f"{what} answered {code}: {response.text[:300]}".strip()
    temporary = code in (408, 429) or code >= 500
    raise TransportError(detail, permanent=not temporary, retry_after=_retry_after(response) if temporary else None)


def _retry_after(response: httpx.Response) -> timedelta | None:
    """A Retry-After in seconds (the HTTP-date form is rare from APIs and ignored)."""
    raw = response.headers.get("Retry-After", "").strip()
    if not raw.isdigit():
        return None
    return min(timedelta(seconds=int(raw)), MAX_RETRY_AFTER)


# --- the transports --------------------------------------------------------------------------


class Transport:
    """Sends messages of one channel. Subclasses implement `send`."""

    channel: ClassVar[str]

    def send(self, message: OutboxMessage, now: datetime) -> str:
        """Send message (at instant now) and return the provider's reference, or raise TransportError."""
        raise NotImplementedError


class EmailTransport(Transport):
    """Email through Django's email backend (EMAIL_BACKEND, EMAIL_HOST, EMAIL_PORT …).

    A message about a case carries Reply-To = the case's reply address and the case's
    subject tag, so the customer's answer threads back into the case.
    """

    channel = Channel.EMAIL.value

    def send(self, message: OutboxMessage, now: datetime) -> str:
        email = self.build(message)
        try:
            email.send(fail_silently=False)
        except smtplib.SMTPRecipientsRefused as exc:
            codes = [code for code, _ in exc.recipients.values()]
            raise TransportError(f"recipient refused: {exc.recipients}", permanent=min(codes) >= 500) from exc
        except smtplib.SMTPResponseException as exc:  # sender refused, data refused, auth failed …
            reply = exc.smtp_error.decode(errors="replace") if isinstance(exc.smtp_error, bytes) else exc.smtp_error
            raise TransportError(f"SMTP {exc.smtp_code}: {reply}", permanent=exc.smtp_code >= 500) from exc
        except (smtplib.SMTPException, OSError) as exc:  # no connection, disconnected, timed out
            raise TransportError(f"SMTP: {type(exc).__name__}: {exc}") from exc
        except ValueError as exc:  # a header or address Django refuses to write: it never will
            raise TransportError(f"the email cannot be written: {exc}", permanent=True) from exc
        return str(email.extra_headers["Message-ID"])

    def build(self, message: OutboxMessage) -> EmailMessage:
        """The email for message, exactly as it is sent (the desk shows its headers)."""
        subject = message.subject
        reply_to: list[str] = []
        if message.case_id is not None:
            tag = subject_tag(message.case_id)
            subject = f"{subject} {tag}".strip() if tag not in subject else subject
            reply_to = [reply_address(message.case_id)]
        return EmailMessage(
            subject=subject,
            body=message.body,
            from_email=settings.DEFAULT_FROM_EMAIL,
            to=[message.recipient],
            reply_to=reply_to,
            headers={"Message-ID": message_id(message)},
        )


def message_id(message: OutboxMessage) -> str:
    """The Message-ID of message: the same for every attempt at it."""
    domain = settings.PROMISEDESK_REPLY_ADDRESS.rpartition("@")[2] or "promisedesk.localhost"
    return f"<outbox.{message.delivery_key}@{domain}>"


class WebhookTransport(Transport):
    """A JSON POST to the endpoint's URL, signed the Standard Webhooks way with its secret."""

    channel = Channel.WEBHOOK.value

    def send(self, message: OutboxMessage, now: datetime) -> str:
        endpoint = message.endpoint
        if endpoint is None:
            raise TransportError("the message has no webhook endpoint", permanent=True)
        if not endpoint.active:
            raise TransportError(f"the endpoint {endpoint.name!r} is deactivated", permanent=True)
        headers = self.headers(message, now)
        response = http_post(endpoint.url, content=message.body.encode(), headers=headers)
        check_status(response, endpoint.url)
        return headers["webhook-id"]

    def headers(self, message: OutboxMessage, now: datetime) -> dict[str, str]:
        """Content type and the three Standard Webhooks headers for an attempt at instant now."""
        assert message.endpoint is not None
        # The library stamps the time as if it were UTC, so it must be given UTC.
        at = now.astimezone(UTC).replace(microsecond=0)
        signature = Webhook(message.endpoint.secret).sign(webhook_id(message), at, message.body)
        return {
            "content-type": "application/json",
            "webhook-id": webhook_id(message),
            "webhook-timestamp": str(int(at.timestamp())),
            "webhook-signature": signature,
        }


def webhook_id(message: OutboxMessage) -> str:
    """The webhook-id of message: the same for every attempt at it."""
    return f"msg_{message.delivery_key}"


# --- SMS -------------------------------------------------------------------------------------


class SmsProvider(Protocol):
    """Hands one text message to an SMS provider; returns the provider's id for it."""

    def send_sms(self, *, to: str, body: str, key: str) -> str: ...


class TwilioProvider:
    """Twilio's Programmable Messaging REST API (`POST …/Accounts/{sid}/Messages.json`).

    Settings: PROMISEDESK_TWILIO_ACCOUNT_SID, PROMISEDESK_TWILIO_AUTH_TOKEN,
    PROMISEDESK_TWILIO_FROM, and PROMISEDESK_TWILIO_BASE_URL (default the real API).
    """

    def __init__(self, base_url: str, account_sid: str, auth_token: str, from_number: str):
        if not (account_sid and auth_token and from_number):
            raise TransportError("Twilio is chosen but its account, token or sender number is not set")
        self.url = f"{base_url.rstrip('/')}/2010-04-01/Accounts/{account_sid}/Messages.json"
        self.auth: tuple[str | bytes, str | bytes] = (account_sid, auth_token)
        self.from_number = from_number

    @classmethod
    def from_settings(cls) -> TwilioProvider:
        return cls(
            getattr(settings, "PROMISEDESK_TWILIO_BASE_URL", "https://api.twilio.com"),
            getattr(settings, "PROMISEDESK_TWILIO_ACCOUNT_SID", ""),
            getattr(settings, "PROMISEDESK_TWILIO_AUTH_TOKEN", ""),
            getattr(settings, "PROMISEDESK_TWILIO_FROM", ""),
        )

    def send_sms(self, *, to: str, body: str, key: str) -> str:
        response = http_post(self.url, data={"To": to, "From": self.from_number, "Body": body}, auth=self.auth)
        check_status(response, "Twilio")
        try:
            return str(response.json()["sid"])
        except (ValueError, KeyError, TypeError) as exc:
            # Twilio took it (2xx) but the answer is not what it documents: sent, reference unknown.
            log.warning("Twilio accepted an SMS without a readable sid: %.200s (%s)", response.text, exc)
            return ""


class FileSmsProvider:
    """For development: each SMS is written to `<dir>/<key>.txt` and logged. A resend of the
    same message overwrites its own file, so the folder holds each message once."""

    def __init__(self, directory: Path):
        self.directory = directory

    @classmethod
    def from_settings(cls) -> FileSmsProvider:
        default = Path(settings.VAR_DIR) / "sms"
        return cls(Path(getattr(settings, "PROMISEDESK_SMS_DIR", default)))

    def send_sms(self, *, to: str, body: str, key: str) -> str:
        path = self.directory / f"{key}.txt"
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            path.write_text(json.dumps({"to": to, "body": body}, ensure_ascii=False) + "\n", encoding="utf-8")
        except OSError as exc:
            raise TransportError(f"could not write {path}: {exc}") from exc
        log.info("SMS to %s: %s", to, body.replace("\n", " ")[:200])
        return path.name


SMS_PROVIDERS: dict[str, Any] = {"file": FileSmsProvider, "console": FileSmsProvider, "twilio": TwilioProvider}


def sms_provider() -> SmsProvider:
    """The provider PROMISEDESK_SMS_BACKEND names (file, console or twilio; default file)."""
    name = getattr(settings, "PROMISEDESK_SMS_BACKEND", "file")
    provider = SMS_PROVIDERS.get(name)
    if provider is None:
        raise TransportError(f"PROMISEDESK_SMS_BACKEND {name!r} is none of {', '.join(SMS_PROVIDERS)}")
    return provider.from_settings()  # type: ignore[no-any-return]


class SmsTransport(Transport):
    """A text message through the configured SMS provider."""

    channel = Channel.SMS.value

    def send(self, message: OutboxMessage, now: datetime) -> str:
        return sms_provider().send_sms(to=message.recipient, body=message.body, key=f"sms.{message.delivery_key}")


TRANSPORTS: dict[str, Transport] = {t.channel: t for t in (EmailTransport(), SmsTransport(), WebhookTransport())}


def transport_for(channel: str) -> Transport:
    """The transport of channel; an unknown channel can never be sent."""
    found = TRANSPORTS.get(channel)
    if found is None:
        raise TransportError(f"no transport for channel {channel!r}", permanent=True)
    return found


def headers_of(message: OutboxMessage) -> dict[str, str]:
    """The headers message goes out with, for the desk and the API (the webhook's timestamp and
    signature are made at each attempt, so they are not shown)."""
    if message.channel == Channel.EMAIL:
        email = EmailTransport().build(message)
        shown: dict[str, str] = {
            "From": str(email.from_email),
            "To": ", ".join(email.to),
            "Subject": str(email.subject),
        }
        if email.reply_to:
            shown["Reply-To"] = ", ".join(email.reply_to)
        return shown | {"Message-ID": message_id(message)}
    if message.channel == Channel.WEBHOOK:
        return {"content-type": "application/json", "webhook-id": webhook_id(message)}
    return {"To": message.recipient, "SMS backend": str(getattr(settings, "PROMISEDESK_SMS_BACKEND", "file"))}
