"""The demo's incidents: a delayed flight told and compensated, and a typhoon that is force majeure.

ES5199 (Shanghai Hongqiao–Chengdu Tianfu) is delayed by storms: its passengers (the
demo's live ES5199 cases plus a cabin of `DEMO-INC-ES5199-…` bookings) are attached,
told by SMS and email with the reason and the new departure time, and each offered a
CNY 200 voucher approved by the airline's duty manager. A typhoon closes Pudong for
the evening flights (`DEMO-INC-TY-…`): the quality manager marks it force majeure, the
delay-notice promise is reported broken on each booking, and the make-good pays nothing.

`load(now)` is idempotent: everything is found by its code or external_ref first, runs
are launched only once per incident and kind, and a second call changes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from django.contrib.auth import get_user_model

from promisedesk.cases.actions import do_create_customer, do_open_case
from promisedesk.cases.models import Customer, Service

from .actions import do_attach_references, do_declare_incident, do_launch_compensation, do_launch_notify
from .bulk import run_bulk
from .models import Incident, RunKind
from .references import Reference

DELAY_CODE, TYPHOON_CODE = "ES5199-DELAY", "PVG-TYPHOON"
DUTY_MANAGER, QUALITY_MANAGER = "emma.hughes", "zhou.min"
LIVE_ES5199 = [f"DEMO-LIVE-{n:02d}" for n in range(9, 13)]  # the demo story's delayed flight
CABIN = 16
TYPHOON_SEATS = 8
NAMES = [
    "王芳",
    "李强",
    "张伟",
    "刘洋",
    "陈静",
    "杨帆",
    "赵磊",
    "黄丽",
    "Tom Baker",
    "Anna Klein",
    "Marco Rossi",
    "Yuki Sato",
]


@dataclass
class DemoResult:
    incidents: list[str] = field(default_factory=list)
    attached: int = 0


def load(now: datetime) -> DemoResult:
    """Make the two incidents as of now (needs the demo's staff and the `flight` service)."""
    users = {u.username: u for u in get_user_model().objects.filter(username__in=[DUTY_MANAGER, QUALITY_MANAGER])}
    if len(users) < 2 or not Service.objects.filter(code="flight").exists():
        return DemoResult()
    result = DemoResult()
    _delay(now, users[DUTY_MANAGER], result)
    _typhoon(now, users[QUALITY_MANAGER], result)
    run_bulk(now)
    return result


def _delay(now: datetime, duty: Any, result: DemoResult) -> None:
    departure = now + timedelta(minutes=40)  # as the story's live ES5199
    incident = Incident.objects.filter(code=DELAY_CODE).first() or do_declare_incident(
        actor=duty,
        now=now,
        code=DELAY_CODE,
        title="ES5199 上海虹桥—成都天府 延误 · ES5199 Shanghai–Chengdu delayed",
        reason="航路雷雨天气,空管限制起飞",
        reason_en="thunderstorms on the route; air traffic control is holding departures",
        new_time=departure + timedelta(minutes=150),
        starts_at=now - timedelta(minutes=30),
        ends_at=departure + timedelta(hours=4),
        services=["flight"],
        locations=["SHA", "TFU"],
    )
    refs = LIVE_ES5199 + _passengers(now, "ES5199", CABIN, departure, duty)
    _attach(incident, refs, duty, now, result)
    _launch_once(
        incident, RunKind.NOTIFY, duty, now, message="登机口 B12 提供餐食和饮料。Meals and drinks at gate B12."
    )
    voucher = {
        "mode": "grant",
        "kind": "voucher",
        "amount": Decimal("200"),
        "currency": "CNY",
        "reason": "ES5199 延误致歉代金券 · apology voucher for the ES5199 delay",
        "approve": True,
        "issue": False,
    }
    _launch_once(incident, RunKind.COMPENSATE, duty, now, rule=voucher)
    result.incidents.append(incident.code)


def _typhoon(now: datetime, manager: Any, result: DemoResult) -> None:
    departure = now + timedelta(hours=3)
    incident = Incident.objects.filter(code=TYPHOON_CODE).first() or do_declare_incident(
        actor=manager,
        now=now,
        code=TYPHOON_CODE,
        title="台风“海葵”浦东机场关闭 · Typhoon closes Pudong",
        reason="台风“海葵”登陆,浦东机场按民航局指令关闭,今晚航班取消",
        reason_en="Typhoon Haikui: Pudong airport is closed by order of the aviation authority; "
        "tonight's flights are cancelled",
        starts_at=now - timedelta(hours=2),
        services=["flight"],
        locations=["PVG"],
        force_majeure=True,
        force_majeure_reason="民航局关闭机场的命令 · airport closed by order of the CAAC",
    )
    refs = _passengers(now, "TY", TYPHOON_SEATS, departure, manager)
    _attach(incident, refs, manager, now, result)
    _launch_once(
        incident,
        RunKind.NOTIFY,
        manager,
        now,
        message="可免费改签或全额退票。Rebook free of charge or get a full refund.",
    )
    _launch_once(
        incident, RunKind.COMPENSATE, manager, now, rule={"mode": "liability", "promise_code": "flight-delay-notice"}
    )
    result.incidents.append(incident.code)


def _passengers(now: datetime, flight: str, seats: int, departure: datetime, actor: Any) -> list[str]:
    """Bookings on flight, opened a day ago (found by external_ref the second time)."""
    refs = []
    for seat in range(1, seats + 1):
        ref = f"DEMO-INC-{flight}-{seat:02d}"
        customer = Customer.objects.filter(external_ref=ref).first()
        if customer is None:
            name = NAMES[(seat + len(flight)) % len(NAMES)]
            english = name.isascii()
            customer = do_create_customer(
                now=now,
                external_ref=ref,
                name=name,
                email=f"{ref.lower()}@example.com",
                phone=f"139{seats:02d}{seat:06d}",
                tier="gold" if seat % 5 == 0 else "standard",
                locale="en" if english else "zh-Hans",
                timezone="Europe/London" if english else "",
            )
        do_open_case(
            actor=actor,
            now=now,
            customer_id=customer.pk,
            service_code="flight",
            external_ref=ref,
            channel="web",
            price=Decimal("1280.00"),
            opened_at=now - timedelta(days=1),
            appointment_start=departure,
            appointment_end=departure + timedelta(hours=3),
            summary=f"{flight} 座位 {seat} · seat {seat}",
        )
        refs.append(ref)
    return refs


def _attach(incident: Incident, refs: list[str], actor: Any, now: datetime, result: DemoResult) -> None:
    references = [Reference(ref, n) for n, ref in enumerate(refs, start=1)]
    attached = do_attach_references(
        incident, actor=actor, now=now, references=references, method="api", skip_unknown=True
    )
    result.attached += attached.attached


def _launch_once(incident: Incident, kind: str, actor: Any, now: datetime, **options: Any) -> None:
    if incident.runs.filter(kind=kind).exists():
        return
    if kind == RunKind.NOTIFY:
        do_launch_notify(incident, actor=actor, now=now, message=options["message"])
    else:
        do_launch_compensation(incident, actor=actor, now=now, rule=options["rule"])
