from __future__ import annotations

from typing import Any

import pytest

from promisedesk.breaches.models import ApprovalLimit, RootCause
from promisedesk.conftest import Api, make_customer, make_promise, make_service, open_case

COACH_FIVE = [
    ("depart-on-time", "time"),
    ("announce-terminus", "behaviour"),
    ("board-in-stations", "method"),
    ("no-overcharging", "behaviour"),
    ("courtesy", "behaviour"),
]


@pytest.fixture
def root_causes(db: Any) -> None:
    RootCause.objects.create(code="staffing", name_en="Not enough staff", name_zh="人手不足")
    RootCause.objects.create(code="dispatch", name_en="Dispatch process", name_zh="调度流程")


@pytest.fixture
def coach_line(api: Api, root_causes: None) -> dict[str, Any]:
    """The Shanghai–Nantong coach line: five promises, twice the fare once verified."""
    make_service(api, "coach", price="68.00")
    twice_the_fare = {"kind": "cash", "multiple_of_price": "2", "verification_required": True, "automatic": True}
    for code, kind in COACH_FIVE:
        standard = {"start_on": "boarding_closed", "stop_on": "departed", "target": "PT5M"} if kind == "time" else {}
        make_promise(api, code=code, kind=kind, standard=standard, liability=twice_the_fare)
    customer = make_customer(api, email="passenger@example.com", phone="13900000000", locale="zh-Hans")
    return open_case(api, customer["id"], "coach", external_ref="TICKET-1")


def allow(role: str, amount: str, currency: str = "CNY") -> None:
    ApprovalLimit.objects.update_or_create(role=role, currency=currency, defaults={"max_amount": amount})
