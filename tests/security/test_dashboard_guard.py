"""The dashboard's guard against the attacks of the report: framing by another origin,
websockets from another port, metrics without a token, a sign-in cookie scripts can
read, and exports downloadable without the signed-in user's cookie.

`beacon dashboard` (Streamlit behind the guard) runs as a real server for the framing,
websocket and metrics checks. The cookie and export routes are the guard's own: they
run in-process under uvicorn in front of a minimal app standing in for Streamlit, on a
real database with real sign-in tokens, so the test can prepare an export.
"""

from __future__ import annotations

import base64
import http.client
import os
import secrets
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from sqlalchemy.engine import Engine

from dashboard_app import export_store
from dashboard_app.guard import DashboardGuard
from shared.accounts import users as auth
from shared.accounts.login_tokens import create_login_token
from shared.core.settings import load_settings
from tests.beacon.server import free_port

ROOT = Path(__file__).resolve().parents[2]
METRICS_TOKEN = secrets.token_urlsafe(24)


def _request(port: int, method: str, path: str, headers: dict[str, str] | None = None,
             body: bytes | None = None) -> tuple[int, http.client.HTTPMessage, bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        resp = conn.getresponse()
        return resp.status, resp.headers, resp.read()
    finally:
        conn.close()


def _websocket_status(port: int, origin: str) -> int:
    key = base64.b64encode(os.urandom(16)).decode()
    status, _, _ = _request(port, "GET", "/_stcore/stream", {
        "Host": f"127.0.0.1:{port}", "Origin": origin, "Upgrade": "websocket",
        "Connection": "Upgrade", "Sec-WebSocket-Key": key, "Sec-WebSocket-Version": "13",
        "Sec-WebSocket-Protocol": "streamlit"})
    return status


@pytest.fixture(scope="module")
def dashboard(tmp_path_factory: pytest.TempPathFactory) -> Iterator[int]:
    folder = tmp_path_factory.mktemp("guarded")
    url = f"sqlite:///{folder / 'beacon.db'}"
    from shared.storage import migrate

    migrate(url)
    port = free_port()
    env = {**os.environ, "DATABASE_URL": url, "BEACON_DATA_DIR": str(folder),
           "BEACON_METRICS_TOKEN": METRICS_TOKEN, "BEACON_ENV": "development"}
    log = (folder / "dashboard.log").open("wb")
    proc = subprocess.Popen([sys.executable, "-m", "beacon_cli.main", "dashboard", "--host",
                             "127.0.0.1", "--port", str(port)], cwd=ROOT, env=env,
                            stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            assert proc.poll() is None, (folder / "dashboard.log").read_text()[-2000:]
            try:
                if _request(port, "GET", "/_stcore/health")[0] == 200:
                    break
            except OSError:
                time.sleep(0.3)
        yield port
    finally:
        proc.terminate()
        proc.wait(30)
        log.close()


def test_pages_cannot_be_framed_by_other_origins(dashboard: int) -> None:
    for path in ("/", "/settings", "/_stcore/health"):
        status, headers, _ = _request(dashboard, "GET", path)
        assert status == 200
        assert headers["X-Frame-Options"] == "SAMEORIGIN"
        assert "frame-ancestors 'self'" in headers["Content-Security-Policy"]


def test_websocket_only_from_the_pages_own_origin(dashboard: int) -> None:
    # Streamlit alone accepts any port of localhost; the guard only the page's origin.
    for foreign in (f"http://127.0.0.1:{dashboard + 1}", "http://localhost:3000",
                    "http://evil.127.0.0.1.nip.io", "null"):
        assert _websocket_status(dashboard, foreign) == 403, foreign
    assert _websocket_status(dashboard, f"http://127.0.0.1:{dashboard}") == 101


def test_streamlit_metrics_need_the_token(dashboard: int) -> None:
    assert _request(dashboard, "GET", "/_stcore/metrics")[0] == 403
    assert _request(dashboard, "GET", "/_stcore/metrics",
                    {"Authorization": "Bearer wrong"})[0] == 403
    status, _, body = _request(dashboard, "GET", "/_stcore/metrics",
                               {"Authorization": f"Bearer {METRICS_TOKEN}"})
    assert status == 200 and b"session" in body


async def _stand_in(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """What Streamlit would answer: a page (only reached when the guard lets it)."""
    if scope["type"] == "lifespan":
        while (await receive())["type"] != "lifespan.shutdown":
            await send({"type": "lifespan.startup.complete"})
        await send({"type": "lifespan.shutdown.complete"})
        return
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b"page"})


@pytest.fixture
def guard(db_url: str, tmp_path: Path) -> Iterator[int]:
    settings = load_settings({}, database_url=db_url, data_dir=str(tmp_path))
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(DashboardGuard(_stand_in, settings), host="127.0.0.1",
                                           port=port, log_config=None, access_log=False))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    yield port
    server.should_exit = True
    thread.join(30)


