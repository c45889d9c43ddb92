"""Grants: compensation offered without a broken promise, once per thing it is for."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction

from promisedesk.breaches.compensations import do_approve_compensation, do_propose_grant
from promisedesk.breaches.models import Compensation, CompensationStatus
from promisedesk.cases.models import Case
from promisedesk.conftest import make_customer, make_service, open_case
from promisedesk.errors import DomainError

from .conftest import allow


@pytest.fixture
def case(api):
    make_service(api, "hotel-stay", price="680.00")
    return Case.objects.get(pk=open_case(api, make_customer(api)["id"], "hotel-stay")["id"])


def test_a_grant_is_proposed_once_per_key(case, staff, clock):
    first, created = do_propose_grant(
        case,
        key="complaint:1",
        kind="refund",
        amount=Decimal("45.5"),
        reason="missing discount",
        actor=staff,
        now=clock.now,
    )
    again, created_again = do_propose_grant(
        case, key="complaint:1", kind="refund", amount=Decimal("99"), reason="asked twice", actor=staff, now=clock.now
    )
    assert created and not created_again and again.pk == first.pk
    assert first.status == CompensationStatus.PROPOSED and first.breach is None
    assert first.amount == Decimal("45.50") and first.currency == "CNY"
    assert case.events.filter(type="compensation_proposed", data__grant="complaint:1").count() == 1


def test_a_grant_goes_through_the_approval_limits(case, staff, clock):
    grant, _ = do_propose_grant(
        case, key="incident:3:case:9", kind="voucher", amount=Decimal("200"), reason="delay", actor=staff, now=clock.now
    )
    staff.groups.create(name="agent")
    allow("agent", "100")
    with pytest.raises(DomainError) as refused:
        do_approve_compensation(grant, actor=staff, now=clock.now)
    assert refused.value.code == "above_limit"
    allow("agent", "200")
    assert do_approve_compensation(grant, actor=staff, now=clock.now).status == CompensationStatus.APPROVED


@pytest.mark.parametrize(
    ("fields", "code", "field"),
    [
        ({"key": ""}, "invalid", "key"),
        ({"key": "x" * 121}, "invalid", "key"),
        ({"kind": "bitcoin"}, "invalid", "kind"),
        ({"reason": "  "}, "missing_field", "reason"),
        ({"amount": Decimal("-1")}, "invalid_amount", "amount"),
        ({"amount": Decimal("NaN")}, "invalid_amount", "amount"),
        ({"amount": None}, "missing_field", "amount"),
    ],
)
def test_a_bad_grant_is_refused_and_writes_nothing(case, staff, clock, fields, code, field):
    args = {"key": "complaint:2", "kind": "refund", "amount": Decimal("10"), "reason": "why", **fields}
    with pytest.raises(DomainError) as refused:
        do_propose_grant(case, actor=staff, now=clock.now, **args)
    assert (refused.value.code, refused.value.field) == (code, field)
    assert not Compensation.objects.exists()


def test_an_apology_grant_needs_no_amount(case, staff, clock):
    grant, _ = do_propose_grant(
        case, key="complaint:3", kind="apology", amount=None, reason="rude reception", actor=staff, now=clock.now
    )
    assert grant.amount == 0


def test_the_database_refuses_a_compensation_for_neither_or_both(case, clock):
    with pytest.raises(IntegrityError), transaction.atomic():
        Compensation.objects.create(case=case, kind="voucher", currency="CNY", created_at=clock.now)


def test_the_api_shows_a_grant_with_its_reason(api, case, staff, clock):
    do_propose_grant(
        case, key="complaint:4", kind="refund", amount=Decimal("12"), reason="wrong bill", actor=staff, now=clock.now
    )
    item = api.get("/compensations", case=case.pk).json()["items"][0]
    assert item["breach"] is None and item["grant"] == "complaint:4" and item["reason"] == "wrong bill"
    assert item["promise_code"] is None and item["amount"] == "12.00"
    export = api.get("/compensations/export.csv").content.decode()
    assert "complaint:4" in export.splitlines()[1]
