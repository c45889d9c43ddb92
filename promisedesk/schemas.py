"""Shared pieces of the API's schemas: strict input, pagination."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from ninja import Schema
from pydantic import ConfigDict

MAX_PAGE = 500
MAX_OFFSET = 10**9


class Input(Schema):
    """Request bodies refuse fields they do not know, so a typo is an error, not a no-op."""

    model_config = ConfigDict(extra="forbid")


def page(queryset: QuerySet, limit: int, offset: int, render: Any) -> dict[str, Any]:
    """One page of a list endpoint: {"items": [...], "count": N}."""
    from promisedesk.errors import DomainError

    if limit < 0 or limit > MAX_PAGE:
        raise DomainError("invalid", f"limit must be between 0 and {MAX_PAGE}", "limit")
    if offset < 0 or offset > MAX_OFFSET:
        raise DomainError("invalid", f"offset must be between 0 and {MAX_OFFSET}", "offset")
    count = queryset.count()
    items = [render(obj) for obj in queryset[offset : offset + limit]]
    return {"items": items, "count": count}
