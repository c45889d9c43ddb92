"""The background worker loop: sweep clocks, then make good on what broke, until told to stop."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import datetime

from django.db import close_old_connections

from promisedesk.breaches.settlement import settle_pending
from promisedesk.capa.chase import chase_due
from promisedesk.complaints.auto import raise_for_breaches
from promisedesk.escalations.engine import escalate_due
from promisedesk.notifications.delivery import deliver_due
from promisedesk.recovery.bulk import run_bulk

from .sweeper import SweepResult, sweep

log = logging.getLogger("promisedesk.worker")


def run_worker(stop: threading.Event, interval: float, now: Callable[[], datetime]) -> None:
    """Every `interval` seconds until `stop` is set: a sweep, settlement, complaints raised
    by breaches, escalation, chasing CAPA actions, incidents' bulk runs, then delivery.

    All are safe to run in many workers at once and resume after a crash. Errors are
    logged, not fatal: the next round tries again.
    """
    while not stop.is_set():
        try:
            instant = now()
            result: SweepResult = sweep(instant)
            settled = settle_pending(instant)
            raised = raise_for_breaches(instant)
            escalated = escalate_due(instant)
            chased = chase_due(instant)
            # An incident's bulk run a few batches at a time, so a run of thousands never stalls the sweep.
            bulk = run_bulk(instant, max_batches=5)
            # At most 1,000 messages a round, so sweeps keep their pace behind a backlog. Delivery
            # gets the clock, not `instant`: each batch's lease must start when it is claimed, not
            # when the round began (a slow batch would leave the next one an expired lease).
            delivered = deliver_due(now, max_batches=20)
            if result.breached or result.warned or result.started or settled:
                log.info("%s, %s settled", result, settled)
            if escalated.scheduled or escalated.fired or escalated.skipped or escalated.void:
                log.info("%s", escalated)
            for done in (raised, chased, bulk):
                if done:
                    log.info("%s", done)
            if delivered.sent or delivered.retrying or delivered.failed:
                log.info("%s", delivered)
        except Exception:  # a bad row or a lost connection must not kill the worker
            log.exception("sweep failed; retrying")
        finally:
            close_old_connections()
        stop.wait(interval)
