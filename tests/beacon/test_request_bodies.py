"""How the Events API reads request bodies, on the real production server (gunicorn):
a chunked body (no Content-Length) is read like any other, a declared length over
the request limit is refused before the body is read, and neither disturbs the good
events around it."""

from __future__ import annotations

import http.client
import json
from pathlib import Path

from sqlalchemy.engine import Engine

from shared.sites import add_site
from tests.beacon.helpers import CHROME_UA
from tests.beacon.server import BeaconServer, wait_stored


def _event(path: str) -> bytes:
    return json.dumps({"n": "pageview", "u": f"https://example.com{path}",
                       "d": "example.com"}).encode()


def _chunked_post(port: int, body: bytes) -> int:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.putrequest("POST", "/api/event")
        conn.putheader("User-Agent", CHROME_UA)
        conn.putheader("Content-Type", "text/plain")
        conn.putheader("Transfer-Encoding", "chunked")
        conn.endheaders()
        for start in range(0, len(body), 7):          # several small chunks
            piece = body[start:start + 7]
            conn.send(f"{len(piece):x}\r\n".encode() + piece + b"\r\n")
        conn.send(b"0\r\n\r\n")
        return conn.getresponse().status
    finally:
        conn.close()


def _declared_too_large(port: int) -> tuple[int, dict]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.putrequest("POST", "/api/event")
        conn.putheader("User-Agent", CHROME_UA)
        conn.putheader("Content-Length", str(50 * 1024 * 1024))
        conn.endheaders()
        conn.send(b'{"n": "pageview"')                # the rest never comes
        resp = conn.getresponse()
        return resp.status, json.loads(resp.read())
    finally:
        conn.close()


def test_chunked_and_oversized_bodies(sqlite_url: str, sqlite_engine: Engine, tmp_path: Path,
                                      servers: list[BeaconServer]) -> None:
    with sqlite_engine.begin() as conn:      # the fixture emptied the shared file
        add_site(conn, "example.com")
    server = BeaconServer({"DATABASE_URL": sqlite_url, "BEACON_DATA_DIR": str(tmp_path / "d"),
                           "BEACON_FLUSH_INTERVAL_MS": "100"}).start()
    servers.append(server)
    assert server.send_event("/before", CHROME_UA)[0] == 202
    assert _chunked_post(server.port, _event("/chunked")) == 202
    status, body = _declared_too_large(server.port)
    assert status == 413 and body["errors"][0]["field"] == "request"
    assert _chunked_post(server.port, b'{"n": "pageview", "u": ') == 400   # cut JSON
    assert server.send_event("/after", CHROME_UA)[0] == 202
    paths = wait_stored(sqlite_url, {"/after", "/before", "/chunked"}, timeout=30)
    assert sorted(paths) == ["/after", "/before", "/chunked"]
