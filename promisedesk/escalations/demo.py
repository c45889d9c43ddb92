"""The demo organisation's escalation chain, and the escalations its history owes."""

from __future__ import annotations

from datetime import datetime

from django.contrib.auth import get_user_model
from django.db.models import Q

from promisedesk.accounts.roles import MANAGER_GROUP

from .actions import do_set_chain
from .engine import EscalationResult, escalate_due
from .models import DEFAULT_KEY, EscalationPolicy
from .policy import BUILTIN_CHAIN


def load(now: datetime) -> EscalationResult:
    """Set the default chain (owner at the warning, team lead at 90 %, manager at the due time)
    unless one is set, then escalate what the demo's clocks owe as of now. Idempotent: a
    second run finds the chain and nothing left due.

    The chain is set by the first superuser (else a member of the manager group), as a
    manager would; with neither, the built-in chain (the same levels) applies anyway.
    """
    if not EscalationPolicy.objects.filter(promise_code=DEFAULT_KEY).exists():
        editor = (
            get_user_model()
            .objects.filter(Q(is_superuser=True) | Q(groups__name=MANAGER_GROUP), is_active=True)
            .order_by("-is_superuser", "id")
            .first()
        )
        if editor is not None:
            levels = [(level.role, level.threshold) for level in BUILTIN_CHAIN]
            do_set_chain(actor=editor, now=now, promise_code=DEFAULT_KEY, levels=levels)
    return escalate_due(now)
