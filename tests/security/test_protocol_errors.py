"""Requests the HTTP server refuses before the app sees them (a malformed request line,
too many or too large headers, a too long URI) are answered on the real production
server (gunicorn) with the headers SECURITY.md promises, a JSON reason that echoes
nothing of the request, and gunicorn's status; the log names neither the client's
address nor the refused request's text."""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator

import pytest

from tests.beacon.server import BeaconServer
from tests.documented import carries, security_headers

PRIVATE = b"secret-path-7f3a"   # a string of the refused request that must not come back

REFUSED = [
    ("bad request line", b"GARBAGE " + PRIVATE + b"\r\n\r\n", 400),
    ("bad http version", b"GET /" + PRIVATE + b" HTTP/9x\r\nHost: a\r\n\r\n", 400),
    ("too many headers", b"GET / HTTP/1.1\r\nHost: a\r\n"
     + b"".join(b"X-H%d: %s\r\n" % (i, PRIVATE) for i in range(150)) + b"\r\n", 431),
    ("too large header", b"GET / HTTP/1.1\r\nHost: a\r\nX-Big: " + PRIVATE * 600 + b"\r\n\r\n",
     431),
    ("too long uri", b"GET /" + PRIVATE * 600 + b" HTTP/1.1\r\nHost: a\r\n\r\n", 414),
]


def _raw(port: int, request: bytes) -> tuple[int, dict[str, str], bytes]:
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(request)
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
    head, _, body = answer.partition(b"\r\n\r\n")
    status_line, *lines = head.decode("latin-1").split("\r\n")
    headers = dict(line.split(": ", 1) for line in lines)
    return int(status_line.split()[1]), headers, body


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[BeaconServer]:
    folder = tmp_path_factory.mktemp("protocol")
    started = BeaconServer({"BEACON_DATA_DIR": str(folder / "d"),
                            "DATABASE_URL": f"sqlite:///{folder / 'b.db'}"}, workers=1)
    from shared.storage import migrate

    migrate(f"sqlite:///{folder / 'b.db'}")
    yield started.start()
    started.stop()


@pytest.mark.parametrize(("request_bytes", "status"), [(r, s) for _, r, s in REFUSED],
                         ids=[name for name, _, _ in REFUSED])
def test_protocol_errors_carry_the_promised_headers(server: BeaconServer, request_bytes: bytes,
                                                    status: int) -> None:
    everywhere, not_on_scripts = security_headers()
    code, headers, body = _raw(server.port, request_bytes)
    assert code == status
    for name, value in {**everywhere, **not_on_scripts}.items():
        assert carries(headers, name, value), (name, headers)
    assert headers["Content-Type"] == "application/json"
    assert json.loads(body)["errors"][0]["field"] == "request"
    assert PRIVATE not in body and b"<html" not in body.lower()


def test_the_log_of_refused_requests_names_no_client_address(server: BeaconServer) -> None:
    for _, request_bytes, _ in REFUSED:
        _raw(server.port, request_bytes)
    assert server.get("/healthz")[0] == 200      # the worker lives on
    lines = [json.loads(line) for line in server.log.read_text().splitlines() if line]
    refusals = [line["msg"] for line in lines if "could not parse" in line["msg"]]
    assert len(refusals) >= len(REFUSED)
    for line in lines:
        assert "ip=" not in line["msg"] and PRIVATE.decode() not in line["msg"], line
