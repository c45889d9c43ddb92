"""The effectiveness check on constructed histories: known commitments, known rates, known verdicts."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from promisedesk.capa.actions import Links, do_complete_action
from promisedesk.capa.effectiveness import IMPROVED, NOT_IMPROVED, TOO_LITTLE_DATA, measure, measure_action
from promisedesk.commitments.models import Commitment, State
from promisedesk.conftest import SHANGHAI, make_customer, make_service, open_case

from .conftest import new_action

DONE = datetime(2026, 3, 2, 9, 0, tzinfo=SHANGHAI)
CODE = "flight-delay-notice"


@pytest.fixture
def case_id(api: Any) -> int:
    make_service(api)
    return int(open_case(api, make_customer(api)["id"])["id"])


def closed(case_id: int, state: str, at: datetime, code: str = CODE) -> Commitment:
    """A commitment of promise `code` that closed at `at` (kept or broken), or one still open or withdrawn."""
    times: dict[str, dict[str, datetime]] = {
        State.MET: {"met_at": at},
        State.BREACHED: {"breached_at": at},
        State.CANCELLED: {"cancelled_at": at},
    }
    return Commitment(
        case_id=case_id, promise_code=code, state=state, created_at=at - timedelta(hours=1), **times.get(state, {})
    )


def history(case_id: int, *, before: tuple[int, int], after: tuple[int, int]) -> None:
    """(met, breached) commitments spread over the 30 days before DONE and the 30 days after it."""
    rows = []
    for side, (met, breached) in ((-1, before), (1, after)):
        for n in range(met + breached):
            at = DONE + side * timedelta(days=1 + n % 28, hours=n % 5)
            rows.append(closed(case_id, State.MET if n < met else State.BREACHED, at))
    Commitment.objects.bulk_create(rows)


def test_before_30_percent_after_10_percent_is_improved(case_id: int) -> None:
    history(case_id, before=(14, 6), after=(18, 2))
    effect = measure(CODE, pivot=DONE, window_days=30, now=DONE + timedelta(days=40))
    assert (effect.before.met, effect.before.breached, effect.before.percent) == (14, 6, 30.0)
    assert (effect.after.met, effect.after.breached, effect.after.percent) == (18, 2, 10.0)  # type: ignore[union-attr]
    assert effect.verdict == IMPROVED


@pytest.mark.parametrize(
    ("before", "after", "verdict"),
    [
        ((9, 1), (10, 0), IMPROVED),  # 10 % → 0 %: exactly the minimum sample on each side
        ((9, 0), (20, 0), TOO_LITTLE_DATA),  # nine before: too few to judge
        ((20, 0), (5, 4), TOO_LITTLE_DATA),
        ((8, 2), (8, 2), NOT_IMPROVED),  # the same rate is no improvement
        ((18, 2), (14, 6), NOT_IMPROVED),
    ],
)
def test_verdicts(case_id: int, before: tuple[int, int], after: tuple[int, int], verdict: str) -> None:
    history(case_id, before=before, after=after)
    assert measure(CODE, pivot=DONE, window_days=30, now=DONE + timedelta(days=30)).verdict == verdict


def test_only_closed_commitments_of_the_promise_inside_the_windows_count(case_id: int) -> None:
    window = timedelta(days=7)
    Commitment.objects.bulk_create(
        [
            closed(case_id, State.MET, DONE - window),  # the first instant of the before window: counts
            closed(case_id, State.BREACHED, DONE - window - timedelta(seconds=1)),  # just before it: not
            closed(case_id, State.BREACHED, DONE),  # at the completion itself: after
            closed(case_id, State.MET, DONE + timedelta(days=2)),
            closed(case_id, State.MET, DONE + timedelta(days=3, seconds=1)),  # after now: not yet
            closed(case_id, State.CANCELLED, DONE - timedelta(days=1)),  # withdrawn: neither kept nor broken
            closed(case_id, State.RUNNING, DONE - timedelta(days=1)),
            closed(case_id, State.BREACHED, DONE - timedelta(days=1), code="other-promise"),
        ]
    )
    effect = measure(CODE, pivot=DONE, window_days=7, now=DONE + timedelta(days=3))
    assert (effect.before.met, effect.before.breached) == (1, 0)
    assert (effect.after.met, effect.after.breached) == (1, 1)  # type: ignore[union-attr]
    assert effect.after.end == DONE + timedelta(days=3)  # type: ignore[union-attr]  # clipped to now


def test_a_breach_rejected_later_counts_as_kept(case_id: int) -> None:
    # a rejected clock breach leaves breached_at set on a commitment that is met after all
    row = closed(case_id, State.MET, DONE - timedelta(days=1))
    row.breached_at = DONE - timedelta(days=1, hours=1)
    row.save()
    effect = measure(CODE, pivot=DONE, window_days=30, now=DONE)
    assert (effect.before.met, effect.before.breached) == (1, 0)


def test_measured_with_one_query_however_long_the_history(case_id: int) -> None:
    history(case_id, before=(200, 50), after=(300, 20))
    with CaptureQueriesContext(connection) as queries:
        measure(CODE, pivot=DONE, window_days=30, now=DONE + timedelta(days=30))
    assert len(queries) == 1


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    rows=st.lists(
        st.tuples(
            st.sampled_from([State.MET, State.BREACHED, State.CANCELLED, State.RUNNING]),
            st.integers(min_value=-60 * 24, max_value=60 * 24),  # hours around the completion
        ),
        max_size=40,
    ),
    window=st.integers(min_value=1, max_value=45),
    now_hours=st.integers(min_value=0, max_value=60 * 24),
)
def test_counts_agree_with_counting_by_hand(case_id: int, rows: Any, window: int, now_hours: int) -> None:
    Commitment.objects.filter(promise_code=CODE).delete()
    Commitment.objects.bulk_create([closed(case_id, state, DONE + timedelta(hours=h)) for state, h in rows])
    now = DONE + timedelta(hours=now_hours)
    effect = measure(CODE, pivot=DONE, window_days=window, now=now)
    w = window * 24
    end = min(w, now_hours)
    before = [s for s, h in rows if -w <= h < 0]
    after = [s for s, h in rows if 0 <= h < end]
    assert (effect.before.met, effect.before.breached) == (before.count(State.MET), before.count(State.BREACHED))
    assert (effect.after.met, effect.after.breached) == (after.count(State.MET), after.count(State.BREACHED))  # type: ignore[union-attr]
    if effect.before.total:
        assert effect.before.rate == before.count(State.BREACHED) / effect.before.total


@pytest.mark.usefixtures("root_causes")
def test_the_action_shows_its_effect_through_the_api(api: Any, clock: Any, case_id: int, owner: Any, boss: Any) -> None:
    from promisedesk.conftest import make_promise

    make_promise(api, code=CODE)
    # the history is laid out around the moment the action will be done: clock.now (DONE)
    Commitment.objects.filter(promise_code=CODE).delete()
    history(case_id, before=(7, 3), after=(9, 1))
    action = new_action(clock.now - timedelta(days=40), links=Links(promise=CODE), window_days=30)
    do_complete_action(action, actor=boss, now=DONE, note="New SMS gateway with a fallback.")
    assert measure_action(action, DONE) is not None
    clock.advance(days=31)
    got = api.get(f"/capa-actions/{action.pk}").json()["effectiveness"]
    assert got["before"]["rate"] == 0.3 and got["before"]["total"] == 10
    assert got["after"]["rate"] == 0.1 and got["after"]["breached"] == 1
    assert got["verdict"] == IMPROVED and got["min_sample"] == 10


def test_promises_broken_under_force_majeure_are_left_out_of_both_sides(case_id: int) -> None:
    from promisedesk.breaches.models import Breach, Exclusion, Source

    history(case_id, before=(14, 6), after=(18, 2))
    storm = [
        closed(case_id, State.BREACHED, DONE + side * timedelta(days=2, minutes=n))
        for side in (-1, 1)
        for n in range(5)
    ]
    Commitment.objects.bulk_create(storm)
    ordinary = closed(case_id, State.BREACHED, DONE + timedelta(days=3))
    ordinary.save()
    Breach.objects.bulk_create(
        Breach(
            case_id=case_id,
            commitment=commitment,
            promise_code=CODE,
            source=Source.CLOCK,
            detected_at=DONE,
            recorded_at=DONE,
            exclusion=exclusion,
        )
        for commitment, exclusion in [*((c, Exclusion.FORCE_MAJEURE) for c in storm), (ordinary, Exclusion.NONE)]
    )

    with CaptureQueriesContext(connection) as queries:
        effect = measure(CODE, pivot=DONE, window_days=30, now=DONE + timedelta(days=40))

    assert len(queries) == 1
    assert (effect.before.met, effect.before.breached) == (14, 6)
    assert (effect.after.met, effect.after.breached) == (18, 3)  # type: ignore[union-attr]
