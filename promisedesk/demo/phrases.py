"""The words on the demo timelines, in Chinese and English."""

from __future__ import annotations

PILLOW = {
    "buckwheat": ("荞麦枕", "buckwheat pillow"),
    "memory_foam": ("记忆棉枕", "memory-foam pillow"),
    "down": ("羽绒枕", "down pillow"),
    "firm": ("硬枕", "firm pillow"),
    "low": ("低枕", "low pillow"),
}
FLOOR = {"high": ("高楼层", "high floor"), "low": ("低楼层", "low floor"), "middle": ("中间楼层", "middle floor")}

# What guests ask the front desk for (besides the pool).
REQUESTS = [
    ("想要一个荞麦枕。", "Could I have a buckwheat pillow?"),
    ("希望延迟到下午2点退房。", "May I check out at 14:00?"),
    ("明早6点需要一辆去虹桥机场的车。", "I need a car to Hongqiao airport at 06:00 tomorrow."),
    ("空调声音太大,想换一间安静的房间。", "The air conditioning is noisy; could I move to a quieter room?"),
]

# Billing complaints, with the amounts in dispute (CNY).
COMPLAINTS = [
    ("结账时没有享受金卡折扣", "The gold-card discount was missing from the bill", ["68", "96", "128", "188", "256"]),
    ("迷你吧饮料被重复收费", "Minibar drinks were charged twice", ["36", "48", "72"]),
    ("房价已含早餐却另外收了早餐费", "Breakfast was charged although the rate included it", ["98", "196"]),
    ("洗衣费与价目表不符", "The laundry charge did not match the price list", ["40", "65", "120"]),
]

# Complaints from coach passengers, by the promise they say was broken.
COACH_COMPLAINTS = [
    ("coach-fair-fare", "售票员在车上每人加收10元。", "The conductor charged every passenger CNY 10 extra on board."),
    ("coach-courtesy", "司机对询问行李的乘客态度粗暴。", "The driver was rude to a passenger asking about luggage."),
    ("coach-stations", "班车在高速出口停车上客。", "The coach stopped at a motorway exit to pick up passengers."),
    (
        "coach-terminus",
        "班车只开到南通市区,没有到终点站。",
        "The coach stopped in town and never reached the terminus.",
    ),
]
LATE_DEPARTURES = [
    ("在站外兜圈揽客,晚点发车。", "Circled outside the station touting for passengers and left late."),
    ("车站出口拥堵,晚点发车。", "Held up by congestion at the station exit."),
]

ROUTES = [
    ("上海虹桥—成都天府", "Shanghai Hongqiao–Chengdu Tianfu", 200),
    ("上海浦东—北京首都", "Shanghai Pudong–Beijing Capital", 135),
    ("上海虹桥—深圳宝安", "Shanghai Hongqiao–Shenzhen Bao'an", 150),
    ("上海浦东—昆明长水", "Shanghai Pudong–Kunming Changshui", 215),
]
FARES = ["890", "1080", "1280", "1560"]
DELAY_REASONS = [
    ("航路雷雨天气", "thunderstorms on the route"),
    ("前序航班晚到", "the incoming aircraft arrived late"),
    ("空中交通流量控制", "air-traffic flow control"),
]

ITEMS = [
    ("无线降噪耳机", "Noise-cancelling headphones", "899.00"),
    ("羊毛围巾", "Wool scarf", "259.00"),
    ("电饭煲", "Rice cooker", "499.00"),
    ("跑步鞋", "Running shoes", "629.00"),
    ("儿童绘本套装", "Picture-book set for children", "128.00"),
    ("机械键盘", "Mechanical keyboard", "399.00"),
    ("空气净化器", "Air purifier", "1899.00"),
    ("保温杯", "Vacuum flask", "89.00"),
]

QUESTIONS = [
    ("孩子发烧38.5度,需要马上去医院吗?", "My child has a 38.5 °C fever; should we go to hospital now?"),
    ("体检报告里转氨酶偏高是什么意思?", "What does a raised ALT in my check-up report mean?"),
    ("降压药可以和感冒药一起吃吗?", "Can I take my blood-pressure tablets with cold medicine?"),
    ("跑步后膝盖疼了一个星期。", "My knee has hurt for a week since I went running."),
]

# What the customer centre finds when it looks into a billing complaint.
FOLIO = (
    "核对了账单和入住记录:多收的金额属实,前台结账时没有按会员等级计价。",
    "Checked the folio against the stay: the overcharge is real; the front desk billed without the member rate.",
)
