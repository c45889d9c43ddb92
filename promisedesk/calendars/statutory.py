"""Statutory holidays and make-up workdays from published data.

China comes from the `chinese-calendar` package, which carries the State Council's
yearly notices including 调休 workdays; every other country code from `holidays`.
"""

from __future__ import annotations

from datetime import date

import holidays as holidays_lib


class UnknownRegion(ValueError):
    pass


def statutory_days(region: str, years: range) -> tuple[list[date], list[date]]:
    """Return (holidays, make-up workdays) for a country code over years."""
    code = region.upper()
    if code == "CN":
        from chinese_calendar import constants

        offs = sorted(d for d in constants.holidays if d.year in years)
        workdays = sorted(d for d in constants.workdays if d.year in years)
        return offs, workdays
    if code not in holidays_lib.list_supported_countries():
        raise UnknownRegion(f"{region!r} is not a country code with statutory holiday data")
    return sorted(holidays_lib.country_holidays(code, years=years).keys()), []


def default_years(today: date) -> range:
    return range(today.year - 3, today.year + 3)
