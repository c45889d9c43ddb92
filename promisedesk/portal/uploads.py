"""Stop an oversized upload while it streams in, instead of after it has filled the disk."""

from __future__ import annotations

from typing import Any

from django.core.files.uploadhandler import FileUploadHandler, SkipFile
from django.http import HttpRequest

# Room for the form's text fields and the multipart boundaries around the file.
FORM_OVERHEAD = 64 * 1024


class SizeLimitHandler(FileUploadHandler):
    """First in the chain: passes chunks on until a file grows past `limit`, then skips it
    and marks the request (`request.upload_too_large`) so the view can say why."""

    def __init__(self, request: HttpRequest, limit: int):
        super().__init__(request)
        self.limit = limit
        self.received = 0

    def new_file(self, *args: Any, **kwargs: Any) -> None:
        super().new_file(*args, **kwargs)
        self.received = 0

    def receive_data_chunk(self, raw_data: bytes, start: int) -> bytes:
        self.received += len(raw_data)
        if self.received > self.limit:
            if self.request is not None:
                self.request.upload_too_large = True  # type: ignore[attr-defined]
            raise SkipFile
        return raw_data

    def file_complete(self, file_size: int) -> None:
        return None  # the next handler in the chain makes the file


def declared_too_large(request: HttpRequest, limit: int) -> bool:
    """A body announced larger than any acceptable form: refused before a byte of it is read."""
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return False
    return length > limit + FORM_OVERHEAD
