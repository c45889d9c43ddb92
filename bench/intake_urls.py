"""The project's URLs plus the bare baseline view of bench.intake (a temporary urlconf)."""

from __future__ import annotations

import json

from django.http import HttpRequest, JsonResponse
from django.urls import path
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt

from promisedesk.urls import urlpatterns as project_urlpatterns

BARE_PATH = "/bench/bare-case"
_service_ids: dict[str, int] = {}


@csrf_exempt
def bare_case(request: HttpRequest) -> JsonResponse:
    """Parse the same JSON body and insert one case row: the least an intake can do.

    The service id is looked up once and remembered, so a request is one INSERT.
    """
    from promisedesk.cases.models import Case, Service

    body = json.loads(request.body)
    now = timezone.now()
    code = body["service"]
    if code not in _service_ids:
        _service_ids[code] = Service.objects.values_list("id", flat=True).get(code=code)
    service_id = _service_ids[code]
    case = Case.objects.create(
        external_ref=body.get("external_ref"),
        customer_id=body["customer"],
        service_id=service_id,
        opened_at=now,
        last_event_at=now,
        created_at=now,
    )
    return JsonResponse({"id": case.pk}, status=201)


urlpatterns = [*project_urlpatterns, path(BARE_PATH.lstrip("/"), bare_case)]
