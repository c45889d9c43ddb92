"""Reading an email: sender, recipients, thread tokens, text body and attachments.

Pure functions over the raw bytes with the standard library's `email` package
(policy.default). `parse_mail` never raises: whatever it cannot read becomes an
empty field, so a message that breaks the parser is still quarantined whole
instead of being lost.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from email import policy
from email.headerregistry import Address
from email.message import EmailMessage, Message
from email.parser import BytesParser
from email.utils import getaddresses
from html.parser import HTMLParser
from pathlib import PurePosixPath, PureWindowsPath

from django.core.exceptions import ValidationError
from django.core.validators import validate_email

from .threading import SUBJECT_TAG, TOKEN, case_id_from_token

MAX_SUBJECT = 500
MAX_KEY = 200
# Headers that say where the message was delivered, most reliable first.
DELIVERY_HEADERS = ("Delivered-To", "X-Original-To", "To", "Cc")
CJK = re.compile(r"[\u4e00-\u9fff]")
# C0 controls but tab and newline, DEL, and lone surrogates (undecodable bytes): a NUL makes
# PostgreSQL refuse the row, and none of them can be stored as UTF-8 text or shown.
CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f\ud800-\udfff]")
_PARSER = BytesParser(policy=policy.default)


@dataclass
class Part:
    """One attached file as it came in the mail."""

    filename: str
    content_type: str
    payload: bytes


@dataclass
class Token:
    """A thread token found in the message, where it was found, and the case it names (None: forged)."""

    text: str
    where: str
    case_id: int | None


@dataclass
class ParsedMail:
    """What intake needs from one message."""

    key: str
    sender: str = ""
    sender_name: str = ""
    subject: str = ""
    message_id: str = ""
    recipients: list[str] = field(default_factory=list)
    text: str = ""
    attachments: list[Part] = field(default_factory=list)
    tokens: list[Token] = field(default_factory=list)
    auto_submitted: str = ""
    language: str = ""
    readable: bool = True


def parse_mail(raw: bytes, envelope_recipients: Sequence[str] = ()) -> ParsedMail:
    """Read raw; recipients are the envelope's first (where the message was actually delivered)."""
    try:
        message = _PARSER.parsebytes(raw)
    except Exception:  # the parser is lenient, but a message is never lost to a parser bug
        return ParsedMail(key=_raw_key(raw), recipients=_clean_addresses(envelope_recipients), readable=False)
    parsed = ParsedMail(key=_raw_key(raw))
    message_id = _header(message, "Message-ID").strip().strip("<>").strip()
    parsed.message_id = message_id[:255]
    parsed.sender, parsed.sender_name = _sender(message)
    if message_id:
        # The sender and the body are part of the key: nobody can suppress someone else's mail by
        # reusing its Message-ID, and a mailer that reuses one for a different text loses nothing.
        parsed.key = "mid:" + _bounded(f"{message_id} {parsed.sender} {_body_digest(raw)}")
    parsed.subject = " ".join(_header(message, "Subject").split())[:MAX_SUBJECT]
    parsed.recipients = _recipients(message, envelope_recipients)
    parsed.auto_submitted = _auto_submitted(message)
    parsed.text, parsed.attachments, parsed.readable = _body(message)
    parsed.tokens = find_tokens(parsed.recipients, parsed.subject)
    parsed.language = _language(message, parsed.text + parsed.subject)
    return parsed


def clean_text(value: str) -> str:
    """Text fit to store: line ends as newlines, other control characters and lone surrogates removed."""
    return CONTROL.sub("", value.replace("\r\n", "\n").replace("\r", "\n"))


def find_tokens(recipients: Iterable[str], subject: str) -> list[Token]:
    """Thread tokens in recipients' +tags and in the subject's [#TOKEN] tag, each once."""
    found: dict[str, Token] = {}
    for address in recipients:
        local = address.rpartition("@")[0]
        _, plus, tag = local.partition("+")
        match = TOKEN.search(tag.lower()) if plus else None
        if match is not None:
            found.setdefault(match.group(0), Token(match.group(0), address, case_id_from_token(match.group(0))))
    for match in SUBJECT_TAG.finditer(subject.lower()):
        text = match.group(1)
        found.setdefault(text, Token(text, "subject", case_id_from_token(text)))
    return list(found.values())


