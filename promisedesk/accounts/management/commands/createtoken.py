from __future__ import annotations

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from promisedesk.accounts.actions import do_create_token


class Command(BaseCommand):
    help = "Print a new API token for USERNAME (as the last line)."

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--label", default="command line")

    def handle(self, *args, username: str, label: str, **options):
        try:
            user = get_user_model().objects.get(username=username)
        except get_user_model().DoesNotExist as exc:
            raise CommandError(f"no user named {username!r}") from exc
        self.stdout.write(do_create_token(user, timezone.now(), label=label))
