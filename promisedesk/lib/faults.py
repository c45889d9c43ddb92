"""Fault injection for the crash tests: named points where a process can be made to die.

Nothing happens unless the environment asks. PROMISEDESK_CRASH_AT=point exits there at
once (status 99), inside whatever transaction is open. PROMISEDESK_HALT_AT=point
stops there the first time, says `halted at point` on stderr and waits: a line on
stdin lets it go on, end of input (or ten minutes) makes it exit (status 98); a test
may also kill it (-9) meanwhile.

Points: `sweep_started` (before the first batch), `breach_claimed` (a sweep batch
moved, nothing recorded, the transaction open), `settling` (a compensation written,
the breach not yet marked settled, the transaction open).
"""

from __future__ import annotations

import os
import select
import sys

_halted: set[str] = set()


def crash_point(name: str) -> None:
    if os.environ.get("PROMISEDESK_CRASH_AT") == name:
        os._exit(99)
    if os.environ.get("PROMISEDESK_HALT_AT") == name and name not in _halted:
        _halted.add(name)
        sys.stderr.write(f"halted at {name}\n")
        sys.stderr.flush()
        ready, _, _ = select.select([sys.stdin], [], [], 600)
        if not ready or not sys.stdin.readline():
            os._exit(98)
