"""`promisedesk demo`: load the demo organisation (the cases in PRODUCT.md); idempotent."""

from __future__ import annotations

import time
from datetime import datetime
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from promisedesk.demo.loader import load
from promisedesk.demo.story import DEFAULT_CASES


def parse_now(value: Any) -> datetime:
    if value is None:
        return timezone.now()
    if isinstance(value, datetime):
        moment = value
    else:
        try:
            moment = datetime.fromisoformat(str(value))
        except ValueError as exc:
            raise CommandError(f"--now {value!r} is not an ISO 8601 instant like 2026-03-02T10:00:00+08:00") from exc
    if moment.tzinfo is None:
        raise CommandError("--now needs a UTC offset, e.g. 2026-03-02T10:00:00+08:00")
    return moment


class Command(BaseCommand):
    help = (
        "Load the demo organisation: staff, calendars, services, published promises, customers and "
        "six weeks of cases with their clocks. Running it again changes nothing."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--now", help="the instant the history ends, ISO 8601 with offset (default: now)")
        parser.add_argument(
            "--cases", type=int, default=DEFAULT_CASES, help=f"how many cases to load (default {DEFAULT_CASES})"
        )

    def handle(self, *args: Any, now: Any = None, cases: int = DEFAULT_CASES, **options: Any) -> None:
        moment = parse_now(now)
        if cases < 0:
            raise CommandError("--cases cannot be negative")
        started = time.perf_counter()
        report = load(moment, cases=cases)
        for line in report.lines():
            self.stdout.write(line)
        self.stdout.write(f"  took {time.perf_counter() - started:.1f} s")
        shown = report.password or "(set outside the demo; change it with `promisedesk changepassword admin`)"
        self.stdout.write(f"Admin: http://127.0.0.1:8000/  user admin  password {shown}")
        if report.password:
            self.stdout.write("Staff (same password): " + ", ".join(_staff_names()))


def _staff_names() -> list[str]:
    from promisedesk.demo.catalogue import STAFF

    return [f"{username} ({role})" for username, _first, _last, _email, role in STAFF]
