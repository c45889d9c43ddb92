"""The desk in Chinese: the language cookie, Accept-Language and the switch all work."""

from __future__ import annotations

import gettext
import re
from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client

pytestmark = pytest.mark.django_db
PO = Path(settings.BASE_DIR) / "promisedesk" / "locale" / "zh_Hans" / "LC_MESSAGES" / "django.po"
# Apps with a locale/ folder of their own (see `make messages`) keep their messages there.
APP_POS = sorted((Path(settings.BASE_DIR) / "promisedesk").glob("*/locale/zh_Hans/LC_MESSAGES/django.po"))


def test_queue_renders_in_chinese_with_accept_language(desk: Client, world, clock) -> None:
    world.case()
    page = desk.get("/desk/", HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert '<html lang="zh-hans">' in page
    for text in ("待办队列", "进行中", "临近超时", "近期违诺", "计时中", "客户", "退出登录"):
        assert text in page, text


def test_queue_renders_in_chinese_with_the_language_cookie(desk: Client, world, clock) -> None:
    world.case()
    desk.cookies[settings.LANGUAGE_COOKIE_NAME] = "zh-hans"
    page = desk.get("/desk/").content.decode()
    assert "待办队列" in page and "Queue" not in page.split("<main", 1)[1]


def test_language_switch_sets_the_cookie_and_returns(desk: Client, world, clock) -> None:
    response = desk.post("/i18n/setlang/", {"language": "zh-hans", "next": "/desk/promises/"})
    assert response.status_code == 302 and response["Location"] == "/desk/promises/"
    assert response.cookies[settings.LANGUAGE_COOKIE_NAME].value == "zh-hans"
    page = desk.get("/desk/promises/").content.decode()
    assert "承诺目录" in page
    assert "4个工作小时内答复。" in page  # the statement in the reader's language
    assert "代金券 · 20.00 CNY · 自动赔付" in page
    assert "4 小时" in page


def test_case_page_in_chinese(desk: Client, world, clock) -> None:
    case = world.case()
    page = desk.get(f"/desk/cases/{case['id']}/", HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    expected = ["服务单 #", "本服务单的承诺", "时间线", "服务单已创建"]
    expected += ["记录口头承诺", "需求识别", "第 1 版", "API 接口"]
    expected += ["内部备注", "给客户的进展", "登记来电或到访", "变更阶段", "分派", "其他服务单"]
    for text in expected:
        assert text in page, text


def test_domain_errors_are_translated(desk: Client, world, clock) -> None:
    case = world.case()
    response = desk.post(
        f"/desk/cases/{case['id']}/events/",
        {"custom_type": "Bad Type"},
        headers={"HX-Request": "true"},
        HTTP_ACCEPT_LANGUAGE="zh-hans",
    )
    assert response.status_code == 422
    assert "事件类型须为小写下划线格式" in response.content.decode()


def test_login_page_in_chinese(client: Client) -> None:
    page = client.get("/accounts/login/", HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert "登录工作台" in page and "用户名" in page


@pytest.mark.parametrize("po", [PO, *APP_POS], ids=lambda p: p.parts[-5])
def test_every_message_has_a_chinese_translation(po: Path) -> None:
    text = po.read_text(encoding="utf-8")
    entries = re.findall(r'msgid "(.*)"\n(?:msgid_plural ".*"\n)?msgstr(?:\[0\])? "(.*)"', text)
    untranslated = [msgid for msgid, msgstr in entries if msgid and not msgstr]
    assert entries and not untranslated
    assert "#, fuzzy" not in text
    with po.with_suffix(".mo").open("rb") as mo:
        compiled = gettext.GNUTranslations(mo)
    stale = [msgid for msgid, msgstr in entries if msgid and "\\" not in msgid and compiled.gettext(msgid) != msgstr]
    assert not stale, "django.mo is older than django.po: run `promisedesk compilemessages --ignore='.venv/*'`"
