"""The promise lifecycle: draft, edit, publish, retire."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.contrib.auth.models import User
from django.db import IntegrityError, transaction

from promisedesk.calendars.models import BusinessCalendar
from promisedesk.errors import Conflict, DomainError, NotFound

from .models import Kind, Promise, PromiseVersion, VersionStatus
from .rules import normalise_applies_to, normalise_liability, normalise_standard, normalise_statement

EDITABLE = ("title", "statement", "kind", "coverage", "form", "applies_to", "standard", "liability")


def _calendar(value: Any) -> BusinessCalendar | None:
    if value in (None, ""):
        return None
    query = (
        BusinessCalendar.objects.filter(pk=value)
        if isinstance(value, int)
        else BusinessCalendar.objects.filter(name=value)
    )
    found = query.first()
    if found is None:
        raise DomainError("unknown_calendar", f"calendar {value!r} does not exist", "standard.calendar")
    return found


def _validated(fields: dict[str, Any]) -> dict[str, Any]:
    """Check and normalise every field of a version; raises DomainError on the first fault."""
    from promisedesk.cases.models import Service

    kind = fields["kind"]
    if kind not in Kind.values:
        raise DomainError("invalid", f"kind is one of {', '.join(Kind.values)}", "kind")
    standard = dict(fields.get("standard") or {})
    calendar = _calendar(standard.get("calendar"))
    out = dict(fields)
    out["statement"] = normalise_statement(fields["statement"])
    out["standard"] = normalise_standard(standard, kind)
    out["standard"]["calendar"] = calendar.pk if calendar else None
    out["calendar"] = calendar
    out["liability"] = normalise_liability(fields.get("liability"))
    known = set(Service.objects.values_list("code", flat=True))
    out["applies_to"] = normalise_applies_to(fields.get("applies_to"), known_services=known)
    return out


def do_create_promise(*, actor: User | None, now: datetime, code: str, **fields: Any) -> PromiseVersion:
    """Create a promise with its first version, a draft."""
    data = _validated(fields)
    try:
        with transaction.atomic():
            promise = Promise.objects.create(code=code, created_at=now)
            return PromiseVersion.objects.create(
                promise=promise, number=1, status=VersionStatus.DRAFT, created_at=now, created_by=actor, **data
            )
    except IntegrityError as exc:
        raise Conflict("duplicate", f"a promise with code {code!r} exists already", "code") from exc


def latest_version(code: str, *, lock: bool = False) -> PromiseVersion:
    query = PromiseVersion.objects.select_related("promise", "calendar").filter(promise__code=code)
    if lock:
        query = query.select_for_update(of=("self",))
    found = query.order_by("-number").first()
    if found is None:
        raise NotFound(f"promise {code!r}")
    return found


def do_edit_promise(*, actor: User | None, now: datetime, code: str, **changes: Any) -> PromiseVersion:
    """Edit the draft; when the latest version is not a draft, start a new draft from it."""
    with transaction.atomic():
        latest = latest_version(code, lock=True)
        current = {name: getattr(latest, name) for name in EDITABLE}
        current["standard"] = dict(latest.standard)
        if "standard" in changes and changes["standard"] is not None:
            current["standard"] = changes.pop("standard")
        current.update({k: v for k, v in changes.items() if k in EDITABLE})
        data = _validated(current)
        if latest.status == VersionStatus.DRAFT:
            for name, value in data.items():
                setattr(latest, name, value)
            latest.save(update_fields=list(data.keys()))
            return latest
        return PromiseVersion.objects.create(
            promise=latest.promise,
            number=latest.number + 1,
            status=VersionStatus.DRAFT,
            created_at=now,
            created_by=actor,
            **data,
        )


def do_publish_promise(*, actor: User | None, now: datetime, code: str) -> PromiseVersion:
    """Publish the draft; the version it replaces is superseded at the same instant."""
    with transaction.atomic():
        latest = latest_version(code, lock=True)
        if latest.status != VersionStatus.DRAFT:
            raise DomainError("not_draft", f"promise {code!r} has no draft to publish", status=409)
        previous = PromiseVersion.objects.filter(promise=latest.promise, status=VersionStatus.PUBLISHED).first()
        if previous is not None:
            previous.status = VersionStatus.SUPERSEDED
            previous.superseded_at = now
            previous.save(update_fields=["status", "superseded_at"])
        latest.status = VersionStatus.PUBLISHED
        latest.published_at = now
        latest.published_by = actor  # type: ignore[assignment]
        latest.save(update_fields=["status", "published_at", "published_by"])
        return latest


def do_retire_promise(*, actor: User | None, now: datetime, code: str) -> PromiseVersion:
    """Withdraw the published version: new cases no longer get it; open ones keep it."""
    with transaction.atomic():
        latest_version(code)  # 404 for an unknown code
        published = (
            PromiseVersion.objects.select_for_update(of=("self",))
            .filter(promise__code=code, status=VersionStatus.PUBLISHED)
            .first()
        )
        if published is None:
            raise DomainError("not_published", f"promise {code!r} has no published version to retire", status=409)
        published.status = VersionStatus.RETIRED
        published.retired_at = now
        published.retired_by = actor  # type: ignore[assignment]
        published.save(update_fields=["status", "retired_at", "retired_by"])
        return published
