"""Which promise versions apply to a case."""

from __future__ import annotations

from datetime import datetime

from django.db.models import Q

from .models import PromiseVersion, VersionStatus


def versions_for_case(
    *, opened_at: datetime, service: str, channel: str, tier: str, priority: str, case_kind: str = "service"
) -> list[PromiseVersion]:
    """The versions that apply to a case opened at opened_at.

    Each promise contributes the version that was in force when the case started
    (consistency); a back-dated case from before a promise existed is judged by the
    version published now, so importing history still attaches today's promises.
    """
    candidates = PromiseVersion.objects.filter(
        Q(status=VersionStatus.PUBLISHED) | Q(published_at__isnull=False, published_at__lte=opened_at)
    ).select_related("promise", "calendar")
    by_promise: dict[int, list[PromiseVersion]] = {}
    for version in candidates:
        by_promise.setdefault(version.promise_id, []).append(version)
    chosen: list[PromiseVersion] = []
    for versions in by_promise.values():
        in_force = [v for v in versions if v.in_force_at(opened_at)]
        pick = in_force[0] if in_force else None
        if pick is None and not any(v.published_at and v.published_at <= opened_at for v in versions):
            pick = next((v for v in versions if v.status == VersionStatus.PUBLISHED), None)
        if pick is not None and pick.applies(
            service=service, channel=channel, tier=tier, priority=priority, case_kind=case_kind
        ):
            chosen.append(pick)
    return sorted(chosen, key=lambda v: v.promise.code)
