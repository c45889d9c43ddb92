"""Load the demo organisation through the ordinary actions, idempotently.

Everything is looked up by its natural key first (username, calendar name, service
code, promise code, customer and case external_ref) and created only when missing,
so a second run finds it all and changes nothing. The organisation is set up two
weeks before the history starts, so every case is judged by promises that were
already published when it opened. Each step of a case is recorded with `now` set
to the moment it happened, as if the desk had been running all along; the clocks
judge every event as it arrives. A final sweep at the real `now` breaches the
clocks whose time ran out with nobody acting.
"""

from __future__ import annotations

import random
import secrets
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from importlib import import_module
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.db import transaction
from django.db.models import Count

from promisedesk.accounts.actions import do_create_department
from promisedesk.accounts.models import Department
from promisedesk.breaches.models import Breach, Compensation
from promisedesk.calendars.actions import do_create_calendar
from promisedesk.calendars.compiled import clock_for
from promisedesk.calendars.models import BusinessCalendar
from promisedesk.capa.selectors import counts_by_status
from promisedesk.cases.actions import (
    do_append_event,
    do_assign,
    do_book_appointment,
    do_change_stage,
    do_create_customer,
    do_create_service,
    do_open_case,
    do_record_oral_commitment,
    do_set_stage_label,
)
from promisedesk.cases.models import Case, Customer, Service, Stage, StageLabel
from promisedesk.commitments.models import Commitment, CommitmentAlert
from promisedesk.commitments.sweeper import SweepResult, sweep
from promisedesk.complaints.auto import RaiseResult, raise_for_breaches
from promisedesk.complaints.models import Complaint
from promisedesk.demo import makegood
from promisedesk.promises.actions import do_create_promise, do_publish_promise
from promisedesk.promises.models import Promise
from promisedesk.recovery.models import Incident, IncidentCase

from . import catalogue, people, recovery, story, work

SET_UP_BEFORE_HISTORY = timedelta(days=14)
PASSWORD_FILE = "admin-password.txt"


@dataclass
class Report:
    """What the load did and what the organisation now looks like."""

    now: datetime
    created: dict[str, int] = field(default_factory=dict)
    cases: int = 0
    open_cases: int = 0
    commitments: dict[str, int] = field(default_factory=dict)
    oral: int = 0
    breaches: dict[str, int] = field(default_factory=dict)
    at_risk: int = 0
    compensations: dict[str, int] = field(default_factory=dict)
    sweep: SweepResult | None = None
    raised: RaiseResult | None = None
    complaints: dict[str, int] = field(default_factory=dict)
    incidents: int = 0
    affected: int = 0
    actions: dict[str, int] = field(default_factory=dict)
    password: str | None = None

    def lines(self) -> list[str]:
        made = ", ".join(f"{n} {what}" for what, n in self.created.items() if n) or "nothing (all there already)"
        states = ", ".join(f"{state} {n}" for state, n in sorted(self.commitments.items()))
        verdicts = ", ".join(f"{status} {n}" for status, n in sorted(self.breaches.items())) or "none"
        return [
            f"Demo organisation as of {self.now.astimezone(story.TZ).isoformat()}",
            f"  created: {made}",
            f"  cases: {self.cases} ({self.open_cases} open)",
            f"  commitments: {sum(self.commitments.values())} ({states}); oral promises {self.oral}",
            f"  breaches: {sum(self.breaches.values())} ({verdicts}); at-risk warnings {self.at_risk}",
            f"  compensations: {sum(self.compensations.values())} ("
            + (", ".join(f"{status} {n}" for status, n in sorted(self.compensations.items())) or "none")
            + ")",
            f"  complaints: {sum(self.complaints.values())} ("
            + (", ".join(f"{status} {n}" for status, n in sorted(self.complaints.items())) or "none")
            + f"); {self.raised or 'none raised'}",
            f"  incidents: {self.incidents} ({self.affected} affected cases); corrective actions: "
            + f"{sum(self.actions.values())} ("
            + (", ".join(f"{status} {n}" for status, n in sorted(self.actions.items())) or "none")
            + ")",
            f"  {self.sweep}",
        ]


