"""Emails per second from a maildir into cases, against parsing the same files and inserting a bare row.

Both read the same generated messages from a maildir's new/ folder, one file at a
time in delivery order, and move each to cur/ when done, with one transaction per
message. promisedesk (`fetch_maildir`, what `promisedesk fetchmail --maildir` runs)
parses each message with the standard library's email package, claims its
idempotency key, routes it — a new case for its sender (found or created) with two
published promises attached and their clocks started, a reply threaded into its
case by its signed token, or the quarantine — stores its attachments with their
SHA-256, and queues the customer's "case received" message in the outbox. The
baseline parses the same bytes with the same package (policy.default, plain body
preferred) and inserts one row with sender, subject, Message-ID and body.

The mail: 80 % new requests from a fifth as many senders, 12 % replies to existing
cases, 3 % HTML-only, 4 % with a 30 KB PDF, 1 % without a sender.
"""

from __future__ import annotations

import random
import time
from collections.abc import Sequence
from datetime import datetime
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from pathlib import Path
from typing import Any

from bench.common import Result, fail, heading, line, parse_args, profile, report, setup_django, sizes

TARGET = 0.05
WINDOWS = [["09:00", "12:00"], ["13:00", "18:00"]]
TWO_WINDOWS = {d: WINDOWS for d in ("mon", "tue", "wed", "thu", "fri")}
EXISTING_CASES = 200
PDF = b"%PDF-1.4\n" + bytes(random.Random(7).randrange(256) for _ in range(30_000))


def set_up(now: datetime) -> list[tuple[int, str]]:
    """A CN calendar, a service, two published promises, the default mailbox, and cases to reply to."""
    from promisedesk.calendars.actions import do_create_calendar
    from promisedesk.cases.actions import do_create_customer, do_create_service, do_open_case
    from promisedesk.intake.actions import do_create_mailbox
    from promisedesk.promises.actions import do_create_promise, do_publish_promise

    calendar = do_create_calendar(
        now=now, name="Office", timezone="Asia/Shanghai", weekly_hours=TWO_WINDOWS, region="CN"
    )
    do_create_service(code="install", name="Installation", price=None, currency="CNY")
    for code, target, stop in (("reply-4h", "PT4H", "first_response"), ("resolve-16h", "PT16H", "resolved")):
        do_create_promise(
            actor=None,
            now=now,
            code=code,
            title=code,
            statement={"en": code, "zh-Hans": code},
            kind="time",
            coverage="full",
            form="written",
            applies_to={"services": [], "channels": [], "customer_tiers": [], "priorities": []},
            standard={"start_on": "case_opened", "stop_on": [stop], "target": target, "calendar": calendar.pk},
            liability={"kind": "apology"},
        )
        do_publish_promise(actor=None, now=now, code=code)
    do_create_mailbox(actor=None, now=now, address="*", service="install")
    cases = []
    for n in range(EXISTING_CASES):
        email = f"old{n}@example.com"
        customer = do_create_customer(now=now, name=f"Old {n}", email=email, external_ref=f"email:{email}")
        case, _ = do_open_case(actor=None, now=now, customer_id=customer.pk, service_code="install")
        cases.append((case.pk, email))
    return cases


def message(n: int, rng: random.Random, cases: list[tuple[int, str]], senders: int) -> bytes:
    """Message number n of the mix described in the module's docstring."""
    from promisedesk.intake.threading import reply_address, subject_tag

    roll = rng.random()
    mail = EmailMessage()
    mail["Message-ID"] = f"<bench-{n}@example.com>"
    mail["Date"] = "Mon, 02 Mar 2026 09:00:00 +0800"
    if roll < 0.12:
        case_id, email = cases[rng.randrange(len(cases))]
        mail["From"], mail["To"] = email, reply_address(case_id)
        mail["Subject"] = f"Re: your case {subject_tag(case_id)}"
        mail.set_content(f"Reply {n}: tomorrow morning suits me.\n\n> earlier message quoted here\n")
        return mail.as_bytes()
    if roll >= 0.99:
        mail["To"] = "support@example.com"
    else:
        sender = rng.randrange(senders)
        mail["From"] = f"Customer {sender} <customer{sender}@example.com>"
        mail["To"] = "support@example.com"
    mail["Subject"] = f"Request {n}: the broadband is down"
    body = f"Hello,\n\nsince this morning ({n}) nothing works. Please send someone.\n\nThanks\n"
    if 0.12 <= roll < 0.15:
        mail.set_content(f"<html><body><p>{body}</p><ul><li>modem</li><li>router</li></ul></body></html>", "html")
    else:
        mail.set_content(body)
    if 0.15 <= roll < 0.19:
        mail.add_attachment(PDF, maintype="application", subtype="pdf", filename=f"bill-{n}.pdf")
    return mail.as_bytes()


