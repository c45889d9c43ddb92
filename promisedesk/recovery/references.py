"""Reading case references from a pasted list or an uploaded CSV, and finding their cases.

A reference is a case's `external_ref`, or its id (`123` or `#123`) when no case has that
text as its external_ref. A CSV may have one reference per line, or a header row naming
the column to use (`external_ref`, `reference`, `ref`, `case` or `id`); blank lines are
ignored and a reference listed twice counts once.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field

from promisedesk.cases.models import Case
from promisedesk.errors import DomainError

MAX_REFERENCES = 50_000
MAX_CSV_BYTES = 5 * 1024 * 1024
MAX_REFERENCE = 100
HEADER_NAMES = ("external_ref", "reference", "ref", "case", "case_id", "id")
CHUNK = 900  # below SQLite's limit on query parameters


@dataclass
class Reference:
    text: str
    line: int


@dataclass
class Resolved:
    """Case ids found for the references, and the references that name no case (with their line)."""

    case_ids: list[int] = field(default_factory=list)
    unknown: list[Reference] = field(default_factory=list)

    def unknown_text(self, limit: int = 20) -> str:
        shown = ", ".join(f"{ref.text!r} (line {ref.line})" for ref in self.unknown[:limit])
        more = len(self.unknown) - limit
        return shown + (f" and {more} more" if more > 0 else "")


class UnknownReferences(DomainError):
    """Some references name no case (400 unknown_references); `unknown` lists them for the desk's wording."""

    def __init__(self, resolved: Resolved):
        super().__init__(
            "unknown_references",
            f"{len(resolved.unknown)} reference(s) match no case, nothing was attached: {resolved.unknown_text()}",
            "references",
        )
        self.unknown = resolved.unknown


def parse_csv(data: bytes) -> list[Reference]:
    """The references in an uploaded CSV (UTF-8, with or without a byte-order mark)."""
    if len(data) > MAX_CSV_BYTES:
        raise DomainError("too_large", f"the file is larger than {MAX_CSV_BYTES // (1024 * 1024)} MB", "file")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise DomainError("invalid_csv", "the file is not UTF-8 text", "file") from exc
    if "\x00" in text:
        raise DomainError("invalid_csv", "the file is not a text CSV", "file")
    try:
        rows = list(csv.reader(io.StringIO(text)))
    except csv.Error as exc:
        raise DomainError("invalid_csv", f"the CSV could not be read: {exc}", "file") from exc
    column = 0
    start = 0
    if rows and rows[0]:
        header = [cell.strip().lower() for cell in rows[0]]
        named = [i for i, cell in enumerate(header) if cell in HEADER_NAMES]
        if named:
            column, start = named[0], 1
    found = [
        Reference(row[column].strip(), number)
        for number, row in enumerate(rows[start:], start=start + 1)
        if len(row) > column and row[column].strip()
    ]
    return check_references(found)


def from_list(texts: list[str]) -> list[Reference]:
    """References given as a JSON list; their "line" is their position, counting from 1."""
    return check_references([Reference(text.strip(), n) for n, text in enumerate(texts, start=1) if text.strip()])


def check_references(references: list[Reference]) -> list[Reference]:
    if not references:
        raise DomainError("no_references", "no case references were given", "references")
    if len(references) > MAX_REFERENCES:
        raise DomainError("too_many", f"at most {MAX_REFERENCES} references at once", "references")
    long = next((ref for ref in references if len(ref.text) > MAX_REFERENCE), None)
    if long is not None:
        raise DomainError("invalid", f"the reference on line {long.line} is too long to be one", "references")
    seen: set[str] = set()
    unique = []
    for ref in references:
        if ref.text not in seen:
            seen.add(ref.text)
            unique.append(ref)
    return unique


def resolve(references: list[Reference]) -> Resolved:
    """Match references to cases: external_ref first, then an id."""
    texts = [ref.text for ref in references]
    by_ref: dict[str, int] = {}
    for start in range(0, len(texts), CHUNK):
        chunk = texts[start : start + CHUNK]
        for external_ref, pk in Case.objects.filter(external_ref__in=chunk).values_list("external_ref", "id"):
            by_ref[str(external_ref)] = pk
    id_list = sorted({i for text in texts if text not in by_ref and (i := _as_id(text)) is not None})
    known_ids: set[int] = set()
    for start in range(0, len(id_list), CHUNK):
        known_ids.update(Case.objects.filter(pk__in=id_list[start : start + CHUNK]).values_list("id", flat=True))
    result = Resolved()
    seen: set[int] = set()
    for ref in references:
        as_id = _as_id(ref.text)
        case_id = by_ref.get(ref.text) or (as_id if as_id in known_ids else None)
        if case_id is None:
            result.unknown.append(ref)
        elif case_id not in seen:
            seen.add(case_id)
            result.case_ids.append(case_id)
    return result


def _as_id(text: str) -> int | None:
    digits = text.removeprefix("#")
    if digits.isascii() and digits.isdigit() and len(digits) <= 18:
        return int(digits)
    return None
