"""`promisedesk fetchmail --maildir PATH | --imap HOST --user U --password-env VAR`: poll mail into cases."""

from __future__ import annotations

import os
import ssl
import time
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from promisedesk.intake.fetch import FetchSummary, fetch_imap, fetch_maildir


class Command(BaseCommand):
    help = (
        "Read new mail from a maildir (moved to cur/ when done) or an IMAP folder (flagged seen when done) "
        "into cases or the intake quarantine; once, or every --interval seconds."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        source = parser.add_mutually_exclusive_group(required=True)
        source.add_argument("--maildir", type=Path, help="a maildir: messages in new/ are read, then moved to cur/")
        source.add_argument("--imap", metavar="HOST", help="an IMAP server: unseen messages are read, then flagged")
        parser.add_argument("--user", help="IMAP user name")
        parser.add_argument("--password-env", metavar="VAR", help="environment variable holding the IMAP password")
        parser.add_argument("--folder", default="INBOX", help="IMAP folder (default INBOX)")
        parser.add_argument("--port", type=int, help="IMAP port (default 993 with --ssl, else 143)")
        parser.add_argument("--ssl", action="store_true", help="IMAP over TLS")
        parser.add_argument("--limit", type=int, help="read at most this many messages per poll")
        parser.add_argument("--interval", type=float, help="poll again every this many seconds until interrupted")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["limit"] is not None and options["limit"] < 1:
            raise CommandError("--limit must be at least 1")
        if options["interval"] is not None and options["interval"] <= 0:
            raise CommandError("--interval must be more than 0")
        poll = self._maildir_poll(options) if options["maildir"] else self._imap_poll(options)
        while True:
            self.stdout.write(poll().line())
            self.stdout.flush()
            if options["interval"] is None:
                return
            time.sleep(options["interval"])

    def _maildir_poll(self, options: dict[str, Any]) -> Any:
        root: Path = options["maildir"]

        def poll() -> FetchSummary:
            try:
                return fetch_maildir(root, clock=timezone.now, limit=options["limit"])
            except FileNotFoundError as exc:
                raise CommandError(str(exc)) from exc

        return poll

    def _imap_poll(self, options: dict[str, Any]) -> Any:
        if not options["user"] or not options["password_env"]:
            raise CommandError("--imap needs --user and --password-env")
        password = os.environ.get(options["password_env"])
        if password is None:
            raise CommandError(f"the environment variable {options['password_env']} is not set")

        def poll() -> FetchSummary:
            from imapclient import IMAPClient
            from imapclient.exceptions import IMAPClientError

            port = options["port"] or (993 if options["ssl"] else 143)
            context = ssl.create_default_context() if options["ssl"] else None
            try:
                with IMAPClient(options["imap"], port=port, ssl=options["ssl"], ssl_context=context) as client:
                    client.login(options["user"], password)
                    return fetch_imap(client, folder=options["folder"], clock=timezone.now, limit=options["limit"])
            except (OSError, IMAPClientError) as exc:
                raise CommandError(f"IMAP {options['imap']}:{port}: {exc}") from exc

        return poll
