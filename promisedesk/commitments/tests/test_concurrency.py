"""Exactly-once under real concurrency: sweepers in separate processes, racing and dying.

Every test here commits for real (transaction=True) and starts `promisedesk sweep`
or `promisedesk worker` processes against the test database (a file for SQLite, see
the top-level conftest.py; test_promisedesk on PostgreSQL). The processes are told
the instant with `--now`, so nobody reads the wall clock. Waits are bounded by
timeouts on the processes and on their output; nothing sleeps.
"""

from __future__ import annotations

import functools
import os
import queue
import re
import signal
import subprocess
import sys
import tempfile
import threading
from collections import Counter
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import IO, Any
from urllib.parse import quote

import pytest
from django.db import connection, transaction

import promisedesk
from promisedesk.breaches.models import Breach, Compensation
from promisedesk.cases.actions import do_append_event, do_open_case
from promisedesk.cases.models import Case, CaseEvent
from promisedesk.commitments import engine
from promisedesk.commitments.models import Commitment, CommitmentAlert, State
from promisedesk.conftest import SHANGHAI, make_customer, make_promise, make_service

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.postgres]

TIMEOUT = 120  # seconds any one process may take; a hang fails the test instead of stalling it
NINE, TEN, FIVE_PM = (datetime(2026, 3, 2, h, 0, tzinfo=SHANGHAI) for h in (9, 10, 17))
WARNINGS_ONLY = "2026-03-02T12:30:00+08:00"  # 09:00 clocks warned (12:00), none due (13:00)
EVENING = "2026-03-02T18:00:00+08:00"  # 09:00 and 10:00 clocks overdue, 17:00 clocks not yet
SUMMARY = re.compile(r"^sweep: (\d+) breached, (\d+) warned, (\d+) started, \d+ settled$", re.MULTILINE)


# --- the processes -----------------------------------------------------------------


def _database_url() -> str:
    """The test database as a URL for settings.py, derived from this connection."""
    config = connection.settings_dict
    if connection.vendor == "sqlite":
        name = config["NAME"]
        assert name and "memory" not in str(name), "concurrent tests need a file test database"
        return f"sqlite:///{Path(name).resolve()}"
    assert connection.vendor == "postgresql"
    user = quote(config.get("USER") or "", safe="")
    password = f":{quote(config['PASSWORD'], safe='')}" if config.get("PASSWORD") else ""
    host = config.get("HOST") or "localhost"
    port = f":{config['PORT']}" if config.get("PORT") else ""
    return f"postgres://{user}{password}@{host}{port}/{quote(config['NAME'], safe='')}"


@functools.cache
def _scratch_var_dir() -> str:
    return tempfile.mkdtemp(prefix="promisedesk-var-")


