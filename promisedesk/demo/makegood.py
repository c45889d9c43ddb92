"""The demo's make-good: root causes, approval limits, and claims that get their verdict.

Claims (a coach passenger's complaint, an unhappy hotel guest's refund request) are
reported as the customer makes them. A day later the manager gives each its verdict
— most verified with a root cause, some rejected with a reason — and two days after
that approved compensations are issued, so the ledger shows every status.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from promisedesk.breaches.actions import do_report_breach, do_verify_breach
from promisedesk.breaches.compensations import do_approve_compensation, do_issue_compensation
from promisedesk.breaches.models import ApprovalLimit, Breach, Compensation, CompensationStatus, RootCause, Status
from promisedesk.breaches.settlement import settle_pending
from promisedesk.cases.models import Case

ROOT_CAUSES = [
    ("staffing", "Not enough staff on shift", "当班人手不足"),
    ("dispatch", "Dispatch and scheduling process", "调度与排班流程"),
    ("training", "Staff not trained for the situation", "员工培训不足"),
    ("supplier", "A supplier or partner let us down", "供应商或合作方失误"),
    ("equipment", "Equipment or vehicle fault", "设备或车辆故障"),
    ("communication", "Customer not kept informed", "未及时告知客户"),
]
LIMITS = [("automatic", "200"), ("agent", "100"), ("team_lead", "500"), ("manager", "5000")]
CLAIM_EVENTS = ("passenger_complaint", "refund_requested")
REJECTIONS = [
    "The on-board recording shows the driver followed the rules. 车载录像显示司机按规定操作。",
    "The guest stayed the full stay and used every service; no fault found. 经核实服务无缺陷。",
]


ROLES = {"zhou.min": "manager", "chen.jing": "team_lead", "emma.hughes": "team_lead"}


def ensure_reference_data(users: dict[str, Any]) -> None:
    """Root causes, approval limits, and each staff member's role (a Django group)."""
    from django.contrib.auth.models import Group

    for username, user in users.items():
        if username != "admin":
            user.groups.add(Group.objects.get_or_create(name=ROLES.get(username, "agent"))[0])
    for code, en, zh in ROOT_CAUSES:
        RootCause.objects.get_or_create(code=code, defaults={"name_en": en, "name_zh": zh})
    for role, amount in LIMITS:
        ApprovalLimit.objects.get_or_create(role=role, currency="CNY", defaults={"max_amount": Decimal(amount)})


def report_claim(case: Case, *, at: datetime, note: str, promise_code: str, key: str) -> None:
    """A customer's claim as it arrives (idempotent by key, like any retried delivery)."""
    do_report_breach(
        actor=None, now=at, case=case, source="claim", description=note, promise_code=promise_code, idempotency_key=key
    )


def give_verdicts(now: datetime, manager: Any) -> None:
    """Decide every claim older than a day, settle, then issue what was approved two days ago."""
    rng = random.Random(20260823)
    for breach in Breach.objects.filter(status=Status.SUSPECTED).order_by("recorded_at", "id"):
        decided = breach.recorded_at + timedelta(days=1)
        if decided > now:
            continue
        if rng.random() < 0.75:
            cause = rng.choice(ROOT_CAUSES)[0]
            do_verify_breach(
                breach,
                actor=manager,
                now=decided,
                verdict="verified",
                root_cause=cause,
                note="Confirmed with the staff on duty. 已与当班员工核实。",
            )
        else:
            do_verify_breach(breach, actor=manager, now=decided, verdict="rejected", note=rng.choice(REJECTIONS))
    settle_pending(now)
    for compensation in Compensation.objects.filter(status=CompensationStatus.PROPOSED).order_by("id"):
        if compensation.created_at + timedelta(hours=4) <= now and compensation.amount is not None:
            do_approve_compensation(compensation, actor=manager, now=compensation.created_at + timedelta(hours=4))
    for compensation in Compensation.objects.filter(status=CompensationStatus.APPROVED).order_by("id"):
        issued = (compensation.approved_at or compensation.created_at) + timedelta(days=2)
        if issued <= now:
            do_issue_compensation(compensation, actor=manager, now=issued)
