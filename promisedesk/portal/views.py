"""The customer's case page at /c/<token>/: thin views over portal.selectors and portal.actions.

The token in the link is the only credential, so every response here is private:
never cached, never indexed, and the link never leaks as a referrer. An unknown token
is a bare 404 that says nothing about why.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar
from urllib.parse import urlencode

from django.conf import settings
from django.http import FileResponse, HttpRequest, HttpResponse, HttpResponseNotFound
from django.http.response import HttpResponseBase
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.cache import add_never_cache_headers
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt, csrf_protect
from django.views.decorators.http import require_GET, require_POST
from django_ratelimit.core import is_ratelimited

from promisedesk.cases.models import Case
from promisedesk.errors import DomainError
from promisedesk.notifications.events import customer_zone

from . import complaints, rules, selectors, wording
from .actions import do_customer_claim, do_customer_complaint, do_customer_message
from .forms import MAX_ID, ClaimForm, ComplaintForm, InformationForm, ReplyForm, new_key
from .models import SubmissionKind
from .uploads import SizeLimitHandler, declared_too_large

LANGUAGE_NAMES = dict(settings.LANGUAGES)
R = TypeVar("R", bound=HttpResponseBase)


def _done_text(done: str) -> str:
    texts = {
        "reply": _("Thank you. Your message is on your case; we will get back to you."),
        "information": _("Thank you. The information is on your case."),
        "claim": _("We have received your claim and will tell you the outcome."),
        "complaint": _("We have received your complaint. This page shows where it stands."),
    }
    return texts.get(done, "")


def page_language(request: HttpRequest, case: Case, *, read_body: bool = True) -> str:
    """The language asked for by the switch (?lang=, or the form's lang), else the customer's own.
    `read_body=False` leaves a posted body unread (one too large to read at all)."""
    posted = request.POST.get("lang") if read_body and request.method == "POST" else None
    for asked in (request.GET.get("lang"), posted):
        code = _supported(asked)
        if code:
            return code
    return _supported(case.customer.locale) or settings.LANGUAGE_CODE


def _supported(code: str | None) -> str:
    lowered = (code or "").lower()
    if lowered.startswith("zh"):
        return "zh-hans"
    if lowered.startswith("en"):
        return "en"
    return ""


# The page with the forms cannot be "no-referrer": browsers then send `Origin: null` with its own
# form posts, which CSRF protection rightly refuses. "same-origin" tells no other site anything
# (not even that the page exists), and our own server already knows the link.
PAGE_REFERRER_POLICY = "same-origin"


def private(response: R, language: str | None = None, *, referrer: str = "no-referrer") -> R:
    """The headers every portal response carries: the link is a secret."""
    response["Referrer-Policy"] = referrer
    response["X-Robots-Tag"] = "noindex, nofollow"
    add_never_cache_headers(response)
    if language:
        response["Content-Language"] = language
    return response


def not_found() -> HttpResponse:
    return private(HttpResponseNotFound("Not found.", content_type="text/plain; charset=utf-8"))


def _page_url(case: Case, language: str, done: str = "", anchor: str = "") -> str:
    query = {"lang": language} | ({"done": done} if done else {})
    return f"{reverse('portal:case', args=[case.access_token])}?{urlencode(query)}{anchor}"


def _render(request: HttpRequest, case: Case, language: str, *, status: int = 200, **forms: Any) -> HttpResponse:
    now = timezone.now()
    with translation.override(language), timezone.override(customer_zone(case)):
        page = selectors.case_page(case, now, language)
        claim_form = forms.get("claim_form")
        claim_for = getattr(claim_form, "cleaned_data", {}).get("commitment")
        context = {
            "case": case,
            "page": page,
            "now": now,
            "page_language": language,
            "other_languages": [(code, name) for code, name in LANGUAGE_NAMES.items() if code != language],
            "notice": _done_text(request.GET.get("done", "")) if status == 200 else "",
            "reply_form": forms.get("reply_form") or ReplyForm(initial={"key": new_key()}),
            "info_form": forms.get("info_form") or InformationForm(initial={"key": new_key()}),
            "claim_form": claim_form,
            "claim_for": claim_for if any(c.commitment.pk == claim_for for c in page.promises) else None,
            "claim_key": new_key(),
            "accept": rules.ACCEPT,
            "max_upload": wording.size_text(rules.max_upload_bytes()),
            "days_text": wording.days_text(),
            "own_complaint": complaints.own_complaint(case),
            "complaints_about": complaints.complaints_about(case),
            "may_complain": complaints.may_complain(case),
            "complaint_form": forms.get("complaint_form") or ComplaintForm(initial={"key": new_key()}),
        }
        response = render(request, "portal/case.html", context, status=status)
    return private(response, language, referrer=PAGE_REFERRER_POLICY)


@require_GET
def case_page(request: HttpRequest, token: str) -> HttpResponse:
    case = selectors.case_for_token(token)
    if case is None:
        return not_found()
    return _render(request, case, page_language(request, case))


def _limited(request: HttpRequest) -> bool:
    """Per network address, across every case (the per-case pace is in the database)."""
    return bool(is_ratelimited(request, group="portal-post", key="ip", rate=rules.IP_RATE, increment=True))


Handler = Callable[[HttpRequest, Case, str], HttpResponse]


def _posted(handler: Handler) -> Callable[[HttpRequest, str], HttpResponse]:
    """Find the case (a bare 404 when there is none) and choose the language; handler does the rest."""

    def view(request: HttpRequest, token: str) -> HttpResponse:
        case = selectors.case_for_token(token)
        if case is None:
            return not_found()
        language = page_language(request, case)
        with translation.override(language):
            return handler(request, case, language)

    view.__name__ = handler.__name__
    view.__doc__ = handler.__doc__
    return view


def _failed(form: Any, exc: DomainError) -> int:
    field = exc.field if exc.field in form.fields and exc.field not in ("key", "commitment") else None
    form.add_error(field, wording.error_text(exc))
    return exc.status


def _too_many(request: HttpRequest, case: Case, language: str, form: Any, name: str) -> HttpResponse:
    form.add_error(None, wording.error_text(DomainError("too_many_messages", "", status=429)))
    return _render(request, case, language, status=429, **{name: form})


def _submit(
    request: HttpRequest,
    case: Case,
    language: str,
    form: Any,
    name: str,
    act: Callable[[dict[str, Any]], str],
    refused: DomainError | None = None,
) -> HttpResponse:
    """What every customer form does once posted: pace, validate, act, then show where it went.

    `act` takes the cleaned data and returns the URL to see next; a DomainError it raises (or
    `refused`, a refusal found before the form was read) shows the form again with its words.
    """
    if _limited(request):
        return _too_many(request, case, language, form, name)
    status = 400
    if refused is not None:
        status = _failed(form, refused)
    elif form.is_valid():
        try:
            return _see_other(act(form.cleaned_data), language)
        except DomainError as exc:
            status = _failed(form, exc)
    return _render(request, case, language, status=status, **{name: form})


@require_POST
@_posted
def reply(request: HttpRequest, case: Case, language: str) -> HttpResponse:
    """The customer's reply: a visible `customer_replied` entry (reopening a closed case)."""

    def act(data: dict[str, Any]) -> str:
        do_customer_message(case, now=timezone.now(), key=data["key"], text=data["text"])
        return _page_url(case, language, "reply", "#updates")

    return _submit(request, case, language, ReplyForm(request.POST), "reply_form", act)


@csrf_exempt
@require_POST
def information(request: HttpRequest, token: str) -> HttpResponse:
    """Added information with an optional file. The size limit is put in place before the body
    is read (which is why the CSRF check comes after it, in `_information`)."""
    limit = rules.max_upload_bytes()
    if declared_too_large(request, limit):
        case = selectors.case_for_token(token)
        if case is None:
            return not_found()
        language = page_language(request, case, read_body=False)
        with translation.override(language):
            form = InformationForm(data={"key": new_key()})  # nothing of the body is read
            form.add_error(None, wording.error_text(DomainError("file_too_large", "", status=413)))
            return _render(request, case, language, status=413, info_form=form)
    request.upload_handlers = [SizeLimitHandler(request, limit), *request.upload_handlers]
    return _information(request, token)


@csrf_protect
@_posted
def _information(request: HttpRequest, case: Case, language: str) -> HttpResponse:
    def act(data: dict[str, Any]) -> str:
        do_customer_message(
            case,
            now=timezone.now(),
            key=data["key"],
            text=data["text"],
            kind=SubmissionKind.INFORMATION,
            upload=data.get("file"),
        )
        return _page_url(case, language, "information", "#updates")

    too_large = getattr(request, "upload_too_large", False)
    refused = DomainError("file_too_large", "", "file", status=413) if too_large else None
    form = InformationForm(request.POST, request.FILES)
    return _submit(request, case, language, form, "info_form", act, refused)


@require_POST
@_posted
def claim(request: HttpRequest, case: Case, language: str) -> HttpResponse:
    """A claim that one promise on the case was broken (once, however often it is sent)."""

    def act(data: dict[str, Any]) -> str:
        do_customer_claim(
            case, now=timezone.now(), key=data["key"], commitment_id=data["commitment"], text=data["text"]
        )
        return _page_url(case, language, "claim", "#claims")

    return _submit(request, case, language, ClaimForm(request.POST), "claim_form", act)


@require_POST
@_posted
def complain(request: HttpRequest, case: Case, language: str) -> HttpResponse:
    """A complaint about this case: what happened and what would put it right. It opens a complaint
    case of its own (once, however often the form is sent); the customer is taken to its page."""

    def act(data: dict[str, Any]) -> str:
        complaint, _created = do_customer_complaint(
            case,
            now=timezone.now(),
            key=data["key"],
            text=data["text"],
            remedy_wanted=data["remedy_wanted"],
            remedy_detail=data.get("remedy_detail") or "",
        )
        return _page_url(complaint.case, language, "complaint", "#complaint")

    return _submit(request, case, language, ComplaintForm(request.POST), "complaint_form", act)


def _see_other(url: str, language: str) -> HttpResponse:
    response = HttpResponse(status=303)
    response["Location"] = url
    return private(response, language)


@require_GET
def attachment(request: HttpRequest, token: str, attachment_id: int) -> HttpResponseBase:
    """One of the customer's own files, always as a download (never shown inline by the browser)."""
    found = selectors.attachment_for_token(token, attachment_id) if attachment_id <= MAX_ID else None
    if found is None:
        return not_found()
    try:
        handle = found.file.open("rb")
    except (FileNotFoundError, ValueError):
        return not_found()
    response = FileResponse(handle, as_attachment=True, filename=found.filename, content_type=found.content_type)
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return private(response)
