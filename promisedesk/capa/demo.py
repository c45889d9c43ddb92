"""The demo organisation's corrective and preventive actions, and root causes for some clock breaches.

- The coach line fixed its dispatch (coaches held to the timetable): done three weeks ago, so its
  page compares the on-time promise's breach rate in the three weeks before and after.
- The airline fixed how delays are told (the SMS gateway failed on some flights): done too, but
  the demo's few delayed flights are too little data for a verdict, and the page says so.
- The coach line trains its crews to leave on time and never circle to tout: in progress.
- The installation crew was to book arrival windows with travel time in them: overdue, so the
  chaser has told the installer, his lead and the manager.
- The installer's late arrivals the clock found before that action was opened are put down to
  dispatch (the manager did it a day after each, then opened the action); every other clock
  breach is left for the root-cause to-do list.

Everything is found by its title (or its breach) first, so a second load changes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.contrib.auth import get_user_model
from django.db import transaction

from promisedesk.breaches.actions import do_set_root_cause
from promisedesk.breaches.models import Breach, RootCause, Source, Status
from promisedesk.promises.models import Promise

from .actions import Links, do_complete_action, do_create_action, do_start_action
from .chase import chase_due
from .models import CorrectiveAction

DAY = timedelta(days=1)
MANAGER = "zhou.min"
LATE_ARRIVALS, LATE_CAUSE, NAMED_BEFORE = "install-arrive-in-window", "dispatch", 20  # days: the action opened then


@dataclass(frozen=True)
class Plan:
    """One demo action: what, for which promise and cause, whose, and where it stands (days before now)."""

    title: str
    description: str
    kind: str
    promise: str
    root_cause: str
    owner: str
    department: str
    opened: float
    due: float
    started: float | None = None
    done: float | None = None
    done_note: str = ""
    window_days: int = 30


PLANS = [
    Plan(
        "Fix coach dispatch: depart on the timetable · 整改班车调度:按时刻表发车",
        "Coaches waited at the gate for more passengers and left late. Dispatch now closes boarding three "
        "minutes before departure and releases every coach on the timetable, full or not. "
        "班车在检票口等客导致晚点。调度改为发车前3分钟停止检票,无论满员与否按时刻表放行。",
        "corrective",
        "coach-on-time",
        "dispatch",
        "liu.yang",
        "coach_dispatch",
        opened=34,
        due=20,
        started=32,
        done=21,
        done_note="Gate closes at departure minus 3; dispatcher releases on the timetable. "
        "发车前3分钟停止检票,调度员按时刻表放行。",
        window_days=21,
    ),
    Plan(
        "Fix how delays are told: SMS gateway fallback · 修正延误通知流程:短信网关备援",
        "Delay notices went out late whenever the SMS gateway was down. Dispatch now sends each delay notice "
        "by email at once and retries SMS through a second provider; the duty manager checks at 10 minutes. "
        "短信网关故障时延误通知发送迟缓。调度流程改为:邮件立即发送,短信经第二家服务商重试,值班经理在10分钟时核对。",
        "corrective",
        "flight-delay-notice",
        "dispatch",
        "emma.hughes",
        "airline_duty",
        opened=35,
        due=18,
        started=33,
        done=21,
        done_note="Second SMS provider live; notice checklist in the duty desk's runbook. "
        "第二家短信服务商已接入,通知核对清单已写入值班手册。",
        window_days=21,
    ),
    Plan(
        "Train the coach crews: close boarding and leave on time · 班车司乘人员正点发车培训",
        "Late departures came from crews circling outside the station to tout for passengers. Every crew on "
        "the Shanghai–Nantong line takes the on-time and no-touting course. "
        "晚点多因在站外兜圈揽客。上海—南通线全体司乘人员参加正点发车、不兜圈揽客培训。",
        "corrective",
        "coach-on-time",
        "training",
        "liu.yang",
        "coach_dispatch",
        opened=10,
        due=-20,
        started=8,
    ),
    Plan(
        "Book installation windows with travel time in them · 装维预约时段预留路程时间",
        "Installers arrive late when two bookings across town sit back to back. Booking leaves 40 minutes of "
        "travel between jobs in different districts. 跨区连续预约导致迟到;预约时在不同片区之间预留40分钟路程。",
        "preventive",
        "install-arrive-in-window",
        "dispatch",
        "zhang.wei",
        "installation_crew",
        opened=20,
        due=3,
    ),
]


MANAGER_AND_OWNERS = (MANAGER, *dict.fromkeys(plan.owner for plan in PLANS))


def load(now: datetime) -> int:
    """Make the demo's actions that are missing and name the gateway's breaches; returns how many actions were made.

    Needs the demo organisation (its staff, promises and root causes); without it, does nothing.
    """
    users = {u.username: u for u in get_user_model().objects.filter(is_staff=True)}
    promises = set(Promise.objects.values_list("code", flat=True))
    causes = set(RootCause.objects.filter(active=True).values_list("code", flat=True))
    if MANAGER not in users:
        return 0
    made = 0
    with transaction.atomic():
        existing = set(CorrectiveAction.objects.values_list("title", flat=True))
        for plan in PLANS:
            ready = plan.owner in users and plan.promise in promises and plan.root_cause in causes
            if ready and plan.title not in existing:
                _make(plan, users, now)
                made += 1
        if LATE_CAUSE in causes:
            _name_late_arrivals(users[MANAGER], now)
    chase_due(now)
    return made


def _make(plan: Plan, users: dict[str, Any], now: datetime) -> None:
    """The action as it happened: opened, started and done each at its own moment."""
    action = do_create_action(
        actor=users[MANAGER],
        now=now - plan.opened * DAY,
        kind=plan.kind,
        title=plan.title,
        owner=plan.owner,
        due_at=now - plan.due * DAY,
        root_cause=plan.root_cause,
        description=plan.description,
        department=plan.department,
        links=Links(promise=plan.promise),
        window_days=plan.window_days,
    )
    owner = users[plan.owner]
    if plan.started is not None:
        action = do_start_action(action, actor=owner, now=now - plan.started * DAY)
    if plan.done is not None:
        do_complete_action(action, actor=owner, now=now - plan.done * DAY, note=plan.done_note)


def _name_late_arrivals(manager: Any, now: datetime) -> None:
    """The installer's late arrivals the clock found before the booking action was opened, named a day after each."""
    late = Breach.objects.filter(
        status=Status.VERIFIED,
        root_cause="",
        source=Source.CLOCK,
        promise_code=LATE_ARRIVALS,
        detected_at__lte=now - NAMED_BEFORE * DAY,
    ).order_by("detected_at", "id")
    for breach in late:
        do_set_root_cause(breach, actor=manager, now=breach.detected_at + DAY, root_cause=LATE_CAUSE)
