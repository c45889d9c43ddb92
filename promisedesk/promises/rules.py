"""Validation and normalisation of a promise's standard, liability and applicability."""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation
from typing import Any

from promisedesk.errors import DomainError
from promisedesk.lib.durations import parse_duration

EVENT_NAME = re.compile(r"^[a-z][a-z0-9_]{0,63}$")
# Moments a clock can start at without an event: the booked appointment window.
APPOINTMENT_TRIGGERS = ("appointment_start", "appointment_end")
LIABILITY_KINDS = ("refund", "voucher", "discount", "gift", "cash", "apology")
BREACH_BY = ("clock", "verified_report", "survey", "inspection", "claim")
MAX_MULTIPLE = Decimal("100")


def event_list(value: Any, field: str) -> list[str]:
    if value is None:
        return []
    items = [value] if isinstance(value, str) else value
    if not isinstance(items, list):
        raise DomainError("invalid", f"{field} must be an event name or a list of them", field)
    for name in items:
        if not isinstance(name, str) or not EVENT_NAME.match(name):
            raise DomainError("invalid_event_type", f"{name!r} is not a lower_snake_case event name", field)
    return list(dict.fromkeys(items))


def parse_warn_at(value: Any, field: str = "standard.warn_at") -> str | None:
    """A warning threshold: 'NN%' of the target used, or an ISO duration before the due time."""
    if value in (None, ""):
        return None
    if isinstance(value, str) and value.endswith("%"):
        try:
            percent = Decimal(value[:-1])
        except InvalidOperation as exc:
            raise DomainError("invalid", f"{value!r} is not a percentage like 80%", field) from exc
        if not percent.is_finite() or not 0 < percent < 100:
            raise DomainError("invalid", "a warning percentage lies between 0% and 100%", field)
        return value
    if isinstance(value, str):
        try:
            parse_duration(value)
        except ValueError as exc:
            raise DomainError("invalid_duration", str(exc), field) from exc
        return value
    raise DomainError("invalid", "warn_at is a percentage like '80%' or a duration like 'PT1H'", field)


def normalise_standard(raw: dict[str, Any] | None, kind: str) -> dict[str, Any]:
    raw = dict(raw or {})
    unknown = set(raw) - {
        "start_on",
        "stop_on",
        "pause_on",
        "resume_on",
        "target",
        "calendar",
        "warn_at",
        "breach_by",
        "max_pause",
    }
    if unknown:
        field = sorted(unknown)[0]
        raise DomainError("unknown_field", f"standard has no field {field!r}", f"standard.{field}")
    out: dict[str, Any] = {
        "start_on": event_list(raw.get("start_on"), "standard.start_on"),
        "stop_on": event_list(raw.get("stop_on"), "standard.stop_on"),
        "pause_on": event_list(raw.get("pause_on"), "standard.pause_on"),
        "resume_on": event_list(raw.get("resume_on"), "standard.resume_on"),
        "target": None,
        "warn_at": parse_warn_at(raw.get("warn_at")),
        "breach_by": raw.get("breach_by") or ("clock" if raw.get("target") else "verified_report"),
    }
    out["max_pause"] = None
    if raw.get("max_pause") is not None:
        try:
            parse_duration(raw["max_pause"])
        except ValueError as exc:
            raise DomainError("invalid_duration", str(exc), "standard.max_pause") from exc
        out["max_pause"] = raw["max_pause"]
    if out["breach_by"] not in BREACH_BY:
        raise DomainError("invalid", f"breach_by is one of {', '.join(BREACH_BY)}", "standard.breach_by")
    if raw.get("target") is not None:
        try:
            target = parse_duration(raw["target"])
        except ValueError as exc:
            raise DomainError("invalid_duration", str(exc), "standard.target") from exc
        if target.total_seconds() <= 0:
            raise DomainError("invalid_duration", "a target must be longer than zero", "standard.target")
        out["target"] = raw["target"]
    if kind == "time" or out["target"]:
        if not out["target"]:
            raise DomainError("missing_field", "a time promise needs a target duration", "standard.target")
        if not out["start_on"]:
            out["start_on"] = ["case_opened"]
        if not out["stop_on"]:
            raise DomainError(
                "missing_field", "a time promise needs the event that stops its clock", "standard.stop_on"
            )
    overlap = set(out["start_on"]) & set(out["stop_on"])
    if overlap:
        raise DomainError("invalid", f"{sorted(overlap)[0]!r} cannot both start and stop the clock", "standard.stop_on")
    if set(out["pause_on"]) & set(out["resume_on"]):
        raise DomainError("invalid", "an event cannot both pause and resume the clock", "standard.resume_on")
    if bool(out["pause_on"]) != bool(out["resume_on"]):
        raise DomainError("invalid", "pause_on and resume_on go together", "standard.resume_on")
    return out


