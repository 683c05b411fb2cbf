"""How the Events API reads request bodies, on the real production server (gunicorn):
a chunked body (no Content-Length) is read like any other, a body over the request
limit is refused with 413 whether its length is declared or it comes chunked, and
none of them disturbs the good events around it."""

from __future__ import annotations

import http.client
import json
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine

from beacon_app.hits import MAX_BATCH_BYTES
from shared.sites import add_site, new_ingest_token
from tests.beacon.helpers import CHROME_UA
from tests.beacon.server import BeaconServer, stored_paths, wait_stored


def _event(path: str) -> bytes:
    return json.dumps({"n": "pageview", "u": f"https://example.com{path}",
                       "d": "example.com"}).encode()


def _chunked_post(port: int, body: bytes, path: str = "/api/event", chunk: int = 7,
                  headers: dict[str, str] | None = None) -> tuple[int, bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        conn.putrequest("POST", path)
        for name, value in {"User-Agent": CHROME_UA, "Content-Type": "text/plain",
                            "Transfer-Encoding": "chunked", **(headers or {})}.items():
            conn.putheader(name, value)
        conn.endheaders()
        try:
            for start in range(0, len(body), chunk):    # several chunks
                piece = body[start:start + chunk]
                conn.send(f"{len(piece):x}\r\n".encode() + piece + b"\r\n")
            conn.send(b"0\r\n\r\n")
        except BrokenPipeError:   # the server answered (and closed) before the end
            pass
        resp = conn.getresponse()
        return resp.status, resp.read()
    finally:
        conn.close()


def _declared_too_large(port: int, path: str = "/api/event", length: int = 50 * 1024 * 1024,
                        headers: dict[str, str] | None = None) -> tuple[int, dict]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.putrequest("POST", path)
        conn.putheader("User-Agent", CHROME_UA)
        conn.putheader("Content-Length", str(length))
        for name, value in (headers or {}).items():
            conn.putheader(name, value)
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
    assert _chunked_post(server.port, _event("/chunked"))[0] == 202
    status, body = _declared_too_large(server.port)
    assert status == 413 and body["errors"][0]["field"] == "request"
    assert _chunked_post(server.port, b'{"n": "pageview", "u": ')[0] == 400   # cut JSON
    assert server.send_event("/after", CHROME_UA)[0] == 202
    paths = wait_stored(sqlite_url, {"/after", "/before", "/chunked"}, timeout=30)
    assert sorted(paths) == ["/after", "/before", "/chunked"]


@pytest.mark.parametrize("path", ["/api/event", "/api/events"])
def test_a_chunked_body_over_the_limit_is_413_like_a_declared_one(
        path: str, sqlite_url: str, sqlite_engine: Engine, tmp_path: Path,
        servers: list[BeaconServer]) -> None:
    """README: over 5 MB (the batch API's limit) a body is refused with 413 - chunked too
    (it used to be read up to the limit, cut, and refused as bad JSON with 400)."""
    with sqlite_engine.begin() as conn:
        add_site(conn, "example.com")
        token = new_ingest_token(conn, "example.com")
    server = BeaconServer({"DATABASE_URL": sqlite_url, "BEACON_DATA_DIR": str(tmp_path / "d"),
                           "BEACON_FLUSH_INTERVAL_MS": "100"}, workers=1).start()
    servers.append(server)
    auth = {"Authorization": f"Bearer {token}"}
    one_event = b'{"events": [' + _event("/chunked-ok") + b"]}" if path == "/api/events" \
        else _event("/chunked-ok")
    padded = one_event[:-1] + b', "pad": "' + b"x" * MAX_BATCH_BYTES + b'"}'
    status, body = _chunked_post(server.port, padded, path, 65536, auth)
    assert status == 413 and json.loads(body)["errors"][0]["field"] == "request"
    assert _declared_too_large(server.port, path, len(padded), auth)[0] == 413
    exactly = one_event + b" " * (MAX_BATCH_BYTES - len(one_event))   # at the limit: read
    status, body = _chunked_post(server.port, exactly, path, 65536, auth)
    assert status == (202 if path == "/api/events" else 400), body   # 400: over 64 KB
    assert _chunked_post(server.port, one_event, path, 7, auth)[0] == 202
    assert server.terminate() == 0                  # SIGTERM writes everything
    kept = 2 if path == "/api/events" else 1        # the batch at the limit was kept too
    assert stored_paths(sqlite_url) == ["/chunked-ok"] * kept
