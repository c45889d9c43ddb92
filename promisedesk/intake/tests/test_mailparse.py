"""Reading mail: odd charsets, file names, forwarded messages, tokens in any case — never an exception."""

from __future__ import annotations

from email.message import EmailMessage

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from promisedesk.intake.mailparse import find_tokens, html_to_text, parse_mail, plain_address
from promisedesk.intake.threading import reply_address, subject_tag, thread_token

from .conftest import mail


def test_an_unknown_charset_is_read_as_utf8_with_replacement():
    raw = (
        b"From: a@example.com\r\nTo: s@example.com\r\nSubject: x\r\n"
        b"Content-Type: text/plain; charset=x-no-such-charset\r\n\r\ncaf\xc3\xa9 \xff\r\n"
    )
    assert parse_mail(raw).text == "caf\u00e9 \ufffd"


def test_an_encoded_chinese_subject_and_name_are_decoded():
    parsed = parse_mail(mail(sender="王芳 <wang@example.cn>", subject="宽带坏了"))
    assert (parsed.sender, parsed.sender_name, parsed.subject) == ("wang@example.cn", "王芳", "宽带坏了")


def test_a_file_name_keeps_only_its_last_component():
    raw = mail(
        attachments=[
            ("../../etc/passwd", "text/plain", b"x"),
            ("C:\\Users\\me\\report.pdf", "application/pdf", b"y"),
        ]
    )
    assert [p.filename for p in parse_mail(raw).attachments] == ["passwd", "report.pdf"]


def test_an_unnamed_attachment_gets_a_name():
    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = "a@example.com", "s@example.com", "x"
    message.set_content("see attached")
    message.add_attachment(b"\x00\x01", maintype="application", subtype="octet-stream")
    del message.get_payload()[1]["Content-Disposition"]
    message.get_payload()[1]["Content-Disposition"] = "attachment"
    assert [p.filename for p in parse_mail(message.as_bytes()).attachments] == ["attachment-1"]


def test_a_forwarded_message_is_one_attachment():
    inner = EmailMessage()
    inner["From"], inner["Subject"] = "boss@example.com", "original"
    inner.set_content("the original text")
    inner.add_attachment(b"inner file", maintype="application", subtype="pdf", filename="inner.pdf")
    outer = EmailMessage()
    outer["From"], outer["To"], outer["Subject"] = "a@example.com", "s@example.com", "Fwd: original"
    outer.set_content("see below")
    outer.add_attachment(inner)
    parsed = parse_mail(outer.as_bytes())
    assert parsed.text == "see below"
    assert [(p.filename, p.content_type) for p in parsed.attachments] == [("attachment-1.eml", "message/rfc822")]
    assert b"the original text" in parsed.attachments[0].payload


def test_tokens_are_found_in_plus_addresses_and_subject_tags_in_any_case():
    token = thread_token(42)
    found = find_tokens([reply_address(42).upper()], f"RE: {subject_tag(42).upper()}")
    assert [(t.text, t.case_id) for t in found] == [(token, 42)]


def test_a_plus_tag_that_is_not_a_token_is_no_token():
    assert find_tokens(["support+billing@example.com"], "Re: [#ticket 5]") == []


def test_recipients_come_from_the_envelope_and_the_delivery_headers():
    raw = mail(to="To <to@example.com>", headers={"Cc": "cc@example.com", "Delivered-To": "box+x@example.com"})
    assert parse_mail(raw, ["env@example.com", "to@example.com"]).recipients == [
        "env@example.com",
        "to@example.com",
        "box+x@example.com",
        "cc@example.com",
    ]


def test_plain_address_drops_the_tag_and_case():
    assert plain_address(" Support+Urgent@Example.COM ") == "support@example.com"


@pytest.mark.parametrize(
    ("html", "text"),
    [
        ("<p>a</p><p>b</p>", "a\n\nb"),
        ("line<br>next", "line\nnext"),
        ("<script>alert(1)</script>ok", "ok"),
        ("&lt;script&gt; stays text", "<script> stays text"),
        ("<a href='javascript:alert(1)'>click</a>", "click"),
        ("<p>unclosed <b>bold", "unclosed bold"),
    ],
)
def test_html_to_text(html, text):
    assert html_to_text(html) == text


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=2000))
def test_any_bytes_parse_without_an_exception(raw):
    parsed = parse_mail(raw)
    assert parsed.key.startswith(("sha256:", "mid:"))


@settings(max_examples=100, deadline=None)
@given(
    subject=st.text(max_size=200),
    text=st.text(max_size=500),
    name=st.text(max_size=60),
)
def test_any_text_message_parses_to_its_parts(subject, text, name):
    message = EmailMessage()
    message["From"] = "x@example.com"
    message["To"] = "s@example.com"
    try:
        message["Subject"] = subject
        message.set_content(text)
        if name.strip():
            message.add_attachment(b"data", maintype="application", subtype="octet-stream", filename=name)
        raw = message.as_bytes()
    except (ValueError, TypeError):  # the writer refuses some header values: not our input to read
        return
    parsed = parse_mail(raw)
    assert parsed.sender == "x@example.com"
    assert len(parsed.subject) <= 500 and len(parsed.attachments) <= 1
