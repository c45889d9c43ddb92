"""`promisedesk fetchmail`: a real maildir in a temporary folder; IMAP through imapclient's interface."""

from __future__ import annotations

import mailbox
import os
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.core.management import CommandError, call_command

from promisedesk.cases.models import Case, CaseEvent
from promisedesk.intake import fetch
from promisedesk.intake.models import QuarantinedMessage

from .conftest import mail, reply_to

pytestmark = pytest.mark.django_db


@pytest.fixture
def maildir(tmp_path: Path) -> mailbox.Maildir:
    """A maildir as a mail server delivers into it (the standard library writes new/ like one)."""
    return mailbox.Maildir(tmp_path / "Maildir", create=True)


def _fetchmail(*args: str) -> str:
    out = StringIO()
    call_command("fetchmail", *args, stdout=out)
    return out.getvalue()


def test_fetchmail_reads_new_mail_and_moves_it_to_cur(maildir, default_mailbox, clock):
    maildir.add(mail(message_id="<a@x>"))
    maildir.add(mail(message_id="<b@x>", sender="wang@example.cn"))
    maildir.add(mail(message_id="<c@x>", sender=None))
    root = Path(maildir._path)

    out = _fetchmail("--maildir", str(root))

    assert out.strip() == "fetchmail: 3 read: 2 opened, 1 quarantined (0 seen before)"
    assert Case.objects.count() == 2 and QuarantinedMessage.objects.get().source == "maildir"
    assert list((root / "new").iterdir()) == []
    done = sorted(p.name for p in (root / "cur").iterdir())
    assert len(done) == 3 and all(name.endswith(":2,S") for name in done)
    assert _fetchmail("--maildir", str(root)).strip() == "fetchmail: 0 read: nothing new (0 seen before)"


def test_fetchmail_threads_replies(maildir, default_mailbox, customer, clock):
    maildir.add(mail(sender="li@example.com"))
    _fetchmail("--maildir", maildir._path)
    case = Case.objects.get()
    maildir.add(reply_to(case.pk))
    assert "1 threaded" in _fetchmail("--maildir", maildir._path)
    assert CaseEvent.objects.filter(case=case, type="customer_replied").count() == 1


def test_a_message_put_back_in_new_is_not_taken_twice(maildir, default_mailbox, clock):
    # as after a crash between recording a message and moving it
    maildir.add(mail())
    _fetchmail("--maildir", maildir._path)
    maildir.add(mail())
    assert "(1 seen before)" in _fetchmail("--maildir", maildir._path)
    assert Case.objects.count() == 1


def test_fetchmail_limit_reads_the_oldest_first(maildir, default_mailbox, clock):
    for n in range(3):
        key = maildir.add(mail(message_id=f"<{n}@x>", subject=f"number {n}"))
        delivered = 1_772_000_000 + (10 - n) * 60  # the later added, the earlier delivered
        os.utime(Path(maildir._path) / "new" / key, (delivered, delivered))
    _fetchmail("--maildir", maildir._path, "--limit", "2")
    assert sorted(Case.objects.values_list("summary", flat=True)) == ["number 1", "number 2"]
    assert len(list((Path(maildir._path) / "new").iterdir())) == 1


def test_fetchmail_refuses_a_folder_that_is_not_a_maildir(tmp_path, db):
    with pytest.raises(CommandError, match="is not a maildir"):
        _fetchmail("--maildir", str(tmp_path))


def test_fetchmail_needs_a_source(db):
    with pytest.raises(CommandError):
        _fetchmail()


# --- IMAP --------------------------------------------------------------------------------


class FakeImap:
    """The part of imapclient.IMAPClient that fetch_imap uses, over a dict of uid → raw message."""

    def __init__(self, messages: dict[int, bytes]):
        self.messages = messages
        self.seen: set[int] = set()
        self.selected = ""
        self.logged_in: tuple[str, str] | None = None

    def __enter__(self) -> FakeImap:
        return self

    def __exit__(self, *exc: Any) -> None:
        pass

    def login(self, user: str, password: str) -> None:
        self.logged_in = (user, password)

    def select_folder(self, folder: str) -> None:
        self.selected = folder

    def search(self, criteria: list[str]) -> list[int]:
        assert criteria == ["UNSEEN"]
        return [uid for uid in self.messages if uid not in self.seen]

    def fetch(self, uids: list[int], parts: list[str]) -> dict[int, dict[bytes, bytes]]:
        assert parts == ["BODY.PEEK[]"]  # reading must not mark a message seen
        return {uid: {b"BODY[]": self.messages[uid]} for uid in uids if uid in self.messages}

    def add_flags(self, uids: list[int], flags: list[bytes]) -> None:
        assert flags == [b"\\Seen"]
        self.seen.update(uids)


