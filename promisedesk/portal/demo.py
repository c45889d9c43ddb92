"""The customer's side in the demo: the hotel guest asked for a photo of the bill sends it from their page.

Idempotent: the form key is fixed, so a second load finds the first submission and adds nothing.
"""

from __future__ import annotations

import base64
from datetime import datetime

from django.core.files.uploadedfile import SimpleUploadedFile

from promisedesk.cases.models import Case, Stage

from .actions import do_customer_message
from .models import SubmissionKind

CASE_REF = "DEMO-LIVE-04"  # the billing complaint whose resolve clock waits for the guest's photo
FORM_KEY = "demo-live-04-bill-photo"
# A tiny image standing in for the guest's photo of the bill.
PHOTO = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAgAAAAICAIAAABLbSncAAAAEUlEQVR4nGP48u0nVsQwtCQALsC4wWlnBWMAAAAASUVORK5CYII="
)


def load(now: datetime) -> None:
    """Send the guest's photo from their case page (which resumes the paused clock), once."""
    case = Case.objects.select_related("customer").filter(external_ref=CASE_REF).first()
    if case is None or case.stage == Stage.CLOSED:
        return
    note = "这是账单照片，折扣没有扣减。" if case.customer.locale.startswith("zh") else "Here is the bill; no discount."
    do_customer_message(
        case,
        now=now,
        key=FORM_KEY,
        text=note,
        kind=SubmissionKind.INFORMATION,
        upload=SimpleUploadedFile("bill.png", PHOTO, content_type="image/png"),
    )