def plain_address(address: str) -> str:
    """An address without its +tag, lower-cased: what a mailbox is configured as."""
    local, at, domain = address.strip().lower().rpartition("@")
    return f"{local.partition('+')[0]}@{domain}" if at else address.strip().lower()


def _raw_key(raw: bytes) -> str:
    return "sha256:" + hashlib.sha256(raw).hexdigest()


def _body_digest(raw: bytes) -> str:
    """A short digest of the body, the same however the line endings were stored (SMTP, maildir, IMAP)."""
    body = re.split(rb"\r?\n\r?\n", raw, maxsplit=1)[1:] or [b""]
    return hashlib.sha256(body[0].replace(b"\r\n", b"\n").rstrip()).hexdigest()[:16]


def _bounded(text: str) -> str:
    """A key that fits the column: long ones are replaced by their hash."""
    if len(text) <= MAX_KEY and text.isprintable():
        return text
    return "sha256:" + hashlib.sha256(text.encode("utf-8", "surrogateescape")).hexdigest()


def _header(message: Message, name: str) -> str:
    try:
        value = message.get(name)
    except Exception:  # a malformed header can throw while it is parsed on access
        return ""
    return clean_text(str(value)) if value is not None else ""


def _sender(message: Message) -> tuple[str, str]:
    """The first From (else Sender, Reply-To) address that mail could be answered at, and its name."""
    for name in ("From", "Sender", "Reply-To"):
        try:
            header = message.get(name)
            addresses: Sequence[Address] = getattr(header, "addresses", ()) if header is not None else ()
        except Exception:
            continue
        for address in addresses:
            spec = (address.addr_spec or "").strip()
            if _usable(spec):
                return spec.lower(), " ".join(clean_text(address.display_name or "").split())[:200]
    return "", ""


def _usable(spec: str) -> bool:
    if not spec or len(spec) > 254:
        return False
    try:
        validate_email(spec)
    except ValidationError:
        return False
    return True


def _clean_addresses(values: Iterable[str]) -> list[str]:
    out: list[str] = []
    for value in values:
        address = clean_text(value).strip().strip("<>").strip().lower()
        if address and "@" in address and address not in out:
            out.append(address)
    return out


def _recipients(message: Message, envelope: Sequence[str]) -> list[str]:
    found = list(envelope)
    for name in DELIVERY_HEADERS:
        try:
            values = [str(v) for v in message.get_all(name, [])]
        except Exception:
            continue
        found.extend(address for _, address in getaddresses(values))
    return _clean_addresses(found)[:50]


def _auto_submitted(message: Message) -> str:
    """The Auto-Submitted value when the message was sent by a machine (RFC 3834), else ""."""
    value = _header(message, "Auto-Submitted").strip().lower()
    if value and value != "no":
        return value[:100]
    if _header(message, "X-Autoreply").strip().lower() == "yes":
        return "x-autoreply"
    return ""


def _language(message: Message, text: str) -> str:
    declared = _header(message, "Content-Language").strip().lower()
    if declared.startswith("zh"):
        return "zh-Hans"
    if declared.startswith("en"):
        return "en"
    return "zh-Hans" if CJK.search(text) else "en"


def _body(message: Message) -> tuple[str, list[Part], bool]:
    """(text, attachments, readable): the plain body (or the HTML one turned into text) and the files."""
    readable = True
    body: Message | None = None
    if isinstance(message, EmailMessage):
        try:
            body = message.get_body(preferencelist=("plain", "html"))
        except Exception:
            readable = False
    text = _text_of(body) if body is not None else ""
    attachments: list[Part] = []
    extra_text: list[str] = []
    for part in _leaves(message):
        if part is body:
            continue
        filename = _filename(part)
        if filename or part.get_content_disposition() == "attachment" or part.get_content_type() == "message/rfc822":
            payload = _payload(part)
            name = filename or _default_name(part, len(attachments) + 1)
            attachments.append(Part(name, part.get_content_type()[:100], payload))
        elif body is None and part.get_content_maintype() == "text":
            extra_text.append(_text_of(part))
    if not text and extra_text:
        text = "\n\n".join(t for t in extra_text if t)
    return text.strip(), attachments, readable


