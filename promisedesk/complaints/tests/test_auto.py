"""Complaints raised by verified breaches: once per breach, whatever the setting and however many workers."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from django.db import connection

from promisedesk.breaches.actions import do_report_breach
from promisedesk.breaches.models import Breach
from promisedesk.cases.models import Case
from promisedesk.complaints.auto import raise_for_breaches
from promisedesk.complaints.models import Complaint


def claim(case_id: int, now: Any, source: str = "claim") -> Breach:
    breach, _ = do_report_breach(
        actor=None,
        now=now,
        case=Case.objects.get(pk=case_id),
        source=source,
        description="Nobody answered my question for a day.",
        promise_code="stay-reply",
    )
    assert breach.status == "verified"
    return breach


@pytest.mark.django_db
def test_a_verified_claim_raises_one_complaint_about_its_case(hotel, clock, settings):
    breach = claim(hotel["stay"]["id"], clock.now)
    first = raise_for_breaches(clock.now)
    second = raise_for_breaches(clock.advance(minutes=1))
    complaint = Complaint.objects.get()
    assert (first.opened, second.opened) == (1, 0)
    assert complaint.source_breach == breach and complaint.case.about_id == hotel["stay"]["id"]
    assert complaint.case.customer_id == hotel["guest"]["id"] and complaint.remedy_wanted == "compensation"
    assert "Nobody answered my question for a day." in complaint.account
    assert set(complaint.case.commitments.values_list("promise_code", flat=True)) == {
        "complaint-acknowledge",
        "complaint-resolve",
    }


@pytest.mark.django_db
def test_the_setting_chooses_which_breaches(hotel, clock, settings):
    claim(hotel["stay"]["id"], clock.now, source="report")
    assert raise_for_breaches(clock.now).opened == 0  # claims only, by default
    settings.PROMISEDESK_RECOVERY_ON_BREACH = "all"
    assert raise_for_breaches(clock.now).opened == 1
    claim(hotel["other_stay"]["id"], clock.now)
    settings.PROMISEDESK_RECOVERY_ON_BREACH = "none"
    assert raise_for_breaches(clock.now).opened == 0 and Complaint.objects.count() == 1


@pytest.mark.django_db
def test_a_broken_recovery_promise_raises_no_complaint_about_a_complaint(api, hotel, clock, settings):
    settings.PROMISEDESK_RECOVERY_ON_BREACH = "all"
    complaint = api.post("/complaints", {"account": "Rude staff.", "about": hotel["stay"]["id"]}).json()
    from promisedesk.commitments.sweeper import sweep

    clock.advance(days=5)
    sweep(clock.now)
    assert Breach.objects.filter(case_id=complaint["case"]).exists()
    # the two stays' own broken promises raise complaints; the complaint's broken clocks do not
    assert raise_for_breaches(clock.now).opened == 2
    assert not Complaint.objects.filter(case__about__kind="complaint").exists()
    assert set(Complaint.objects.values_list("case__about_id", flat=True)) == {
        hotel["stay"]["id"],
        hotel["other_stay"]["id"],
    }


@pytest.mark.django_db
def test_old_breaches_are_left_alone(hotel, clock):
    claim(hotel["stay"]["id"], clock.now)
    assert raise_for_breaches(clock.advance(days=30)).opened == 0


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_workers_racing_raise_each_complaint_once(hotel, clock):
    claim(hotel["stay"]["id"], clock.now)
    claim(hotel["other_stay"]["id"], clock.now)
    workers = 6
    barrier = threading.Barrier(workers)
    results: list[Any] = [None] * workers

    def work(index: int) -> None:
        try:
            barrier.wait(timeout=30)
            results[index] = raise_for_breaches(clock.now)
        except Exception as exc:  # asserted on below
            results[index] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=work, args=(n,)) for n in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(t.is_alive() for t in threads)
    assert not [r for r in results if isinstance(r, Exception)], results
    assert sum(r.opened for r in results) == 2
    assert Complaint.objects.count() == 2 and Case.objects.filter(kind="complaint").count() == 2
    assert set(Complaint.objects.values_list("source_breach__case_id", flat=True)) == {
        hotel["stay"]["id"],
        hotel["other_stay"]["id"],
    }
