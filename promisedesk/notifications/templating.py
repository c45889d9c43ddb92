"""Message wording: the built-in templates per event, managers' overrides, and what an override may do.

Messages are plain text (email bodies, SMS, subjects), so they render with autoescape
off: "O'Brien" stays O'Brien. An override is Django template language and nothing more:
it may use variables, filters, if/for/with, translation and time-zone tags; it may not
include or extend other templates, load other tag libraries, dump the context
(`{% debug %}`) or reverse URLs. It sees the context through `sandbox`: plain values,
model fields and properties — no methods, no users, no secrets — so an edited template
cannot reach further than the message it words.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import FieldDoesNotExist
from django.db.models import Model
from django.template import Context, Engine, Template, TemplateSyntaxError, defaulttags
from django.template.backends.django import get_installed_libraries
from django.template.base import Node, TextNode, VariableNode
from django.template.utils import get_app_template_dirs
from django.templatetags import i18n, l10n, tz

from promisedesk.errors import DomainError

LANGUAGES = ("zh-Hans", "en")
MAX_SUBJECT = 300  # OutboxMessage.subject
MAX_SUBJECT_SOURCE = 2000  # NotificationTemplate.subject
FOLDER = "notifications"

# Tags an override may use; any other (include, extends, debug, url, csrf_token …) is refused.
ALLOWED_NODES: tuple[type[Node], ...] = (
    TextNode,
    VariableNode,
    defaulttags.AutoEscapeControlNode,
    defaulttags.CommentNode,
    defaulttags.CycleNode,
    defaulttags.FilterNode,
    defaulttags.FirstOfNode,
    defaulttags.ForNode,
    defaulttags.IfChangedNode,
    defaulttags.IfNode,
    defaulttags.LoadNode,
    defaulttags.NowNode,
    defaulttags.RegroupNode,
    defaulttags.ResetCycleNode,
    defaulttags.SpacelessNode,
    defaulttags.VerbatimNode,
    defaulttags.WidthRatioNode,
    defaulttags.WithNode,
    i18n.BlockTranslateNode,
    i18n.GetCurrentLanguageNode,
    i18n.LanguageNode,
    i18n.TranslateNode,
    tz.GetCurrentTimezoneNode,
    tz.LocalTimeNode,
    tz.TimezoneNode,
    l10n.LocalizeNode,
)
# Words in a field or property name that an override never sees.
HIDDEN = ("password", "secret", "token", "digest")
PLAIN = (str, int, float, Decimal, bool, type(None), datetime, date, time, timedelta)


@cache
def builtin_engine() -> Engine:
    """The engine of the built-in text templates: the project's template folders, no autoescape."""
    configured: list[dict[str, Any]] = settings.TEMPLATES
    dirs = [str(d) for options in configured for d in options.get("DIRS", [])]
    return Engine(dirs=dirs, app_dirs=True, autoescape=False, libraries=get_installed_libraries())


@cache
def override_engine() -> Engine:
    """The engine of managers' overrides: no template files, only the i18n, tz and l10n libraries."""
    libraries = {"i18n": "django.templatetags.i18n", "tz": "django.templatetags.tz", "l10n": "django.templatetags.l10n"}
    return Engine(loaders=[], autoescape=False, libraries=libraries)


@cache
def events() -> tuple[str, ...]:
    """Every event with a built-in template: a `notifications/<event>.subject.txt` and
    `notifications/<event>.txt` pair in any app's templates or the project's."""
    dirs: list[Any] = [*builtin_engine().dirs, *get_app_template_dirs("templates")]
    folders = [Path(d) / FOLDER for d in dirs]
    found = {
        path.name.removesuffix(".subject.txt")
        for folder in folders
        if folder.is_dir()
        for path in folder.glob("*.subject.txt")
        if (folder / path.name.replace(".subject.txt", ".txt")).is_file()
    }
    return tuple(sorted(found))


