"""The customer's request form at /request/: no login, one case per rendering, spam kept out."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.test import Client

from promisedesk.cases.actions import do_create_customer, do_open_case
from promisedesk.cases.models import Case, CaseEvent, Customer
from promisedesk.intake.forms import new_form_token
from promisedesk.notifications.events import case_link

pytestmark = pytest.mark.django_db


def _token(page: str) -> str:
    found = re.search(r'name="token" value="([^"]+)"', page)
    assert found, page
    return found.group(1)


@pytest.fixture
def form(client: Client, service: Any, clock: Any) -> dict[str, str]:
    """What a customer fills in, with the token of a fresh rendering of the form."""
    page = client.get("/request/").content.decode()
    return {
        "name": "Han Meimei",
        "email": "han@example.com",
        "phone": "",
        "service": "install",
        "need": "Please install broadband at Room 1203.",
        "language": "en",
        "website": "",
        "token": _token(page),
    }


def test_form_page_lists_services_and_has_a_honeypot(client, service, clock):
    response = client.get("/request/")
    page = response.content.decode()
    assert response.status_code == 200
    assert '<option value="install">Broadband installation</option>' in page
    assert 'name="website"' in page and 'class="trap" aria-hidden="true"' in page
    assert 'name="viewport" content="width=device-width, initial-scale=1"' in page
    assert "Log out" not in page and "/desk/" not in page  # the customer's page has no staff navigation


def test_form_page_in_chinese(client, service, clock):
    page = client.get("/request/", HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert '<html lang="zh-hans">' in page
    for text in ("您需要什么帮助", "您的姓名", "提交请求", "首选语言"):
        assert text in page, text
    assert '<option value="zh-Hans" selected>' in page  # the language the customer reads in, preselected


def test_a_request_opens_a_web_case_and_thanks_with_the_link(client, form, clock):
    response = client.post("/request/", form)

    assert response.status_code == 200
    case = Case.objects.select_related("customer").get()
    assert (case.channel, case.service.code, case.customer.email, case.customer.locale) == (
        "web",
        "install",
        "han@example.com",
        "en",
    )
    event = CaseEvent.objects.get(case=case, type="customer_request")
    assert (event.note, event.visible_to_customer) == ("Please install broadband at Room 1203.", True)
    page = response.content.decode()
    assert case_link(case) in page and f"#{case.pk}" in page


def test_a_double_submit_makes_one_case(client, form, clock):
    first = client.post("/request/", form)
    second = client.post("/request/", form)
    assert first.status_code == second.status_code == 200
    assert Case.objects.count() == 1
    page = second.content.decode()
    assert "We already have this request" in page and case_link(Case.objects.get()) not in page


def test_a_reused_token_shows_nothing_of_the_first_request(client, form, clock):
    client.post("/request/", form)
    case = Case.objects.get()
    stranger = Client()
    response = stranger.post("/request/", form | {"name": "Mallory", "email": "mallory@example.com", "need": "x"})
    page = response.content.decode()
    assert response.status_code == 200 and "We already have this request" in page
    assert case.access_token not in page and f"#{case.pk}" not in page and "han@example.com" not in page
    assert Case.objects.count() == 1 and CaseEvent.objects.filter(type="customer_request").count() == 1


def test_the_form_page_is_never_cached(client, form, clock):
    for response in (client.get("/request/"), client.post("/request/", form)):
        assert "no-store" in response["Cache-Control"] and "private" in response["Cache-Control"]


def test_a_known_address_is_never_shown_the_customer_link(client, form, customer, clock):
    earlier, _ = do_open_case(actor=None, now=clock.now, customer_id=customer.pk, service_code="install")
    response = client.post("/request/", form | {"email": "li@example.com", "name": "Mallory"})
    page = response.content.decode()
    case = Case.objects.exclude(pk=earlier.pk).get()
    assert response.status_code == 200 and case.customer_id == customer.pk
    assert case.access_token not in page and earlier.access_token not in page and "/c/" not in page
    assert "Li Lei" not in page
    assert "has been sent to the email address or phone number we have for you" in page


def test_a_known_phone_number_is_never_shown_the_customer_link(client, form, clock):
    known = do_create_customer(
        now=clock.now, name="Wang Fang", phone="+8613800000000", external_ref="phone:+8613800000000"
    )
    response = client.post("/request/", form | {"email": "", "phone": "+86 138-0000-0000", "name": "Mallory"})
    page = response.content.decode()
    case = Case.objects.get()
    assert case.customer_id == known.pk
    assert case.access_token not in page and "/c/" not in page and "Wang Fang" not in page


def test_a_nul_character_in_a_field_is_a_form_error(client, form, clock):
    response = client.post("/request/", form | {"need": "broken\x00text", "name": "Han\x00"})
    assert response.status_code == 400 and "Null characters are not allowed." in response.content.decode()
    assert not Case.objects.exists()


def test_each_rendering_of_the_form_makes_its_own_case(client, form, clock):
    client.post("/request/", form)
    client.post("/request/", form | {"token": new_form_token()})
    assert Case.objects.count() == 2 and Customer.objects.count() == 1


def test_a_known_address_is_the_same_customer(client, form, customer, clock):
    client.post("/request/", form | {"email": "LI@example.com", "name": "Someone"})
    assert Case.objects.get().customer_id == customer.pk
    assert Customer.objects.get(pk=customer.pk).name == "Li Lei"  # not overwritten by the form


def test_a_phone_number_alone_is_enough(client, form, clock):
    client.post("/request/", form | {"email": "", "phone": "+86 138-0000-0000"})
    customer = Case.objects.get().customer
    assert (customer.phone, customer.email, customer.external_ref) == ("+86 138-0000-0000", "", "phone:+8613800000000")


def test_no_email_and_no_phone_is_a_form_error(client, form, clock):
    response = client.post("/request/", form | {"email": "", "phone": ""})
    assert response.status_code == 400
    assert "Give an email address or a phone number." in response.content.decode()
    assert not Case.objects.exists()


def test_a_filled_honeypot_is_refused_with_a_reason(client, form, clock):
    response = client.post("/request/", form | {"website": "http://spam.example"})
    assert response.status_code == 400
    assert "Leave this field empty." in response.content.decode()
    assert not Case.objects.exists()


def test_a_forged_token_is_refused_and_replaced(client, form, clock):
    response = client.post("/request/", form | {"token": "not-a-token-we-made"})
    page = response.content.decode()
    assert response.status_code == 400 and "not issued by this site" in page
    assert _token(page) != "not-a-token-we-made"
    assert 'value="Han Meimei"' in page  # what the customer typed is kept
    assert not Case.objects.exists()


@pytest.mark.parametrize(
    ("field", "value"),
    [("name", "x" * 201), ("need", "x" * 5001), ("email", "a" * 250 + "@example.com"), ("phone", "1" * 41)],
)
def test_oversized_fields_are_form_errors(client, form, clock, field, value):
    response = client.post("/request/", form | {field: value})
    assert response.status_code == 400
    assert 'class="field-error"' in response.content.decode()
    assert not Case.objects.exists()


def test_script_in_fields_is_stored_as_text_and_shown_escaped(client, form, clock):
    script = "<script>alert('x')</script>"
    response = client.post("/request/", form | {"name": f"{script}Bob", "need": f"{script} help"})
    page = response.content.decode()

    case = Case.objects.select_related("customer").get()
    assert case.customer.name == f"{script}Bob"
    assert CaseEvent.objects.get(type="customer_request").note == f"{script} help"
    assert "<script>alert" not in page


def test_script_in_a_refused_form_is_shown_escaped(client, form, clock):
    script = "<script>alert('x')</script>"
    response = client.post("/request/", form | {"name": script, "email": "", "need": script})
    page = response.content.decode()
    assert response.status_code == 400
    assert "<script>alert" not in page and "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;" in page


def test_too_many_requests_from_one_address_are_refused_keeping_the_text(client, form, clock, settings):
    settings.PROMISEDESK_INTAKE_FORM_RATE_EMAIL = "2/h"
    statuses = [client.post("/request/", form | {"token": new_form_token()}).status_code for _ in range(3)]
    response = client.post("/request/", form | {"token": new_form_token()})
    assert statuses == [200, 200, 429] and response.status_code == 429
    assert "Too many requests" in response.content.decode()
    assert "Please install broadband at Room 1203." in response.content.decode()
    assert Case.objects.count() == 2
    # another address from the same place is still welcome
    other = client.post("/request/", form | {"token": new_form_token(), "email": "lily@example.com"})
    assert other.status_code == 200


def test_a_double_submit_does_not_use_up_the_address_quota(client, form, clock, settings):
    settings.PROMISEDESK_INTAKE_FORM_RATE_EMAIL = "1/h"
    assert [client.post("/request/", form).status_code for _ in range(3)] == [200, 200, 200]
    assert Case.objects.count() == 1


def test_too_many_requests_from_one_ip_are_refused(client, form, clock, settings):
    settings.PROMISEDESK_INTAKE_FORM_RATE_IP = "2/h"
    sent = [
        client.post("/request/", form | {"token": new_form_token(), "email": f"c{i}@example.com"}).status_code
        for i in range(3)
    ]
    assert sent == [200, 200, 429]
    elsewhere = client.post(
        "/request/", form | {"token": new_form_token(), "email": "z@example.com"}, REMOTE_ADDR="10.0.0.9"
    )
    assert elsewhere.status_code == 200
    assert Case.objects.count() == 3


def test_thank_you_page_in_chinese(client, form, clock):
    response = client.post("/request/", form | {"language": "zh-Hans"}, HTTP_ACCEPT_LANGUAGE="zh-hans")
    page = response.content.decode()
    assert "感谢您" in page and case_link(Case.objects.get()) in page
    assert Case.objects.get().customer.locale == "zh-Hans"


def test_a_complaint_from_the_form_opens_a_recovery_case_with_the_words_verbatim(client, form, clock):
    from promisedesk.complaints.models import Complaint

    words = "The engineer came two hours late and left mud on the carpet.\nI want an apology."
    response = client.post("/request/", form | {"kind": "complaint", "need": words})

    assert response.status_code == 200
    complaint = Complaint.objects.select_related("case").get()
    assert (complaint.case.kind, complaint.case.channel, complaint.case.about_id) == ("complaint", "web", None)
    assert complaint.account == words and complaint.case.service.code == "install"
    assert case_link(complaint.case) in response.content.decode()  # a new customer: the link is theirs
    assert not CaseEvent.objects.filter(type="customer_request").exists()


def test_the_form_offers_a_complaint_in_both_languages(client, service, clock):
    assert 'value="complaint"' in client.get("/request/").content.decode()
    assert "投诉" in client.get("/request/", HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
