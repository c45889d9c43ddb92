"""Exact money arithmetic: Decimal amounts rounded to the currency's minor unit."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

# ISO 4217 minor units for the currencies that differ from two decimals.
_MINOR_UNITS = {
    "JPY": 0,
    "KRW": 0,
    "VND": 0,
    "ISK": 0,
    "CLP": 0,
    "PYG": 0,
    "UGX": 0,
    "XAF": 0,
    "XOF": 0,
    "BHD": 3,
    "IQD": 3,
    "JOD": 3,
    "KWD": 3,
    "LYD": 3,
    "OMR": 3,
    "TND": 3,
}


def minor_units(currency: str) -> int:
    return _MINOR_UNITS.get(currency.upper(), 2)


def round_money(amount: Decimal, currency: str) -> Decimal:
    """Round half up to the currency's smallest unit (68.005 CNY → 68.01)."""
    quantum = Decimal(1).scaleb(-minor_units(currency))
    return amount.quantize(quantum, rounding=ROUND_HALF_UP)


def liability_amount(liability: dict, price: Decimal | None, currency: str) -> Decimal | None:
    """What a liability pays on a case of this price; None when it needs a price the case lacks.

    Fixed amounts, a percent of the price or a multiple of it (the coach line's twice
    the fare), then the cap, then rounding — in that order, so a cap is exact.
    """
    if liability.get("kind") == "apology":
        return round_money(Decimal(0), currency)
    if liability.get("amount") is not None:
        amount = Decimal(liability["amount"])
    elif liability.get("percent_of_price") is not None:
        if price is None:
            return None
        amount = price * Decimal(liability["percent_of_price"]) / 100
    elif liability.get("multiple_of_price") is not None:
        if price is None:
            return None
        amount = price * Decimal(liability["multiple_of_price"])
    else:
        return None
    if liability.get("cap") is not None:
        amount = min(amount, Decimal(liability["cap"]))
    return round_money(amount, currency)


def format_money(amount: Decimal | None, currency: str) -> str | None:
    """The decimal string the API shows: exactly the currency's minor units ("136.00")."""
    return None if amount is None else str(round_money(Decimal(amount), currency))
