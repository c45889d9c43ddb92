"""Shared pieces of the API's schemas: strict input, pagination."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from ninja import Schema
from pydantic import ConfigDict, field_validator

MAX_PAGE = 500
MAX_OFFSET = 10**9


def _has_nul(value: Any) -> bool:
    # A stack, not recursion: JSON from a client may nest deeper than Python's recursion limit.
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            if "\x00" in item:
                return True
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list | tuple):
            stack.extend(item)
    return False


class Input(Schema):
    """Request bodies refuse fields they do not know, so a typo is an error, not a no-op.

    Text with a NUL character is refused too: PostgreSQL cannot store one, and no
    person typed it.
    """

    model_config = ConfigDict(extra="forbid")

    @field_validator("*", mode="before")
    @classmethod
    def _no_nul(cls, value: Any) -> Any:
        if _has_nul(value):
            raise ValueError("text may not contain NUL characters")
        return value


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
