"""Real servers on 127.0.0.1 and a free port, in this process: an SMTP server (aiosmtpd), a
webhook receiver that checks Standard Webhooks signatures, and an SMS provider speaking
Twilio's REST API. The tests and bench/outbox.py deliver to them over real sockets."""

from __future__ import annotations

import asyncio
import base64
import email
import itertools
import json
import threading
from collections import deque
from dataclasses import dataclass, field
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Self, cast
from urllib.parse import parse_qs

from aiosmtpd.controller import Controller
from standardwebhooks import Webhook
from standardwebhooks.webhooks import WebhookVerificationError

# How long a held response waits at most for the test to let it go.
HOLD_LIMIT = 30.0


@dataclass
class Received:
    """One request as the server saw it."""

    path: str
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class Reply:
    status: int
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""


class HttpServer:
    """Answers each POST with the next scripted Reply (then `default`) and keeps what it got.
    While `hold` is set to an Event, answers wait for it: a receiver that does not answer."""

    default = Reply(204)

    def __init__(self) -> None:
        self.received: list[Received] = []
        self.script: deque[Reply] = deque()
        self.hold: threading.Event | None = None
        self.lock = threading.Lock()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(self))
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, args=(0.01,), daemon=True)

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host!s}:{port}"

    def __enter__(self) -> Self:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self.hold is not None:
            self.hold.set()
        self.server.shutdown()
        self.server.server_close()

    def answer(self, request: Received) -> Reply:
        """Record request and pick its reply; subclasses check it first."""
        with self.lock:
            self.received.append(request)
            return self.script.popleft() if self.script else self.default


def _handler_for(owner: HttpServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive, as a real receiver

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            request = Received(self.path, {k.lower(): v for k, v in self.headers.items()}, self.rfile.read(length))
            reply = owner.answer(request)
            if owner.hold is not None:
                owner.hold.wait(HOLD_LIMIT)
            self.send_response(reply.status)
            for name, value in reply.headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(reply.body)))
            self.end_headers()
            self.wfile.write(reply.body)

        def log_message(self, format: str, *args: Any) -> None:
            pass  # quiet

    return Handler


class WebhookReceiver(HttpServer):
    """Checks every delivery with standardwebhooks.Webhook.verify against `secret` (when set):
    a bad signature is answered 401 and counted in `rejected`; good ones go to `deliveries`."""

    def __init__(self, secret: str | None = None) -> None:
        super().__init__()
        self.secret = secret
        self.deliveries: list[Received] = []
        self.rejected: list[tuple[Received, str]] = []

    def answer(self, request: Received) -> Reply:
        if self.secret is not None:
            try:
                Webhook(self.secret).verify(request.body, request.headers)
            except WebhookVerificationError as exc:
                with self.lock:
                    self.rejected.append((request, str(exc)))
                return Reply(401, body=b"bad signature")
        reply = super().answer(request)
        if 200 <= reply.status < 300:
            with self.lock:
                self.deliveries.append(request)
        return reply

    def ids(self) -> list[str]:
        """The webhook-id of every delivery, in order of arrival."""
        return [d.headers["webhook-id"] for d in self.deliveries]


class FakeTwilio(HttpServer):
    """Twilio's `POST /2010-04-01/Accounts/{sid}/Messages.json`: basic auth (sid, token), form
    fields To, From and Body; answers 201 with a JSON body carrying the message's sid."""

    def __init__(self, sid: str = "AC0123456789abcdef", token: str = "twilio-token") -> None:
        super().__init__()
        self.sid, self.token = sid, token
        self.sent: list[dict[str, str]] = []
        self.numbers = itertools.count(1)

    def answer(self, request: Received) -> Reply:
        expected = "Basic " + base64.b64encode(f"{self.sid}:{self.token}".encode()).decode()
        if request.headers.get("authorization") != expected:
            return Reply(401, {"Content-Type": "application/json"}, b'{"code": 20003, "message": "Authenticate"}')
        if request.path != f"/2010-04-01/Accounts/{self.sid}/Messages.json":
            return Reply(404, {"Content-Type": "application/json"}, b'{"code": 20404}')
        reply = super().answer(request)
        if reply is not self.default:
            return reply
        form = {k: v[0] for k, v in parse_qs(request.body.decode()).items()}
        sid = f"SM{next(self.numbers):032x}"
        with self.lock:
            self.sent.append(form | {"sid": sid})
        body = json.dumps({"sid": sid, "status": "queued", "to": form.get("To")}).encode()
        return Reply(201, {"Content-Type": "application/json"}, body)


class SmtpSink:
    """An aiosmtpd handler keeping every message; `rcpt_reply` / `data_reply` (e.g. "550 5.1.1
    no such user") make it refuse recipients or the message instead."""

    def __init__(self) -> None:
        self.messages: list[Message] = []
        self.rcpt_reply: str | None = None
        self.data_reply: str | None = None

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str, rcpt_options: Any) -> str:
        if self.rcpt_reply:
            return self.rcpt_reply
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if self.data_reply:
            return self.data_reply
        self.messages.append(email.message_from_bytes(envelope.content))
        return "250 Message accepted for delivery"


class SmtpServer(Controller):
    """aiosmtpd's Controller on 127.0.0.1 and a free port (it cannot find its own port 0 itself)."""

    def __init__(self, sink: SmtpSink) -> None:
        super().__init__(sink, hostname="127.0.0.1", port=0)
        self.sink = sink

    def _trigger_server(self) -> None:
        server = cast(asyncio.Server, self.server)
        self.port = server.sockets[0].getsockname()[1]
        super()._trigger_server()
