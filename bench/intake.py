"""Cases per second through the HTTP API against a bare view that inserts one row.

Both go through the same django.test.Client, the same middleware and the same JSON
body with the same bearer token header; the API request authenticates the token,
validates the body, opens the case, attaches three applicable published promises
(two with business-hour clocks on a CN calendar, one without a clock), records the
timeline, starts the clocks and renders the case. The bare view parses the body
and inserts one case row.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Sequence
from typing import Any

from bench.common import Result, fail, heading, line, parse_args, profile, report, setup_django, sizes

TARGET = 1 / 3
WINDOWS = [["09:00", "12:00"], ["13:00", "18:00"]]
TWO_WINDOWS = {d: WINDOWS for d in ("mon", "tue", "wed", "thu", "fri")}
LIABILITY = {"kind": "voucher", "amount": "20.00", "currency": "CNY", "automatic": True}
ANY = {"services": [], "channels": [], "customer_tiers": [], "priorities": []}


class Api:
    """JSON over django.test.Client with a bearer token, as an integrator would call it."""

    def __init__(self, token: str):
        from django.test import Client

        self.client = Client()
        self.headers = {"HTTP_AUTHORIZATION": f"Bearer {token}"}

    def post(self, path: str, body: dict[str, Any]) -> Any:
        return self.client.post(path, data=json.dumps(body), content_type="application/json", **self.headers)

    def must(self, path: str, body: dict[str, Any], status: tuple[int, ...] = (200, 201)) -> dict[str, Any]:
        response = self.post(path, body)
        if response.status_code not in status:
            fail(f"POST {path} answered {response.status_code}: {response.content[:500]!r}")
        return response.json()


def _promise(code: str, title: str, kind: str, standard: dict[str, Any]) -> dict[str, Any]:
    return {
        "code": code,
        "title": title,
        "statement": {"en": title + ".", "zh-Hans": title + "。"},
        "kind": kind,
        "applies_to": ANY,
        "standard": standard,
        "liability": LIABILITY,
    }


def set_up() -> tuple[Api, int]:
    """A staff token, a CN calendar, a service, three published promises and a customer."""
    from django.contrib.auth import get_user_model
    from django.utils import timezone

    from promisedesk.accounts.actions import do_create_token

    user = get_user_model().objects.create_user("bench", password="bench-password-1", is_staff=True)
    user.is_superuser = True  # whatever permissions intake grows, the benchmark may open cases
    user.save(update_fields=["is_superuser"])
    api = Api(do_create_token(user, timezone.now()))
    calendar = api.must(
        "/api/v1/calendars",
        {"name": "Bench office", "timezone": "Asia/Shanghai", "weekly_hours": TWO_WINDOWS, "region": "CN"},
    )
    api.must("/api/v1/services", {"code": "install", "name": "Installation", "price": "68.00", "currency": "CNY"})
    promises = [
        _promise(
            "reply-4h",
            "We reply within 4 working hours",
            "time",
            {"stop_on": ["first_response"], "target": "PT4H", "calendar": calendar["id"], "warn_at": "75%"},
        ),
        _promise(
            "resolve-16h",
            "We resolve within 16 working hours",
            "time",
            {"stop_on": ["resolved"], "target": "PT16H", "calendar": calendar["id"], "warn_at": "PT2H"},
        ),
        _promise("courtesy", "Our staff are courteous", "behaviour", {"breach_by": "verified_report"}),
    ]
    for body in promises:
        api.must("/api/v1/promises", body)
        api.must(f"/api/v1/promises/{body['code']}/publish", {})
    customer = api.must("/api/v1/customers", {"name": "Li Lei", "email": "li@example.com", "tier": "gold"})
    return api, customer["id"]


def _run(api: Api, path: str, customer: int, prefix: str, n: int, start: int) -> float:
    """Post n cases to path; returns seconds."""
    post = api.post
    began = time.perf_counter()
    for i in range(start, start + n):
        response = post(path, {"customer": customer, "service": "install", "external_ref": f"{prefix}-{i}"})
        if response.status_code != 201:
            fail(f"POST {path} answered {response.status_code}: {response.content[:500]!r}")
    return time.perf_counter() - began


def main(argv: Sequence[str] | None = None) -> list[Result]:
    args = parse_args(__doc__.splitlines()[0], argv)  # type: ignore[union-attr]
    n = sizes(args.quick, 1_000, 150)
    rounds = sizes(args.quick, 3, 2)
    setup_django("intake", keep=args.keep)
    from django.conf import settings

    from bench.intake_urls import BARE_PATH

    settings.ROOT_URLCONF = "bench.intake_urls"
    api, customer = set_up()
    heading(f"intake: {n:,} cases per round, best of {rounds} rounds, one process")
    first = api.must("/api/v1/cases", {"customer": customer, "service": "install", "external_ref": "check"})
    attached = sorted(c["promise_code"] for c in first["commitments"])
    line("promises attached to each case", ", ".join(attached))
    if len(attached) != 3:
        fail(f"expected three commitments per case, got {attached}")
    _run(api, "/api/v1/cases", customer, "warm-api", 50, 0)  # warm up both paths
    _run(api, BARE_PATH, customer, "warm-bare", 50, 0)

    best: dict[str, float] = {"api": float("inf"), "bare": float("inf")}
    runs: dict[str, Callable[[int], float]] = {
        "bare": lambda r: _run(api, BARE_PATH, customer, "bare", n, r * n),
        "api": lambda r: _run(api, "/api/v1/cases", customer, "api", n, r * n),
    }
    for r in range(rounds):  # interleaved, so that a noisy moment hits both alike
        for name, run in runs.items():
            best[name] = min(best[name], run(r))
    api_rate, bare_rate = n / best["api"], n / best["bare"]
    line("POST /api/v1/cases (3 promises, 2 clocks)", f"{api_rate:8.0f} cases/s  ({best['api'] / n * 1e3:.2f} ms each)")
    line("baseline: bare view inserting one row", f"{bare_rate:8.0f} cases/s  ({best['bare'] / n * 1e3:.2f} ms each)")
    if args.profile:
        profile(lambda: _run(api, "/api/v1/cases", customer, "profile", min(n, 300), 0), "POST /api/v1/cases", 30)
    ratio = api_rate / bare_rate
    heading("intake results")
    results = [
        Result(
            "intake through the API",
            ratio,
            f"{ratio:.2f} of the bare view ({api_rate:.0f} vs {bare_rate:.0f} cases/s)",
            f"≥ {TARGET:.2f}",
            ratio >= TARGET,
        )
    ]
    report(results, args.summary)
    return results


if __name__ == "__main__":
    main()
