"""The background worker loop: sweep clocks until told to stop."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import datetime

from django.db import close_old_connections

from .sweeper import SweepResult, sweep

log = logging.getLogger("promisedesk.worker")


def run_worker(stop: threading.Event, interval: float, now: Callable[[], datetime]) -> None:
    """Sweep every `interval` seconds until `stop` is set; errors are logged, not fatal."""
    while not stop.is_set():
        try:
            result: SweepResult = sweep(now())
            if result.breached or result.warned or result.started:
                log.info("%s", result)
        except Exception:  # a bad row or a lost connection must not kill the worker
            log.exception("sweep failed; retrying")
        finally:
            close_old_connections()
        stop.wait(interval)
