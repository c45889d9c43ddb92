"""Fixes from review: references, the raised account, reserved references, opening time, the sweep."""

from __future__ import annotations

from datetime import timedelta
from io import StringIO
from typing import Any

import pytest
from django.core.management import call_command
from django.utils import translation
from django.utils.translation import gettext

from promisedesk.breaches.actions import do_report_breach
from promisedesk.cases.models import Case
from promisedesk.complaints.auto import account_of, raise_for_breaches
from promisedesk.complaints.models import Complaint
from promisedesk.errors import DomainError

pytestmark = pytest.mark.django_db


def complain(api: Any, about: int | None, **extra: Any) -> Any:
    body = {"account": "The gold-card discount was missing from my bill.", **extra}
    if about is not None:
        body["about"] = about
    return api.post("/complaints", body)


def report(case_id: int, now: Any, source: str, description: str) -> Any:
    breach, _ = do_report_breach(
        actor=None,
        now=now,
        case=Case.objects.get(pk=case_id),
        source=source,
        description=description,
        promise_code="stay-reply",
    )
    return breach


def test_a_reference_of_another_customers_complaint_is_refused_not_shown(api, hotel):
    first = complain(api, hotel["other_stay"]["id"], external_ref="CALL-9")
    assert first.status_code == 201
    # the guest (another customer) reuses the reference: a conflict, and nothing of Han's complaint
    again = complain(api, hotel["stay"]["id"], external_ref="CALL-9")
    assert again.status_code == 409, again.content
    assert again.json()["error"]["code"] == "external_ref_taken"
    assert "Han" not in again.content.decode() and "gold-card" not in again.content.decode()
    # the same customer about another case of theirs is refused too
    general = complain(api, None, customer=hotel["other"]["id"], service="hotel-stay", external_ref="CALL-9")
    assert general.status_code == 409
    # the same request again is still the same complaint
    same = complain(api, hotel["other_stay"]["id"], external_ref="CALL-9")
    assert same.status_code == 200 and same.json()["id"] == first.json()["id"]


def test_a_raised_complaint_uses_the_customers_words_only_from_a_claim(hotel, clock, settings):
    settings.PROMISEDESK_RECOVERY_ON_BREACH = "all"
    claimed = report(hotel["stay"]["id"], clock.now, "claim", "Nobody answered me for a day.")
    inspected = report(hotel["other_stay"]["id"], clock.now, "inspection", "INTERNAL: night porter asleep, CCTV")
    assert account_of(claimed) == "Nobody answered me for a day."
    staff_free = account_of(inspected)
    assert "CCTV" not in staff_free and "INTERNAL" not in staff_free
    assert "我们没有兑现对您的承诺" in staff_free  # the customer reads Chinese
    raise_for_breaches(clock.now)
    assert "CCTV" not in Complaint.objects.get(source_breach=inspected).account


def test_a_breach_reference_is_reserved_for_raised_complaints(api, hotel, clock):
    breach = report(hotel["stay"]["id"], clock.now, "claim", "Nobody answered me for a day.")
    taken = complain(api, hotel["stay"]["id"], external_ref=f"breach-{breach.pk}")
    assert taken.status_code == 400, taken.content
    assert taken.json()["error"] == {**taken.json()["error"], "code": "reserved_reference", "field": "external_ref"}
    result = raise_for_breaches(clock.advance(minutes=1))
    assert result.opened == 1 and bool(result)
    assert Complaint.objects.filter(source_breach=breach).exists()
    assert not raise_for_breaches(clock.advance(minutes=1))  # nothing left: a false result


def test_a_complaint_cannot_open_before_the_case_it_is_about(api, hotel):
    stay = Case.objects.get(pk=hotel["stay"]["id"])
    response = complain(api, stay.pk, opened_at=(stay.opened_at - timedelta(hours=1)).isoformat())
    assert response.status_code == 400, response.content
    assert (response.json()["error"]["code"], response.json()["error"]["field"]) == ("before_case", "opened_at")
    assert complain(api, stay.pk, opened_at=stay.opened_at.isoformat()).status_code == 201


def test_the_one_off_sweep_raises_complaints_and_says_so(hotel, clock):
    breach = report(hotel["stay"]["id"], clock.now, "claim", "Nobody answered me for a day.")
    out = StringIO()
    call_command("sweep", "--once", "--now", clock.advance(minutes=1).isoformat(), stdout=out)
    assert Complaint.objects.filter(source_breach=breach).exists()
    assert "complaints raised 1" in out.getvalue()
    quiet = StringIO()
    call_command("sweep", "--once", "--now", clock.advance(minutes=1).isoformat(), stdout=quiet)
    assert "complaints raised" not in quiet.getvalue()


