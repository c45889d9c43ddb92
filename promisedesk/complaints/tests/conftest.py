"""A hotel with a stay, its guest, and the two published recovery promises."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from django.contrib.auth import get_user_model

from promisedesk.accounts.actions import do_create_department
from promisedesk.breaches.models import ApprovalLimit, RootCause
from promisedesk.cases.models import Case
from promisedesk.complaints.models import ComplaintCategory
from promisedesk.conftest import Api, make_calendar, make_customer, make_promise, make_service, open_case

ACKNOWLEDGE: dict[str, Any] = {
    "code": "complaint-acknowledge",
    "title": "Acknowledge within 1 working hour",
    "statement": {"en": "We acknowledge your complaint within 1 working hour.", "zh-Hans": "1个工作小时内受理。"},
    "standard": {"stop_on": ["complaint_acknowledged"], "target": "PT1H", "warn_at": "75%"},
    "applies_to": {"case_kinds": ["complaint"]},
    "liability": {"kind": "apology", "currency": "CNY"},
}
RESOLVE: dict[str, Any] = {
    "code": "complaint-resolve",
    "title": "Resolve within 2 working days",
    "statement": {"en": "We resolve your complaint within 2 working days.", "zh-Hans": "2个工作日内处理完毕。"},
    "standard": {"stop_on": ["resolved"], "target": "PT16H", "warn_at": "75%"},
    "applies_to": {"case_kinds": ["complaint"]},
    "liability": {"kind": "voucher", "amount": "50", "currency": "CNY"},
}


@pytest.fixture
def hotel(api: Api) -> dict[str, Any]:
    """The service, a stay of Li Lei's, a stay of another guest's, the recovery promises."""
    calendar = make_calendar(api)
    make_service(api, "hotel-stay", price="688.00")
    make_promise(api, "stay-reply", standard={"stop_on": ["first_response"], "target": "PT4H"})
    for spec in (ACKNOWLEDGE, RESOLVE):
        body = {**spec, "standard": {**spec["standard"], "calendar": calendar["id"]}}
        make_promise(api, **body)
    guest = make_customer(api)
    other = make_customer(api, name="Han Meimei", email="han@example.com", phone="13900000000")
    stay = open_case(api, guest["id"], "hotel-stay")
    other_stay = open_case(api, other["id"], "hotel-stay")
    RootCause.objects.create(code="training", name_en="Training", name_zh="培训")
    ComplaintCategory.objects.create(code="billing", name_en="Billing", name_zh="账单")
    return {"guest": guest, "other": other, "stay": stay, "other_stay": other_stay, "calendar": calendar}


@pytest.fixture
def stay_case(hotel: dict[str, Any]) -> Case:
    return Case.objects.get(pk=hotel["stay"]["id"])


@pytest.fixture
def centre(db: Any, staff: Any, clock: Any) -> Any:
    """Two departments; the staff member is in the customer centre, a colleague at the front desk."""
    users = get_user_model().objects
    colleague = users.create_user("li.na", password="pw-li-na-123", is_staff=True)
    do_create_department(
        actor=None, now=clock.now, code="customer_centre", name="Customer centre", lead="agent", members=["agent"]
    )
    do_create_department(
        actor=None, now=clock.now, code="front_desk", name="Front desk", lead="li.na", members=["li.na"]
    )
    return colleague


def allow(role: str, amount: str) -> None:
    ApprovalLimit.objects.update_or_create(role=role, currency="CNY", defaults={"max_amount": Decimal(amount)})
