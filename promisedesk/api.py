"""The HTTP API under /api/v1: authentication, error shape, and the routers."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

from django.http import Http404, HttpRequest, HttpResponse
from django.http.multipartparser import MultiPartParserError
from django.utils import timezone
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError, ValidationError
from ninja.security import HttpBearer

from promisedesk.accounts.models import ApiToken, hash_token
from promisedesk.errors import DomainError

# Recording every use of a token would add a write to every request; the hour is enough.
TOKEN_USE_GRANULARITY = timedelta(hours=1)


class BearerToken(HttpBearer):
    def authenticate(self, request: HttpRequest, token: str) -> Any:
        found = ApiToken.objects.select_related("user").filter(digest=hash_token(token)).first()
        # The API is for staff and integrations; customers will have their own portal.
        if found is None or not found.user.is_active or not found.user.is_staff:
            return None
        now = timezone.now()
        if found.last_used_at is None or now - found.last_used_at > TOKEN_USE_GRANULARITY:
            ApiToken.objects.filter(pk=found.pk).update(last_used_at=now)
        request.user = found.user
        return found.user


api = NinjaAPI(
    title="promisedesk",
    version="1",
    description="Service promises kept on business-hour clocks.",
    auth=BearerToken(),
    urls_namespace="api",
)


def error_response(status: int, code: str, message: str, field: str | None = None) -> HttpResponse:
    body = {"error": {"code": code, "message": message, "field": field}}
    return HttpResponse(json.dumps(body, ensure_ascii=False), status=status, content_type="application/json")


_TYPE_TAGS = {"int", "str", "float", "bool", "list", "dict", "none", "decimal", "datetime", "date"}


def _field_of(loc: list[Any] | tuple[Any, ...]) -> str | None:
    parts = [str(p) for p in loc if p not in ("body", "query", "path", "payload", "form")]
    # A union reports which member failed ("int", "list[str]", "function-after[…]"): not a field.
    parts = [p for p in parts if p not in _TYPE_TAGS and "[" not in p and "-" not in p]
    # pydantic puts the model name first for a body parameter
    while parts and parts[0][:1].isupper():
        parts.pop(0)
    return ".".join(parts) or None


@api.exception_handler(ValidationError)
def on_validation_error(request: HttpRequest, exc: ValidationError) -> HttpResponse:
    first = exc.errors[0] if exc.errors else {}
    kind = str(first.get("type", "invalid"))
    code = {
        "extra_forbidden": "unknown_field",
        "missing": "missing_field",
        "string_too_long": "too_long",
        "json_invalid": "invalid_json",
    }.get(kind, "invalid")
    field = _field_of(first.get("loc", ()))
    message = str(first.get("msg", "invalid input"))
    if field:
        message = f"{field}: {message}"
    return error_response(422, code, message, field)


@api.exception_handler(DomainError)
def on_domain_error(request: HttpRequest, exc: DomainError) -> HttpResponse:
    return error_response(exc.status, exc.code, exc.message, exc.field)


@api.exception_handler(AuthenticationError)
def on_auth_error(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
    return error_response(401, "unauthorized", "a valid bearer token is required")


@api.exception_handler(Http404)
def on_not_found(request: HttpRequest, exc: Http404) -> HttpResponse:
    return error_response(404, "not_found", str(exc) or "not found")


@api.exception_handler(OverflowError)
def on_overflow(request: HttpRequest, exc: OverflowError) -> HttpResponse:
    # An id or number beyond what the database can store cannot name anything.
    return error_response(400, "out_of_range", "a number in the request is out of range")


@api.exception_handler(MultiPartParserError)
def on_bad_upload(request: HttpRequest, exc: MultiPartParserError) -> HttpResponse:
    return error_response(400, "invalid_upload", f"the uploaded form could not be read: {exc}")


@api.exception_handler(HttpError)
def on_http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
    code = {400: "bad_request", 404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, "error")
    return error_response(exc.status_code, code, str(exc))


@api.get("/health", auth=None, tags=["health"])
def health(request: HttpRequest) -> dict[str, str]:
    return {"status": "ok"}


def _register_routers() -> None:
    from promisedesk.breaches.api import compensations_router, root_causes_router
    from promisedesk.breaches.api import router as breaches_router
    from promisedesk.calendars.api import router as calendars_router
    from promisedesk.capa.api import router as capa_router
    from promisedesk.cases.api import router as cases_router
    from promisedesk.commitments.api import router as commitments_router
    from promisedesk.complaints.api import router as complaints_router
    from promisedesk.escalations.api import router as escalations_router
    from promisedesk.intake.api import router as intake_router
    from promisedesk.notifications.api import router as notifications_router
    from promisedesk.portal.api import router as portal_router
    from promisedesk.promises.api import router as promises_router
    from promisedesk.recovery.api import router as incidents_router

    api.add_router("/calendars", calendars_router)
    api.add_router("/promises", promises_router)
    api.add_router("/", cases_router)
    api.add_router("/commitments", commitments_router)
    api.add_router("/breaches", breaches_router)
    api.add_router("/compensations", compensations_router)
    api.add_router("/root-causes", root_causes_router)
    api.add_router("/", notifications_router)
    api.add_router("/", intake_router)
    api.add_router("/", escalations_router)
    api.add_router("/", portal_router)
    api.add_router("/", complaints_router)
    api.add_router("/", incidents_router)
    api.add_router("/", capa_router)


_register_routers()
