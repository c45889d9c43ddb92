"""Six weeks of service history, written as plans: cases and the timeline of each.

Everything here is pure: a seeded random.Random, the command's `now` and the
calendars' clock arithmetic go in, a list of CasePlan comes out. The same inputs
give the same plans, so the demo is the same on every machine. Every moment is
computed relative to `now`; a step that would lie after `now` has not happened yet
and is dropped, which leaves clocks running on the most recent cases.

Whether a clock was kept or broken is decided here, from the promise's own
arithmetic (the office calendar's working hours, round-the-clock minutes), and then
enacted by the loader through the ordinary actions, which judge it independently.
"""

from __future__ import annotations

import random
import zlib
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from promisedesk.lib.businesstime import BusinessClock

from .catalogue import OFFICE, POOL_CALLBACK, POOL_OPEN, SEVEN_DAY, TIMEZONE
from .people import Person
from .phrases import (
    COACH_COMPLAINTS,
    COMPLAINTS,
    DELAY_REASONS,
    FARES,
    FLOOR,
    FOLIO,
    ITEMS,
    LATE_DEPARTURES,
    PILLOW,
    QUESTIONS,
    REQUESTS,
    ROUTES,
)

TZ = ZoneInfo(TIMEZONE)
SEED = 20_240_501  # the May Day holiday of the coach-line story
HISTORY = timedelta(days=42)
DEFAULT_CASES = 360
H = timedelta(hours=1)

# How the random cases are shared among the businesses.
WEIGHTS = {
    "broadband-install": 24,
    "hotel-stay": 20,
    "hotel-complaint": 8,
    "coach-sh-nt": 18,
    "flight": 12,
    "eshop-order": 12,
    "clinic-consult": 6,
}
PREFIX = {
    "broadband-install": "INS",
    "hotel-stay": "HTL",
    "hotel-complaint": "CMP",
    "coach-sh-nt": "BUS",
    "flight": "FLT",
    "eshop-order": "SHP",
    "clinic-consult": "CLN",
}


@dataclass
class Oral:
    """A promise a member of staff makes to the customer on the spot."""

    statement: str
    owner: str
    stop_on: list[str]
    target: timedelta | None = None
    due_at: datetime | None = None
    liability: dict[str, Any] | None = None


@dataclass
class Step:
    """One thing that happens on a case: a timeline event, or an oral promise when `oral` is set."""

    at: datetime
    type: str
    actor: str | None = None
    note: str = ""
    data: dict[str, Any] = field(default_factory=dict)
    oral: Oral | None = None


@dataclass
class CasePlan:
    external_ref: str
    customer: str
    service: str
    channel: str
    opened_at: datetime
    actor: str | None = None
    priority: str = "normal"
    price: Decimal | None = None
    appointment: tuple[datetime, datetime] | None = None
    summary: str = ""
    steps: list[Step] = field(default_factory=list)
    # A complaint: {account, remedy_wanted, remedy_detail, severity, category, about_service}; the case is
    # opened as a complaint (about the customer's latest stay of `about_service`, when they have one).
    complaint: dict[str, Any] | None = None

    def add(self, at: datetime, type: str, actor: str | None = None, note: str = "", **data: Any) -> datetime:
        self.steps.append(Step(at, type, actor, note, data))
        return at

    def promise(self, at: datetime, oral: Oral) -> None:
        self.steps.append(Step(at, "oral", oral.owner, "", {}, oral))


def minute(moment: datetime) -> datetime:
    """Moments are kept to the whole minute, in the business's time zone, for a readable timeline."""
    return moment.astimezone(TZ).replace(second=0, microsecond=0)


def local(day: date, hour: int, minute_: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute_, tzinfo=TZ)


def say(person: Person, zh: str, en: str) -> str:
    """A note or statement in the customer's language."""
    return zh if person.locale == "zh-Hans" else en


def both(zh: str, en: str) -> str:
    return f"{zh} / {en}"


