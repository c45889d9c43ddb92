"""Working through bulk runs in batches: telling and compensating thousands of customers, resumably.

The algorithm, per batch (one transaction):
1. Claim a running run: `select_for_update(skip_locked=True)` on PostgreSQL, so racing
   workers take different runs (or none) and never the same batch; SQLite's immediate
   transactions let one writer in at a time, which has the same effect.
2. Read up to `batch` affected cases after the run's cursor (and within the cases it covers).
3. Do the step for each case: every step is guarded by a database
   constraint (`IncidentCase.notified_at` set by compare-and-set, the outbox's unique
   (event, recipient, channel), the grant key, the breach idempotency key and
   `breach_once_per_commitment`), so repeating a case writes nothing new.
4. Move the cursor by compare-and-set from the value read in 2; if another worker moved
   it, roll the whole batch back. Mark the run done when no case is left.
A worker that dies inside a batch loses only that uncommitted batch; the next worker
starts from the cursor the last committed batch left.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import OperationalError, connection, transaction
from django.db.models import F

from promisedesk.lib.faults import crash_point

from .models import BulkRun, IncidentCase, RunKind, RunStatus
from .steps import compensate_case, notify_case, step_failed

log = logging.getLogger("promisedesk.recovery")

BATCH = 200


@dataclass
class BulkResult:
    """What one call of run_bulk did."""

    batches: int = 0
    cases: int = 0
    finished: int = 0
    failed: int = 0

    def __str__(self) -> str:
        return (
            f"incident-run: {self.batches} batches, {self.cases} cases, {self.finished} runs done, {self.failed} failed"
        )

    def __bool__(self) -> bool:
        return bool(self.batches)


class _CursorMoved(Exception):
    """Another worker committed this run's batch first: this one is rolled back."""


def run_bulk(
    now: datetime, *, max_batches: int | None = None, batch: int = BATCH, incident: int | None = None
) -> BulkResult:
    """Work through running bulk runs, batch by batch, until none is left or max_batches are done.

    The worker's step (`max_batches` keeps a round short); `promisedesk incident-run` calls it
    until nothing is left. `incident` limits it to one incident's runs.
    """
    result = BulkResult()
    while max_batches is None or result.batches < max_batches:
        try:
            done = _one_batch(now, batch, incident)
        except _CursorMoved:
            continue
        except OperationalError:
            # The database is busy or the connection dropped: the batch was rolled back and its
            # run is still running, so the next round does it again.
            log.warning("bulk batch rolled back; retrying next round", exc_info=True)
            break
        if done is None:
            break
        cases, finished, failed = done
        result.batches += 1
        result.cases += cases
        result.finished += int(finished)
        result.failed += int(failed)
    return result


def _claim(incident: int | None) -> BulkRun | None:
    runs = BulkRun.objects.filter(status=RunStatus.RUNNING).select_related("incident", "launched_by")
    if incident is not None:
        runs = runs.filter(incident_id=incident)
    if connection.features.has_select_for_update_skip_locked:
        runs = runs.select_for_update(skip_locked=True, of=("self",))
    return runs.order_by("started_at", "id").first()


def _one_batch(now: datetime, batch: int, incident: int | None) -> tuple[int, bool, bool] | None:
    """(cases, whether the run finished, whether it failed) for one batch, or None when no run is waiting.

    A case whose step breaks is recorded as skipped (`step_failed`) and the batch goes on; a
    batch that fails for any other reason than a lost race or a transient database error
    (OperationalError, left for the next round) is rolled back and its run marked failed
    (with the error), so one bad run never stops the worker.
    """
    with transaction.atomic():
        run = _claim(incident)
        if run is None:
            return None
        try:
            with transaction.atomic():
                links = list(
                    IncidentCase.objects.filter(incident_id=run.incident_id, id__gt=run.cursor, id__lte=run.last_id)
                    .select_related("case__customer", "case__service")
                    .order_by("id")[:batch]
                )
                changed, skips = _work(run, links, now)
                finished = _advance(run, links, changed, skips, now)
        except (_CursorMoved, OperationalError):
            raise
        except Exception as exc:  # a bad batch must stop its run, not the worker
            log.exception("bulk run %s failed", run.pk)
            _fail(run.pk, now, f"{type(exc).__name__}: {exc}")
            return 0, False, True
        return len(links), finished, False


def _work(run: BulkRun, links: list[IncidentCase], now: datetime) -> tuple[int, dict[str, int]]:
    step = notify_case if run.kind == RunKind.NOTIFY else compensate_case
    changed, skips = 0, dict[str, int]()
    for number, link in enumerate(links):
        try:
            # A savepoint per case: one case that breaks is undone alone and the run goes on.
            with transaction.atomic():
                skipped = step(run, link, now)
        except OperationalError:
            raise  # transient: the whole batch is rolled back and done again next round
        except Exception:
            log.exception("bulk run %s: case %s failed", run.pk, link.case_id)
            skipped = step_failed(run, link, now)
        if skipped is None:
            changed += 1
        else:
            skips[skipped] = skips.get(skipped, 0) + 1
        if number == 0:
            crash_point("incident_batch")  # one case done, the batch not committed
    return changed, skips


def _advance(run: BulkRun, links: list[IncidentCase], changed: int, skips: dict[str, int], now: datetime) -> bool:
    cursor = links[-1].pk if links else run.last_id
    finished = cursor >= run.last_id
    reasons: dict[str, Any] = dict(run.skip_reasons)
    for reason, count in skips.items():
        reasons[reason] = reasons.get(reason, 0) + count
    fields: dict[str, Any] = {
        "cursor": cursor,
        "processed": F("processed") + len(links),
        "changed": F("changed") + changed,
        "skipped": F("skipped") + sum(skips.values()),
        "skip_reasons": reasons,
        "updated_at": now,
    }
    if finished:
        fields |= {"status": RunStatus.DONE, "finished_at": now}
    moved = BulkRun.objects.filter(pk=run.pk, cursor=run.cursor, status=RunStatus.RUNNING).update(**fields)
    if not moved:
        raise _CursorMoved
    return finished


def _fail(run_id: int, now: datetime, error: str) -> None:
    BulkRun.objects.filter(pk=run_id, status=RunStatus.RUNNING).update(
        status=RunStatus.FAILED,
        finished_at=now,
        updated_at=now,
        last_error="run_failed",
        error_params={"error": error[:2000]},
    )
