"""Fixtures: a real SMTP server (aiosmtpd) and a real HTTP webhook receiver that checks
every signature, each on a free local port; settings pointing the worker at them."""

from __future__ import annotations

import email
import email.policy
import json
import socket
import threading
from collections.abc import Iterator
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from aiosmtpd.controller import Controller

from shared.notify.signing import SIGNATURE_HEADER, verify_signature
from tests.beacon.helpers import stop_created_writers  # noqa: F401 - an autouse fixture


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Inbox:
    """aiosmtpd handler: every message the server accepted, parsed."""

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []
        self.envelopes: list[tuple[str, list[str]]] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        parsed = email.message_from_bytes(envelope.content, policy=email.policy.default)
        assert isinstance(parsed, EmailMessage)
        self.messages.append(parsed)
        self.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
        return "250 Message accepted for delivery"


class SmtpServer:
    def __init__(self, port: int) -> None:
        self.port = port
        self.inbox = Inbox()
        self.controller: Controller | None = None

    def start(self) -> SmtpServer:
        self.controller = Controller(self.inbox, hostname="127.0.0.1", port=self.port)
        self.controller.start()
        return self

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None

    @property
    def url(self) -> str:
        return f"smtp://127.0.0.1:{self.port}?tls=off"


@pytest.fixture
def smtp_server() -> Iterator[SmtpServer]:
    server = SmtpServer(free_port()).start()
    yield server
    server.stop()


class Receiver:
    """A webhook receiver: verifies each request's signature with the secret it is
    given, records the request, answers `status` (200 by default)."""

    def __init__(self) -> None:
        self.secrets: dict[str, str] = {}     # path -> secret
        self.requests: list[dict[str, Any]] = []
        self.status = 200
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's name
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                secret = receiver.secrets.get(self.path, "")
                header = self.headers.get(SIGNATURE_HEADER, "")
                receiver.requests.append({
                    "path": self.path, "body": body, "headers": dict(self.headers),
                    "verified": verify_signature(secret, header, body),
                    "json": json.loads(body)})
                self.send_response(receiver.status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver()
    r.thread.start()
    yield r
    r.server.shutdown()
    r.server.server_close()


@pytest.fixture
def notify_env(monkeypatch: pytest.MonkeyPatch, smtp_server: SmtpServer, db_url: str,
               tmp_path: Any) -> SmtpServer:
    """The worker's settings (read from the environment): this SMTP server, a public URL."""
    monkeypatch.setenv("BEACON_SMTP_URL", smtp_server.url)
    monkeypatch.setenv("BEACON_MAIL_FROM", "Beacon <stats@example.org>")
    monkeypatch.setenv("BEACON_PUBLIC_URL", "https://stats.example.org")
    monkeypatch.setenv("DATABASE_URL", db_url)
    monkeypatch.setenv("BEACON_DATA_DIR", str(tmp_path / "data"))
    return smtp_server
