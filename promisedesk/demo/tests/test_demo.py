"""The demo command: loads a plausible organisation, the same every time, and only once."""

from __future__ import annotations

import random
from collections import Counter
from datetime import datetime, timedelta
from io import StringIO
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command

from promisedesk.breaches.models import Breach
from promisedesk.calendars.models import BusinessCalendar
from promisedesk.calendars.statutory import default_years, statutory_days
from promisedesk.cases.models import Case, CaseEvent, Customer, Service
from promisedesk.commitments.models import Commitment, CommitmentAlert
from promisedesk.demo import catalogue, people, story
from promisedesk.demo.loader import PASSWORD_FILE
from promisedesk.lib.businesstime import CalendarRules, CompiledCalendar, parse_weekly_hours
from promisedesk.promises.models import Kind, Promise, PromiseVersion

SHANGHAI = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 3, 2, 10, 0, tzinfo=SHANGHAI)  # a Monday morning, just after the Spring Festival
SMALL = 60
# Intake's part of the demo adds two emailed requests and one from the web form; the incidents'
# part adds the delayed flight's other passengers (16) and the typhoon's (8).
EXTRA_CASES = 3 + 16 + 8


@pytest.fixture(autouse=True)
def demo_settings(settings: Any, tmp_path: Any) -> None:
    settings.VAR_DIR = tmp_path
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def run(**options: Any) -> str:
    out = StringIO()
    call_command("demo", stdout=out, **{"now": NOW, **options})
    return out.getvalue()


def snapshot() -> dict[str, Any]:
    models = (BusinessCalendar, Service, Promise, PromiseVersion, Customer, Case, CaseEvent, Commitment, Breach)
    counts: dict[str, Any] = {model.__name__: model.objects.count() for model in models}
    counts["users"] = get_user_model().objects.count()
    counts["alerts"] = CommitmentAlert.objects.count()
    counts["states"] = Counter(Commitment.objects.values_list("state", flat=True))
    return counts


def raised() -> int:
    """Complaints the demo's worker round raised about recently verified claims (each a case of its own)."""
    from promisedesk.complaints.models import Complaint

    return Complaint.objects.filter(source_breach__isnull=False).count()


def test_demo_loads_cases_with_clocks_in_every_state(db: Any) -> None:
    # when
    output = run(cases=SMALL)
    # then
    assert Case.objects.count() == SMALL + EXTRA_CASES + raised()
    states = Counter(Commitment.objects.values_list("state", flat=True))
    assert states["met"] >= 20
    assert states["breached"] >= 3
    assert states["running"] >= 5
    # a clock held for the customer: still paused, or resumed by the guest's photo from their page
    assert states["paused"] >= 1 or CaseEvent.objects.filter(type="customer_waiting").exists()
    assert Commitment.objects.filter(state="running", warned_at__isnull=False).count() >= 3  # at risk now
    # every breached clock has its one breach row (from the clock or from a verified claim)
    assert Breach.objects.exclude(status="rejected").filter(commitment__state="breached").count() == states["breached"]
    assert Breach.objects.filter(source="clock").count() <= states["breached"]
    assert Commitment.objects.filter(promise_version__isnull=True).exists()  # oral promises on hotel cases
    assert f"cases: {SMALL + EXTRA_CASES + raised()}" in output
    assert "Admin: http://127.0.0.1:8000/  user admin  password " in output


def test_demo_publishes_every_promise_in_both_languages_before_the_history(db: Any) -> None:
    run(cases=0)
    versions = list(PromiseVersion.objects.select_related("promise"))
    assert {v.promise.code for v in versions} == {p["code"] for p in catalogue.PROMISES}
    for version in versions:
        assert version.status == "published", version
        assert set(version.statement) == {"en", "zh-Hans"}
        assert all(text.strip() for text in version.statement.values())
        assert version.published_at is not None and version.published_at <= NOW - story.HISTORY
        assert version.published_by is not None and version.published_by.username == "zhou.min"
    assert {v.kind for v in versions} == set(Kind.values)
    assert {v.coverage for v in versions} == {"full", "limited"}
    assert {v.form for v in versions} == {"written", "oral"}
    assert {(v.liability or {}).get("kind") for v in versions} == {
        "refund",
        "voucher",
        "discount",
        "gift",
        "cash",
        "apology",
    }
    coach = [v for v in versions if v.promise.code.startswith("coach-")]
    assert len(coach) == 5
    assert all(
        v.liability == catalogue.TWICE_THE_FARE | {"amount": None, "cap": None, "percent_of_price": None} for v in coach
    )


