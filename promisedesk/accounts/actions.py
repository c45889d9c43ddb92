"""Issuing API tokens."""

from __future__ import annotations

from datetime import datetime

from django.contrib.auth.models import User
from django.db import transaction

from .models import ApiToken, hash_token


def do_create_token(user: User, now: datetime, label: str = "") -> str:
    """Create a token for user and return the raw value; it is shown only this once."""
    raw = ApiToken.new_raw_token()
    with transaction.atomic():
        ApiToken.objects.create(user=user, digest=hash_token(raw), label=label, created_at=now)
    return raw