def _promisedesk(*args: str, **env: str) -> subprocess.Popen[str]:
    """Start `promisedesk …` on the test database; extra environment variables in env."""
    script = Path(sys.executable).with_name("promisedesk")
    command = [str(script)] if script.exists() else [sys.executable, "-m", "promisedesk.cli"]
    environment = {k: v for k, v in os.environ.items() if k != "PROMISEDESK_TEST_SQLITE_FILE"}
    environment |= {
        "DATABASE_URL": _database_url(),
        # files a worker writes (development SMS and mail) go to a scratch folder, not the source tree
        "PROMISEDESK_VAR_DIR": _scratch_var_dir(),
        "DJANGO_SETTINGS_MODULE": "promisedesk.settings",
        # the same source tree as this test process, wherever it was imported from
        "PYTHONPATH": os.pathsep.join(
            filter(None, [str(Path(promisedesk.__file__).parent.parent), os.environ.get("PYTHONPATH")])
        ),
        **env,
    }
    process = subprocess.Popen(
        [*command, *args],
        env=environment,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    _started.append(process)
    return process


_started: list[subprocess.Popen[str]] = []


@pytest.fixture(autouse=True)
def _no_process_outlives_its_test(transactional_db: None):
    """A failed test may leave a process halted in its transaction: end it (and only it),
    before the database is emptied for the next test (which would wait for its locks)."""
    yield
    while _started:
        process = _started.pop()
        if process.poll() is None:
            process.kill()
            process.wait(timeout=TIMEOUT)


def _finish(process: subprocess.Popen[str]) -> tuple[int, str, str]:
    try:
        out, err = process.communicate(timeout=TIMEOUT)
    except subprocess.TimeoutExpired:
        process.kill()
        out, err = process.communicate()
        pytest.fail(f"process did not finish in {TIMEOUT}s:\n{out}\n{err}")
    return process.returncode, out, err


def _wait(process: subprocess.Popen[str]) -> tuple[int, str]:
    """Like _finish for a process whose stderr a Lines reader owns; its stdout is short."""
    try:
        code = process.wait(timeout=TIMEOUT)
    except subprocess.TimeoutExpired:
        process.kill()
        pytest.fail(f"process did not finish in {TIMEOUT}s")
    return code, process.stdout.read()  # type: ignore[union-attr]


def _summary(out: str) -> tuple[int, int, int]:
    found = SUMMARY.search(out)
    assert found, out
    breached, warned, started = found.groups()
    return int(breached), int(warned), int(started)


class Lines:
    """The lines a process writes to one stream, read in a thread, awaited with a timeout."""

    def __init__(self, stream: IO[str]):
        self.queue: queue.Queue[str | None] = queue.Queue()
        self.seen: list[str] = []
        threading.Thread(target=self._pump, args=(stream,), daemon=True).start()

    def _pump(self, stream: IO[str]) -> None:
        for line in stream:
            self.queue.put(line)
        self.queue.put(None)

    def wait_for(self, pattern: str) -> str:
        while True:
            try:
                line = self.queue.get(timeout=TIMEOUT)
            except queue.Empty:
                pytest.fail(f"no line matching {pattern!r} in {TIMEOUT}s; saw {self.seen}")
            if line is None:
                pytest.fail(f"the stream ended without a line matching {pattern!r}; saw {self.seen}")
            self.seen.append(line)
            if re.search(pattern, line):
                return line


def _sweep_at_once(count: int, now: str, batch: int = 25) -> list[tuple[int, int, int]]:
    """Start count `sweep --once` processes, release them together, wait for all; their summaries.

    Each stops before its first batch until every one is ready, so they really race
    rather than run one after another as they happen to finish starting up.
    """
    processes = [
        _promisedesk("sweep", "--once", "--now", now, "--batch", str(batch), PROMISEDESK_HALT_AT="sweep_started")
        for _ in range(count)
    ]
    logs = [Lines(process.stderr) for process in processes]  # type: ignore[arg-type]
    for log in logs:
        log.wait_for(r"^halted at sweep_started")
    for process in processes:
        process.stdin.write("go\n")  # type: ignore[union-attr]
        process.stdin.flush()  # type: ignore[union-attr]
    summaries = []
    for process, log in zip(processes, logs, strict=True):
        code, out = _wait(process)
        assert code == 0, log.seen
        summaries.append(_summary(out))
    return summaries


def _wait_until_nobody_holds_a_clock() -> None:
    """Take and release every clock row: returns once a dead process's locks are gone.

    A process killed inside its transaction is rolled back by the database, but on
    PostgreSQL only once the server notices the closed connection; until then a
    sweeper would SKIP LOCKED rows. On SQLite this waits for the write lock.
    """
    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL lock_timeout = '60s'")
        list(Commitment.objects.select_for_update().values_list("id", flat=True))


# --- the data ----------------------------------------------------------------------


def _open_cases(api, **counts_at: int) -> None:
    """Open cases under a four-hour round-the-clock promise warning at 75 %.

    counts_at maps "nine", "ten", "five_pm" to how many cases open at that time.
    """
    make_service(api)
    standard = {"start_on": "case_opened", "stop_on": ["first_response"], "target": "PT4H", "warn_at": "75%"}
    make_promise(api, standard=standard)  # with an automatic 20 CNY voucher when broken
    customer = make_customer(api)["id"]
    times = {"nine": NINE, "ten": TEN, "five_pm": FIVE_PM}
    with transaction.atomic():
        for key, count in counts_at.items():
            for n in range(count):
                do_open_case(
                    actor=None, now=times[key], customer_id=customer, service_code="install", external_ref=f"{key}-{n}"
                )


def _events(type: str) -> Counter[int]:
    """How many timeline entries of type each commitment has."""
    return Counter(CaseEvent.objects.filter(type=type).values_list("data__commitment", flat=True))


def _assert_breached_exactly_once(expected: int) -> None:
    breached = Commitment.objects.filter(state=State.BREACHED)
    assert breached.count() == expected
    assert Breach.objects.count() == expected
    per_commitment = Counter(Breach.objects.values_list("commitment_id", flat=True))
    assert set(per_commitment.values()) == {1} and set(per_commitment) == set(breached.values_list("id", flat=True))
    # each at its due time, never at the sweep time
    for commitment in breached.prefetch_related("breaches"):
        assert commitment.breached_at == commitment.due_at == commitment.breaches.get().detected_at
        assert commitment.next_check_at is None
    timeline = _events("promise_breached")
    assert sum(timeline.values()) == expected and set(timeline.values()) == {1}


def _assert_warned_exactly_once(expected: int) -> None:
    assert CommitmentAlert.objects.count() == expected
    per_commitment = Counter(CommitmentAlert.objects.values_list("commitment_id", flat=True))
    assert len(per_commitment) == expected
    timeline = _events("promise_at_risk")
    assert sum(timeline.values()) == expected and set(timeline.values()) == {1}
    for alert in CommitmentAlert.objects.select_related("commitment"):
        assert alert.at == alert.commitment.warn_at == alert.commitment.warned_at


def _nothing_recorded(count: int) -> None:
    assert not Breach.objects.exists() and not CommitmentAlert.objects.exists()
    assert not CaseEvent.objects.filter(system=True).exists()
    running = Commitment.objects.filter(state=State.RUNNING, warned_at__isnull=True)
    assert running.count() == count
    assert all(c.next_check_at == c.warn_at for c in running)


# --- the tests ---------------------------------------------------------------------


def test_racing_sweepers_record_each_warning_and_breach_exactly_once(api):
    # given 300 clocks that warn at 12:00 and fall due at 13:00, 60 an hour later, 40 not due today
    _open_cases(api, nine=300, ten=60, five_pm=40)

    # when four sweepers race at 12:30: warnings only
    first = _sweep_at_once(4, WARNINGS_ONLY)
    # then every 09:00 clock warned once, whichever process did it
    assert sum(s[1] for s in first) == 300 and sum(s[0] for s in first) == 0
    _assert_warned_exactly_once(300)

    # when four more race at 18:00
    second = _sweep_at_once(4, EVENING)
    # then 360 breaches at their due times; the 60 were warned on the way, each once
    assert sum(s[0] for s in second) == 360 and sum(s[1] for s in second) == 60
    _assert_breached_exactly_once(360)
    _assert_warned_exactly_once(360)
    assert Commitment.objects.filter(state=State.RUNNING, warned_at__isnull=True).count() == 40

    # and a sweep afterwards finds nothing left to do
    assert _sweep_at_once(1, EVENING) == [(0, 0, 0)]


def test_a_sweeper_dying_inside_its_transaction_loses_nothing(api):
    _open_cases(api, nine=300)

    # when a sweeper exits abruptly after claiming its first batch
    code, out, err = _finish(_promisedesk("sweep", "--once", "--now", EVENING, PROMISEDESK_CRASH_AT="breach_claimed"))

    # then it wrote nothing
    assert code == 99, err
    _wait_until_nobody_holds_a_clock()
    _nothing_recorded(300)
    # and the next sweepers finish the job, exactly once
    assert sum(s[0] for s in _sweep_at_once(2, EVENING)) == 300
    _assert_breached_exactly_once(300)
    _assert_warned_exactly_once(300)


def test_a_sweeper_dying_between_breach_and_compensation_loses_nothing(api):
    from promisedesk.breaches.models import Compensation
    from promisedesk.notifications.models import OutboxMessage

    _open_cases(api, nine=30)

    # when a sweeper records the breaches, then dies while making good on the first one
    code, out, err = _finish(_promisedesk("sweep", "--once", "--now", EVENING, PROMISEDESK_CRASH_AT="settling"))

    # then the breaches stand, verified and not yet settled, and nothing was paid
    assert code == 99, err
    _assert_breached_exactly_once(30)
    assert Breach.objects.filter(status="verified", settled_at__isnull=True).count() == 30
    assert (
        not Compensation.objects.exists() and not OutboxMessage.objects.filter(event_key__startswith="breach:").exists()
    )
    # and the next sweep completes the make-good: one compensation and one apology per channel each
    code, out, err = _finish(_promisedesk("sweep", "--once", "--now", EVENING))
    assert code == 0, err
    assert out.strip() == "sweep: 0 breached, 0 warned, 0 started, 30 settled"
    assert Compensation.objects.count() == 30
    assert set(Compensation.objects.values_list("amount", flat=True)) == {Decimal("20.000")}
    per_breach = Counter(
        OutboxMessage.objects.filter(event_key__startswith="breach:").values_list("event_key", "channel")
    )
    assert len(per_breach) == 30 * 2 and set(per_breach.values()) == {1}  # email and SMS, once each
    _assert_breached_exactly_once(30)


def test_a_worker_killed_mid_batch_loses_nothing(api):
    _open_cases(api, nine=120)
    worker = _promisedesk("worker", "--now", EVENING, "--interval", "0", PROMISEDESK_HALT_AT="breach_claimed")
    try:
        # when the worker has claimed a batch (its UPDATE is done, nothing committed) …
        Lines(worker.stderr).wait_for(r"^halted at breach_claimed")  # type: ignore[arg-type]
        # … and is killed -9 there
        worker.kill()
    finally:
        worker.kill()
        worker.wait(timeout=TIMEOUT)
    assert worker.returncode == -signal.SIGKILL

    _wait_until_nobody_holds_a_clock()
    _nothing_recorded(120)
    code, out, err = _finish(_promisedesk("sweep", "--once", "--now", EVENING))
    assert code == 0, err
    assert _summary(out) == (120, 120, 0)
    _assert_breached_exactly_once(120)
    _assert_warned_exactly_once(120)


def test_a_sweeper_holding_a_batch_does_not_hold_up_the_others(api):
    _open_cases(api, nine=100)
    # given one sweeper stopped with its first batch of 10 claimed
    holder = _promisedesk("sweep", "--once", "--now", EVENING, "--batch", "10", PROMISEDESK_HALT_AT="breach_claimed")
    held = Lines(holder.stderr)  # type: ignore[arg-type]
    held.wait_for(r"^halted at breach_claimed")

    other = _promisedesk("sweep", "--once", "--now", EVENING, "--batch", "10")
    if connection.vendor == "postgresql":
        # then another sweeper skips the locked rows and does all the rest meanwhile
        code, out, err = _finish(other)
        assert code == 0, err
        assert _summary(out) == (90, 90, 0)
        holder.stdin.write("go on\n")  # type: ignore[union-attr]
        holder.stdin.flush()  # type: ignore[union-attr]
        code, out = _wait(holder)
        assert code == 0, held.seen
        assert _summary(out) == (10, 10, 0)
    else:
        # SQLite has one writer at a time: the other waits for the holder, then finds the rest
        holder.stdin.write("go on\n")  # type: ignore[union-attr]
        holder.stdin.flush()  # type: ignore[union-attr]
        (held_code, held_out), (code, out, err) = _wait(holder), _finish(other)
        assert (held_code, code) == (0, 0), (held.seen, err)
        assert _summary(held_out)[0] + _summary(out)[0] == 100
    _assert_breached_exactly_once(100)
    _assert_warned_exactly_once(100)


def test_worker_process_sweeps_and_makes_good_until_sigterm(api):
    _open_cases(api, nine=5)
    worker = _promisedesk("worker", "--now", EVENING, "--interval", "3600")
    logged = Lines(worker.stderr)  # type: ignore[arg-type]
    try:
        line = logged.wait_for(r"sweep: \d+ breached|sweep failed")  # fail fast on an error
        assert "sweep: 5 breached, 5 warned, 0 started, 5 settled" in line, logged.seen
        worker.send_signal(signal.SIGTERM)
        code, out = _wait(worker)
    finally:
        worker.kill()
    assert code == 0, logged.seen
    assert out.splitlines() == ["worker: sweeping every 3600.0s", "worker: stopped"]
    _assert_breached_exactly_once(5)
    assert Compensation.objects.filter(breach__in=Breach.objects.all()).count() == 5


def test_an_event_and_a_sweep_on_the_same_case_at_once_both_succeed(api, monkeypatch):
    # given a sweeper stopped with an overdue clock claimed, its timeline entry not yet written
    _open_cases(api, nine=1)
    case = Case.objects.get()
    sweeper = _promisedesk("sweep", "--once", "--now", EVENING, PROMISEDESK_HALT_AT="breach_claimed")
    halted = Lines(sweeper.stderr)  # type: ignore[arg-type]
    halted.wait_for(r"^halted at breach_claimed")

    # when the case gets an event meanwhile: its transaction locks the case, appends the
    # event, and then waits for the clock the sweeper holds
    case_locked = threading.Event()
    react = engine.react_to_event

    def reacting(*args: Any) -> Any:
        case_locked.set()
        return react(*args)

    monkeypatch.setattr(engine, "react_to_event", reacting)
    failures: list[BaseException] = []
    at = datetime.fromisoformat(EVENING)

    def respond() -> None:
        try:
            do_append_event(case, actor=None, now=at, type="first_response", at=at)
        except BaseException as exc:
            failures.append(exc)
        finally:
            case_locked.set()
            connection.close()

    responder = threading.Thread(target=respond)
    responder.start()
    if connection.vendor == "postgresql":
        assert case_locked.wait(TIMEOUT)  # SQLite: the event waits for the sweeper's write lock
    # and the sweeper goes on to write the case's timeline entry
    sweeper.stdin.write("go on\n")  # type: ignore[union-attr]
    sweeper.stdin.flush()  # type: ignore[union-attr]
    code, out = _wait(sweeper)
    responder.join(TIMEOUT)

    # then neither waits for the other for ever (nor is aborted as a deadlock)
    assert not responder.is_alive()
    assert (code, failures) == (0, []), halted.seen
    assert _summary(out) == (1, 1, 0)
    _assert_breached_exactly_once(1)
    assert Commitment.objects.get().stopped_at == at  # the late response is on the record