def test_demo_sets_up_calendars_customers_and_staff(db: Any) -> None:
    run(cases=0)
    office = BusinessCalendar.objects.get(name=catalogue.OFFICE)
    assert office.region == "CN" and office.holidays  # statutory days imported
    assert office.weekly_hours["mon"] == [["09:00", "12:00"], ["13:00", "18:00"]]
    hotel = BusinessCalendar.objects.get(name=catalogue.SEVEN_DAY)
    assert hotel.region is None and hotel.holidays == [] and len(hotel.weekly_hours) == 7
    assert Service.objects.get(code="coach-sh-nt").price == 78
    tiers = Counter(Customer.objects.values_list("tier", flat=True))
    assert tiers["gold"] and tiers["silver"] and tiers["standard"]
    assert set(Customer.objects.values_list("locale", flat=True)) == {"en", "zh-Hans"}
    assert Customer.objects.get(external_ref="DEMO-CUST-0001").preferences["pillow"] == "buckwheat"
    staff = get_user_model().objects.filter(is_staff=True, is_superuser=False)
    assert {"zhang.wei", "li.na", "chen.jing", "emma.hughes"} <= set(staff.values_list("username", flat=True))


def test_demo_run_twice_changes_nothing(db: Any) -> None:
    # given
    first = run(cases=SMALL)
    before = snapshot()
    # when
    second = run(cases=SMALL)
    # then
    assert snapshot() == before
    assert "created: nothing (all there already)" in second
    assert first.splitlines()[-2] == second.splitlines()[-2]  # the same admin password line


def test_demo_saves_the_admin_password_and_reuses_it(db: Any, tmp_path: Any) -> None:
    output = run(cases=0)
    password = (tmp_path / PASSWORD_FILE).read_text().strip()
    assert f"user admin  password {password}\n" in output
    admin = get_user_model().objects.get(username="admin")
    assert admin.is_superuser and admin.check_password(password)
    assert get_user_model().objects.get(username="li.na").check_password(password)
    assert f"password {password}\n" in run(cases=0)


def test_demo_leaves_an_admin_with_their_own_password_alone(db: Any) -> None:
    get_user_model().objects.create_superuser("admin", "boss@example.com", "their-own-password")
    output = run(cases=0)
    assert get_user_model().objects.get(username="admin").check_password("their-own-password")
    assert "password (set outside the demo" in output


def test_demo_takes_now_as_iso_text_and_refuses_a_naive_time(db: Any) -> None:
    call_command("demo", now="2026-03-02T10:00:00+08:00", cases=0, stdout=StringIO())
    assert PromiseVersion.objects.count() == len(catalogue.PROMISES)
    with pytest.raises(CommandError, match="offset"):
        call_command("demo", now="2026-03-02T10:00:00", cases=0, stdout=StringIO())
    with pytest.raises(CommandError, match="ISO 8601"):
        call_command("demo", now="yesterday", cases=0, stdout=StringIO())


def test_demo_at_the_default_size(db: Any) -> None:
    run()
    assert Case.objects.count() == story.DEFAULT_CASES + EXTRA_CASES + raised()
    assert story.DEFAULT_CASES >= 300
    states = Counter(Commitment.objects.values_list("state", flat=True))
    assert states["breached"] >= 30 and states["running"] >= 20 and states["met"] >= 300
    assert set(Case.objects.values_list("channel", flat=True)) >= {"web", "email", "api", "phone", "walk_in", "chat"}
    assert set(Case.objects.values_list("service__code", flat=True)) == {code for code, _n, _p in catalogue.SERVICES}
    assert Case.objects.filter(stage="closed").count() > Case.objects.count() / 2
    opened = list(Case.objects.order_by("opened_at").values_list("opened_at", flat=True))
    assert opened[0] >= NOW - story.HISTORY and opened[-1] <= NOW
    assert not CaseEvent.objects.filter(at__gt=NOW).exists()
    from promisedesk.complaints.models import RecoveryStep

    skipped = RecoveryStep.objects.filter(status="skipped")
    assert skipped.exists() and not skipped.filter(reason="").exists()  # a step skipped says why


# -- the plans themselves, without a database ---------------------------------------------------


def pure_clocks(now: datetime) -> dict[str, Any]:
    office, seven = catalogue.CALENDARS
    offs, works = statutory_days("CN", default_years(now.date()))
    rules = CalendarRules(
        timezone=office["timezone"],
        weekly=parse_weekly_hours(office["weekly_hours"]),
        holidays=frozenset(offs),
        extra_workdays=frozenset(works),
    )
    service = CalendarRules(timezone=seven["timezone"], weekly=parse_weekly_hours(seven["weekly_hours"]))
    return {catalogue.OFFICE: CompiledCalendar(rules), catalogue.SEVEN_DAY: CompiledCalendar(service)}


def plans_at(now: datetime, total: int = story.DEFAULT_CASES) -> list[story.CasePlan]:
    return story.build(now, pure_clocks(now), people.customers(random.Random(story.SEED)), total=total)


