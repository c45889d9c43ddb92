"""Email into cases: the one function every mail channel (SMTP, maildir, IMAP) calls.

The rules, in order:
1. The idempotency key is the Message-ID with the sender (a hash of the raw bytes
   when there is none): a message delivered twice is handled once.
2. A message with no sender mail could be answered at, one sent automatically
   (Auto-Submitted, out-of-office), or one that cannot be read is quarantined.
3. A thread token in a recipient's +tag or in the subject's [#TOKEN] tag names the
   case. A forged token, tokens naming different cases, a case that does not exist
   or whose customer is not the sender: quarantined, never threaded. Otherwise the
   text is appended to the case as `customer_replied`, visible to the customer.
4. Without a token, a new case on channel `email` for the sender (found by address
   or created), for the service of the recipient's mailbox (or the default);
   no mailbox and no default: quarantined.
5. Whatever the case refuses (a DomainError) is quarantined with its message.
Attachments are stored with the event; oversized ones are listed on it as skipped.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from promisedesk.cases.models import Case
from promisedesk.errors import DomainError

from .actions import hold_message, mailbox_for, open_complaint, open_request, thread_reply
from .customers import customer_for
from .keys import Delivery, Outcome, claim
from .mailparse import ParsedMail, parse_mail
from .models import Reason

KEY_SOURCE = "email"


@dataclass
class MailResult:
    """What became of one message: opened a case, threaded into one, or quarantined (with why)."""

    outcome: str
    case_id: int | None
    event_id: int | None
    quarantine_id: int | None
    reason: str
    duplicate: bool

    @classmethod
    def of(cls, delivery: Delivery) -> MailResult:
        key = delivery.key
        outcome = "quarantined" if key.quarantined_id is not None else ("opened" if key.created else "threaded")
        return cls(
            outcome=outcome,
            case_id=key.case_id,
            event_id=key.event_id,
            quarantine_id=key.quarantined_id,
            reason=key.quarantined.reason if key.quarantined is not None else "",
            duplicate=delivery.duplicate,
        )


def ingest_email(raw: bytes, *, now: datetime, source: str = "email", recipients: Sequence[str] = ()) -> MailResult:
    """Put one raw RFC 5322 message into a case or the quarantine; see the module's rules.

    `source` says where it came from (smtp, maildir, imap) and is kept with it;
    `recipients` are the envelope's RCPT TO addresses when known. Bad input never
    raises: it is quarantined. Only a failing database does, and then nothing was
    recorded, so the caller can deliver the message again.
    """
    parsed = parse_mail(raw, recipients)
    return MailResult.of(claim(KEY_SOURCE, parsed.key, now, lambda: _route(parsed, raw, source, now)))


def _route(parsed: ParsedMail, raw: bytes, source: str, now: datetime) -> Outcome:
    def hold(reason: Reason, **context: Any) -> Outcome:
        held = hold_message(
            now=now,
            raw=raw,
            source=source,
            reason=reason,
            context=context,
            sender=parsed.sender,
            subject=parsed.subject,
            message_id=parsed.message_id,
            recipients=parsed.recipients,
        )
        return Outcome(quarantined=held)

    if not parsed.sender:
        return hold(Reason.NO_SENDER)
    if not parsed.readable:
        return hold(Reason.UNREADABLE)
    if parsed.auto_submitted:
        return hold(Reason.AUTO_SUBMITTED, value=parsed.auto_submitted)
    data = {"channel": "email", "source": source, "from": parsed.sender, "subject": parsed.subject}
    data |= {"message_id": parsed.message_id} if parsed.message_id else {}
    try:
        if parsed.tokens:
            case_or_hold = _threaded_case(parsed, hold)
            if not isinstance(case_or_hold, Case):
                return case_or_hold
            return thread_reply(case_or_hold, now=now, text=parsed.text, data=data, attachments=parsed.attachments)
        mailbox = mailbox_for(parsed.recipients)
        if mailbox is None:
            return hold(Reason.NO_MAILBOX)
        customer = customer_for(now=now, name=parsed.sender_name, email=parsed.sender, locale=parsed.language)
        if mailbox.complaints:
            return open_complaint(
                now=now,
                customer=customer,
                service_code=mailbox.service.code,
                channel="email",
                text=parsed.text,
                data=data | {"mailbox": mailbox.address},
                attachments=parsed.attachments,
            )
        return open_request(
            now=now,
            customer=customer,
            service_code=mailbox.service.code,
            channel="email",
            text=parsed.text,
            summary=parsed.subject or parsed.text[:200],
            data=data | {"mailbox": mailbox.address},
            attachments=parsed.attachments,
        )
    except DomainError as exc:
        # open_request and thread_reply roll back their own savepoint; the message is kept here.
        return hold(Reason.REFUSED, code=exc.code, error=exc.message)


def _threaded_case(parsed: ParsedMail, hold: Any) -> Case | Outcome:
    """The case the message's tokens name, or the quarantine when they cannot be trusted."""
    forged = [t for t in parsed.tokens if t.case_id is None]
    if forged:
        return hold(Reason.FORGED_TOKEN, token=forged[0].text, where=forged[0].where)
    named = sorted({t.case_id for t in parsed.tokens if t.case_id is not None})
    if len(named) > 1:
        return hold(Reason.CONFLICTING_TOKENS, cases=named)
    case = Case.objects.select_related("customer", "service").filter(pk=named[0]).first()
    if case is None:
        return hold(Reason.UNKNOWN_CASE, case=named[0])
    if (case.customer.email or "").strip().lower() != parsed.sender:
        return hold(Reason.OTHER_CUSTOMER, case=case.pk, sender=parsed.sender)
    return case
