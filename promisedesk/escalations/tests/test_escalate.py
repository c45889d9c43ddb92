"""The chain end to end: warning → owner, 90 % → team lead, due → manager, on business time."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth.models import Group
from django.core.management import call_command

from promisedesk.cases.models import Case, CaseEvent
from promisedesk.commitments.models import Commitment, State
from promisedesk.commitments.reschedule import move_appointment_clocks
from promisedesk.conftest import make_promise
from promisedesk.escalations.actions import do_set_chain
from promisedesk.escalations.engine import escalate_due
from promisedesk.escalations.models import Escalation, Reason, Status
from promisedesk.escalations.pickup import reschedule_calendar
from promisedesk.notifications.models import OutboxMessage

from .conftest import Office, at, user

pytestmark = pytest.mark.django_db


def _levels(case: Any) -> dict[str, Escalation]:
    return {e.role: e for e in Escalation.objects.filter(case=case)}


def _mail(escalation: Escalation) -> list[OutboxMessage]:
    return list(OutboxMessage.objects.filter(event_key=f"escalation:{escalation.pk}").order_by("recipient"))


def test_chain_tells_owner_lead_and_manager_each_at_its_threshold(office: Office) -> None:
    # given a four-hour promise warning at 75 %, opened Monday 09:00: warning 12:00, 90 % 13:36, due 14:00
    office.promise()
    case = office.case(at(2, 9))

    # when the worker runs at the warning
    result = office.run(at(2, 12))

    # then the whole chain is scheduled and the owner told (released after lunch)
    assert (result.scheduled, result.fired) == (3, 1)
    levels = _levels(case)
    assert {role: e.fire_at for role, e in levels.items()} == {
        "owner": at(2, 12),
        "team_lead": at(2, 13, 36),
        "manager": at(2, 14),
    }
    owner = levels["owner"]
    assert (owner.status, owner.usernames, owner.notify_at) == (Status.FIRED, ["agent"], at(2, 13))
    [mail] = _mail(owner)
    assert (mail.recipient, mail.channel, mail.language, mail.next_attempt_at) == (
        "agent@desk.example",
        "email",
        "zh-Hans",
        at(2, 13),
    )
    assert f"/desk/cases/{case.pk}/" in mail.body and case.access_token not in mail.body
    assert levels["team_lead"].status == levels["manager"].status == Status.PENDING

    # when it runs at 13:36 and at 14:00
    assert office.run(at(2, 13, 36)).fired == 1
    assert office.run(at(2, 14)).fired == 1

    # then the lead and the manager were told at their instants, the manager that the promise broke
    levels = _levels(case)
    assert [levels[r].usernames for r in ("team_lead", "manager")] == [["lead"], ["boss"]]
    assert (levels["team_lead"].notify_at, levels["manager"].notify_at) == (at(2, 13, 36), at(2, 14))
    [told] = _mail(levels["manager"])
    assert told.subject == f"服务单 #{case.pk} 的承诺已违诺"  # in the staff language, zh-Hans by default
    assert "承诺未能兑现：时限已到。" in told.body and "您作为该承诺升级链中的经理收到此通知。" in told.body
    timeline = CaseEvent.objects.filter(case=case, type="escalated").order_by("at")
    assert [(e.at, e.data["level"], e.data["to"]) for e in timeline] == [
        (at(2, 12), "owner", ["agent"]),
        (at(2, 13, 36), "team_lead", ["lead"]),
        (at(2, 14), "manager", ["boss"]),
    ]
    # and a pass afterwards has nothing left to do
    assert not escalate_due(at(2, 18))


def test_escalation_is_told_once_however_often_the_worker_runs(office: Office) -> None:
    office.promise()
    case = office.case(at(2, 9))
    for minute in (0, 0, 30, 36, 36, 59):
        office.run(at(2, 12, minute) if minute < 36 else at(2, 13, minute))
    office.run(at(2, 14))
    office.run(at(2, 14))

    assert Escalation.objects.filter(case=case).count() == 3
    assert OutboxMessage.objects.filter(event_key__startswith="escalation:").count() == 3
    assert CaseEvent.objects.filter(case=case, type="escalated").count() == 3


def test_level_with_nobody_to_tell_is_skipped_with_the_reason(office: Office) -> None:
    # given a case with no assignee and no department, and nobody in the manager group
    office.promise()
    case = office.case(at(2, 9), assignee=None, department=False)

    office.run(at(2, 14))

    levels = _levels(case)
    assert {role: (e.status, e.reason) for role, e in levels.items()} == {
        "owner": (Status.SKIPPED, Reason.NO_OWNER),
        "team_lead": (Status.SKIPPED, Reason.NO_DEPARTMENT),
        "manager": (Status.SKIPPED, Reason.NO_MANAGER),
    }
    assert not OutboxMessage.objects.filter(event_key__startswith="escalation:").exists()
    skipped = CaseEvent.objects.filter(case=case, type="escalation_skipped")
    assert sorted(e.data["reason"] for e in skipped) == ["no_department", "no_manager", "no_owner"]


def test_manager_falls_back_to_the_manager_group(office: Office) -> None:
    office.promise()
    office.department.manager = None
    office.department.save(update_fields=["manager"])
    group = Group.objects.create(name="manager")
    for name in ("mia", "max"):
        user(name).groups.add(group)
    user("gone", is_active=False).groups.add(group)
    case = office.case(at(2, 9))

    office.run(at(2, 14))

    manager = _levels(case)["manager"]
    assert sorted(manager.usernames) == ["max", "mia"]
    assert [m.recipient for m in _mail(manager)] == ["max@desk.example", "mia@desk.example"]


def test_owner_of_the_commitment_comes_before_the_assignee_and_needs_an_email(office: Office) -> None:
    office.promise()
    owned, unreachable = office.case(at(2, 9)), office.case(at(2, 9))
    Commitment.objects.filter(case=owned).update(owner=office.lead)
    Commitment.objects.filter(case=unreachable).update(owner=user("no_mail", email=""))

    office.run(at(2, 12))

    assert _levels(owned)["owner"].usernames == ["lead"]  # not the assignee, agent
    skipped = _levels(unreachable)["owner"]
    assert (skipped.status, skipped.reason) == (Status.SKIPPED, Reason.NO_EMAIL)


def test_kept_promise_voids_the_rest_of_its_chain(office: Office) -> None:
    office.promise()
    case = office.case(at(2, 9))
    office.run(at(2, 12))
    office.event(case, "first_response", at(2, 12, 30))

    result = office.run(at(2, 15))

    assert (result.void, result.fired) == (2, 0)
    levels = _levels(case)
    assert [(levels[r].status, levels[r].reason) for r in ("team_lead", "manager")] == [(Status.VOID, Reason.MET)] * 2


def test_withdrawn_promise_voids_its_chain(office: Office) -> None:
    office.promise()
    case = office.case(at(2, 9))
    office.run(at(2, 12))
    commitment = office.commitment(case)
    office.clock.to(at(2, 12, 10))
    assert office.api.post(f"/commitments/{commitment.pk}/cancel", {"reason": "booking cancelled"}).status_code == 200

    office.run(at(2, 15))

    assert {e.reason for e in Escalation.objects.filter(case=case, status=Status.VOID)} == {Reason.CANCELLED}


def test_paused_clock_holds_its_escalations_and_a_resumed_one_fires_them_later(office: Office) -> None:
    # given the warning at 12:00, then the customer keeps the clock paused from 13:30 to 15:00
    office.promise()
    case = office.case(at(2, 9))
    office.run(at(2, 12))
    office.event(case, "customer_waiting", at(2, 13, 30))

    # when the lead's instant (13:36) comes while paused
    result = office.run(at(2, 13, 36))

    # then nothing is told; the lead waits for the earliest the clock could get there
    assert (result.fired, result.rescheduled) == (0, 1)
    lead = _levels(case)["team_lead"]
    assert lead.status == Status.PENDING and lead.fire_at == at(2, 13, 42)  # 6 minutes short when paused
    assert office.run(at(2, 14, 30)).fired == 0

    # when the customer replies at 15:00: 6 minutes to the lead's 90 %, 30 to the due time
    office.event(case, "customer_replied", at(2, 15))
    assert office.run(at(2, 15, 5)).fired == 0
    assert office.run(at(2, 15, 6)).fired == 1
    assert office.run(at(2, 15, 30)).fired == 1

    levels = _levels(case)
    assert (levels["team_lead"].fire_at, levels["manager"].fire_at) == (at(2, 15, 6), at(2, 15, 30))
    assert office.commitment(case).state == State.BREACHED


def test_restarted_clock_voids_the_old_run_and_escalates_the_new_one(office: Office) -> None:
    # given an arrival promise whose clock starts at the booked window and warns half-way
    standard = {
        "start_on": "appointment_start",
        "stop_on": ["arrived"],
        "target": "PT1H",
        "calendar": office.calendar["id"],
        "warn_at": "50%",
    }
    make_promise(office.api, code="arrive", standard=standard)
    office.clock.to(at(2, 9))
    window = {"start": at(2, 10).isoformat(), "end": at(2, 11).isoformat()}
    opened = office.api.post("/cases", {"customer": office.customer["id"], "service": "install", "appointment": window})
    case = Case.objects.get(pk=opened.json()["id"])
    Case.objects.filter(pk=case.pk).update(assignee=office.owner, department=office.department)
    assert office.run(at(2, 10, 30)).fired == 1  # started at 10:00, warned at 10:30: the owner is told

    # when the appointment is rebooked to the afternoon before the lead's 90 %
    Case.objects.filter(pk=case.pk).update(appointment_start=at(2, 14), appointment_end=at(2, 15))
    move_appointment_clocks(Case.objects.get(pk=case.pk))
    result = office.run(at(2, 11))

    # then the old run's remaining levels are void, and the new run escalates anew
    assert (result.void, result.fired) == (2, 0)
    assert office.run(at(2, 14, 30)).fired == 1
    runs = sorted({e.run_started_at for e in Escalation.objects.filter(case=case)})
    assert runs == [at(2, 10), at(2, 14)]
    assert Escalation.objects.filter(case=case, reason=Reason.RESTARTED).count() == 2


def test_promise_without_a_warning_escalates_at_its_breach(office: Office) -> None:
    office.promise(warn_at=None)
    case = office.case(at(2, 9))

    result = office.run(at(2, 13, 36))
    assert (result.scheduled, result.fired) == (0, 0)
    result = office.run(at(2, 14))

    assert (result.scheduled, result.fired) == (3, 3)
    assert {e.trigger for e in Escalation.objects.filter(case=case)} == {"breach"}
    assert {e.fire_at for e in Escalation.objects.filter(case=case)} == {at(2, 14)}


def test_oral_promise_escalates_to_its_owner_at_once_round_the_clock(office: Office) -> None:
    case = office.case(at(2, 9))
    office.clock.to(at(2, 9))
    response = office.api.post(
        f"/cases/{case.pk}/commitments", {"statement": "call back", "target": "PT30M", "owner": "lead"}
    )
    assert response.status_code == 201, response.content

    office.run(at(6, 21))  # a Friday night: the promise is round the clock

    owner = _levels(case)["owner"]
    assert (owner.usernames, owner.notify_at) == (["lead"], at(6, 21))


def test_promise_chain_of_its_own_wins_over_the_default(office: Office, manager_user: Any) -> None:
    office.promise()
    do_set_chain(actor=manager_user, now=at(1, 9), promise_code="", levels=[("manager", 100)])
    do_set_chain(actor=manager_user, now=at(1, 9), promise_code="reply-4h", levels=[("team_lead", 50)])
    case = office.case(at(2, 9))

    office.run(at(2, 12))

    [lead] = Escalation.objects.filter(case=case)
    assert (lead.role, lead.fire_at, lead.status) == (
        "team_lead",
        at(2, 12),
        Status.FIRED,
    )  # 50 % comes with the warning


def test_empty_chain_escalates_nobody(office: Office, manager_user: Any) -> None:
    office.promise()
    do_set_chain(actor=manager_user, now=at(1, 9), promise_code="reply-4h", levels=[])
    office.case(at(2, 9))

    assert office.run(at(2, 14)).scheduled == 0
    assert not Escalation.objects.exists()


def test_staff_language_comes_from_the_setting(office: Office, settings: Any) -> None:
    settings.PROMISEDESK_STAFF_LANGUAGE = "en"
    office.promise()
    case = office.case(at(2, 9))

    office.run(at(2, 12))

    [mail] = _mail(_levels(case)["owner"])
    assert mail.language == "en"
    assert mail.subject == f"Promise at risk on case #{case.pk}"
    assert "Reached at: 2026-03-02 12:00 (Asia/Shanghai)" in mail.body


def test_command_prints_a_one_line_summary(office: Office, capsys: Any) -> None:
    office.promise()
    office.case(at(2, 9))
    office.run(at(2, 11))

    call_command("sweep", "--once", "--now", "2026-03-02T12:00:00+08:00")
    call_command("escalate", "--once", "--now", "2026-03-02T12:00:00+08:00")

    lines = capsys.readouterr().out.strip().splitlines()
    assert lines[-1] == "escalate: 3 scheduled, 1 fired, 0 skipped, 0 void, 0 rescheduled"


def test_calendar_change_moves_pending_escalations_sooner_with_the_clocks(office: Office) -> None:
    # given a promise warning at half-time, opened Friday 16:00: warned at Friday's close
    office.promise(warn_at="50%")
    case = office.case(at(6, 16))
    office.run(at(6, 18))
    levels = _levels(case)
    assert (levels["team_lead"].fire_at, levels["manager"].fire_at) == (at(9, 10, 36), at(9, 11))

    # when Saturday becomes a make-up workday: the clocks move to Saturday …
    office.clock.to(at(6, 19))
    response = office.api.post(f"/calendars/{office.calendar['id']}/days", {"extra_workdays": ["2026-03-07"]})
    assert response.status_code == 200 and response.json()["clocks_recomputed"] == 1
    # … and the calendar change brought the escalations scheduled for Monday along with them
    assert (_levels(case)["team_lead"].fire_at, _levels(case)["manager"].fire_at) == (at(7, 10, 36), at(7, 11))
    assert reschedule_calendar(office.calendar["id"], at(7, 10, 36)) == 0  # nothing left to move

    # then the lead is told on Saturday at 90 %
    assert office.run(at(7, 10, 36)).fired == 1
    assert _levels(case)["team_lead"].notify_at == at(7, 10, 36)