def load(now: datetime, *, cases: int = story.DEFAULT_CASES) -> Report:
    """Load (or find) the whole demo organisation as of now; returns the report."""
    report = Report(now=now)
    since = now - story.HISTORY - SET_UP_BEFORE_HISTORY
    with transaction.atomic():
        report.password, users = ensure_users(since, report)
        makegood.ensure_reference_data(users)
        calendars = ensure_calendars(since, report)
        ensure_services(report)
        ensure_departments(since, report)
        ensure_stage_labels(since, report)
        ensure_promises(since, users["zhou.min"], report)
        recovery.ensure_categories(report.created)
        everyone = people.customers(random.Random(story.SEED))
        customer_ids = ensure_customers(since, everyone, report)
        clocks = {name: clock_for(calendar) for name, calendar in calendars.items()}
        plans = story.build(now, clocks, everyone, total=cases)
        report.created["cases"] = load_cases(plans, users, customer_ids)
    report.sweep = sweep(now)
    makegood.give_verdicts(now, users["zhou.min"])
    # What the worker does each round: a complaint about every recently verified customer claim.
    report.raised = raise_for_breaches(now)
    # Each of these is idempotent and builds on the cases above.
    for app in ("intake", "portal", "escalations", "recovery", "capa"):
        import_module(f"promisedesk.{app}.demo").load(now)
    count(report)
    return report


# -- staff -------------------------------------------------------------------------------


def demo_password() -> str:
    """The password saved under VAR_DIR, made on the first run and reused ever after."""
    path = Path(settings.VAR_DIR) / PASSWORD_FILE
    if path.exists() and path.read_text().strip():
        return path.read_text().strip()
    password = secrets.token_urlsafe(12)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.touch(mode=0o600)
    path.write_text(password + "\n")
    return password


def ensure_users(since: datetime, report: Report) -> tuple[str | None, dict[str, Any]]:
    """The admin superuser and the staff; returns the admin password if it is the demo's."""
    password = demo_password()
    users = get_user_model().objects
    admin = users.filter(username="admin").first()
    shown: str | None = password
    if admin is None:
        admin = users.create_superuser("admin", "admin@example.com", password)
        report.created["users"] = 1
    elif not admin.check_password(password):
        shown = None  # someone set their own password: not ours to show or change
    found = {user.username: user for user in users.filter(username__in=[row[0] for row in catalogue.STAFF])}
    hashed = make_password(password)  # hashed once: the staff share the demo password
    for username, first, last, email, _role in catalogue.STAFF:
        if username not in found:
            found[username] = users.create(
                username=username,
                first_name=first,
                last_name=last,
                email=email,
                is_staff=True,
                password=hashed,
                date_joined=since,
            )
            report.created["users"] = report.created.get("users", 0) + 1
    return shown, {"admin": admin, **found}


# -- calendars, services, promises, customers ----------------------------------------------


def ensure_calendars(since: datetime, report: Report) -> dict[str, BusinessCalendar]:
    out = {}
    for spec in catalogue.CALENDARS:
        found = BusinessCalendar.objects.filter(name=spec["name"]).first()
        if found is None:
            found = do_create_calendar(now=since, **spec)
            report.created["calendars"] = report.created.get("calendars", 0) + 1
        out[spec["name"]] = found
    return out


def ensure_services(report: Report) -> None:
    existing = set(Service.objects.values_list("code", flat=True))
    for code, name, price in catalogue.SERVICES:
        if code not in existing:
            do_create_service(code=code, name=name, price=Decimal(price) if price else None, currency="CNY")
            report.created["services"] = report.created.get("services", 0) + 1


def ensure_promises(since: datetime, manager: Any, report: Report) -> None:
    """Draft each promise, then publish it a day later (after review), before any case opens."""
    existing = set(Promise.objects.values_list("code", flat=True))
    for spec in catalogue.PROMISES:
        if spec["code"] in existing:
            continue
        do_create_promise(actor=manager, now=since, **spec)
        do_publish_promise(actor=manager, now=since + timedelta(days=1), code=spec["code"])
        report.created["promises"] = report.created.get("promises", 0) + 1


def ensure_departments(since: datetime, report: Report) -> None:
    """The teams (installation crew, customer centre, front desk …) with their leads, managers and members."""
    existing = set(Department.objects.values_list("code", flat=True))
    for code, name, lead, manager, members in work.DEPARTMENTS:
        if code not in existing:
            do_create_department(
                actor=None, now=since, code=code, name=name, lead=lead, manager=manager, members=members
            )
            report.created["departments"] = report.created.get("departments", 0) + 1


def ensure_stage_labels(since: datetime, report: Report) -> None:
    """The organisation's own names for some stages; a stage someone has named already is left alone."""
    named = set(StageLabel.objects.values_list("service__code", "stage"))
    for spec in work.STAGE_LABELS:
        if (spec.get("service_code"), spec["stage"]) not in named:
            do_set_stage_label(actor=None, now=since, **spec)
            report.created["stage names"] = report.created.get("stage names", 0) + 1