def test_imap_reads_unseen_mail_and_flags_it_seen(default_mailbox, clock, monkeypatch):
    server = FakeImap({7: mail(message_id="<i1@x>"), 9: mail(message_id="<i2@x>", sender=None)})
    opened: list[tuple[str, int, bool]] = []

    def connect(host: str, port: int, ssl: bool, ssl_context: Any) -> FakeImap:
        opened.append((host, port, ssl))
        return server

    monkeypatch.setattr("imapclient.IMAPClient", connect)
    monkeypatch.setenv("IMAP_PASSWORD", "s3cret")

    out = _fetchmail("--imap", "imap.example.com", "--user", "desk", "--password-env", "IMAP_PASSWORD", "--ssl")

    assert out.strip() == "fetchmail: 2 read: 1 opened, 1 quarantined (0 seen before)"
    assert opened == [("imap.example.com", 993, True)] and server.logged_in == ("desk", "s3cret")
    assert server.selected == "INBOX" and server.seen == {7, 9}
    assert QuarantinedMessage.objects.get().source == "imap:INBOX"


def _breaks_on(subject: str) -> Any:
    """ingest_email, raising for the message with `subject` as a bug or a refusing database would."""
    real = fetch.ingest_email

    def ingest(raw: bytes, **kwargs: Any) -> Any:
        if subject.encode() in raw:
            raise RuntimeError("boom")
        return real(raw, **kwargs)

    return ingest


def _broken(*args: Any, **kwargs: Any) -> Any:
    raise RuntimeError("database is down")


def test_imap_marks_nothing_seen_when_recording_fails(default_mailbox, clock, monkeypatch):
    server = FakeImap({1: mail(), 2: mail(message_id="<two@x>", subject="second")})
    monkeypatch.setattr(fetch, "ingest_email", _broken)
    monkeypatch.setattr(fetch, "hold_message", _broken)  # not even the quarantine takes it

    summary = fetch.fetch_imap(server, folder="INBOX", clock=lambda: clock.now)

    assert server.seen == set() and (summary.read, summary.failed) == (0, 2)
    assert summary.line().endswith("2 failed and left for the next poll")


def test_imap_quarantines_a_message_that_fails_and_reads_on(default_mailbox, clock, monkeypatch):
    server = FakeImap({1: mail(message_id="<one@x>", subject="poison"), 2: mail(message_id="<two@x>")})
    monkeypatch.setattr(fetch, "ingest_email", _breaks_on("poison"))

    summary = fetch.fetch_imap(server, folder="INBOX", clock=lambda: clock.now)

    assert server.seen == {1, 2} and summary.outcomes == {"opened": 1, "quarantined": 1}
    held = QuarantinedMessage.objects.get()
    assert (held.reason, held.context, held.source, held.subject) == (
        "processing_failed",
        {"error": "RuntimeError"},
        "imap:INBOX",
        "poison",
    )
    assert bytes(held.raw) == server.messages[1] and "RuntimeError" in held.explanation()


def test_maildir_quarantines_a_message_that_fails_and_reads_on(maildir, default_mailbox, clock, monkeypatch):
    maildir.add(mail(message_id="<one@x>", subject="poison"))
    maildir.add(mail(message_id="<two@x>", subject="fine"))
    monkeypatch.setattr(fetch, "ingest_email", _breaks_on("poison"))

    out = _fetchmail("--maildir", maildir._path)

    assert out.strip() == "fetchmail: 2 read: 1 opened, 1 quarantined (0 seen before)"
    assert Case.objects.get().summary == "fine"
    assert QuarantinedMessage.objects.get().reason == "processing_failed"
    assert list((Path(maildir._path) / "new").iterdir()) == []


def test_maildir_leaves_a_message_nobody_could_record_for_the_next_poll(maildir, default_mailbox, clock, monkeypatch):
    maildir.add(mail(message_id="<one@x>", subject="poison"))
    maildir.add(mail(message_id="<two@x>", subject="fine"))
    monkeypatch.setattr(fetch, "ingest_email", _breaks_on("poison"))
    monkeypatch.setattr(fetch, "hold_message", _broken)

    out = _fetchmail("--maildir", maildir._path)

    assert out.strip() == "fetchmail: 1 read: 1 opened (0 seen before), 1 failed and left for the next poll"
    assert len(list((Path(maildir._path) / "new").iterdir())) == 1 and not QuarantinedMessage.objects.exists()


def test_imap_needs_a_user_and_a_password_variable(db, monkeypatch):
    with pytest.raises(CommandError, match="--user and --password-env"):
        _fetchmail("--imap", "imap.example.com")
    monkeypatch.delenv("NO_SUCH_VARIABLE", raising=False)
    with pytest.raises(CommandError, match="NO_SUCH_VARIABLE is not set"):
        _fetchmail("--imap", "imap.example.com", "--user", "u", "--password-env", "NO_SUCH_VARIABLE")


def test_an_unreachable_imap_server_is_a_command_error(db, monkeypatch):
    def refuse(*args: Any, **kwargs: Any) -> Any:
        raise ConnectionRefusedError("connection refused")

    monkeypatch.setattr("imapclient.IMAPClient", refuse)
    monkeypatch.setenv("IMAP_PASSWORD", "x")
    with pytest.raises(CommandError, match="IMAP imap.example.com:143"):
        _fetchmail("--imap", "imap.example.com", "--user", "u", "--password-env", "IMAP_PASSWORD")