def _money(value: Any, field: str, *, upper: Decimal | None = None) -> str | None:
    if value is None:
        return None
    try:
        amount = Decimal(str(value))
    except InvalidOperation as exc:
        raise DomainError("invalid_amount", f"{value!r} is not a decimal number", field) from exc
    if not amount.is_finite() or amount < 0:
        raise DomainError("invalid_amount", "amounts cannot be negative", field)
    if upper is not None and amount > upper:
        raise DomainError("invalid_amount", f"{field} may be at most {upper}", field)
    if amount.as_tuple().exponent < -4 or amount > Decimal("1e12"):  # type: ignore[operator]
        raise DomainError("invalid_amount", f"{value!r} is not a sensible amount", field)
    return str(amount)


def normalise_liability(raw: dict[str, Any] | None) -> dict[str, Any] | None:
    if raw is None:
        return None
    unknown = set(raw) - {
        "kind",
        "amount",
        "percent_of_price",
        "multiple_of_price",
        "cap",
        "currency",
        "verification_required",
        "automatic",
    }
    if unknown:
        field = sorted(unknown)[0]
        raise DomainError("unknown_field", f"liability has no field {field!r}", f"liability.{field}")
    kind = raw.get("kind")
    if kind not in LIABILITY_KINDS:
        raise DomainError("invalid", f"liability.kind is one of {', '.join(LIABILITY_KINDS)}", "liability.kind")
    out = {
        "kind": kind,
        "amount": _money(raw.get("amount"), "liability.amount"),
        "percent_of_price": _money(raw.get("percent_of_price"), "liability.percent_of_price", upper=Decimal(100)),
        "multiple_of_price": _money(raw.get("multiple_of_price"), "liability.multiple_of_price", upper=MAX_MULTIPLE),
        "cap": _money(raw.get("cap"), "liability.cap"),
        "currency": raw.get("currency"),
        "verification_required": bool(raw.get("verification_required", False)),
        "automatic": bool(raw.get("automatic", False)),
    }
    bases = [k for k in ("amount", "percent_of_price", "multiple_of_price") if out[k] is not None]
    if kind == "apology":
        if bases:
            raise DomainError("invalid", "an apology carries no amount", f"liability.{bases[0]}")
    elif len(bases) != 1:
        raise DomainError(
            "invalid", "give exactly one of amount, percent_of_price or multiple_of_price", "liability.amount"
        )
    currency = out["currency"]
    if currency is not None and (not isinstance(currency, str) or not re.fullmatch(r"[A-Z]{3}", currency)):
        raise DomainError("invalid_currency", "a currency is a three-letter ISO code like CNY", "liability.currency")
    if out["amount"] is not None and currency is None:
        raise DomainError("missing_field", "a fixed amount needs its currency", "liability.currency")
    return out


def normalise_applies_to(raw: dict[str, Any] | None, *, known_services: set[str]) -> dict[str, list[str]]:
    from promisedesk.cases.models import CaseKind, Channel, Priority

    raw = dict(raw or {})
    allowed = {"services", "channels", "customer_tiers", "priorities", "case_kinds"}
    unknown = set(raw) - allowed
    if unknown:
        field = sorted(unknown)[0]
        raise DomainError("unknown_field", f"applies_to has no field {field!r}", f"applies_to.{field}")
    out: dict[str, list[str]] = {}
    for key in sorted(allowed):
        values = raw.get(key) or []
        if not isinstance(values, list) or not all(isinstance(v, str) and 0 < len(v) <= 64 for v in values):
            raise DomainError("invalid", f"applies_to.{key} is a list of names", f"applies_to.{key}")
        out[key] = list(dict.fromkeys(values))
    choices = {
        "channels": set(Channel.values),
        "priorities": set(Priority.values),
        "services": known_services,
        "case_kinds": set(CaseKind.values),
    }
    for key, valid in choices.items():
        bad = [v for v in out[key] if v not in valid]
        if bad:
            raise DomainError("unknown_value", f"applies_to.{key}: {bad[0]!r} is not known", f"applies_to.{key}")
    return out


def normalise_statement(raw: Any) -> dict[str, str]:
    if isinstance(raw, str):
        if not raw.strip():
            raise DomainError("missing_field", "a promise needs a customer-facing statement", "statement")
        return {"en": raw, "zh-Hans": raw}
    known_languages = isinstance(raw, dict) and raw and set(raw) <= {"en", "zh-Hans"}
    if known_languages and all(isinstance(v, str) and v.strip() for v in raw.values()):
        return dict(raw)
    raise DomainError("invalid", "statement is a text or {'en': …, 'zh-Hans': …} with non-empty texts", "statement")
