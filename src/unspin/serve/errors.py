"""The one exception the server turns into a JSON error: status, a stable machine code, a sentence."""

from __future__ import annotations

from typing import Any


class ApiError(Exception):
    """An error meant for the client: status, a stable machine code and a sentence for people."""

    def __init__(self, status: int, code: str, message: str, details: list[dict[str, Any]] | None = None) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.details = status, code, message, details
