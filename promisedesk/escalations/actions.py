"""Changing escalation chains: managers only, validated, one transaction each."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from django.db import transaction

from promisedesk.accounts.roles import is_manager, require_manager
from promisedesk.errors import NotFound
from promisedesk.promises.models import Promise

from .models import DEFAULT_KEY, EscalationLevel, EscalationPolicy
from .policy import Level, check_levels


def can_edit_chains(user: Any) -> bool:
    """Managers (superusers and members of the `manager` group) design escalation chains."""
    return is_manager(user)


def _check_editor(actor: Any) -> None:
    require_manager(actor, "only managers can change escalation chains")


def _check_promise(promise_code: str) -> None:
    if promise_code != DEFAULT_KEY and not Promise.objects.filter(code=promise_code).exists():
        raise NotFound(f"promise {promise_code!r}", "promise_code")


def do_set_chain(
    *, actor: Any, now: datetime, promise_code: str, levels: Sequence[tuple[str, object]]
) -> EscalationPolicy:
    """Replace the chain of a promise ("" for the organisation's default) with levels.

    An empty list is a chain too: that promise (or, by default, every promise without
    its own chain) is not escalated. Escalations already scheduled keep the
    thresholds they were scheduled with; the new chain applies from the next warning.
    """
    _check_editor(actor)
    chain: list[Level] = check_levels(levels)
    _check_promise(promise_code)
    with transaction.atomic():
        policy, created = EscalationPolicy.objects.select_for_update().get_or_create(
            promise_code=promise_code, defaults={"updated_at": now, "updated_by": actor}
        )
        if not created:
            policy.updated_at, policy.updated_by = now, actor
            policy.save(update_fields=["updated_at", "updated_by"])
            policy.levels.all().delete()
        EscalationLevel.objects.bulk_create(
            [EscalationLevel(policy=policy, role=level.role, threshold=level.threshold) for level in chain]
        )
    return policy


def do_delete_chain(*, actor: Any, now: datetime, promise_code: str) -> None:
    """Remove a promise's own chain (it falls back to the default) or the default (back to the built-in one)."""
    _check_editor(actor)
    with transaction.atomic():
        deleted, _ = EscalationPolicy.objects.filter(promise_code=promise_code).delete()
    if not deleted:
        raise NotFound(f"the escalation chain of {promise_code or 'default'!r}", "promise_code")
