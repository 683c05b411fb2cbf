"""The gunicorn worker of `beacon web`: the beacon's threaded worker, which also hands
the dashboard's websocket upgrades to the dashboard proxy.

WSGI has no way to carry a websocket, so the upgrade is taken before the WSGI call:
the client's socket is detached from gunicorn (which then closes only an empty shell,
never the connection) and given, with the request head already read, to
`DashboardProxy.relay_websocket`. The request thread is free again at once.
"""

from __future__ import annotations

import socket
from typing import Any

from beacon_app.gunicorn_worker import FairThreadWorker
from beacon_cli.dashboard_proxy import DashboardProxy, is_dashboard_path


def is_websocket_upgrade(req: Any) -> bool:
    if req.method != "GET" or not is_dashboard_path(req.path or ""):
        return False
    return any(name == "UPGRADE" and value.strip().lower() == "websocket"
               for name, value in req.headers)


def request_head(req: Any) -> bytes:
    """The request line and headers as the client sent them (names as gunicorn keeps
    them, upper case: header names are case-insensitive)."""
    lines = [f"{req.method} {req.uri} HTTP/{req.version[0]}.{req.version[1]}"]
    lines += [f"{name}: {value}" for name, value in req.headers]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


class OnePortWorker(FairThreadWorker):
    def handle_request(self, req: Any, conn: Any) -> bool:
        proxy = getattr(self.wsgi, "dashboard", None)
        if isinstance(proxy, DashboardProxy) and is_websocket_upgrade(req):
            # Bytes the client sent after the head (none, normally: it waits for 101).
            head = request_head(req) + conn.parser.unreader.take_buffered()
            client = socket.socket(fileno=conn.sock.detach())
            proxy.relay_websocket(client, head)
            return False       # gunicorn forgets the connection; the relay owns it
        return bool(super().handle_request(req, conn))
