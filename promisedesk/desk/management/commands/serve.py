from __future__ import annotations

import threading

from django.conf import settings
from django.core.management.base import BaseCommand
from django.utils import timezone
from waitress import serve  # type: ignore[import-untyped]

from promisedesk.commitments.worker import run_worker
from promisedesk.wsgi import application


class Command(BaseCommand):
    help = "Serve the web UI and API with the background worker beside it."

    def add_arguments(self, parser):
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument("--no-worker", action="store_true", help="serve only; run `promisedesk worker` apart")

    def handle(self, *args, host: str, port: int, no_worker: bool, **options):
        stop = threading.Event()
        if not no_worker:
            worker = threading.Thread(
                target=run_worker,
                args=(stop, settings.PROMISEDESK_SWEEP_INTERVAL, timezone.now),
                daemon=True,
                name="promisedesk-worker",
            )
            worker.start()
        self.stdout.write(f"promisedesk on http://{host}:{port}/ (worker {'off' if no_worker else 'on'})")
        try:
            serve(application, host=host, port=port, threads=8)
        finally:
            stop.set()