def test_plans_are_the_same_every_time() -> None:
    assert plans_at(NOW) == plans_at(NOW)


@pytest.mark.parametrize(
    "now",
    [
        NOW,
        datetime(2026, 2, 17, 3, 15, tzinfo=SHANGHAI),  # the small hours of Spring Festival
        datetime(2026, 10, 8, 23, 59, tzinfo=SHANGHAI),
        datetime(2027, 5, 4, 12, 30, tzinfo=ZoneInfo("UTC")),
    ],
)
def test_plans_never_reach_past_now_nor_before_their_case(now: datetime) -> None:
    plans = plans_at(now)
    assert len(plans) == story.DEFAULT_CASES
    assert len({plan.external_ref for plan in plans}) == len(plans)
    for plan in plans:
        assert now - story.HISTORY - timedelta(minutes=1) <= plan.opened_at <= now, plan.external_ref
        if plan.appointment:
            assert plan.appointment[0] < plan.appointment[1]
        moments = [step.at for step in plan.steps]
        assert moments == sorted(moments) and all(plan.opened_at <= at <= now for at in moments), plan.external_ref
        for step in plan.steps:
            if step.oral is not None and step.oral.due_at is not None:
                assert step.oral.due_at > step.at


def test_demo_works_its_cases_in_departments_with_notes_and_updates(db: Any) -> None:
    from promisedesk.accounts.models import Department
    from promisedesk.cases.models import StageLabel
    from promisedesk.cases.selectors import stage_label

    run(cases=SMALL)
    centre = Department.objects.get(code="customer_centre")
    assert centre.lead is not None and centre.lead.username == "chen.jing"
    assert centre.manager is not None and centre.manager.username == "zhou.min"
    assert {d.code for d in Department.objects.all()} >= {"installation_crew", "customer_centre", "front_desk"}
    # almost every case went to a team; the complaint taken six minutes ago and the requests
    # that just came in by mail and the web form wait to be picked up
    assert Case.objects.filter(department__isnull=True).count() <= 2 + EXTRA_CASES + raised()
    assert Case.objects.get(external_ref="DEMO-LIVE-03").department is None
    assert Case.objects.get(external_ref="DEMO-LIVE-02").department == centre
    assigned = CaseEvent.objects.filter(type="assigned").first()
    assert assigned is not None and {"department", "assignee", "from_department"} <= set(assigned.data)
    notes = CaseEvent.objects.filter(type="internal_note")
    assert notes.exists() and not notes.filter(visible_to_customer=True).exists()
    assert CaseEvent.objects.filter(type="progress_update", visible_to_customer=True).exists()
    assert StageLabel.objects.filter(service__code="broadband-install", stage="delivery").exists()
    moved = CaseEvent.objects.filter(type="stage_changed").first()
    assert moved is not None and moved.data["to"] == "delivery" and moved.data["substatus"] == "testing_line"
    install = Case.objects.filter(service__code="broadband-install", stage="delivery").first()
    if install is not None:
        assert stage_label(install, "zh-Hans").startswith("上门安装")
    assert Customer.objects.get(external_ref="DEMO-CUST-0002").timezone == "Europe/London"


def test_demo_complaints_are_recovery_cases_at_every_step(db: Any) -> None:
    from promisedesk.breaches.models import Compensation
    from promisedesk.complaints.models import Complaint, ComplaintCategory, RecoveryStep

    run(cases=SMALL)
    assert ComplaintCategory.objects.filter(code="billing").exists()
    planned = Complaint.objects.filter(case__external_ref__startswith="DEMO-").select_related("case__about")
    assert planned.exists() and all(c.case.kind == "complaint" for c in planned)
    # the cleaner listened to the consultant's missing gold-card discount; it is about his stay
    told = planned.get(case__external_ref="DEMO-LIVE-02")
    assert told.case.about is not None and told.case.about.external_ref == "DEMO-LIVE-01"
    assert list(told.steps.values_list("step", flat=True)) == ["listen"]
    states = dict(told.case.commitments.values_list("promise_code", "state"))
    assert states == {"hotel-gold-callback": "running", "complaint-acknowledge": "met", "complaint-resolve": "running"}
    assert not planned.get(case__external_ref="DEMO-LIVE-03").steps.exists()
    # the history: recovered with a goodwill refund, issued, followed up and closed with a root cause
    closed = planned.filter(status="closed")
    assert closed.exists() and all(c.root_cause for c in closed)
    recovered = closed.first()
    assert recovered is not None and recovered.steps.count() == 6
    refund = Compensation.objects.get(grant_key=f"complaint:{recovered.pk}")
    assert refund.kind == "refund" and refund.status == "issued" and refund.amount == recovered.case.price
    assert set(RecoveryStep.objects.filter(complaint=recovered).values_list("status", flat=True)) <= {"done", "skipped"}
