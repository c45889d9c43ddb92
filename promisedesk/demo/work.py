"""How the demo organisation works its cases: departments with their leads and managers, the
stages named its own way, and on the cases themselves assignment, internal notes and stage moves.

Plain data and pure functions over the plans (no random numbers: which cases get a note is
decided from their reference), so the rest of the story stays exactly as it was drawn.
"""

from __future__ import annotations

import zlib
from datetime import timedelta
from typing import Any

from .people import Person
from .story import CasePlan, say

# code, name, lead, manager, members
DEPARTMENTS: list[tuple[str, str, str | None, str | None, list[str]]] = [
    ("installation_crew", "Installation crew · 装维班组", "zhang.wei", "zhou.min", ["zhang.wei", "huang.li"]),
    ("customer_centre", "Customer centre · 客户服务中心", "chen.jing", "zhou.min", ["chen.jing", "huang.li", "li.na"]),
    ("front_desk", "Hotel front desk · 酒店前台", "li.na", "chen.jing", ["li.na", "wang.fang"]),
    ("coach_dispatch", "Coach dispatch · 班车调度", "liu.yang", "zhou.min", ["liu.yang"]),
    ("airline_duty", "Airline duty desk · 航班值班室", "emma.hughes", "zhou.min", ["emma.hughes"]),
    ("after_sales", "Online shop after-sales · 电商售后", "sophie.martin", "zhou.min", ["sophie.martin"]),
    ("online_clinic", "Online clinic · 在线诊室", "zhao.lei", "zhou.min", ["zhao.lei"]),
]

# Who takes each kind of case when it comes in.
ROUTING = {
    "broadband-install": ("installation_crew", "zhang.wei"),
    "hotel-stay": ("front_desk", "li.na"),
    "hotel-complaint": ("customer_centre", "chen.jing"),
    "coach-sh-nt": ("coach_dispatch", "liu.yang"),
    "flight": ("airline_duty", "emma.hughes"),
    "eshop-order": ("after_sales", "sophie.martin"),
    "clinic-consult": ("online_clinic", "zhao.lei"),
}

# The organisation's own names for some stages: for every service, and for the installer and the hotel.
STAGE_LABELS: list[dict[str, Any]] = [
    {"stage": "feedback", "label_en": "Follow-up", "label_zh_hans": "回访"},
    {
        "service_code": "broadband-install",
        "stage": "design",
        "label_en": "Booking the visit",
        "label_zh_hans": "预约上门",
    },
    {
        "service_code": "broadband-install",
        "stage": "delivery",
        "label_en": "On-site installation",
        "label_zh_hans": "上门安装",
        "substatuses": [
            {"code": "waiting_parts", "label_en": "Waiting for parts", "label_zh_hans": "等待配件"},
            {"code": "testing_line", "label_en": "Testing the line", "label_zh_hans": "线路测试中"},
        ],
    },
    {"service_code": "hotel-stay", "stage": "delivery", "label_en": "In house", "label_zh_hans": "在住"},
    {"service_code": "hotel-stay", "stage": "experience", "label_en": "Checked out", "label_zh_hans": "已离店"},
]

FOLIO_NOTE = (
    "查了账单:入住时没有按金卡会员价结算,前台系统里会员等级没同步。",
    "Checked the folio: the gold-card rate was not applied at check-in; the front desk system had the wrong tier.",
)
SITE_NOTE = (
    "客户说院子里有狗,上门前先打电话。",
    "The customer has a dog in the garden: call before going in.",
)
TESTING_NOTE = ("光猫已装好,正在测试线路。", "Modem fitted; testing the line.")


def _picked(ref: str, every: int) -> bool:
    """One case in `every`, the same ones on every run."""
    return zlib.crc32(ref.encode()) % every == 0


def add_work(plans: list[CasePlan], people: dict[str, Person]) -> None:
    """Give every case to the team that takes its kind (unless its story assigns it itself, or it
    came in minutes ago and nobody has picked it up), and add a few internal notes and stage moves."""
    for plan in plans:
        person = people[plan.customer]
        steps = {step.type for step in plan.steps}
        if "assigned" not in steps and plan.external_ref != "DEMO-LIVE-03":
            department, assignee = ROUTING[plan.service]
            plan.add(
                plan.opened_at + timedelta(minutes=1), "assigned", plan.actor, department=department, assignee=assignee
            )
        if plan.service == "hotel-complaint" and _picked(plan.external_ref, 2):
            first = next((s.at for s in plan.steps if s.type == "first_response"), None)
            if first is not None:
                plan.add(first + timedelta(minutes=2), "internal_note", "chen.jing", say(person, *FOLIO_NOTE))
        if plan.service == "broadband-install":
            _installation_work(plan, person)


def _installation_work(plan: CasePlan, person: Person) -> None:
    if _picked(plan.external_ref, 3):
        plan.add(plan.opened_at + timedelta(minutes=3), "internal_note", "huang.li", say(person, *SITE_NOTE))
    arrived = next((s.at for s in plan.steps if s.type == "arrived"), None)
    if arrived is not None and _picked(plan.external_ref, 2):
        plan.add(
            arrived + timedelta(minutes=15),
            "stage_changed",
            "zhang.wei",
            say(person, *TESTING_NOTE),
            stage="delivery",
            substatus="testing_line",
        )
