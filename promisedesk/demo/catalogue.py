"""What the demo organisation is made of: staff, calendars, services and promises.

The businesses are the cases in the source texts: a broadband installer, a hotel
that remembers its guests, the Shanghai–Nantong coach line, an airline, an online
shop and a clinic answering online consultations. Plain data only; the loader turns
it into rows through the actions.
"""

from __future__ import annotations

from typing import Any

TIMEZONE = "Asia/Shanghai"

# username, first name, last name, email, what they do
STAFF: list[tuple[str, str, str, str, str]] = [
    ("zhou.min", "敏", "周", "zhou.min@example.cn", "service quality manager, publishes the promises"),
    ("huang.li", "丽", "黄", "huang.li@example.cn", "broadband customer service"),
    ("zhang.wei", "伟", "张", "zhang.wei@example.cn", "broadband installer (装维人员)"),
    ("li.na", "娜", "李", "li.na@example.cn", "hotel front desk"),
    ("wang.fang", "芳", "王", "wang.fang@example.cn", "hotel housekeeping"),
    ("chen.jing", "静", "陈", "chen.jing@example.cn", "hotel customer centre supervisor"),
    ("liu.yang", "洋", "刘", "liu.yang@example.cn", "coach dispatcher, Shanghai–Nantong line"),
    ("emma.hughes", "Emma", "Hughes", "emma.hughes@example.com", "airline duty manager"),
    ("sophie.martin", "Sophie", "Martin", "sophie.martin@example.com", "online shop after-sales"),
    ("zhao.lei", "磊", "赵", "zhao.lei@example.cn", "doctor, online consultations"),
]

OFFICE = "Shanghai office hours · 上海办公时间"
SEVEN_DAY = "Seven-day service hours · 每日服务时间"
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")

CALENDARS: list[dict[str, Any]] = [
    {
        "name": OFFICE,
        "timezone": TIMEZONE,
        "weekly_hours": {day: [["09:00", "12:00"], ["13:00", "18:00"]] for day in WEEKDAYS[:5]},
        "region": "CN",  # statutory holidays and 调休 make-up workdays
    },
    {
        # A hotel and a clinic's online desk work every day; public holidays do not close them.
        "name": SEVEN_DAY,
        "timezone": TIMEZONE,
        "weekly_hours": {day: [["08:00", "22:00"]] for day in WEEKDAYS},
        "region": None,
    },
]

# code, name, list price in CNY (None: the price is set case by case)
SERVICES: list[tuple[str, str, str | None]] = [
    ("broadband-install", "Broadband installation · 宽带上门安装", "199.00"),
    ("hotel-stay", "Hotel stay · 酒店住宿", "688.00"),
    ("hotel-complaint", "Hotel guest complaint · 酒店宾客投诉", None),
    ("coach-sh-nt", "Shanghai–Nantong coach · 上海—南通班车", "78.00"),
    ("flight", "Scheduled flight · 航班", "1280.00"),
    ("eshop-order", "Online shop order · 网上商城订单", None),
    ("clinic-consult", "Online medical consultation · 在线问诊", "30.00"),
]


def _applies(services: list[str], tiers: list[str] | None = None) -> dict[str, list[str]]:
    return {"services": services, "channels": [], "customer_tiers": tiers or [], "priorities": []}


def _liability(kind: str, *, verified: bool = False, automatic: bool = False, **basis: str) -> dict[str, Any]:
    return {"kind": kind, "currency": "CNY", "verification_required": verified, "automatic": automatic, **basis}


# 一经查实,按核定票价的两倍赔偿: paid once a violation is verified, twice the fare.
TWICE_THE_FARE = _liability("cash", verified=True, multiple_of_price="2")
COACH = ["coach-sh-nt"]
REPORTED = {"breach_by": "verified_report"}


def _promise(
    code: str, title: str, zh: str, en: str, kind: str, coverage: str, form: str, applies: Any, standard: Any, li: Any
) -> dict[str, Any]:
    return {
        "code": code,
        "title": title,
        "statement": {"zh-Hans": zh, "en": en},
        "kind": kind,
        "coverage": coverage,
        "form": form,
        "applies_to": applies,
        "standard": standard,
        "liability": li,
    }


