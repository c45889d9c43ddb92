"""Working a case on the desk: stage, assignment, notes and updates with files, appointment, the
customer's profile; logging a call or a walk-in from any page; naming stages; whose queue."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from promisedesk.accounts.actions import do_create_department
from promisedesk.cases.actions import do_set_stage_label
from promisedesk.cases.models import Attachment, Case, CaseEvent, Customer, StageLabel

pytestmark = pytest.mark.django_db
HTMX = {"HX-Request": "true"}


@pytest.fixture
def centre(staff, clock) -> Any:
    """The customer centre: chen.jing leads it and agent is a member; li.na works elsewhere."""
    users = get_user_model().objects
    users.create_user("chen.jing", is_staff=True)
    users.create_user("li.na", is_staff=True)
    return do_create_department(
        actor=None, now=clock.now, code="customer_centre", name="Customer centre", lead="chen.jing", members=["agent"]
    )


def _page(desk: Client, case_id: int) -> str:
    return desk.get(f"/desk/cases/{case_id}/").content.decode()


# -- stage --------------------------------------------------------------------------------------------


def test_stage_form_moves_the_case_and_shows_the_organisations_names(desk: Client, world, clock) -> None:
    do_set_stage_label(
        actor=None,
        now=clock.now,
        stage="delivery",
        label_en="Installation",
        substatuses=[{"code": "waiting_parts", "label_en": "Waiting for parts"}],
    )
    case = world.case()
    page = _page(desk, case["id"])
    assert '<option value="delivery:waiting_parts">Installation · Waiting for parts</option>' in page
    response = desk.post(f"/desk/cases/{case['id']}/stage/", {"move_to": "delivery:waiting_parts"}, headers=HTMX)
    assert response.status_code == 200
    body = response.content.decode()
    assert body.lstrip().startswith('<form id="stage-form"')
    assert 'id="case-stage"' in body and "Installation · Waiting for parts</span>" in body
    found = Case.objects.get(pk=case["id"])
    assert (found.stage, found.substatus) == ("delivery", "waiting_parts")
    assert 'data-type="stage_changed"' in body and "to stage" in body


def test_stage_form_refuses_an_unknown_substatus_inline(desk: Client, world, clock) -> None:
    case = world.case()
    response = desk.post(f"/desk/cases/{case['id']}/stage/", {"move_to": "delivery:nope"}, headers=HTMX)
    assert response.status_code == 422
    assert "That sub-status does not belong to the stage." in response.content.decode()
    assert Case.objects.get(pk=case["id"]).stage == "need_identification"


# -- assignment ---------------------------------------------------------------------------------------


def test_assign_form_assigns_and_says_so_in_the_head(desk: Client, world, clock, centre) -> None:
    case = world.case()
    page = _page(desk, case["id"])
    assert '<optgroup label="Customer centre">' in page and "chen.jing · lead" in page
    response = desk.post(
        f"/desk/cases/{case['id']}/assign/",
        {"department": "customer_centre", "assignee": "agent", "note": "billing question"},
        headers=HTMX,
    )
    assert response.status_code == 200
    body = response.content.decode()
    assert 'id="case-assignment"' in body and '<span class="tag dept">Customer centre</span>' in body
    event = CaseEvent.objects.get(case_id=case["id"], type="assigned")
    assert event.data["department"] == "customer_centre" and event.actor is not None and event.actor.username == "agent"
    assert "Customer centre" in body  # the timeline names the department


def test_assign_form_refuses_someone_outside_the_department(desk: Client, world, clock, centre) -> None:
    case = world.case()
    response = desk.post(
        f"/desk/cases/{case['id']}/assign/", {"department": "customer_centre", "assignee": "li.na"}, headers=HTMX
    )
    assert response.status_code == 422
    assert "That person is not a member of the department." in response.content.decode()
    assert Case.objects.get(pk=case["id"]).department is None


# -- notes and updates ------------------------------------------------------------------------------------


def test_internal_note_and_customer_update_look_different(desk: Client, world, clock) -> None:
    case = world.case()
    desk.post(f"/desk/cases/{case['id']}/notes/", {"audience": "internal", "text": "He sounded upset"}, headers=HTMX)
    clock.advance(minutes=1)
    response = desk.post(
        f"/desk/cases/{case['id']}/notes/", {"audience": "customer", "text": "The part is on its way"}, headers=HTMX
    )
    assert response.status_code == 200
    body = response.content.decode()
    note = CaseEvent.objects.get(case_id=case["id"], type="internal_note")
    update = CaseEvent.objects.get(case_id=case["id"], type="progress_update")
    assert not note.visible_to_customer and update.visible_to_customer
    assert '<li class="event internal" data-type="internal_note">' in body
    assert '<li class="event customer-visible" data-type="progress_update">' in body
    assert "staff only" in body and "customer sees this" in body


def test_note_form_needs_text(desk: Client, world, clock) -> None:
    case = world.case()
    response = desk.post(f"/desk/cases/{case['id']}/notes/", {"audience": "internal", "text": "  "}, headers=HTMX)
    assert response.status_code == 422
    assert not CaseEvent.objects.filter(type="internal_note").exists()


def test_a_file_attached_to_a_note_is_listed_and_downloaded_never_inline(
    desk: Client, world, clock, settings, tmp_path
) -> None:
    settings.MEDIA_ROOT = tmp_path
    case = world.case()
    page = SimpleUploadedFile("../../bill <1>.html", b"<script>alert(1)</script>", content_type="text/html")
    response = desk.post(
        f"/desk/cases/{case['id']}/notes/", {"audience": "internal", "text": "The bill", "upload": [page]}, headers=HTMX
    )
    assert response.status_code == 200, response.content
    attachment = Attachment.objects.get()
    assert attachment.filename == "bill <1>.html"
    assert attachment.event is not None and attachment.event.type == "internal_note"
    assert attachment.size == 25 and len(attachment.sha256) == 64
    assert ".." not in attachment.file.name and attachment.file.name.endswith(".html")
    body = response.content.decode()
    assert "bill &lt;1&gt;.html" in body and "bill <1>" not in body
    download = desk.get(f"/desk/attachments/{attachment.pk}/")
    assert download.status_code == 200
    assert download["Content-Disposition"].startswith("attachment;")
    assert download["Content-Type"] == "text/html"
    assert download["X-Content-Type-Options"] == "nosniff"
    assert "sandbox" in download["Content-Security-Policy"]
    assert b"".join(download.streaming_content) == b"<script>alert(1)</script>"  # type: ignore[attr-defined]


def test_attachments_are_for_staff_only(client: Client, django_user_model, world, clock, settings, tmp_path) -> None:
    from promisedesk.cases.attachments import do_attach

    settings.MEDIA_ROOT = tmp_path
    found = Case.objects.get(pk=world.case()["id"])
    attachment = do_attach(found, now=clock.now, filename="a.pdf", content=b"%PDF-1.4")
    assert attachment.content_type == "application/pdf"
    assert client.get(f"/desk/attachments/{attachment.pk}/").status_code == 302  # to the login page
    client.force_login(django_user_model.objects.create_user("guest"))
    assert client.get(f"/desk/attachments/{attachment.pk}/").status_code == 403


def test_unknown_attachment_is_404(desk: Client) -> None:
    assert desk.get("/desk/attachments/999/").status_code == 404


def test_too_large_a_file_is_refused_and_nothing_is_written(
    desk: Client, world, clock, settings, tmp_path, monkeypatch
) -> None:
    from promisedesk.cases import attachments

    settings.MEDIA_ROOT = tmp_path
    monkeypatch.setattr(attachments, "MAX_ATTACHMENT_BYTES", 10)
    case = world.case()
    big = SimpleUploadedFile("big.txt", b"x" * 11, content_type="text/plain")
    response = desk.post(
        f"/desk/cases/{case['id']}/notes/", {"audience": "internal", "text": "big", "upload": [big]}, headers=HTMX
    )
    assert response.status_code == 422
    assert "A file may be at most 10 MB." in response.content.decode()
    assert not Attachment.objects.exists() and not CaseEvent.objects.filter(type="internal_note").exists()


# -- appointment -------------------------------------------------------------------------------------------


def test_appointment_is_booked_moved_with_a_reason_and_arrived(desk: Client, world, clock) -> None:
    case = world.case()
    url = f"/desk/cases/{case['id']}/appointment/"
    booked = desk.post(url, {"start": "2026-03-03T09:00", "end": "2026-03-03T11:00"}, headers=HTMX)
    assert booked.status_code == 200 and "2026-03-03 09:00" in booked.content.decode()
    no_reason = desk.post(url, {"start": "2026-03-04T09:00", "end": "2026-03-04T11:00"}, headers=HTMX)
    assert no_reason.status_code == 422
    assert "Say why the appointment moves" in no_reason.content.decode()
    moved = desk.post(
        url, {"start": "2026-03-04T09:00", "end": "2026-03-04T11:00", "reason": "Customer away"}, headers=HTMX
    )
    assert moved.status_code == 200 and "2026-03-04 09:00" in moved.content.decode()
    backwards = desk.post(url, {"start": "2026-03-04T11:00", "end": "2026-03-04T09:00", "reason": "x"}, headers=HTMX)
    assert backwards.status_code == 422 and "The appointment ends before it starts." in backwards.content.decode()
    assert f'action="/desk/cases/{case["id"]}/arrived/"' in moved.content.decode()
    arrived = desk.post(f"/desk/cases/{case['id']}/arrived/", headers=HTMX)
    assert arrived.status_code == 200
    assert CaseEvent.objects.filter(case_id=case["id"], type="arrived").exists()
    body = arrived.content.decode()
    assert '<span class="badge state-met">arrived</span>' in body and "/arrived/" not in body
    assert Case.objects.get(pk=case["id"]).stage == "delivery"


# -- the customer's profile ---------------------------------------------------------------------------------


def test_profile_shows_preferences_escaped_and_other_cases(desk: Client, world, clock, api) -> None:
    customer = Customer.objects.get(pk=world.customer["id"])
    Customer.objects.filter(pk=customer.pk).update(
        preferences={"room_floor": "high", "quiet_room": True, "note": "<script>alert(1)</script>"},
        timezone="Europe/London",
    )
    first = world.case(external_ref="first")
    second = world.case(external_ref="second")
    page = _page(desk, second["id"])
    assert "<dt>room floor</dt><dd>high</dd>" in page and "<dt>quiet room</dt><dd>yes</dd>" in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page and "<script>alert(1)" not in page
    assert "Europe/London" in page
    assert f'href="/desk/cases/{first["id"]}/"' in page


def test_profile_form_edits_tier_time_zone_and_preferences(desk: Client, world, clock) -> None:
    case = world.case()
    response = desk.post(
        f"/desk/cases/{case['id']}/customer/",
        {"tier": "platinum", "timezone": "Asia/Tokyo", "preferences": "pillow: buckwheat\nquiet_room: true"},
        headers=HTMX,
    )
    assert response.status_code == 200
    assert response.content.decode().lstrip().startswith('<section id="customer-profile"')
    customer = Customer.objects.get(pk=world.customer["id"])
    assert customer.tier == "platinum" and customer.timezone == "Asia/Tokyo"
    assert customer.preferences == {"pillow": "buckwheat", "quiet_room": True}


@pytest.mark.parametrize(
    "data, message",
    [
        ({"tier": "gold", "timezone": "Mars/Base", "preferences": ""}, "That is not a time zone."),
        ({"tier": "gold", "timezone": "", "preferences": "no colon here"}, "Line 1: write name: value."),
        ({"tier": "", "timezone": "", "preferences": ""}, "This field is required."),
    ],
)
def test_profile_form_errors_show_inline(desk: Client, world, clock, data, message) -> None:
    case = world.case()
    response = desk.post(f"/desk/cases/{case['id']}/customer/", data, headers=HTMX)
    assert response.status_code == 422 and message in response.content.decode()
    assert Customer.objects.get(pk=world.customer["id"]).tier == "gold"


# -- a phone call or a walk-in -------------------------------------------------------------------------------


def test_every_desk_page_offers_to_log_a_call_or_visit(desk: Client, world) -> None:
    for url in ("/desk/", "/desk/promises/", "/desk/breaches/"):
        page = desk.get(url).content.decode()
        assert 'id="log-contact-open"' in page and '<dialog id="log-contact"' in page


def test_log_form_comes_alone_for_the_dialog_and_in_a_page_without_script(desk: Client, world) -> None:
    alone = desk.get("/desk/log/", headers=HTMX).content.decode()
    assert alone.lstrip().startswith('<form id="log-contact-form"') and "<html" not in alone
    page = desk.get("/desk/log/").content.decode()
    assert "<html" in page and 'id="log-contact-form"' in page


def _log(desk: Client, **fields: Any) -> Any:
    form = desk.get("/desk/log/", headers=HTMX).context["form"]
    data = {"key": form.initial["key"], "service": "install", "summary": "Asks why the bill is higher", **fields}
    return desk.post("/desk/log/", data, headers=HTMX), data


def test_walk_in_with_a_new_customer_opens_a_case_and_goes_to_it(desk: Client, world, clock, centre) -> None:
    response, data = _log(
        desk, new_name="王建国", new_phone="13800000001", channel="walk_in", department="customer_centre"
    )
    assert response.status_code == 200, response.content
    case = Case.objects.get(channel="walk_in")
    assert response["HX-Redirect"] == f"/desk/cases/{case.pk}/"
    assert case.created_by is not None and case.created_by.username == "agent"
    assert case.summary == "Asks why the bill is higher"
    assert case.customer.name == "王建国" and case.customer.phone == "13800000001"
    assert case.department is not None and case.department.code == "customer_centre"
    assert case.commitments.count() == 1  # the reply-4h promise applies to every case
    # the same form sent again opens nothing new
    again = desk.post("/desk/log/", data, headers=HTMX)
    assert again["HX-Redirect"] == f"/desk/cases/{case.pk}/"
    assert Case.objects.count() == 1 and Customer.objects.filter(name="王建国").count() == 1


def test_phone_call_for_a_known_customer_without_script(desk: Client, world, clock) -> None:
    form = desk.get("/desk/log/").context["form"]
    response = desk.post(
        "/desk/log/",
        {
            "key": form.initial["key"],
            "customer": world.customer["id"],
            "service": "install",
            "summary": "Pool hours",
            "channel": "phone",
        },
    )
    case = Case.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/desk/cases/{case.pk}/"
    assert case.channel == "phone" and case.customer_id == world.customer["id"]


@pytest.mark.parametrize(
    "fields, message",
    [
        ({"channel": "phone"}, "Choose a customer from the list or enter a new one."),
        ({"channel": "phone", "new_name": "Zhang"}, "A new customer needs a phone number or an email address."),
        ({"channel": "phone", "new_name": "Zhang", "new_email": "not-mail"}, "That is not an email address."),
        ({"new_name": "Zhang", "new_phone": "1"}, "Say whether they called or came in."),
        ({"channel": "email", "new_name": "Zhang", "new_phone": "1"}, "Select a valid choice."),
    ],
)
def test_log_form_errors_come_back_in_the_dialog(desk: Client, world, clock, fields, message) -> None:
    response, _data = _log(desk, **fields)
    assert response.status_code == 422
    body = response.content.decode()
    assert message in body and body.lstrip().startswith('<form id="log-contact-form"')
    assert not Case.objects.exists()


def test_customer_search_finds_by_name_phone_or_email_and_escapes(desk: Client, world, clock, api) -> None:
    from promisedesk.conftest import make_customer

    make_customer(api, name="<b>Bold</b> Wang", phone="13900000009", email="wang@example.com")
    found = desk.get("/desk/log/customers/", {"q": "1390000"}, headers=HTMX).content.decode()
    assert "&lt;b&gt;Bold&lt;/b&gt; Wang" in found and "<b>Bold</b>" not in found
    assert "checked" in found  # one match comes chosen
    by_mail = desk.get("/desk/log/customers/", {"q": "example.com"}, headers=HTMX).content.decode()
    assert by_mail.count('name="customer"') == 2 and "checked" not in by_mail
    make_customer(api, name="王芳", phone="", email=None)
    assert "王芳" in desk.get("/desk/log/customers/", {"q": "王"}, headers=HTMX).content.decode()
    nobody = desk.get("/desk/log/customers/", {"q": "zzz"}, headers=HTMX).content.decode()
    assert "Nobody matches" in nobody
    assert 'name="customer"' not in desk.get("/desk/log/customers/", {"q": "L"}, headers=HTMX).content.decode()


# -- stage names ---------------------------------------------------------------------------------------------


def test_stages_page_names_a_stage(desk: Client, world, clock) -> None:
    page = desk.get("/desk/stages/").content.decode()
    assert "need identification" in page and "<code>stage_delivery</code>" in page
    response = desk.post(
        "/desk/stages/",
        {
            "service": "install",
            "stage": "delivery",
            "label_en": "Fitting",
            "label_zh_hans": "安装",
            "substatuses": "waiting_parts | Waiting for parts | 等待配件\ntesting",
        },
    )
    assert response.status_code == 302
    label = StageLabel.objects.get()
    assert label.service is not None and label.service.code == "install"
    assert label.substatus_codes() == ["waiting_parts", "testing"]
    assert "waiting_parts | Waiting for parts | 等待配件" in desk.get("/desk/stages/").content.decode()
    bad = desk.post("/desk/stages/", {"stage": "delivery", "substatuses": "Not A Code"})
    assert bad.status_code == 422


# -- whose queue ----------------------------------------------------------------------------------------------


def test_queue_shows_mine_including_oral_promises_i_own(desk: Client, world, clock, centre) -> None:
    from promisedesk.cases.actions import do_assign, do_record_oral_commitment

    mine = Case.objects.get(pk=world.case(external_ref="mine")["id"])
    theirs = Case.objects.get(pk=world.case(external_ref="theirs")["id"])
    world.case(external_ref="nobody")
    do_assign(mine, actor=None, now=clock.now, department="customer_centre", assignee="agent")
    do_assign(theirs, actor=None, now=clock.now, department="customer_centre", assignee="chen.jing")
    oral = do_record_oral_commitment(
        theirs,
        actor=None,
        now=clock.now,
        statement="Call back",
        owner="agent",
        target=None,
        due_at=clock.now.replace(hour=12),
    )
    response = desk.get("/desk/", {"mine": "1"})
    shown = {row.commitment.pk for row in response.context["rows"]}
    expected = set(mine.commitments.values_list("pk", flat=True)) | {oral.pk}
    assert shown == expected
    assert response.context["counts"]["open"] == len(expected)
    by_department = desk.get("/desk/", {"department": "customer_centre"}).context["rows"]
    assert {row.commitment.case_id for row in by_department} == {mine.pk, theirs.pk}
    page = desk.get("/desk/", {"assignee": "chen.jing"}).content.decode()
    assert "Call back" in page and "design / plan" in page  # the stage, as assignment moved it


def test_queue_reports_an_unknown_department_and_shows_everything(desk: Client, world, clock) -> None:
    world.case()
    response = desk.get("/desk/", {"department": "nope"})
    assert len(response.context["rows"]) == 1 and "There is no such department." in response.content.decode()
