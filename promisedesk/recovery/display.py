"""What the desk and the API show for the codes incidents store: notes, run errors, refusals.

Outcome notes, skip reasons and run errors are stored as short codes (with parameters
where a sentence needs them) and put into words only when shown, in the reader's
language; the API shows them in English, a stable text next to the code.
"""

from __future__ import annotations

from typing import Any

from django.utils import translation
from django.utils.translation import gettext_lazy

# Why a run left a case alone (or could not do everything), in words.
SKIP_REASONS: dict[str, Any] = {
    "already_notified": gettext_lazy("told before"),
    "no_contact": gettext_lazy("no email or phone: on their case page only"),
    "already_compensated": gettext_lazy("compensated before"),
    "compensated_otherwise": gettext_lazy("compensated by the other rule"),
    "currency_mismatch": gettext_lazy("paid in another currency"),
    "promise_not_applicable": gettext_lazy("promise not on the case"),
    "already_breached": gettext_lazy("promise already broken"),
    "not_in_force": gettext_lazy("promise cancelled on the case"),
    "unknown_promise": gettext_lazy("no such promise"),
    "above_limit": gettext_lazy("above the launcher's approval limit: waiting for approval"),
    "step_failed": gettext_lazy("could not be done: an unexpected error (see the log)"),
    "kept_first_grant": gettext_lazy("granted before: the first grant is kept"),
    "idempotency_key_taken": gettext_lazy("its breach key is used by another case"),
}

# A note on one case that needs the case's own facts.
CURRENCY_NOTE = gettext_lazy("the case is paid in %(currency)s")

# Why a run stopped.
RUN_ERRORS: dict[str, Any] = {
    "cancelled": gettext_lazy("cancelled by %(by)s"),
    "run_failed": gettext_lazy("stopped by an unexpected error: %(error)s"),
}

# What people are shown for the refusals they meet on the incident pages.
ERROR_TEXTS: dict[str, Any] = {
    "run_in_progress": gettext_lazy("A run of this kind is already running on this incident."),
    "run_running": gettext_lazy("A run is still running on this incident; wait for it or stop it first."),
    "no_cases": gettext_lazy("No cases are attached to the incident yet."),
    "incident_closed": gettext_lazy("The incident is closed."),
    "forbidden": gettext_lazy("Only managers can do this."),
    "no_services": gettext_lazy("The incident names no services to look for cases in."),
    "above_limit": gettext_lazy("Launching this compensation needs approval rights for its amount."),
    "unchanged": gettext_lazy("Nothing to change."),
    "unknown_references": gettext_lazy("Some references are not cases of ours; nothing was attached."),
    "invalid_csv": gettext_lazy("The file is not a CSV of case references."),
    "too_large": gettext_lazy("The file is too large."),
    "too_many": gettext_lazy("Too many references at once."),
    "too_long": gettext_lazy("A text is too long."),
    "no_references": gettext_lazy("Name at least one case reference."),
    "duplicate_code": gettext_lazy("Another incident has this code."),
    "end_before_start": gettext_lazy("The end must be after the start."),
    "unknown_service": gettext_lazy("There is no such service."),
    "unknown_promise": gettext_lazy("There is no promise with this code."),
    "invalid_amount": gettext_lazy("The amount must be more than zero and sensible."),
    "missing_field": gettext_lazy("Something needed is missing."),
    "invalid": gettext_lazy("Something in the form is not valid."),
    "not_running": gettext_lazy("The run is not running any more."),
}


def outcome_note_text(code: str, currency: str = "") -> str:
    """An affected case's outcome note in the active language (unknown codes as they are)."""
    if code == "currency_mismatch" and currency:
        return str(CURRENCY_NOTE) % {"currency": currency}
    return str(SKIP_REASONS.get(code, code))


def run_error_text(code: str, params: dict[str, Any]) -> str:
    """Why a run stopped, in the active language."""
    text = RUN_ERRORS.get(code)
    if text is None:
        return code
    try:
        return str(text) % {"by": "", "error": "", **params}
    except (KeyError, TypeError, ValueError):
        return code


def in_english(render: Any, *args: Any) -> str:
    """The stable English wording the API shows."""
    with translation.override("en"):
        return str(render(*args))
