"""`beacon web`'s way to the dashboard: requests under /dashboard/ are passed, unchanged,
to the one Streamlit process listening on a loopback port.

Plain HTTP requests (the page, its scripts, health checks, uploads) go through a WSGI
callable that forwards each request with http.client and streams the answer back.
Streamlit's websocket (`/dashboard/_stcore/stream`) cannot be carried by WSGI: the
gunicorn worker hands the client's socket over (`relay_websocket`), and two threads
copy bytes both ways until either side closes, without holding a request thread.
"""

from __future__ import annotations

import contextlib
import http.client
import socket
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from typing import Any

PREFIX = "/dashboard"
# RFC 9110 section 7.6.1: headers that describe one connection, never forwarded.
HOP_BY_HOP = frozenset({"connection", "keep-alive", "proxy-authenticate",
                        "proxy-authorization", "te", "trailer", "transfer-encoding",
                        "upgrade", "proxy-connection"})
# The dashboard starts in a few seconds; a request arriving before waits that long.
CONNECT_PATIENCE_SECONDS = 15.0
CHUNK = 64 * 1024
StartResponse = Callable[..., Any]


def is_dashboard_path(path: str) -> bool:
    return path.startswith(PREFIX + "/")


def _connect(port: int, timeout: float) -> socket.socket:
    """A connection to the dashboard, waiting while it (re)starts."""
    deadline = time.monotonic() + CONNECT_PATIENCE_SECONDS
    while True:
        try:
            return socket.create_connection(("127.0.0.1", port), timeout=timeout)
        except ConnectionRefusedError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


def _unavailable(start_response: StartResponse) -> list[bytes]:
    body = b"The dashboard is not running at the moment; try again in a few seconds.\n"
    start_response("503 Service Unavailable", [
        ("Content-Type", "text/plain; charset=utf-8"), ("Content-Length", str(len(body))),
        ("Retry-After", "5"), ("Cache-Control", "no-store")])
    return [body]


def _request_headers(environ: dict[str, Any]) -> dict[str, str]:
    headers = {key[5:].replace("_", "-").title(): value
               for key, value in environ.items() if key.startswith("HTTP_")}
    for key, name in (("CONTENT_TYPE", "Content-Type"), ("CONTENT_LENGTH", "Content-Length")):
        if environ.get(key):
            headers[name] = environ[key]
    # The dashboard sees this relay's loopback address as its peer: name the real one, so
    # it never takes a remote browser for a local client (its metrics are for local
    # clients or the token only).
    peer = environ.get("REMOTE_ADDR", "")
    previous = headers.pop("X-Forwarded-For", "")
    headers["X-Forwarded-For"] = f"{previous}, {peer}" if previous else peer
    return {k: v for k, v in headers.items() if k.lower() not in HOP_BY_HOP}


def _request_body(environ: dict[str, Any]) -> bytes | None:
    """The whole body (forwarded with a Content-Length): a chunked one is read to its
    end, as the server decodes it."""
    if "chunked" in environ.get("HTTP_TRANSFER_ENCODING", "").lower():
        return bytes(environ["wsgi.input"].read())
    length = int(environ.get("CONTENT_LENGTH") or 0)
    return bytes(environ["wsgi.input"].read(length)) if length else None


class DashboardProxy:
    """Forwards dashboard requests to the Streamlit process on 127.0.0.1:`port`."""

    def __init__(self, port: int, timeout: float = 60.0) -> None:
        self.port = port
        self.timeout = timeout

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        target = environ.get("RAW_URI") or (
            environ.get("PATH_INFO", "/") + ("?" + environ["QUERY_STRING"]
                                             if environ.get("QUERY_STRING") else ""))
        body = _request_body(environ)
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=self.timeout)
        try:
            conn.sock = _connect(self.port, self.timeout)
            conn.request(environ["REQUEST_METHOD"], target, body=body,
                         headers=_request_headers(environ))
            resp = conn.getresponse()
        except OSError:
            conn.close()
            return _unavailable(start_response)
        headers = [(k, v) for k, v in resp.getheaders() if k.lower() not in HOP_BY_HOP]
        start_response(f"{resp.status} {resp.reason}", headers)
        return self._body(conn, resp)

    @staticmethod
    def _body(conn: http.client.HTTPConnection,
              resp: http.client.HTTPResponse) -> Iterator[bytes]:
        try:
            while chunk := resp.read(CHUNK):
                yield chunk
        finally:
            conn.close()

    def relay_websocket(self, client: socket.socket, head: bytes) -> None:
        """Connect the client's upgraded socket (request `head` already read off it) to
        the dashboard and copy bytes both ways in the background."""
        try:
            upstream = _connect(self.port, self.timeout)
            upstream.settimeout(None)
            upstream.sendall(head)
        except OSError:
            client.sendall(b"HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\n"
                           b"Retry-After: 5\r\nConnection: close\r\n\r\n")
            client.close()
            return
        client.settimeout(None)
        def close_both() -> None:
            client.close()
            upstream.close()

        done = threading.Barrier(2, action=close_both)
        for src, dst in ((client, upstream), (upstream, client)):
            threading.Thread(target=_pipe, args=(src, dst, done), daemon=True,
                             name="dashboard-websocket").start()


def _pipe(src: socket.socket, dst: socket.socket, done: threading.Barrier) -> None:
    """Copy src -> dst until src ends, then end dst's sending side so the other party
    sees the close (after an error, both sockets entirely). The last of the two pipes
    to finish closes both sockets."""
    how = socket.SHUT_WR
    try:
        while data := src.recv(CHUNK):
            dst.sendall(data)
    except OSError:          # a reset: end both directions, waking the other pipe
        how = socket.SHUT_RDWR
    for sock in (dst, src) if how == socket.SHUT_RDWR else (dst,):
        with contextlib.suppress(OSError):
            sock.shutdown(how)
    done.wait()
