"""The one error every action raises for bad input, rendered by the API as API.md says."""

from __future__ import annotations


class DomainError(Exception):
    """A request that cannot be done as asked: 4xx with a code, a sentence and a field."""

    status = 400

    def __init__(self, code: str, message: str, field: str | None = None, status: int | None = None):
        super().__init__(message)
        self.code = code
        self.message = message
        self.field = field
        if status is not None:
            self.status = status


class NotFound(DomainError):
    status = 404

    def __init__(self, what: str, field: str | None = None):
        super().__init__("not_found", f"{what} was not found", field)


class Conflict(DomainError):
    status = 409