def _signed_in(engine: Engine, email: str) -> tuple[int, str]:
    with engine.begin() as conn:
        user = auth.add_user(conn, email, "a long enough password")
        return user.id, create_login_token(conn, user.id, timedelta(days=30))


def test_sign_in_cookie_is_set_by_the_server_httponly(guard: int, engine: Engine) -> None:
    _, token = _signed_in(engine, "ann@example.com")
    own = {"Origin": f"http://127.0.0.1:{guard}", "Host": f"127.0.0.1:{guard}"}
    status, headers, _ = _request(guard, "POST", "/_beacon/session", own, token.encode())
    cookie = headers["Set-Cookie"]
    assert status == 204 and cookie.startswith(f"beacon_login={token};")
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie and "Secure" not in cookie
    assert 29 * 86_400 < int(cookie.split("Max-Age=")[1].split(";")[0]) <= 30 * 86_400
    # Behind https (as the page's Origin shows) the cookie is Secure.
    https = {**own, "Origin": f"https://127.0.0.1:{guard}"}
    assert "Secure" in _request(guard, "POST", "/_beacon/session", https,
                                token.encode())[1]["Set-Cookie"]
    # Login CSRF: another origin cannot plant a cookie; a dead or forged token gets none.
    foreign = {**own, "Origin": "http://evil.example"}
    assert _request(guard, "POST", "/_beacon/session", foreign, token.encode())[0] == 403
    for bad in ("bl_" + "A" * 43, "not a token", ""):
        status, headers, _ = _request(guard, "POST", "/_beacon/session", own, bad.encode())
        assert status == 403 and "Set-Cookie" not in headers
    status, headers, _ = _request(guard, "DELETE", "/_beacon/session", own)
    assert status == 204 and "Max-Age=0" in headers["Set-Cookie"]
    assert "HttpOnly" in headers["Set-Cookie"]


def test_exports_only_for_the_user_who_made_them(guard: int, engine: Engine) -> None:
    ann_id, ann_token = _signed_in(engine, "ann@example.com")
    _, bob_token = _signed_in(engine, "bob@example.com")
    export_id = export_store.put(ann_id, b"ts,pathname\n", "text/csv", "events.csv")
    path = f"/_beacon/export/{export_id}"
    # No cookie (the browser was closed, the link was copied): nothing.
    assert _request(guard, "GET", path)[0] == 404
    # Another signed-in user: nothing.
    assert _request(guard, "GET", path, {"Cookie": f"beacon_login={bob_token}"})[0] == 404
    status, headers, body = _request(guard, "GET", path,
                                     {"Cookie": f"beacon_login={ann_token}"})
    assert status == 200 and body == b"ts,pathname\n"
    assert headers["Content-Disposition"] == 'attachment; filename="events.csv"'
    assert headers["Cache-Control"] == "no-store"
    # Signed out (token revoked): the same link is dead.
    with engine.begin() as conn:
        auth.remove_user(conn, "ann@example.com")
    assert _request(guard, "GET", path, {"Cookie": f"beacon_login={ann_token}"})[0] == 404