def step(api: Any, complaint: int, name: str, **body: Any) -> Any:
    return api.post(f"/complaints/{complaint}/steps/{name}", {"action": "done", **body})


def skip(api: Any, complaint: int, name: str, **body: Any) -> Any:
    return api.post(f"/complaints/{complaint}/steps/{name}", {"action": "skip", "reason": "not needed", **body})


def up_to_the_result(api: Any, complaint: int) -> None:
    for name in ("listen", "apologise", "collect_facts", "offer"):
        assert skip(api, complaint, name).status_code == 201


def test_the_result_cannot_be_skipped(api, hotel):
    complaint = complain(api, hotel["stay"]["id"]).json()
    up_to_the_result(api, complaint["id"])
    skipped = skip(api, complaint["id"], "tell_result")
    assert skipped.status_code == 409, skipped.content
    assert skipped.json()["error"]["code"] == "step_required"
    told = step(api, complaint["id"], "tell_result", outcome="We refunded the discount.")
    assert told.status_code == 201


def test_a_skip_with_step_fields_is_refused_and_long_text_is_not_cut(api, hotel, clock):
    from promisedesk.complaints.actions import do_record_step
    from promisedesk.complaints.steps import MAX_TEXT, StepFields

    complaint = complain(api, hotel["stay"]["id"]).json()
    refused = skip(api, complaint["id"], "listen", account="What I heard")
    assert refused.status_code == 400, refused.content
    assert (refused.json()["error"]["code"], refused.json()["error"]["field"]) == ("unknown_field", "account")
    assert step(api, complaint["id"], "listen").status_code == 201
    found = Complaint.objects.get(pk=complaint["id"])
    with pytest.raises(DomainError) as error:
        do_record_step(
            found,
            actor=None,
            now=clock.now,
            step="apologise",
            action="done",
            fields=StepFields(how="phone", note="x" * (MAX_TEXT + 1)),
        )
    assert (error.value.code, error.value.field) == ("too_long", "note")


def test_a_handover_to_a_department_moves_the_follow_up_to_its_lead(api, hotel, centre):
    complaint = complain(api, hotel["stay"]["id"], department="customer_centre", assignee="agent").json()
    up_to_the_result(api, complaint["id"])
    assert step(api, complaint["id"], "tell_result", outcome="Refunded.").status_code == 201
    follow_up = Complaint.objects.get(pk=complaint["id"]).follow_up_commitment
    assert follow_up.owner.get_username() == "agent"
    moved = api.post(f"/complaints/{complaint['id']}/handover", {"department": "front_desk", "reason": "Theirs."})
    assert moved.status_code == 200, moved.content
    follow_up.refresh_from_db()
    assert follow_up.owner.get_username() == "li.na"  # the front desk's lead
    again = api.post(f"/complaints/{complaint['id']}/handover", {"department": "front_desk", "reason": "Theirs."})
    assert again.status_code == 409 and again.json()["error"]["code"] == "nothing_changes"


def test_the_customer_hears_their_complaint_was_received_as_a_complaint(api, hotel):
    from promisedesk.notifications.models import OutboxMessage

    complaint = complain(api, hotel["stay"]["id"]).json()
    sent = OutboxMessage.objects.filter(case_id=complaint["case"], event_key=f"case:{complaint['case']}:received")
    assert sent and {m.event for m in sent} == {"complaint_received"}
    email = next(m for m in sent if m.channel == "email")
    assert "投诉" in email.subject and f"#{hotel['stay']['id']}" in email.body  # in the customer's Chinese
    assert "gold-card" in email.body


def test_the_follow_up_promise_is_in_the_customers_language(api, hotel, clock):
    from promisedesk.cases.models import Customer

    Customer.objects.filter(pk=hotel["guest"]["id"]).update(locale="zh-Hans")
    complaint = complain(api, hotel["stay"]["id"]).json()
    up_to_the_result(api, complaint["id"])
    assert step(api, complaint["id"], "tell_result", outcome="退还差额。").status_code == 201
    follow_up = Complaint.objects.get(pk=complaint["id"]).follow_up_commitment
    with translation.override("zh-Hans"):  # the catalogue's sentence, whatever the desk's language
        assert follow_up.statement == gettext("We will check back with you that everything is put right.")
    assert follow_up.statement != "We will check back with you that everything is put right."