def _leaves(message: Message) -> Iterator[Message]:
    """Every non-multipart part; an attached message counts as one part (its insides are not ours)."""
    if message.get_content_type() == "message/rfc822" or not message.is_multipart():
        yield message
        return
    payload = message.get_payload()
    for child in payload if isinstance(payload, list) else []:
        if isinstance(child, Message):
            yield from _leaves(child)


def _payload(part: Message) -> bytes:
    if part.get_content_type() == "message/rfc822":
        inner = part.get_payload()
        first = inner[0] if isinstance(inner, list) and inner else None
        return first.as_bytes(policy=policy.default) if isinstance(first, Message) else b""
    data = part.get_payload(decode=True)
    return data if isinstance(data, bytes) else b""


def _text_of(part: Message) -> str:
    """The part's text, decoded by its charset (undeclared or unknown charsets as UTF-8 with replacement)."""
    try:
        content = part.get_content() if isinstance(part, EmailMessage) else None
        text = content if isinstance(content, str) else None
    except Exception:
        text = None
    if text is None:
        data = part.get_payload(decode=True)
        text = data.decode("utf-8", "replace") if isinstance(data, bytes) else ""
    if part.get_content_subtype() == "html":
        return clean_text(html_to_text(text))
    return clean_text(text)


def _filename(part: Message) -> str:
    try:
        name = part.get_filename() or ""
    except Exception:
        return ""
    # Only the last path component, printable, and short enough for the column.
    name = PureWindowsPath(PurePosixPath(name).name).name
    name = "".join(ch for ch in name if ch.isprintable()).strip(" .")
    return name[-255:]


def _default_name(part: Message, number: int) -> str:
    extension = {"message/rfc822": ".eml", "text/plain": ".txt", "text/html": ".html"}.get(part.get_content_type(), "")
    return f"attachment-{number}{extension}"


class _TextExtractor(HTMLParser):
    """HTML to plain text: keeps the words and line structure, drops scripts, styles and every tag."""

    BLOCK = frozenset(
        {"p", "div", "br", "tr", "li", "ul", "ol", "table", "blockquote", "pre", "section", "article", "hr"}
        | {"h1", "h2", "h3", "h4", "h5", "h6", "header", "footer", "dd", "dt"}
    )
    SKIP = frozenset({"script", "style", "head", "title", "template", "noscript"})

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.out: list[str] = []
        self.skipping = 0
        self.links: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self.SKIP:
            self.skipping += 1
        elif tag in self.BLOCK:
            self.out.append("\n")
            if tag == "li":
                self.out.append("- ")
        elif tag == "a":
            self.links.append(dict(attrs).get("href") or "")

    def handle_endtag(self, tag: str) -> None:
        if tag in self.SKIP:
            self.skipping = max(0, self.skipping - 1)
        elif tag in self.BLOCK and tag not in ("li", "br"):
            self.out.append("\n")
        elif tag == "a" and self.links:
            href = self.links.pop()
            if href.startswith(("http://", "https://", "mailto:")):
                self.out.append(f" <{href}>")

    def handle_data(self, data: str) -> None:
        if not self.skipping:
            self.out.append(data)


def html_to_text(html: str) -> str:
    """The readable text of an HTML mail body; never HTML, so it is shown like any other text."""
    extractor = _TextExtractor()
    try:
        extractor.feed(html)
        extractor.close()
    except Exception:  # HTMLParser is lenient; a pathological document still yields what was read
        pass
    lines = [" ".join(line.split()) for line in "".join(extractor.out).splitlines()]
    text = "\n".join(lines)
    return re.sub(r"\n{3,}", "\n\n", text).strip()
