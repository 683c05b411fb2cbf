"""Stats API v1: the one error type, answered as `{"error": message}` with its status."""

from __future__ import annotations


class V1Error(ValueError):
    """A request v1 refuses; `status` is the HTTP status (400 unless said otherwise)."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.message, self.status = message, status
