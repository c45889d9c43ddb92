"""Complaints raised by promisedesk itself: one for every verified breach that calls for recovery.

`PROMISEDESK_RECOVERY_ON_BREACH` chooses which breaches: `claims` (the default: the
customer claimed it, so they are unhappy enough to say so), `all` (every verified
breach) or `none`. Only breaches on service cases count: a broken recovery promise is
worked on the complaint it belongs to, not answered with a complaint about a complaint.

Exactly once, with any number of workers: the complaint case's external_ref is made from
the breach (`breach-<id>`) and `Complaint.source_breach` is unique, so a second worker
finds the first one's complaint (or loses the insert) and moves on.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import IntegrityError
from django.db.models import Q
from django.db.models.functions import Coalesce
from django.utils import translation
from django.utils.translation import gettext

from promisedesk.breaches.models import Breach, Source, Status
from promisedesk.cases.models import CaseKind
from promisedesk.errors import DomainError

from .actions import BREACH_PREFIX, do_open_complaint
from .models import Remedy, Severity

MODES = ("claims", "all", "none")
BATCH = 200
# Turning the setting on does not open complaints about breaches from long ago.
LOOKBACK = timedelta(days=7)


def mode() -> str:
    value = str(settings.PROMISEDESK_RECOVERY_ON_BREACH)
    return value if value in MODES else "claims"


@dataclass
class RaiseResult:
    opened: int = 0
    already: int = 0
    refused: int = 0

    def __bool__(self) -> bool:
        """True when the round opened or refused something (worth a line in a summary)."""
        return bool(self.opened or self.refused)

    def __str__(self) -> str:
        return f"complaints raised {self.opened} (already raised {self.already}, refused {self.refused})"


def external_ref(breach_id: int) -> str:
    return f"{BREACH_PREFIX}{breach_id}"


def breaches_owed(now: datetime, chosen: str) -> list[Breach]:
    """Verified breaches on service cases, recent enough, with no complaint yet (oldest first)."""
    since = now - LOOKBACK
    # Verified later (verified_at) or at once when recorded (recorded_at): each side has its own
    # index (`breach_verified_at`, `breach_queue`), so a round does not read every breach ever made.
    decided_lately = Q(verified_at__gte=since, verified_at__lte=now) | Q(
        verified_at__isnull=True, recorded_at__gte=since, recorded_at__lte=now
    )
    query = (
        Breach.objects.filter(decided_lately, status=Status.VERIFIED, raised_complaint__isnull=True)
        .filter(case__kind=CaseKind.SERVICE)
        .annotate(decided=Coalesce("verified_at", "recorded_at"))
        .select_related("case__customer", "case__department", "commitment__promise_version")
        .order_by("decided", "id")
    )
    if chosen == "claims":
        query = query.filter(Q(source=Source.CLAIM))
    return list(query[:BATCH])


def account_of(breach: Breach) -> str:
    """The complaint's account: the customer's own words when they claimed the breach, else a
    fixed sentence in the customer's language naming the promise (never staff text)."""
    if breach.source == Source.CLAIM and breach.description.strip():
        return breach.description.strip()
    customer = breach.case.customer
    version = breach.commitment.promise_version if breach.commitment is not None else None
    promise = version.statement_in(customer.locale) if version is not None else (breach.promise_code or "")
    with translation.override(customer.locale):
        return gettext("We did not keep our promise to you: “%(promise)s”.") % {"promise": promise}


def raise_for_breaches(now: datetime) -> RaiseResult:
    """One worker round: open a complaint about the case of every verified breach that calls for one."""
    result = RaiseResult()
    chosen = mode()
    if chosen == "none":
        return result
    for breach in breaches_owed(now, chosen):
        case = breach.case
        try:
            _complaint, created = do_open_complaint(
                actor=None,
                now=now,
                account=account_of(breach),
                about_case_id=case.pk,
                channel=case.channel,
                remedy_wanted=Remedy.COMPENSATION if breach.source == Source.CLAIM else Remedy.APOLOGY,
                severity=Severity.HIGH if breach.source == Source.CLAIM else Severity.MEDIUM,
                department=case.department.code if case.department else None,
                external_ref=external_ref(breach.pk),
                source_breach=breach,
            )
        except IntegrityError:  # another worker raised it for the same breach at this moment
            result.already += 1
            continue
        except DomainError:  # e.g. the case's service is gone: nothing this round can fix
            result.refused += 1
            continue
        if created:
            result.opened += 1
        else:
            result.already += 1
    return result
