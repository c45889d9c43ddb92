"""Command-line instants: `--now ISO` for operators replaying a sweep and for tests."""

from __future__ import annotations

from datetime import datetime

from django.core.management import CommandError


def parse_instant(value: str, option: str = "--now") -> datetime:
    """An ISO 8601 instant with an offset; a naive time would be ambiguous, so it is refused."""
    try:
        moment = datetime.fromisoformat(value)
    except ValueError as exc:
        raise CommandError(
            f"{option} must be an ISO 8601 instant such as 2026-03-02T18:00:00+08:00, not {value!r}"
        ) from exc
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise CommandError(f"{option} needs a UTC offset (…+08:00 or …Z): {value!r}")
    return moment