def write_maildir(root: Path, messages: list[bytes]) -> Path:
    """A maildir with every message in new/, named (and timed) in delivery order."""
    for sub in ("new", "cur", "tmp"):
        (root / sub).mkdir(parents=True)
    for n, raw in enumerate(messages):
        path = root / "new" / f"1772413200.M{n:06d}P1.bench"
        path.write_bytes(raw)
    return root


def baseline(root: Path, limit: int) -> int:
    """Parse each file with the email package, insert one bare row in its own transaction, move it."""
    from django.db import connection

    parser = BytesParser(policy=policy.default)
    with connection.cursor() as cursor:
        cursor.execute(
            "CREATE TABLE IF NOT EXISTS bench_mail (id INTEGER PRIMARY KEY, message_id TEXT, sender TEXT, "
            "subject TEXT, body TEXT)"
        )
    done = 0
    for path in sorted((root / "new").iterdir())[:limit]:
        parsed: Any = parser.parsebytes(path.read_bytes())
        part = parsed.get_body(preferencelist=("plain", "html"))
        body = part.get_content() if part is not None else ""
        with connection.cursor() as cursor:
            cursor.execute(
                "INSERT INTO bench_mail (message_id, sender, subject, body) VALUES (%s, %s, %s, %s)",
                [str(parsed["Message-ID"] or ""), str(parsed["From"] or ""), str(parsed["Subject"] or ""), body],
            )
        path.rename(root / "cur" / (path.name + ":2,S"))
        done += 1
    return done


def main(argv: Sequence[str] | None = None) -> list[Result]:
    args = parse_args(__doc__.splitlines()[0], argv)  # type: ignore[union-attr]
    n = sizes(args.quick, 10_000, 500)
    workdir = setup_django("intake-mail", keep=args.keep)
    from django.utils import timezone

    from promisedesk.cases.models import Attachment, Case, CaseEvent
    from promisedesk.intake.fetch import FetchSummary, fetch_maildir
    from promisedesk.intake.models import QuarantinedMessage

    now = timezone.now()
    cases = set_up(now)
    rng = random.Random(2026)
    messages = [message(i, rng, cases, max(1, n // 5)) for i in range(n)]
    megabytes = sum(map(len, messages)) / 1e6
    heading(
        f"intake_mail: {n:,} emails ({megabytes:.1f} MB) from a maildir, one process, in turns of {max(1, n // 10):,}"
    )
    ours, theirs = write_maildir(workdir / "ours", messages), write_maildir(workdir / "baseline", messages)
    cases_before = Case.objects.count()

    # A tenth of the mail at a time, each side in turn, so that a noisy moment hits both alike.
    chunk = max(1, n // 10)
    summary, base_count, ours_seconds, base_seconds = FetchSummary(), 0, 0.0, 0.0
    while summary.read < n:
        began = time.perf_counter()
        part = fetch_maildir(ours, clock=timezone.now, limit=chunk)
        ours_seconds += time.perf_counter() - began
        began = time.perf_counter()
        base_count += baseline(theirs, chunk)
        base_seconds += time.perf_counter() - began
        if part.read == 0:
            break
        summary.read += part.read
        for outcome, count in part.outcomes.items():
            summary.outcomes[outcome] = summary.outcomes.get(outcome, 0) + count

    if summary.read != n or base_count != n or any((ours / "new").iterdir()):
        fail(f"read {summary.read} (baseline {base_count}) of {n} messages")
    opened = Case.objects.count() - cases_before
    replies = CaseEvent.objects.filter(type="customer_replied").count()
    held = QuarantinedMessage.objects.count()
    if opened + replies + held != n or summary.outcomes.get("opened") != opened:
        fail(f"{opened} opened + {replies} threaded + {held} held is not {n}: {summary.outcomes}")
    line("outcomes", f"{opened:,} new cases, {replies:,} replies threaded, {held:,} held")
    line("attachments stored", f"{Attachment.objects.count():,}")
    ours_rate, base_rate = n / ours_seconds, n / base_seconds
    line("promisedesk fetchmail --maildir", f"{ours_rate:8.0f} emails/s  ({ours_seconds / n * 1e3:.2f} ms each)")
    line("baseline: email package + one bare row", f"{base_rate:8.0f} emails/s  ({base_seconds / n * 1e3:.2f} ms each)")
    if args.profile:
        extra = write_maildir(workdir / "profiled", [message(n + i, rng, cases, max(1, n // 5)) for i in range(300)])
        profile(lambda: fetch_maildir(extra, clock=timezone.now), "fetch_maildir, 300 more emails", 30)
    ratio = ours_rate / base_rate
    heading("intake_mail results")
    results = [
        Result(
            "email intake from a maildir",
            ratio,
            f"{ratio:.2f} of the bare parse-and-insert ({ours_rate:.0f} vs {base_rate:.0f} emails/s)",
            f"≥ {TARGET:.2f}",
            ratio >= TARGET,
            detail=f"{n} emails",
        )
    ]
    report(results, args.summary)
    return results


if __name__ == "__main__":
    main()