def builtin_source(event: str) -> tuple[str, str]:
    """The (subject, body) source of event's built-in template."""
    engine = builtin_engine()
    subject = engine.get_template(f"{FOLDER}/{event}.subject.txt").source
    body = engine.get_template(f"{FOLDER}/{event}.txt").source
    return subject, body


def render_builtin(event: str, context: dict[str, Any]) -> tuple[str, str]:
    """(subject, body) from event's built-in template, in the active language."""
    engine = builtin_engine()
    subject = engine.get_template(f"{FOLDER}/{event}.subject.txt").render(Context(context, autoescape=False))
    body = engine.get_template(f"{FOLDER}/{event}.txt").render(Context(context, autoescape=False))
    return _subject_line(subject), body.strip()


def compile_override(source: str, field: str) -> Template:
    """An override's source as a template; DomainError 422 when it does not parse or uses a
    tag an override may not (the message names the problem, field names subject or body)."""
    try:
        template = override_engine().from_string(source)
    except TemplateSyntaxError as exc:
        raise DomainError("template_syntax", f"{field}: {exc}", field, status=422) from exc
    for node in template.nodelist.get_nodes_by_type(Node):
        if not isinstance(node, ALLOWED_NODES):
            token = getattr(node, "token", None)
            tag = token.contents.split()[0] if token is not None else type(node).__name__
            raise DomainError("template_forbidden", f"{field}: the tag {{% {tag} %}} is not allowed", field, status=422)
    return template


def render_override(subject: str, body: str, context: dict[str, Any]) -> tuple[str, str]:
    """(subject, body) from a manager's override, seeing the context only through sandbox."""
    safe = {str(name): sandbox(value) for name, value in context.items()}
    rendered_subject = compile_override(subject, "subject").render(Context(safe, autoescape=False))
    rendered_body = compile_override(body, "body").render(Context(safe, autoescape=False))
    return _subject_line(rendered_subject), rendered_body.strip()


def _subject_line(text: str) -> str:
    """A subject is one line (a template's line breaks must not become header continuations),
    and at most MAX_SUBJECT characters, what the outbox stores."""
    return " ".join(text.split())[:MAX_SUBJECT]


def sandbox(value: Any) -> Any:
    """What an override sees of a context value: plain values as they are, containers element
    by element, model instances through Sandboxed, and anything else only as its text."""
    if isinstance(value, PLAIN):
        return value
    if isinstance(value, Model):
        return Sandboxed(value)
    if isinstance(value, dict):
        return {str(k): sandbox(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [sandbox(v) for v in value]
    return str(value)


class Sandboxed:
    """A model instance as an override sees it: its fields (hidden ones and users left out),
    related rows through foreign keys (sandboxed the same way), properties, and the display
    of fields with choices. No method is ever called; the template language cannot reach
    `_obj` (it refuses names starting with an underscore)."""

    __slots__ = ("_obj",)

    def __init__(self, obj: Model):
        self._obj = obj

    def __str__(self) -> str:
        return str(self._obj)

    def __getitem__(self, name: str) -> Any:
        obj = self._obj
        if any(word in name for word in HIDDEN):
            raise KeyError(name)
        if name in ("pk", "id"):
            return obj.pk
        if name.startswith("get_") and name.endswith("_display"):
            field = _field(obj, name[4:-8])
            if field is not None and field.choices:
                return getattr(obj, name)()
            raise KeyError(name)
        field = _field(obj, name)
        if field is not None and field.concrete:
            if field.is_relation and field.related_model is get_user_model():
                raise KeyError(name)  # who did something is not the customer's business
            return sandbox(getattr(obj, name))
        if isinstance(getattr(type(obj), name, None), property):
            return sandbox(getattr(obj, name))
        raise KeyError(name)


def _field(obj: Model, name: str) -> Any:
    try:
        return obj._meta.get_field(name)
    except FieldDoesNotExist:
        return None
