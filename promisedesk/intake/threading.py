"""Which case an email belongs to: a signed token in the reply address or the subject.

The token is the case id and an HMAC of it under the site's secret key, so a
customer can reply from any mail program, and nobody can thread mail into a case by
guessing its number.
"""

from __future__ import annotations

import re

from django.conf import settings
from django.utils.crypto import constant_time_compare, salted_hmac

SALT = "promisedesk.intake.thread"
TOKEN = re.compile(r"\b(\d{1,18})-([0-9a-f]{20})\b")
SUBJECT_TAG = re.compile(r"\[#(\d{1,18}-[0-9a-f]{20})\]")


def thread_token(case_id: int) -> str:
    """The token that threads mail into case_id, e.g. ``42-1f3a…`` (20 hex digits of HMAC)."""
    return f"{case_id}-{salted_hmac(SALT, str(case_id)).hexdigest()[:20]}"


def case_id_from_token(token: str) -> int | None:
    """The case a token names, or None when the token is malformed or forged."""
    match = TOKEN.fullmatch(token.strip().lower())
    if match is None:
        return None
    case_id = int(match.group(1))
    return case_id if constant_time_compare(thread_token(case_id), match.group(0)) else None


def reply_address(case_id: int) -> str:
    """The address a reply to a message about case_id is sent to: ``local+TOKEN@domain``."""
    local, _, domain = settings.PROMISEDESK_REPLY_ADDRESS.partition("@")
    return f"{local}+{thread_token(case_id)}@{domain}"


def subject_tag(case_id: int) -> str:
    """The tag a message's subject carries, for mail programs that drop the plus address: ``[#TOKEN]``."""
    return f"[#{thread_token(case_id)}]"
