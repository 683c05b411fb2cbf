"""Notify stage: one webhook call - an HTTP POST to the owner's URL and nothing else.

Redirects are not followed (a 3xx is a failed try): a request goes only to the URL the
owner configured, and never to a scheme other than http(s).
"""

from __future__ import annotations

import urllib.error
import urllib.request
from urllib.parse import urlsplit

TIMEOUT_SECONDS = 10
USER_AGENT = "Beacon-Webhooks/1"


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: object, **kwargs: object) -> None:
        return None


_OPENER = urllib.request.build_opener(_NoRedirects())


class PostError(Exception):
    """The call failed; `status` is the HTTP status when the server answered."""

    def __init__(self, reason: str, status: int | None = None) -> None:
        super().__init__(reason)
        self.status = status


def post_json(url: str, body: bytes, headers: dict[str, str]) -> int:
    """POST `body` to `url`; the 2xx status, else PostError."""
    if urlsplit(url).scheme.lower() not in ("http", "https"):
        raise PostError("refused: webhook URLs must be http or https")
    request = urllib.request.Request(url, data=body, method="POST", headers={  # noqa: S310 - scheme checked above
        "Content-Type": "application/json", "User-Agent": USER_AGENT, **headers})
    try:
        with _OPENER.open(request, timeout=TIMEOUT_SECONDS) as response:
            status = int(response.status)
    except urllib.error.HTTPError as exc:
        raise PostError(f"HTTP {exc.code} {exc.reason}", exc.code) from None
    except (urllib.error.URLError, OSError, ValueError) as exc:
        reason = getattr(exc, "reason", exc)
        raise PostError(f"{type(exc).__name__}: {reason}") from None
    if not 200 <= status < 300:
        raise PostError(f"HTTP {status}", status)
    return status
