"""A real SMTP listener (aiosmtpd) that hands every message to ingest_email.

The event loop only receives; each message is ingested in a worker thread (the ORM
is synchronous), with the database connection handled as Django handles a request.
A message is acknowledged with 250 only after it was recorded (in a case or in the
quarantine); if the database fails the sender gets 451 and delivers it again later,
which the idempotency key makes harmless.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import datetime
from typing import Any

from aiosmtpd.controller import Controller
from django.db import close_old_connections
from django.utils import timezone

from . import conf
from .mail import MailResult, ingest_email

log = logging.getLogger("promisedesk.intake")


class IntakeHandler:
    """aiosmtpd handler: DATA → ingest_email(raw, recipients=RCPT TO)."""

    def __init__(self, clock: Callable[[], datetime] = timezone.now, source: str = "smtp"):
        self.clock = clock
        self.source = source

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        raw = envelope.original_content or envelope.content or b""
        if isinstance(raw, str):
            raw = raw.encode("utf-8", "surrogateescape")
        recipients = list(envelope.rcpt_tos or [])
        loop = asyncio.get_running_loop()
        try:
            result = await loop.run_in_executor(None, self._ingest, raw, recipients)
        except Exception:
            log.exception("intake: a message could not be recorded; the sender will retry")
            return "451 4.3.0 Could not record the message now; please try again later"
        log.info("intake: smtp message %s (case %s)", result.outcome, result.case_id)
        return "250 2.0.0 Message accepted"

    def _ingest(self, raw: bytes, recipients: list[str]) -> MailResult:
        close_old_connections()
        try:
            return ingest_email(raw, now=self.clock(), source=self.source, recipients=recipients)
        finally:
            close_old_connections()


class IntakeController(Controller):
    """aiosmtpd's threaded controller, also for port 0: it learns the port the system chose."""

    def __init__(self, handler: IntakeHandler, hostname: str = "127.0.0.1", port: int = 8025, **kwargs: Any):
        kwargs.setdefault("data_size_limit", conf.smtp_max_bytes())
        super().__init__(handler, hostname=hostname, port=port, **kwargs)

    def _trigger_server(self) -> None:
        if self.port == 0 and self.server is not None:
            sockets = getattr(self.server, "sockets", None) or []
            if sockets:
                self.port = sockets[0].getsockname()[1]
        super()._trigger_server()
