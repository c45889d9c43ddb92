"""`promisedesk deliver --once`: one pass, a one-line summary."""

from __future__ import annotations

import io

import pytest
from django.core.management import CommandError, call_command

from promisedesk.notifications.models import OutboxMessage

from .conftest import webhook_message
from .servers import Reply

pytestmark = pytest.mark.django_db


def test_deliver_once_prints_a_summary(receiver, endpoint, clock) -> None:
    receiver.script.extend([Reply(204), Reply(503), Reply(404)])
    for n in range(3):
        webhook_message(endpoint, clock.now, n)
    out = io.StringIO()

    call_command("deliver", "--once", "--now", clock.now.isoformat(), "--batch", "2", stdout=out)

    assert out.getvalue().strip() == "deliver: 1 sent, 1 to retry, 1 failed"
    assert sorted(OutboxMessage.objects.values_list("status", flat=True)) == ["failed", "pending", "sent"]


@pytest.mark.parametrize(
    ("args", "error"),
    [(["--batch", "0"], "--batch must be at least 1"), (["--now", "2026-03-02T09:00"], "needs a UTC offset")],
)
def test_deliver_refuses_bad_options(db, args, error) -> None:
    with pytest.raises(CommandError, match=error):
        call_command("deliver", "--once", *args)