class Story:
    """Generates the plans; one instance per build, drawing from one seeded generator."""

    def __init__(self, now: datetime, clocks: dict[str, BusinessClock], people: list[Person], seed: int = SEED):
        self.rng = random.Random(seed)
        self.now = now
        self.start = now - HISTORY
        self.office = clocks[OFFICE]
        self.seven = clocks[SEVEN_DAY]
        self.people = people
        self.by_ref = {p.external_ref: p for p in people}
        self.by_tier: dict[str, list[Person]] = {}
        for person in people:
            self.by_tier.setdefault(person.tier, []).append(person)

    # -- random helpers ------------------------------------------------------------------

    def mins(self, low: int, high: int) -> timedelta:
        return timedelta(minutes=self.rng.randint(low, high))

    def pick(self, weights: dict[str, int]) -> str:
        return self.rng.choices(list(weights), weights=list(weights.values()))[0]

    def chance(self, p: float) -> bool:
        return self.rng.random() < p

    def customer(self, gold_share: float | None = None) -> Person:
        if gold_share is not None and self.chance(gold_share):
            return self.rng.choice(self.by_tier["gold"])
        pool = [p for tier in ("gold", "silver", "standard") for p in self.by_tier.get(tier, [])]
        return self.rng.choice(pool)

    def priority(self) -> str:
        return self.pick({"normal": 80, "high": 12, "low": 5, "urgent": 3})

    def opened(
        self, hours: tuple[int, int] = (0, 24), earliest: datetime | None = None, latest: datetime | None = None
    ) -> datetime:
        """A moment at a plausible local hour between earliest (default: the history's start)
        and latest (default: ten minutes ago)."""
        earliest = earliest or self.start
        latest = latest or self.now - timedelta(minutes=10)
        span = (latest - earliest).total_seconds()
        for _ in range(50):
            day = (earliest + timedelta(seconds=span * self.rng.random())).astimezone(TZ).date()
            moment = local(day, self.rng.randrange(*hours), self.rng.randint(0, 59))
            if earliest <= moment <= latest:
                return moment
        return minute(latest)

    def business(self, clock: BusinessClock, start: datetime, target: timedelta, kept: bool) -> datetime:
        """When the stopping event happens: inside the target on this clock, or past it."""
        if kept:
            return minute(clock.due(start, target * self.rng.uniform(0.05, 0.9)))
        return minute(clock.due(start, target)) + self.mins(20, 600)

    # -- the broadband installer ---------------------------------------------------------

    def installation(self, ref: str) -> CasePlan:
        """Book a two-hour window, confirm it, arrive in it (mostly), install, follow up."""
        person = self.customer()
        channel = self.pick({"phone": 4, "web": 3, "chat": 2, "api": 1, "walk_in": 1})
        opened = self.opened((8, 21))
        start = local(opened.date() + timedelta(days=self.rng.randint(1, 4)), self.rng.choice([9, 11, 14, 16, 19]))
        plan = CasePlan(
            ref,
            person.external_ref,
            "broadband-install",
            channel,
            opened,
            actor="huang.li" if channel in ("phone", "walk_in") else None,
            priority=self.priority(),
            appointment=(start, start + 2 * H),
            summary=both("千兆宽带新装", "New gigabit broadband line"),
        )
        confirm = min(self.business(self.office, opened, 4 * H, self.chance(0.85)), start - H)
        plan.add(confirm, "progress_update", "huang.li", self.booked(person, start))
        if self.chance(0.07) and confirm + 3 * H < start:
            start += timedelta(days=1)
            note = say(
                person,
                "客户要求改约到次日同一时段。",
                "The customer asked to move the visit to the same time next day.",
            )
            plan.add(confirm + self.mins(30, 120), "appointment_scheduled", "huang.li", note, **self.window(start))
        return self.visit(plan, person, start)

    def booked(self, person: Person, start: datetime) -> str:
        end = start + 2 * H
        return say(
            person,
            f"已确认预约:装维人员张伟将于{start:%m月%d日%H:%M}至{end:%H:%M}之间上门。",
            f"Booking confirmed: installer Zhang Wei will come on {start:%d %b} between {start:%H:%M} and {end:%H:%M}.",
        )

    @staticmethod
    def window(start: datetime) -> dict[str, str]:
        return {"start": start.isoformat(), "end": (start + 2 * H).isoformat()}

    def visit(self, plan: CasePlan, person: Person, start: datetime) -> CasePlan:
        arrived = start + self.mins(5, 110) if self.chance(0.82) else start + 2 * H + self.mins(10, 100)
        plan.add(arrived, "arrived", "zhang.wei", say(person, "装维人员已上门。", "The installer has arrived."))
        done = arrived + self.mins(40, 150)
        plan.add(
            done, "delivered", "zhang.wei", say(person, "安装完成,测速940 Mbps。", "Installed; speed test 940 Mbps.")
        )
        plan.add(done + self.mins(1, 5), "progress_update", "zhang.wei", say(person, "已完工。", "Job finished."))
        roll = self.rng.random()
        if roll < 0.08:
            return plan  # nobody calls back: the follow-up clock runs out
        call = self.business(self.office, done, 16 * H, kept=roll > 0.22)
        plan.add(call, "follow_up_call", "huang.li", say(person, "回访:网络正常,客户满意。", "Follow-up: all working."))
        plan.add(call + self.mins(2, 10), "resolved", "huang.li")
        plan.add(call + self.mins(60, 2880), "closed", "huang.li")
        return plan

    # -- the hotel -----------------------------------------------------------------------

    def hotel_stay(self, ref: str) -> CasePlan:
        """A stay: check in to a room prepared the guest's way, ask for things, check out, rate it."""
        person = self.customer(gold_share=0.35)
        channel = self.pick({"web": 4, "api": 2, "phone": 2, "email": 1, "chat": 1, "walk_in": 1})
        opened = self.opened((7, 23))
        day = opened.date() + timedelta(days=self.rng.randint(0, 10))
        checkin = local(day, self.rng.randint(14, 21), self.rng.randint(0, 59))
        if channel == "walk_in" or checkin <= opened:
            checkin = opened + self.mins(5, 30)
        nights = self.rng.choice([1, 1, 2, 2, 3, 4])
        leave = checkin.date() + timedelta(days=nights)
        rate = Decimal(self.rng.choice(["588", "688", "688", "888", "1288"]))
        plan = CasePlan(
            ref,
            person.external_ref,
            "hotel-stay",
            channel,
            opened,
            actor="li.na" if channel in ("walk_in", "phone") else None,
            price=rate * nights,
            appointment=(local(checkin.date(), 14), local(leave, 12)),
            summary=both(f"入住{nights}晚", f"{nights}-night stay"),
        )
        plan.add(checkin, "arrived", "li.na", self.welcome(person))
        if self.chance(0.3):
            self.pool_request(plan, person, checkin)
        elif self.chance(0.25):
            self.guest_request(plan, person, checkin)
        out = local(leave, self.rng.randint(8, 11), self.rng.randint(0, 59))
        plan.add(out, "delivered", "li.na", say(person, "已退房。", "Checked out."))
        return self.stay_survey(plan, person, out)

    @staticmethod
    def welcome(person: Person) -> str:
        prefs = person.preferences
        zh, en = ["已办理入住"], ["Checked in"]
        for table, value in ((PILLOW, prefs.get("pillow")), (FLOOR, prefs.get("room_floor"))):
            if value in table:
                zh.append(table[value][0])
                en.append(table[value][1])
        if prefs.get("quiet_room"):
            zh.append("远离电梯的安静房间")
            en.append("a quiet room away from the lifts")
        if len(zh) == 1:
            return say(person, "已办理入住。", "Checked in.")
        return say(
            person,
            zh[0] + ",已按习惯备好:" + "、".join(zh[1:]) + "。",
            en[0] + "; ready as usual: " + ", ".join(en[1:]) + ".",
        )

    def pool_request(self, plan: CasePlan, person: Person, checkin: datetime, kept: bool | None = None) -> None:
        """The textbook guest: asks for the pool before 09:00; the desk promises to arrange it and call back."""
        ask = min(checkin + self.mins(45, 180), local(checkin.date(), 22, 30))
        ask = max(ask, checkin + timedelta(minutes=10))
        note = say(
            person,
            "客人每天早上有游泳的习惯,问泳池能否在9点之前开放。",
            "The guest swims every morning and asks whether the pool can open before 09:00.",
        )
        plan.add(ask, "guest_request", "li.na", note, request="early_pool")
        callback = Oral(say(person, POOL_CALLBACK["zh-Hans"], POOL_CALLBACK["en"]), "li.na", ["called_back"])
        callback.target, callback.liability = timedelta(minutes=30), {"kind": "apology"}
        plan.promise(ask, callback)
        kept = self.chance(0.82) if kept is None else kept
        back = ask + (self.mins(5, 25) if kept else self.mins(35, 90))
        answer = say(
            person,
            "已协调好,明早6:30单独为您开放泳池。",
            "All arranged: the pool opens for you alone at 06:30 tomorrow.",
        )
        plan.add(back, "called_back", "chen.jing", answer)
        morning = ask.date() + timedelta(days=1)
        gift = {"kind": "gift", "amount": "98", "currency": "CNY"}  # breakfast on the house
        pool = Oral(say(person, POOL_OPEN["zh-Hans"], POOL_OPEN["en"]), "li.na", ["pool_opened_early"], None)
        pool.due_at, pool.liability = local(morning, 6, 40), gift
        plan.promise(back, pool)
        swim = local(morning, 6, self.rng.randint(15, 35)) if kept or self.chance(0.5) else local(morning, 6, 55)
        plan.add(swim, "pool_opened_early", "li.na", say(person, "泳池已为客人开放。", "Pool opened for the guest."))

    def guest_request(self, plan: CasePlan, person: Person, checkin: datetime) -> None:
        zh, en = self.rng.choice(REQUESTS)
        ask = checkin + self.mins(20, 150)
        plan.add(ask, "guest_request", "li.na", say(person, zh, en))
        back = ask + (self.mins(4, 25) if self.chance(0.8) else self.mins(35, 80))
        plan.add(back, "called_back", "li.na", say(person, "已回电,已经安排好。", "Called back: it is arranged."))

    def stay_survey(self, plan: CasePlan, person: Person, out: datetime) -> CasePlan:
        score = self.rng.choices([5, 4, 3, 2, 1], weights=[50, 30, 12, 5, 3])[0]
        note = say(person, f"满意度评分{score}分。", f"Satisfaction score {score} of 5.")
        answered = plan.add(out + self.mins(60, 1800), "survey_answered", None, note, csat=score, kept=score >= 3)
        if score <= 2:
            # 100% satisfaction or a full refund: the claim stays open for the manager to review.
            claim = say(
                person, "客人不满意,按满意保证申请全额退款。", "Not satisfied: the guest claims the full refund."
            )
            plan.add(answered + self.mins(5, 120), "refund_requested", None, claim, promise_code="hotel-satisfaction")
            return plan
        plan.add(answered + self.mins(5, 600), "closed", "li.na")
        return plan

    def hotel_complaint(self, ref: str) -> CasePlan:
        """Anyone on the staff takes it; the customer centre calls back, apologises, refunds the difference."""
        person = self.customer(gold_share=0.75)
        channel = self.pick({"walk_in": 4, "phone": 3, "chat": 2, "email": 1})
        return self.complaint_history(self.complaint(ref, person, channel, self.opened((7, 23))), person)

    def complaint(self, ref: str, person: Person, channel: str, opened: datetime) -> CasePlan:
        zh, en, amounts = self.rng.choice(COMPLAINTS)
        plan = CasePlan(
            ref,
            person.external_ref,
            "hotel-complaint",
            channel,
            opened,
            actor="wang.fang" if channel == "walk_in" else "chen.jing",  # the cleaner takes it too
            priority="high" if person.tier == "gold" else "normal",
            price=Decimal(self.rng.choice(amounts)),
            summary=both(zh, en),
        )
        plan.complaint = {
            "account": say(person, zh, en),
            "remedy_wanted": "refund",
            "remedy_detail": say(person, f"退还多收的{plan.price}元", f"Refund the CNY {plan.price} overcharged"),
            "severity": "high" if person.tier == "gold" else "medium",
            "category": "billing",
            "about_service": "hotel-stay",
        }
        return plan

    def complaint_history(self, plan: CasePlan, person: Person) -> CasePlan:
        opened, taker = plan.opened_at, plan.actor
        note = say(person, "转客户服务中心处理。", "Passed to the customer centre.")
        plan.add(opened + self.mins(1, 4), "assigned", taker, note, department="customer_centre", assignee="chen.jing")
        sorry = say(
            person,
            "客服中心主管致电道歉,核实了多收的金额。",
            "The supervisor called, apologised and confirmed the overcharge.",
        )
        last = opened + (self.mins(8, 28) if self.chance(0.8) else self.mins(35, 120))
        plan.add(last, "first_response", "chen.jing", sorry)
        # The call-back is where the recovery starts: the supervisor listens, and apologises on the phone.
        plan.add(last, "recovery", "chen.jing", step="listen")
        plan.add(last, "recovery", "chen.jing", step="apologise", how="message" if plan.channel == "email" else "phone")
        if self.chance(0.25):
            wait = plan.add(
                last + self.mins(2, 10),
                "customer_waiting",
                "chen.jing",
                say(person, "请客人提供账单照片。", "Asked for a photo of the bill."),
            )
            last = plan.add(
                wait + self.mins(30, 1440),
                "customer_replied",
                None,
                say(person, "客人发来了账单照片。", "The guest sent the photo."),
            )
        done = last + self.mins(15, 600) if self.chance(0.88) else opened + 48 * H + self.mins(60, 1500)
        refund = say(person, f"差额{plan.price}元已退回。", f"The difference of CNY {plan.price} has been refunded.")
        offer = say(person, f"退还差额{plan.price}元,并致歉。", f"We refund the difference of CNY {plan.price}.")
        pick = zlib.crc32(plan.external_ref.encode())  # which complaints go which way, the same on every run
        if pick % 4 == 1:  # the guest's photo of the bill says it all: nothing more to look into
            shown = say(
                person,
                "客人的账单照片清楚显示了多收的费用。",
                "The guest's photo of the bill shows the overcharge plainly.",
            )
            plan.add(done - timedelta(minutes=10), "recovery", "chen.jing", step="collect_facts", skip=shown)
        else:
            plan.add(
                done - timedelta(minutes=10), "recovery", "chen.jing", step="collect_facts", note=say(person, *FOLIO)
            )
        plan.add(
            done - timedelta(minutes=5), "recovery", "chen.jing", step="offer", solution=offer, amount=str(plan.price)
        )
        plan.add(done, "recovery", "chen.jing", step="tell_result", outcome=refund)
        happy = say(person, "回访:客人对处理结果满意。", "Followed up: the guest is happy with how it was handled.")
        cause = ("training", "communication", "staffing")[pick % 3]
        # Most guests are called back the next day; some (and those resolved lately) when the three days are
        # nearly up, so the desk has follow-ups waiting on the supervisor's queue.
        soon = self.mins(60, 1440)  # drawn for every complaint, so the rest of the story stays as it was
        back = done + (70 * H if pick % 3 == 0 or done > self.now - 3 * 24 * H else soon)
        plan.add(back, "recovery", "chen.jing", step="follow_up", note=happy, root_cause=cause)
        return plan

    # -- the Shanghai–Nantong coach line ---------------------------------------------------

    def coach(self, ref: str) -> CasePlan:
        person = self.customer()
        channel = self.pick({"walk_in": 4, "web": 3, "phone": 1, "chat": 1, "api": 1})
        opened = self.opened((6, 20))
        dep = self.timetable(opened + (self.mins(15, 40) if channel == "walk_in" else self.mins(60, 3 * 1440)))
        plan = CasePlan(
            ref,
            person.external_ref,
            "coach-sh-nt",
            channel,
            opened,
            actor="liu.yang" if channel in ("walk_in", "phone") else None,
            appointment=(dep, dep + timedelta(minutes=160)),
            summary=both(f"{dep:%m月%d日%H:%M} 上海—南通", f"{dep:%d %b %H:%M} Shanghai to Nantong"),
        )
        plan.add(
            dep - timedelta(minutes=3), "boarding_closed", "liu.yang", say(person, "停止检票。", "Boarding closed.")
        )
        if self.chance(0.85):
            gone = plan.add(dep + self.mins(0, 8), "departed", "liu.yang", say(person, "正点发车。", "Left on time."))
        else:
            gone = plan.add(
                dep + self.mins(13, 45), "departed", "liu.yang", say(person, *self.rng.choice(LATE_DEPARTURES))
            )
        there = gone + self.mins(130, 170)
        plan.add(there, "delivered", "liu.yang", say(person, "到达南通汽车站。", "Arrived at Nantong coach station."))
        if self.chance(0.06):
            code, zh, en = self.rng.choice(COACH_COMPLAINTS)
            plan.add(there + self.mins(30, 600), "passenger_complaint", None, say(person, zh, en), promise_code=code)
            return plan  # 一经查实: the case waits for the violation to be verified before anyone pays
        plan.add(there + self.mins(10, 360), "closed", "liu.yang")
        return plan

    @staticmethod
    def timetable(earliest: datetime) -> datetime:
        """The first departure at or after earliest: every half hour from 06:30 to 19:30."""
        moment = minute(earliest)
        moment += timedelta(minutes=(30 - moment.minute % 30) % 30)
        day = moment.date()
        if moment < local(day, 6, 30):
            return local(day, 6, 30)
        if moment > local(day, 19, 30):
            return local(day + timedelta(days=1), 6, 30)
        return moment

    # -- the airline -----------------------------------------------------------------------

    def flights(self, count: int) -> list[CasePlan]:
        """Whole flights of passengers; about a third are delayed, and all on board are told."""
        plans: list[CasePlan] = []
        number = 5100
        while len(plans) < count:
            number += 1
            seats = min(self.rng.randint(3, 7), count - len(plans))
            plans += self.flight(f"ES{number}", seats, len(plans) + 1)
        return plans

    def flight(self, code: str, seats: int, first: int) -> list[CasePlan]:
        zh, en, minutes_ = self.rng.choice(ROUTES)
        dep = self.opened((7, 22), earliest=self.start + timedelta(days=1), latest=self.now + timedelta(days=1))
        delay = None
        if self.chance(0.35):
            delay = (
                dep - self.mins(20, 90),
                self.rng.randint(90, 300),
                self.rng.choice(DELAY_REASONS),
                self.chance(0.3),
            )
        plans = []
        for seat in range(seats):
            person = self.customer()
            booked = minute(max(self.start, min(dep - self.mins(180, 20 * 1440), self.now - 3 * H)))
            plan = CasePlan(
                f"DEMO-FLT-{first + seat:04d}",
                person.external_ref,
                "flight",
                self.pick({"web": 5, "api": 3, "phone": 1}),
                booked,
                price=Decimal(self.rng.choice(FARES)),
                appointment=(dep, dep + timedelta(minutes=minutes_)),
                summary=both(f"{code} {zh}", f"{code} {en}"),
            )
            plans.append(self.fly(plan, person, code, minutes_, delay))
        return plans

    def fly(self, plan: CasePlan, person: Person, code: str, minutes_: int, delay: Any) -> CasePlan:
        dep = plan.appointment[0]  # type: ignore[index]
        leave = dep + self.mins(0, 12)
        if delay is not None:
            known, late_by, (zh, en), gateway_down = delay
            leave = dep + timedelta(minutes=late_by)
            note = both(f"{code}因{zh}延误,预计{leave:%H:%M}起飞", f"{code} delayed by {en}; now leaving {leave:%H:%M}")
            plan.add(known, "delay_known", "emma.hughes", note, flight=code, reason=en, new_departure=leave.isoformat())
            slow = gateway_down and self.chance(0.7)  # the SMS gateway was down on some flights
            told = say(
                person,
                f"已发送短信和邮件:因{zh},{code}预计{leave:%H:%M}起飞。",
                f"SMS and email sent: {code} now leaves at {leave:%H:%M} because of {en}.",
            )
            sent = known + (self.mins(35, 80) if slow else self.mins(3, 25))
            plan.add(sent, "delay_notified", "emma.hughes", told, channels=["sms", "email"])
            if late_by >= 120:
                meal = say(person, "登机口发放餐食和饮料。", "Meals and drinks served at the gate.")
                plan.add(dep + self.mins(20, 60), "meal_served", "emma.hughes", meal)
        plan.add(leave, "departed", "emma.hughes", say(person, "航班已起飞。", "The flight has left."))
        landed = leave + timedelta(minutes=minutes_)
        plan.add(landed, "delivered", None, say(person, "航班已落地。", "The flight has landed."))
        plan.add(landed + self.mins(30, 1440), "closed", None)
        return plan

    # -- the online shop and the clinic -----------------------------------------------------

    def eshop(self, ref: str) -> CasePlan:
        """An order; some come back within seven days, no questions asked, and are refunded."""
        person = self.customer()
        zh, en, price = self.rng.choice(ITEMS)
        opened = self.opened()
        channel = self.pick({"web": 5, "api": 3, "chat": 1})
        plan = CasePlan(ref, person.external_ref, "eshop-order", channel, opened, price=Decimal(price))
        plan.summary = both(zh, en)
        shipped = plan.add(
            opened + self.mins(60, 1440), "shipped", "sophie.martin", say(person, "已发货。", "Shipped.")
        )
        got = plan.add(shipped + self.mins(600, 3000), "delivered", None, say(person, "已签收。", "Delivered."))
        if not self.chance(0.28):
            over = say(person, "七天退货期已过。", "The seven-day return period is over.")
            plan.add(got + timedelta(days=7) + self.mins(60, 1440), "closed", None, over)
            return plan
        ask = say(person, "申请七天无理由退货。", "Return requested under the seven-day no-reason policy.")
        asked = plan.add(got + self.mins(120, 6 * 1440), "return_requested", None, ask)
        back = plan.add(
            asked + self.mins(1440, 4320),
            "return_received",
            "sophie.martin",
            say(person, "退货已到仓。", "Return received."),
        )
        paid = back + (self.mins(60, 2400) if self.chance(0.85) else self.mins(2900, 5000))
        plan.add(paid, "refunded", "sophie.martin", say(person, f"已退款{price}元。", f"CNY {price} refunded."))
        plan.add(paid + self.mins(10, 600), "closed", "sophie.martin")
        return plan

    def clinic(self, ref: str) -> CasePlan:
        person = self.customer()
        zh, en = self.rng.choice(QUESTIONS)
        channel = self.pick({"web": 3, "chat": 3, "api": 1, "email": 1})
        plan = CasePlan(ref, person.external_ref, "clinic-consult", channel, self.opened(), summary=both(zh, en))
        reply = self.business(self.seven, plan.opened_at, 24 * H, self.chance(0.82))
        plan.add(
            reply,
            "first_response",
            "zhao.lei",
            say(person, "赵医生已回复并给出建议。", "Dr Zhao has replied with advice."),
        )
        if self.chance(0.4):
            reply = plan.add(
                reply + self.mins(10, 600),
                "customer_replied",
                None,
                say(person, "补充了检查结果。", "Test results sent."),
            )
            reply = plan.add(
                reply + self.mins(30, 600),
                "progress_update",
                "zhao.lei",
                say(person, "医生已解读检查结果。", "The doctor explained the results."),
            )
        done = plan.add(reply + self.mins(5, 240), "resolved", "zhao.lei")
        plan.add(done + self.mins(60, 2880), "closed", None)
        return plan

    # -- what is going on right now ---------------------------------------------------------

    def live(self) -> list[CasePlan]:
        """Cases anchored on `now`, so the queue always has clocks running, at risk and paused."""
        now = minute(self.now)
        return [
            *self.live_hotel(now),
            *self.live_installs(now),
            self.live_return(now),
            *self.live_flight(now),
            self.live_clinic(now),
        ]

    def live_hotel(self, now: datetime) -> list[CasePlan]:
        consultant, regular = self.by_ref["DEMO-CUST-0001"], self.by_ref["DEMO-CUST-0002"]
        day = now.date() - timedelta(days=2)
        # The consultant of the textbook story: his usual room, the pool opened for him at 06:30 …
        stay = CasePlan("DEMO-LIVE-01", consultant.external_ref, "hotel-stay", "phone", local(day, 10, 12) - 5 * 24 * H)
        stay.actor, stay.price, stay.summary = (
            "li.na",
            Decimal("2064"),
            both("常客王先生入住3晚", "Mr Wang, a regular, 3 nights"),
        )
        stay.appointment = (local(day, 14), local(day + timedelta(days=3), 12))
        stay.add(local(day, 19, 5), "arrived", "li.na", self.welcome(consultant))
        self.pool_request(stay, consultant, local(day, 19, 5), kept=True)
        # … and the missing gold-card discount he mentioned to the cleaner 24 minutes ago.
        told = self.complaint("DEMO-LIVE-02", consultant, "walk_in", now - timedelta(minutes=24))
        told.complaint = (told.complaint or {}) | {"about_ref": "DEMO-LIVE-01"}  # his stay, the one going on now
        account = "退房结账时发现没有按金卡会员价结算,差了一百多块。"
        told.add(now - timedelta(minutes=23), "recovery", "wang.fang", step="listen", account=account)
        told.add(
            now - timedelta(minutes=22), "assigned", "wang.fang", "转客户服务中心处理。", department="customer_centre"
        )
        fresh = self.complaint(
            "DEMO-LIVE-03", self.rng.choice(self.by_tier["gold"]), "phone", now - timedelta(minutes=6)
        )
        other = self.customer()
        waiting = self.complaint("DEMO-LIVE-04", other, "chat", now - 20 * H)
        sorry = say(other, "致电道歉,核实金额。", "Called to apologise and check the amount.")
        waiting.add(now - 20 * H + timedelta(minutes=14), "first_response", "chen.jing", sorry)
        waiting.add(now - 20 * H + timedelta(minutes=14), "recovery", "chen.jing", step="listen")
        waiting.add(now - 20 * H + timedelta(minutes=14), "recovery", "chen.jing", step="apologise", how="message")
        photo = say(other, "请客人提供账单照片。", "Asked the guest for a photo of the bill.")
        waiting.add(now - 19 * H, "customer_waiting", "chen.jing", photo)  # the resolve clock is paused
        guest = CasePlan(
            "DEMO-LIVE-05", regular.external_ref, "hotel-stay", "web", now - 10 * 24 * H, price=Decimal("1776")
        )
        guest.appointment, guest.summary = (now - 3 * H, now + 45 * H), both("入住2晚", "2-night stay")
        guest.add(now - 3 * H, "arrived", "li.na", self.welcome(regular))
        guest.add(now - timedelta(minutes=12), "guest_request", "li.na", "May I check out at 14:00 on my last day?")
        late = Oral("Check with housekeeping and confirm a 14:00 check-out within 30 minutes", "li.na", ["called_back"])
        late.target = timedelta(minutes=30)
        guest.promise(now - timedelta(minutes=12), late)
        return [stay, told, fresh, waiting, guest]

    def live_installs(self, now: datetime) -> list[CasePlan]:
        person, other = self.customer(), self.customer()
        start = now - timedelta(minutes=100)  # the installer has 20 minutes left to arrive
        opened = now - 2 * 24 * H
        due = CasePlan("DEMO-LIVE-06", person.external_ref, "broadband-install", "phone", opened, actor="huang.li")
        due.appointment, due.summary = (start, start + 2 * H), both("千兆宽带新装", "New gigabit broadband line")
        due.add(opened + timedelta(minutes=25), "progress_update", "huang.li", self.booked(person, start))
        tomorrow = local(now.date() + timedelta(days=1), 9)
        booked = CasePlan("DEMO-LIVE-07", other.external_ref, "broadband-install", "web", now - 3 * H)
        booked.appointment, booked.summary = (tomorrow, tomorrow + 2 * H), both("宽带移机", "Move a broadband line")
        return [due, booked]

    def live_return(self, now: datetime) -> CasePlan:
        person = self.customer()
        plan = CasePlan(
            "DEMO-LIVE-08", person.external_ref, "eshop-order", "web", now - 8 * 24 * H, price=Decimal("1899.00")
        )
        plan.summary = both("空气净化器", "Air purifier")
        plan.add(now - 8 * 24 * H + 5 * H, "shipped", "sophie.martin")
        plan.add(now - 6 * 24 * H, "delivered", None)
        plan.add(now - 5 * 24 * H, "return_requested", None, say(person, "申请七天无理由退货。", "Return requested."))
        plan.add(now - 40 * H, "return_received", "sophie.martin")  # the refund is due in 8 hours
        return plan

    def live_flight(self, now: datetime) -> list[CasePlan]:
        """ES5199 has just been delayed: half the passengers are told, the rest must be within minutes."""
        dep, known = now + timedelta(minutes=40), now - timedelta(minutes=22)
        leave = dep + timedelta(minutes=150)
        plans = []
        for seat in range(4):
            person = self.customer()
            plan = CasePlan(
                f"DEMO-LIVE-{9 + seat:02d}", person.external_ref, "flight", "web", now - (seat + 2) * 24 * H
            )
            plan.price, plan.appointment = Decimal("1280"), (dep, dep + timedelta(minutes=200))
            plan.summary = both("ES5199 上海虹桥—成都天府", "ES5199 Shanghai Hongqiao–Chengdu Tianfu")
            note = both(
                f"ES5199因航路雷雨天气延误,预计{leave:%H:%M}起飞", f"ES5199 delayed by storms; now {leave:%H:%M}"
            )
            plan.add(known, "delay_known", "emma.hughes", note, flight="ES5199", new_departure=leave.isoformat())
            if seat < 2:
                told = say(person, "已发送短信和邮件。", "SMS and email sent.")
                plan.add(now - timedelta(minutes=15), "delay_notified", "emma.hughes", told, channels=["sms", "email"])
            plans.append(plan)
        return plans

    def live_clinic(self, now: datetime) -> CasePlan:
        person = self.customer()
        zh, en = QUESTIONS[0]
        return CasePlan(
            "DEMO-LIVE-13",
            person.external_ref,
            "clinic-consult",
            "chat",
            now - timedelta(minutes=40),
            summary=both(zh, en),
        )

    # -- the whole history -------------------------------------------------------------------

    def history(self, count: int) -> list[CasePlan]:
        makers = {
            "broadband-install": self.installation,
            "hotel-stay": self.hotel_stay,
            "hotel-complaint": self.hotel_complaint,
            "coach-sh-nt": self.coach,
            "eshop-order": self.eshop,
            "clinic-consult": self.clinic,
        }
        plans: list[CasePlan] = []
        for service, quota in share(count, WEIGHTS).items():
            if service == "flight":
                plans += self.flights(quota)
            else:
                plans += [makers[service](f"DEMO-{PREFIX[service]}-{i:04d}") for i in range(1, quota + 1)]
        return plans


def share(count: int, weights: dict[str, int]) -> dict[str, int]:
    """Split count in proportion to weights (largest remainders), in the weights' order."""
    total = sum(weights.values())
    exact = {key: count * w / total for key, w in weights.items()}
    out = {key: int(value) for key, value in exact.items()}
    for key in sorted(exact, key=lambda k: out[k] - exact[k])[: count - sum(out.values())]:
        out[key] += 1
    return out


def settle(plan: CasePlan, now: datetime) -> CasePlan:
    """Order the steps in time and drop what has not happened yet."""
    plan.steps = [step for step in sorted(plan.steps, key=lambda s: s.at) if step.at <= now]
    return plan


def build(
    now: datetime, clocks: dict[str, BusinessClock], people: list[Person], total: int = DEFAULT_CASES, seed: int = SEED
) -> list[CasePlan]:
    """Exactly `total` case plans: the live scenes first, then the history, ordered by opening time."""
    from .work import add_work

    story = Story(now, clocks, people, seed)
    plans = story.live()[:total]
    plans += story.history(total - len(plans))
    add_work(plans, story.by_ref)
    return sorted((settle(plan, now) for plan in plans), key=lambda p: (p.opened_at, p.external_ref))
