"""The demo customers: tiers, languages and the habits a good hotel remembers."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Any

SURNAMES = [
    ("王", "wang"),
    ("李", "li"),
    ("张", "zhang"),
    ("刘", "liu"),
    ("陈", "chen"),
    ("杨", "yang"),
    ("赵", "zhao"),
    ("黄", "huang"),
    ("周", "zhou"),
    ("吴", "wu"),
    ("徐", "xu"),
    ("孙", "sun"),
    ("朱", "zhu"),
    ("马", "ma"),
    ("胡", "hu"),
    ("郭", "guo"),
    ("林", "lin"),
    ("何", "he"),
    ("高", "gao"),
    ("罗", "luo"),
]
GIVEN = [
    ("晓明", "xiaoming"),
    ("丽华", "lihua"),
    ("建国", "jianguo"),
    ("秀英", "xiuying"),
    ("志强", "zhiqiang"),
    ("海燕", "haiyan"),
    ("俊杰", "junjie"),
    ("雪梅", "xuemei"),
    ("子涵", "zihan"),
    ("浩然", "haoran"),
    ("欣怡", "xinyi"),
    ("宇航", "yuhang"),
    ("思远", "siyuan"),
    ("佳琪", "jiaqi"),
    ("文博", "wenbo"),
    ("嘉怡", "jiayi"),
]
ENGLISH_FIRST = ["Oliver", "Amelia", "James", "Charlotte", "Lucas", "Mia", "Daniel", "Grace", "Noah", "Chloe"]
ENGLISH_LAST = ["Bennett", "Walker", "Clarke", "Evans", "Turner", "Hughes", "Parker", "Wright", "Mitchell", "Reid"]

PILLOWS = ["buckwheat", "memory_foam", "down", "firm", "low"]
FLOORS = ["high", "low", "middle"]


@dataclass
class Person:
    """A customer to be created (or found) by external_ref."""

    external_ref: str
    name: str
    email: str
    phone: str
    tier: str
    locale: str
    preferences: dict[str, Any] = field(default_factory=dict)
    timezone: str = ""

    def fields(self) -> dict[str, Any]:
        return {
            "external_ref": self.external_ref,
            "name": self.name,
            "email": self.email,
            "phone": self.phone,
            "tier": self.tier,
            "locale": self.locale,
            "preferences": self.preferences,
            "timezone": self.timezone,
        }


# The consultant from the hotel story, who swims every morning, and a regular from abroad.
NAMED = [
    Person(
        "DEMO-CUST-0001",
        "王建国",
        "wang.jianguo@example.cn",
        "13800000001",
        "gold",
        "zh-Hans",
        {"pillow": "buckwheat", "room_floor": "high", "quiet_room": True, "morning_swim": "06:30"},
    ),
    Person(
        "DEMO-CUST-0002",
        "Oliver Bennett",
        "oliver.bennett@example.com",
        "+44 7700 900123",
        "gold",
        "en",
        {"pillow": "down", "room_floor": "low", "newspaper": "China Daily", "late_checkout": True},
        timezone="Europe/London",
    ),
]


def _preferences(rng: random.Random) -> dict[str, Any]:
    prefs: dict[str, Any] = {"pillow": rng.choice(PILLOWS), "room_floor": rng.choice(FLOORS)}
    if rng.random() < 0.4:
        prefs["quiet_room"] = True
    if rng.random() < 0.2:
        prefs["morning_swim"] = rng.choice(["06:00", "06:30", "07:00"])
    if rng.random() < 0.15:
        prefs["diet"] = rng.choice(["vegetarian", "no_spicy", "halal"])
    return prefs


def _tier(rng: random.Random) -> str:
    roll = rng.random()
    return "gold" if roll < 0.22 else "silver" if roll < 0.5 else "standard"


def customers(rng: random.Random, count: int = 140) -> list[Person]:
    """The named customers followed by count - 2 generated ones, the same every time."""
    people = list(NAMED)
    for number in range(len(NAMED) + 1, count + 1):
        tier = _tier(rng)
        if rng.random() < 0.2:
            first, last = rng.choice(ENGLISH_FIRST), rng.choice(ENGLISH_LAST)
            name, email, locale = f"{first} {last}", f"{first}.{last}{number}@example.com".lower(), "en"
        else:
            (sur, sur_py), (given, given_py) = rng.choice(SURNAMES), rng.choice(GIVEN)
            name, email, locale = sur + given, f"{sur_py}.{given_py}{number}@example.cn", "zh-Hans"
        prefs = _preferences(rng) if tier != "standard" or rng.random() < 0.3 else {}
        phone = f"139{number:08d}"
        people.append(Person(f"DEMO-CUST-{number:04d}", name, email, phone, tier, locale, prefs))
    return people
