"""Reads for the escalation page: the chains as rows, escalations by status, and the words for both."""

from __future__ import annotations

from typing import Any

from django.db.models import Count, Q, QuerySet
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from promisedesk.errors import DomainError
from promisedesk.promises.models import Promise

from .models import DEFAULT_KEY, Escalation, EscalationPolicy, Reason, Role, Status, format_threshold
from .policy import BUILTIN_CHAIN, Level, levels_of

DEFAULT_NAME = "default"
STATUS_TABS = ("pending", "fired", "skipped", "void", "all")

ERROR_TEXTS: dict[str, Any] = {
    "thresholds_must_rise": gettext_lazy(
        "Each level must come at a higher percentage than the one before it; only the first can come with the warning."
    ),
    "duplicate_role": gettext_lazy("Each role can appear only once in a chain."),
    "invalid_threshold": gettext_lazy(
        "A threshold is a percentage above 0 and at most 100, with two decimals at most."
    ),
    "invalid_role": gettext_lazy("A role is owner, team lead or manager."),
    "forbidden": gettext_lazy("Only managers can change escalation chains."),
    "not_found": gettext_lazy("There is no promise with that code."),
}


def error_text(exc: DomainError) -> str:
    return str(ERROR_TEXTS.get(exc.code, exc.message))


def key_of(promise_code: str) -> str:
    """A chain's name in URLs: `default` or the promise code."""
    return DEFAULT_NAME if promise_code == DEFAULT_KEY else promise_code


def code_of(key: str) -> str:
    return DEFAULT_KEY if key == DEFAULT_NAME else key


def _cells(levels: list[Level]) -> list[tuple[Any, str | None]]:
    """(role label, threshold text or None) for owner, team lead and manager: the columns of the page."""
    by_role = {level.role: level for level in levels}
    return [
        (Role(role).label, format_threshold(by_role[role].threshold) if role in by_role else None)
        for role in Role.values
    ]


def chain_rows() -> list[dict[str, Any]]:
    """Every chain, the default first (the built-in one while none is set), in three queries."""
    rows = []
    stored = EscalationPolicy.objects.select_related("updated_by").prefetch_related("levels").order_by("promise_code")
    for policy in stored:
        levels = levels_of(policy)
        rows.append(
            {
                "key": key_of(policy.promise_code),
                "promise_code": policy.promise_code,
                "builtin": False,
                "cells": _cells(levels),
                "updated_at": policy.updated_at,
                "updated_by": policy.updated_by.get_username() if policy.updated_by else "",
            }
        )
    if not rows or rows[0]["promise_code"] != DEFAULT_KEY:
        builtin = {"key": DEFAULT_NAME, "promise_code": DEFAULT_KEY, "builtin": True, "cells": _cells([*BUILTIN_CHAIN])}
        rows.insert(0, builtin)
    return rows


def chain_of(promise_code: str) -> list[Level] | None:
    """The stored chain of a promise ("" the default), or None when it has none of its own."""
    policy = EscalationPolicy.objects.prefetch_related("levels").filter(promise_code=promise_code).first()
    if policy is None:
        return list(BUILTIN_CHAIN) if promise_code == DEFAULT_KEY else None
    return levels_of(policy)


def promises_without_a_chain() -> list[str]:
    own = EscalationPolicy.objects.values_list("promise_code", flat=True)
    return list(Promise.objects.exclude(code__in=own).order_by("code").values_list("code", flat=True))


def escalations(status: str) -> QuerySet[Escalation]:
    """Pending ones soonest first; the rest the most recent first."""
    if status == Status.PENDING:
        return Escalation.objects.filter(status=status).order_by("fire_at", "id")
    query = Escalation.objects.order_by("-fired_at", "-id")
    return query if status == "all" else query.filter(status=status)


def status_counts() -> dict[str, int]:
    counts = Escalation.objects.aggregate(
        all=Count("id"), **{s: Count("id", filter=Q(status=s)) for s in Status.values}
    )
    return {key: value or 0 for key, value in counts.items()}


def escalation_row(e: Escalation) -> dict[str, Any]:
    return {
        "escalation": e,
        "role": Role(e.role).label,
        "threshold": e.threshold_label(),
        "status": Status(e.status).label,
        "when": e.fire_at if e.status == Status.PENDING else e.fired_at,
        "who": ", ".join(e.usernames),
        "why": Reason(e.reason).label if e.reason else "",
    }


def role_labels() -> list[str]:
    return [str(Role(role).label) for role in Role.values]


def chain_title(promise_code: str) -> str:
    return _("Organisation default") if promise_code == DEFAULT_KEY else promise_code
