"""Who a message is from: the customer with that address, or a new one made for it.

A customer made by intake gets an external_ref derived from how they reached us
(``email:li@example.com``, ``phone:+8613800000000``, ``hook:wechat:u-42``). The
unique constraint on external_ref is what stops two messages from a new address,
arriving at once, from making two customers: the loser reads the winner.
"""

from __future__ import annotations

import hashlib
import re
from datetime import datetime

from promisedesk.cases.actions import do_create_customer
from promisedesk.cases.models import Customer, Locale
from promisedesk.errors import Conflict, DomainError

MAX_REF = 100


def ref_for(kind: str, value: str) -> str:
    """An external_ref ``kind:value`` that fits the column (a hash of the value when it is too long)."""
    ref = f"{kind}:{value}"
    if len(ref) <= MAX_REF:
        return ref
    return f"{kind}:sha256:{hashlib.sha256(value.encode()).hexdigest()[:40]}"


def normalise_phone(phone: str) -> str:
    """Digits and a leading +, so ``+86 138-0000-0000`` and ``+8613800000000`` are one customer."""
    digits = re.sub(r"\D", "", phone)
    return ("+" if phone.strip().startswith("+") else "") + digits


def customer_for(
    *,
    now: datetime,
    name: str,
    email: str = "",
    phone: str = "",
    locale: str | None = None,
    ref: str | None = None,
) -> Customer:
    """The customer behind a message, found by `ref`, then email, then phone; else created.

    An existing customer is returned as it is: a web form or an email does not
    overwrite what staff recorded about them.
    """
    return find_or_create_customer(now=now, name=name, email=email, phone=phone, locale=locale, ref=ref)[0]


def find_or_create_customer(
    *,
    now: datetime,
    name: str,
    email: str = "",
    phone: str = "",
    locale: str | None = None,
    ref: str | None = None,
) -> tuple[Customer, bool]:
    """(customer, created): as `customer_for`, saying whether this call made the customer.

    Whoever did not make the customer must not be shown anything of theirs: an
    address or a phone number typed into a public form proves nothing.
    """
    email = email.strip().lower()
    phone_key = normalise_phone(phone) if phone.strip() else ""
    refs = [r for r in (ref, ref_for("email", email) if email else None) if r]
    refs += [ref_for("phone", phone_key)] if phone_key and not email else []
    found = Customer.objects.filter(external_ref__in=refs).order_by("id").first() if refs else None
    if found is None and email:
        found = Customer.objects.filter(email__iexact=email).order_by("id").first()
    if found is None and phone_key and not email:
        found = Customer.objects.filter(phone=phone.strip()).order_by("id").first()
    if found is not None:
        return found, False
    if not refs:
        raise DomainError("no_contact", "a customer needs an email address, a phone number or a reference", "email")
    new_ref = refs[0]
    try:
        made = do_create_customer(
            now=now,
            external_ref=new_ref,
            name=(name.strip() or email or phone.strip() or new_ref)[:200],
            email=email,
            phone=phone.strip()[:40],
            locale=locale if locale in Locale.values else Locale.ZH_HANS,
        )
    except Conflict:
        # Another delivery made this customer a moment ago.
        return Customer.objects.get(external_ref=new_ref), False
    return made, True
