"""The answer to a request the HTTP server itself refused (gunicorn's protocol errors;
uvicorn's under `beacon web` use `error_answer` too).

gunicorn writes such an answer straight to the socket as an HTML page, without the
headers the beacon promises on every response. `ErrorAnswerSocket` stands in for the
client socket while gunicorn writes it: it keeps gunicorn's status line and replaces
the rest by the beacon's own form - a JSON reason and the security headers. The
reason is the status's phrase only: the refused request line or header is never
echoed back.
"""

from __future__ import annotations

import json
from typing import Any

from beacon_app.security import headers_for

# No path was read: the set of a path that is neither a script nor a hit endpoint
# (the strictest: same-origin, no CORS).
_HEADERS = "".join(f"{name}: {value}\r\n" for name, value in headers_for(""))


def error_answer(status_line: bytes) -> bytes:
    """The full HTTP answer for gunicorn's `HTTP/1.1 <code> <phrase>` status line."""
    version, _, rest = status_line.decode("latin-1").partition(" ")
    code, _, phrase = rest.partition(" ")
    if version != "HTTP/1.1" or not (code.isdigit() and len(code) == 3):
        version, code, phrase = "HTTP/1.1", "400", "Bad Request"
    body = json.dumps({"errors": [{"field": "request", "message": phrase or "Bad Request"}]})
    return (f"{version} {code} {phrase}\r\nConnection: close\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n"
            f"{_HEADERS}\r\n{body}").encode("latin-1")


class ErrorAnswerSocket:
    """A client socket whose `sendall` turns gunicorn's HTML error answer into ours;
    everything else is the socket's own."""

    def __init__(self, sock: Any) -> None:
        self._sock = sock

    def sendall(self, data: bytes) -> None:
        status_line = bytes(data).split(b"\r\n", 1)[0]
        self._sock.sendall(error_answer(status_line))

    def __getattr__(self, name: str) -> Any:
        return getattr(self._sock, name)
