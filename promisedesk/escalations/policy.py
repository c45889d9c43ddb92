"""Escalation chains as values: validation, the built-in default, and which chain a promise uses."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from promisedesk.errors import DomainError

from .models import DEFAULT_KEY, ROLE_RANK, EscalationPolicy, Role

HUNDRED = Decimal(100)


@dataclass(frozen=True)
class Level:
    """One step of a chain; threshold None is "at the promise's own at-risk warning"."""

    role: str
    threshold: Decimal | None


# Used while the organisation has not set a default chain of its own: the owner with the
# at-risk warning, the team lead at 90 % of the target, the manager at the due time.
BUILTIN_CHAIN: tuple[Level, ...] = (
    Level(Role.OWNER.value, None),
    Level(Role.TEAM_LEAD.value, Decimal(90)),
    Level(Role.MANAGER.value, HUNDRED),
)


def _threshold(value: object, field: str) -> Decimal | None:
    if value is None:
        return None
    try:
        number = Decimal(str(value))
    except InvalidOperation as exc:
        raise DomainError("invalid_threshold", "a threshold is a percentage like 90", field) from exc
    if not number.is_finite() or number <= 0 or number > HUNDRED:
        raise DomainError("invalid_threshold", "a threshold is a percentage above 0 and at most 100", field)
    if number != number.quantize(Decimal("0.01")):
        raise DomainError("invalid_threshold", "a threshold has at most two decimal places", field)
    return number.quantize(Decimal("0.01"))


def check_levels(levels: Sequence[tuple[str, object]]) -> list[Level]:
    """Validate (role, threshold) pairs into a chain ordered up the hierarchy.

    Each role at most once; owner, team lead, manager in that order whatever order
    they were given in; thresholds rise strictly along the chain; "at the warning"
    (None) only on its first level, which comes before any percentage. Errors name
    the offending entry as `levels.<index>.<field>`.
    """
    seen: dict[str, int] = {}
    parsed: list[tuple[int, Level]] = []
    for index, (role, raw) in enumerate(levels):
        if role not in ROLE_RANK:
            raise DomainError("invalid_role", "a role is owner, team_lead or manager", f"levels.{index}.role")
        if role in seen:
            raise DomainError("duplicate_role", f"{role} appears twice in the chain", f"levels.{index}.role")
        seen[role] = index
        parsed.append((index, Level(str(role), _threshold(raw, f"levels.{index}.threshold"))))
    parsed.sort(key=lambda pair: ROLE_RANK[pair[1].role])  # type: ignore[index]
    previous: Decimal | None = None
    for position, (index, level) in enumerate(parsed):
        field = f"levels.{index}.threshold"
        if level.threshold is None and position > 0:
            raise DomainError(
                "thresholds_must_rise", "only the first level of a chain can be told at the warning", field
            )
        if level.threshold is not None and previous is not None and level.threshold <= previous:
            raise DomainError(
                "thresholds_must_rise",
                f"{level.role} must come at a higher threshold than the level before it ({previous} %)",
                field,
            )
        previous = level.threshold if level.threshold is not None else previous
    return [level for _, level in parsed]


Chains = dict[str, list[Level]]


def levels_of(policy: EscalationPolicy) -> list[Level]:
    """The stored levels of policy (prefetch `levels` when loading many)."""
    return [Level(level.role, level.threshold) for level in policy.levels.all()]


def load_chains() -> Chains:
    """Every stored chain by promise code ("" the default), in two queries."""
    chains: Chains = {}
    for policy in EscalationPolicy.objects.prefetch_related("levels"):
        levels = levels_of(policy)
        chains[policy.promise_code] = sorted(levels, key=lambda level: ROLE_RANK[level.role])  # type: ignore[index]
    return chains


def chain_for(promise_code: str | None, chains: Chains) -> list[Level]:
    """The promise's own chain, else the organisation's default, else the built-in one.

    An empty stored chain is a choice (no escalation), not a gap to fill.
    """
    if promise_code and promise_code in chains:
        return chains[promise_code]
    if DEFAULT_KEY in chains:
        return chains[DEFAULT_KEY]
    return list(BUILTIN_CHAIN)


def describe(levels: Iterable[Level]) -> list[dict[str, object]]:
    """A chain as plain values for the API and the page."""
    return [{"role": level.role, "threshold": level.threshold} for level in levels]