PROMISES: list[dict[str, Any]] = [
    # The broadband installer: arrive in the window, keep the customer informed, follow up.
    _promise(
        "install-arrive-in-window",
        "Arrive within the booked window · 在预约时段内上门",
        "装维人员在您预约的两小时时段内上门;如果迟到,系统自动向您的账户发放50元话费券。",
        "Our installer arrives inside the two-hour window you booked. If we are late, a CNY 50 voucher "
        "is credited to your account automatically.",
        "time",
        "full",
        "written",
        _applies(["broadband-install"]),
        {"start_on": "appointment_start", "stop_on": ["arrived"], "target": "PT2H", "warn_at": "PT30M"},
        _liability("voucher", automatic=True, amount="50"),
    ),
    _promise(
        "install-progress-updates",
        "Confirm the booking within 4 working hours · 4个工作小时内确认预约",
        "受理后4个工作小时内,我们向您确认预约并告知上门人员;此后每一步进展都会及时告诉您。",
        "Within 4 working hours of your request we confirm the appointment and tell you who is coming; "
        "after that we tell you about every step as it happens.",
        "time",
        "limited",
        "written",
        _applies(["broadband-install"]),
        {"stop_on": ["progress_update"], "target": "PT4H", "calendar": OFFICE, "warn_at": "75%"},
        _liability("apology"),
    ),
    _promise(
        "install-speed",
        "At least 90% of the speed you pay for · 实测网速不低于签约带宽的90%",
        "安装完成后实测网速不低于签约带宽的90%;达不到的,我们免费再次上门,并减免50%安装费。",
        "Once installed, your line measures at least 90% of the speed you signed up for. If it does not, "
        "we come back free of charge and take 50% off the installation fee.",
        "quality",
        "limited",
        "written",
        _applies(["broadband-install"]),
        {"start_on": "delivered", "breach_by": "inspection"},
        _liability("discount", verified=True, percent_of_price="50"),
    ),
    _promise(
        "install-follow-up",
        "Follow-up call within 2 working days · 完工后2个工作日内回访",
        "安装完成后两个工作日内,我们给您回访电话,确认网络使用正常、您对服务满意。",
        "Within two working days of finishing the job we call you to check that everything works "
        "and that you are happy with it.",
        "after_sales",
        "limited",
        "written",
        _applies(["broadband-install"]),
        {
            "start_on": "delivered",
            "stop_on": ["follow_up_call"],
            "target": "PT16H",
            "calendar": OFFICE,
            "warn_at": "PT4H",
        },
        _liability("voucher", automatic=True, amount="20"),
    ),
    # The hotel that knows its guests.
    _promise(
        "hotel-satisfaction",
        "100% satisfaction or your money back · 100%满意,否则全额退款",
        "100%满意保证:如果您对本次入住不满意,请告诉我们,我们全额退还房费。",
        "100% satisfaction: if you are not happy with your stay, tell us and we refund the room rate in full.",
        "effect",
        "full",
        "written",
        _applies(["hotel-stay"]),
        {"breach_by": "survey"},
        _liability("refund", percent_of_price="100"),
    ),
    _promise(
        "hotel-knows-you",
        "Your room the way you like it · 按您的习惯备好房间",
        "我们记得您的住宿习惯——枕头、楼层、安静的房间——在您到店之前就为您准备好。",
        "We remember how you like your room — the pillow, the floor, the quiet side — and have it ready "
        "before you arrive.",
        "personalised",
        "limited",
        "written",
        _applies(["hotel-stay"], ["gold", "silver"]),
        REPORTED,
        _liability("gift", verified=True, amount="88"),
    ),
    _promise(
        "hotel-request-answer",
        "An answer to any request within 30 minutes · 30分钟内答复您的请求",
        "您向前台提出的任何当场无法办到的请求,我们都会在30分钟内回电,告诉您能否办到、何时办好。",
        "Ask the front desk for anything we cannot do on the spot and we call you back within 30 minutes "
        "to say whether and when it will be done.",
        "time",
        "limited",
        "oral",  # said at the desk, not printed anywhere
        _applies(["hotel-stay"]),
        {"start_on": "guest_request", "stop_on": ["called_back"], "target": "PT30M", "warn_at": "PT10M"},
        _liability("apology"),
    ),
    _promise(
        "hotel-gold-callback",
        "Gold card: call-back within 30 minutes · 金卡会员30分钟内回电",
        "金卡会员向任何一位员工反映问题,客户服务中心都会在30分钟内给您回电;没有做到的,争议金额全额退还。",
        "Gold-card members: tell any member of our staff about a problem and the customer centre calls you "
        "back within 30 minutes. If we do not, the amount in dispute is refunded in full.",
        "time",
        "full",
        "written",
        # A complaint (or a mailed one, before anyone logs it as a complaint) from a gold-card guest.
        _applies(["hotel-complaint"], ["gold"]) | {"case_kinds": ["service", "complaint"]},
        {"stop_on": ["first_response"], "target": "PT30M", "warn_at": "PT10M"},
        _liability("refund", automatic=True, percent_of_price="100"),
    ),
    _promise(
        "hotel-complaint-resolve",
        "Every complaint resolved within 48 hours · 投诉48小时内处理完毕",
        "每一件投诉都在48小时内处理完毕,并告诉您处理结果;等待您提供材料的时间不计在内。",
        "Every complaint is resolved within 48 hours and we tell you the outcome; time spent waiting for "
        "you to send us something does not count.",
        "time",
        "limited",
        "written",
        _applies(["hotel-complaint"]),
        {
            "stop_on": ["resolved"],
            "pause_on": ["customer_waiting"],
            "resume_on": ["customer_replied"],
            "target": "PT48H",
            "warn_at": "75%",
        },
        _liability("voucher", amount="100"),
    ),
    # Service recovery: every complaint, whatever it is about, is acknowledged and resolved in time.
    _promise(
        "complaint-acknowledge",
        "Complaint acknowledged within 1 working hour · 投诉1个工作小时内受理",
        "您的每一件投诉,我们都在1个工作小时内受理:听您讲清经过,并告诉您由谁负责处理。",
        "We acknowledge every complaint within 1 working hour: we listen to what happened and tell you "
        "who is taking care of it.",
        "time",
        "full",
        "written",
        _applies([]) | {"case_kinds": ["complaint"]},
        {"stop_on": ["complaint_acknowledged"], "target": "PT1H", "calendar": SEVEN_DAY, "warn_at": "PT15M"},
        _liability("apology"),
    ),
    _promise(
        "complaint-resolve",
        "Complaint resolved within 2 working days · 投诉2个工作日内处理完毕",
        "每一件投诉都在2个工作日内处理完毕,并告诉您处理结果;等待您提供材料的时间不计在内。没有做到的,赠送50元代金券。",
        "Every complaint is resolved within 2 working days and we tell you the outcome; time spent waiting "
        "for you to send us something does not count. If we are late, you receive a CNY 50 voucher.",
        "time",
        "limited",
        "written",
        _applies([]) | {"case_kinds": ["complaint"]},
        {
            "stop_on": ["resolved"],
            "pause_on": ["customer_waiting"],
            "resume_on": ["customer_replied"],
            "target": "PT28H",  # two working days of the seven-day service hours (08:00–22:00)
            "calendar": SEVEN_DAY,
            "warn_at": "75%",
        },
        _liability("voucher", amount="50"),
    ),
    # The five promises of the 47 coach companies on the Shanghai–Nantong line.
    _promise(
        "coach-on-time",
        "Depart on time, no touting · 正点发车,不兜圈揽客",
        "正点发车(最迟不超过时刻表10分钟),不兜圈揽客。违反承诺的,一经查实,按核定票价的两倍赔偿。",
        "The coach leaves at the timetabled time, at most 10 minutes late, and never circles around touting "
        "for passengers. Any verified violation pays you twice the fare.",
        "time",
        "full",
        "written",
        _applies(COACH),
        {"start_on": "appointment_start", "stop_on": ["departed"], "target": "PT10M", "warn_at": "50%"},
        TWICE_THE_FARE,
    ),
    _promise(
        "coach-terminus",
        "Terminus shown, route never cut short · 明示终点,不擅自缩线",
        "明示终点,不擅自缩线,把您送到终点站。违反承诺的,一经查实,按核定票价的两倍赔偿。",
        "The terminus is shown on the coach and we take you all the way there; the route is never cut short. "
        "Any verified violation pays you twice the fare.",
        "behaviour",
        "full",
        "written",
        _applies(COACH),
        REPORTED,
        TWICE_THE_FARE,
    ),
    _promise(
        "coach-stations",
        "Passengers board in stations only · 进站上客,不随意停靠",
        "只在车站内上客,途中不随意停车。违反承诺的,一经查实,按核定票价的两倍赔偿。",
        "Passengers board inside stations only and the coach does not stop wherever it likes on the way. "
        "Any verified violation pays you twice the fare.",
        "method",
        "full",
        "written",
        _applies(COACH),
        REPORTED,
        TWICE_THE_FARE,
    ),
    _promise(
        "coach-fair-fare",
        "Honest fares, no overcharging · 诚实守信,不抬价欺客",
        "诚实守信,只收核定票价,不抬价欺客。违反承诺的,一经查实,按核定票价的两倍赔偿。",
        "You pay the approved fare and not a yuan more. Any verified violation pays you twice the fare.",
        "behaviour",
        "full",
        "written",
        _applies(COACH),
        REPORTED,
        TWICE_THE_FARE,
    ),
    _promise(
        "coach-courtesy",
        "Courteous crew · 礼貌热情,不粗暴待客",
        "司乘人员礼貌热情,不粗暴待客。违反承诺的,一经查实,按核定票价的两倍赔偿。",
        "Drivers and conductors are polite and helpful, never rough with passengers. Any verified violation "
        "pays you twice the fare.",
        "behaviour",
        "full",
        "written",
        _applies(COACH),
        REPORTED,
        TWICE_THE_FARE,
    ),
    # The airline that learnt from a delay.
    _promise(
        "flight-delay-notice",
        "Delay notice within 30 minutes · 延误30分钟内通知",
        "航班一旦延误,我们在获知后30分钟内通过短信和邮件告诉您延误原因和新的起飞时间;没有做到的,赠送200元代金券。",
        "If your flight is delayed we tell you by SMS and email within 30 minutes of knowing it, with the "
        "reason and the new departure time. If we do not, you receive a CNY 200 voucher.",
        "time",
        "full",
        "written",
        _applies(["flight"]),
        {"start_on": "delay_known", "stop_on": ["delay_notified"], "target": "PT30M", "warn_at": "PT10M"},
        _liability("voucher", automatic=True, amount="200"),
    ),
    _promise(
        "flight-delay-care",
        "Meals and care during long delays · 长时间延误提供餐食",
        "延误超过两小时,我们在登机口为您提供餐食和饮料,并协助安排后续行程;没有做到的,经核实赠送100元代金券。",
        "When a delay passes two hours we serve meals and drinks at the gate and help with onward travel. "
        "If we do not, you receive a CNY 100 voucher once we have checked.",
        "behaviour",
        "limited",
        "written",
        _applies(["flight"]),
        {"start_on": "delay_known", "breach_by": "verified_report"},
        _liability("voucher", verified=True, amount="100"),
    ),
    # The online shop.
    _promise(
        "eshop-7day-returns",
        "Seven-day no-reason returns · 七天无理由退货",
        "签收之日起七天内,商品可无理由退货,全额退款。",
        "Send anything back within seven days of delivery, no reason needed, and get the full price back.",
        "after_sales",
        "full",
        "written",
        _applies(["eshop-order"]),
        {"start_on": "delivered", "breach_by": "claim"},
        _liability("refund", percent_of_price="100"),
    ),
    _promise(
        "eshop-refund-48h",
        "Refund within 48 hours of the return arriving · 退货到仓48小时内退款",
        "退货到达仓库后48小时内,退款原路退回;超时的,赠送20元优惠券。",
        "Once your return reaches our warehouse the refund is on its way within 48 hours; if it is not, "
        "you receive a CNY 20 coupon.",
        "time",
        "limited",
        "written",
        _applies(["eshop-order"]),
        {"start_on": "return_received", "stop_on": ["refunded"], "target": "PT48H", "warn_at": "75%"},
        _liability("voucher", automatic=True, amount="20"),
    ),
    # The clinic.
    _promise(
        "clinic-reply-24h",
        "A doctor replies within 24 service hours · 24个服务小时内医生回复",
        "在线咨询由医生在24个服务小时内(每日8:00—22:00计时)回复;没有做到的,退还咨询费。",
        "A doctor answers your online consultation within 24 service hours (counted 08:00–22:00 every day); "
        "if not, the consultation fee is refunded.",
        "time",
        "full",
        "written",
        _applies(["clinic-consult"]),
        {"stop_on": ["first_response"], "target": "PT24H", "calendar": SEVEN_DAY, "warn_at": "80%"},
        _liability("refund", automatic=True, percent_of_price="100"),
    ),
]

# What complaints are about: code, English, Chinese (managers keep the list in the admin).
COMPLAINT_CATEGORIES: list[tuple[str, str, str]] = [
    ("billing", "Billing and charges", "账单与收费"),
    ("staff_attitude", "Staff attitude", "服务态度"),
    ("cleanliness", "Cleanliness", "清洁卫生"),
    ("facilities", "Facilities and equipment", "设施设备"),
    ("delay", "Delays and waiting", "延误与等待"),
    ("broken_promise", "A promise not kept", "承诺未兑现"),
]

# The oral promises the front desk makes when a guest asks for the pool to open early.
POOL_CALLBACK = {
    "zh-Hans": "帮客人协调泳池提前开放,并在30分钟内回电答复",
    "en": "Arrange for the pool to open early and call the guest back within 30 minutes",
}
POOL_OPEN = {
    "zh-Hans": "明早6:30单独为客人开放泳池",
    "en": "Open the pool for the guest alone at 06:30 tomorrow",
}