def ensure_customers(since: datetime, everyone: list[people.Person], report: Report) -> dict[str, int]:
    refs = [person.external_ref for person in everyone]
    found = Customer.objects.filter(external_ref__in=refs).values_list("external_ref", "id")
    ids: dict[str, int] = {ref: pk for ref, pk in found if ref}
    for person in everyone:
        if person.external_ref not in ids:
            ids[person.external_ref] = do_create_customer(now=since, **person.fields()).pk
            report.created["customers"] = report.created.get("customers", 0) + 1
    return ids


# -- cases -------------------------------------------------------------------------------------


def load_cases(plans: list[story.CasePlan], users: dict[str, Any], customer_ids: dict[str, int]) -> int:
    """Open every planned case that is not there yet and play its timeline; returns how many."""
    refs = [plan.external_ref for plan in plans]
    existing = set(Case.objects.filter(external_ref__in=refs).values_list("external_ref", flat=True))
    made = 0
    for plan in plans:
        if plan.external_ref not in existing:
            play(plan, users, customer_ids)
            made += 1
    return made


def play(plan: story.CasePlan, users: dict[str, Any], customer_ids: dict[str, int]) -> Case:
    if plan.complaint is not None:
        case = recovery.open_complaint(plan, users.get(plan.actor or ""), customer_ids[plan.customer])
    else:
        case = open_planned(plan, users, customer_ids)
    play_steps(case, plan, users)
    return case


def open_planned(plan: story.CasePlan, users: dict[str, Any], customer_ids: dict[str, int]) -> Case:
    start, end = plan.appointment or (None, None)
    case, _created = do_open_case(
        actor=users.get(plan.actor or ""),
        now=plan.opened_at,
        customer_id=customer_ids[plan.customer],
        service_code=plan.service,
        external_ref=plan.external_ref,
        channel=plan.channel,
        priority=plan.priority,
        price=plan.price,
        opened_at=plan.opened_at,
        appointment_start=start,
        appointment_end=end,
        summary=plan.summary,
    )
    return case


def play_steps(case: Case, plan: story.CasePlan, users: dict[str, Any]) -> None:
    """The plan's timeline, step by step, each through the action that does that kind of work."""
    for step in plan.steps:
        actor = users.get(step.actor or "")
        if step.type == "recovery":
            recovery.play_recovery(case, step, actor)
        elif step.oral is not None:
            oral = step.oral
            do_record_oral_commitment(
                case,
                actor=actor,
                now=step.at,
                statement=oral.statement,
                owner=oral.owner,
                due_at=oral.due_at,
                target=oral.target,
                liability=oral.liability,
                stop_on=oral.stop_on,
            )
        else:
            play_step(case, step, actor)
            if step.type in makegood.CLAIM_EVENTS and step.data.get("promise_code"):
                makegood.report_claim(
                    case,
                    at=step.at,
                    note=step.note,
                    promise_code=step.data["promise_code"],
                    key=f"demo:{plan.external_ref}:{step.type}",
                )


def play_step(case: Case, step: story.Step, actor: Any) -> None:
    """One timeline step through the action that does that kind of work, as it happened then."""
    at, data = step.at, step.data
    if step.type == "assigned":
        department, assignee = data.get("department"), data.get("assignee")
        do_assign(case, actor=actor, now=at, at=at, department=department, assignee=assignee, note=step.note)
    elif step.type == "stage_changed":
        stage, substatus = data["stage"], data.get("substatus", "")
        do_change_stage(case, actor=actor, now=at, at=at, stage=stage, substatus=substatus, note=step.note)
    elif step.type == "appointment_scheduled":
        start, end = datetime.fromisoformat(data["start"]), datetime.fromisoformat(data["end"])
        do_book_appointment(case, actor=actor, now=at, at=at, start=start, end=end, reason=step.note)
    else:
        do_append_event(case, actor=actor, now=at, at=at, type=step.type, note=step.note, data=data)


def count(report: Report) -> None:
    report.cases = Case.objects.count()
    report.open_cases = Case.objects.exclude(stage=Stage.CLOSED).count()
    states = Commitment.objects.values_list("state").annotate(n=Count("id")).order_by()
    report.commitments = {state: n for state, n in states}
    report.oral = Commitment.objects.filter(promise_version__isnull=True).count()
    verdicts = Breach.objects.values_list("status").annotate(n=Count("id")).order_by()
    report.breaches = {status: n for status, n in verdicts}
    report.at_risk = CommitmentAlert.objects.count()
    paid = Compensation.objects.values_list("status").annotate(n=Count("id")).order_by()
    report.compensations = {status: n for status, n in paid}
    complaints = Complaint.objects.values_list("status").annotate(n=Count("id")).order_by()
    report.complaints = {status: n for status, n in complaints}
    report.incidents = Incident.objects.count()
    report.affected = IncidentCase.objects.count()
    report.actions = counts_by_status()
