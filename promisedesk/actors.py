"""Who is acting: the signed-in staff member of a request, as actions expect it."""

from __future__ import annotations

from django.contrib.auth.models import User
from django.http import HttpRequest


def actor_of(request: HttpRequest) -> User | None:
    user = getattr(request, "user", None)
    return user if isinstance(user, User) and user.is_authenticated else None