def test_a_download_is_in_the_audit_log_with_its_user(guard: int, engine: Engine) -> None:
    from shared.accounts import audit

    ann_id, ann_token = _signed_in(engine, "ann@example.com")
    note = export_store.AuditNote("export.events", "a.example-events.csv", site_id=7,
                                  details={"format": "CSV", "rows": 1})
    export_id = export_store.put(ann_id, b"ts\n", "text/csv", "events.csv", audit=note)
    path = f"/_beacon/export/{export_id}"
    assert _request(guard, "GET", path)[0] == 404          # refused: nothing downloaded
    with engine.connect() as conn:
        assert audit.entries(conn) == []
    assert _request(guard, "GET", path, {"Cookie": f"beacon_login={ann_token}"})[0] == 200
    with engine.connect() as conn:
        [entry] = audit.entries(conn)
    assert (entry.actor, entry.source, entry.action, entry.target, entry.site_id,
            entry.details) == ("ann@example.com", "dashboard", "export.events",
                               "a.example-events.csv", 7, {"format": "CSV", "rows": 1})


def test_other_paths_pass_with_frame_headers(guard: int) -> None:
    status, headers, body = _request(guard, "GET", "/overview")
    assert status == 200 and body == b"page" and headers["X-Frame-Options"] == "SAMEORIGIN"


def _worker_export(engine: Engine, data_dir: Path, user_id: int, domain: str) -> Any:
    """A raw-event export of `domain` asked for by `user_id`, written as the worker does."""
    import shared.dataout.dataframes as bdf
    from shared.core.clock import utc_now
    from shared.dataout import export_jobs, export_queue
    from shared.storage import write_transaction

    query = bdf.stats_query(engine, domain, "7d")
    with write_transaction(engine) as conn:
        export_queue.request_export(conn, user_id=user_id, query=query, fmt="csv",
                                    label="7 days", now=utc_now())
    job = export_jobs.run_next(engine, data_dir)
    assert job is not None and job.status == "done", job
    return job


def test_worker_exports_only_for_their_user_while_they_see_the_site(
        guard: int, engine: Engine, tmp_path: Path) -> None:
    from shared.accounts import audit
    from shared.sites import add_site

    ann_id, ann_token = _signed_in(engine, "ann@example.com")
    bob_id, bob_token = _signed_in(engine, "bob@example.com")
    with engine.begin() as conn:
        add_site(conn, "a.example")
        add_site(conn, "b.example")
        auth.grant_role(conn, "ann@example.com", "a.example", "viewer")
        auth.grant_role(conn, "bob@example.com", "a.example", "owner")
        auth.grant_role(conn, "bob@example.com", "b.example", "owner")
    job = _worker_export(engine, tmp_path, ann_id, "a.example")
    bobs = _worker_export(engine, tmp_path, bob_id, "b.example")
    path = f"/dashboard/_beacon/export-file/{job.token}"
    ann = {"Cookie": f"beacon_login={ann_token}"}
    assert _request(guard, "GET", path)[0] == 404                          # no sign-in
    # Bob sees the site too, but did not ask for this export; Ann never sees b.example.
    assert _request(guard, "GET", path, {"Cookie": f"beacon_login={bob_token}"})[0] == 404
    assert _request(guard, "GET", f"/_beacon/export-file/{bobs.token}", ann)[0] == 404
    assert _request(guard, "GET", "/_beacon/export-file/..%2Fbeacon.db", ann)[0] == 404
    with engine.connect() as conn:
        assert audit.entries(conn) == []
    status, headers, body = _request(guard, "GET", path, ann)
    assert status == 200 and body == (tmp_path / "exports" / job.file_name).read_bytes()
    assert body.startswith(b'"uid",')
    assert headers["Content-Disposition"] == \
        f'attachment; filename="{job.download_name("a.example")}"'
    assert headers["Cache-Control"] == "no-store" and headers["X-Frame-Options"] == "SAMEORIGIN"
    with engine.connect() as conn:
        [entry] = audit.entries(conn)
    assert (entry.actor, entry.action, entry.site_id, entry.details["export"]) == (
        "ann@example.com", "export.events", job.site_id, job.id)
    # Ann loses the site: her own export is no longer hers to download.
    with engine.begin() as conn:
        auth.revoke_role(conn, "ann@example.com", "a.example")
    assert _request(guard, "GET", path, ann)[0] == 404
