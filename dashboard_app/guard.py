"""The dashboard's front door: an ASGI layer around Streamlit's own app (`st.App`).

Streamlit leaves a few doors open that a self-hosted analytics dashboard must close:

- Framing: every response carries `X-Frame-Options: SAMEORIGIN` and CSP
  `frame-ancestors 'self'`, so a page on another origin (a sibling subdomain included)
  cannot frame a signed-in page and trick clicks out of it. Streamlit's own iframes are
  same-origin and keep working.
- The websocket: Streamlit admits a websocket whose Origin is any port of localhost or
  of the machine's addresses. Here the Origin must be exactly the page's own origin
  (scheme, host and port, as the Host header names them) or be listed in
  BEACON_DASHBOARD_ORIGINS; a browser always sends Origin, so a foreign page's
  websocket is refused (403) before Streamlit sees it.
- `/_stcore/metrics`: only for scrapers (`shared.accounts.metrics_access`).
- The sign-in cookie: `POST <base>/_beacon/session` with a live login token sets it from
  the server - HttpOnly (no script can read it), SameSite=Strict, Secure behind https -
  and `DELETE` clears it (`login_cookie` calls them from the page).
- Exports: `GET <base>/_beacon/export/<id>` serves a prepared export only to a request
  whose sign-in cookie belongs to the user who made it (`export_store`), and writes the
  download to the audit log. `GET <base>/_beacon/export-file/<token>` does the same for
  a raw-event export the worker wrote (`shared.dataout.export_jobs`), streamed from the
  data folder, and only while that user may still see the site.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any
from urllib.parse import urlsplit

from anyio import to_thread
from sqlalchemy.engine import Engine

from dashboard_app import export_files, export_store
from shared.accounts import audit
from shared.accounts.login_tokens import get_login_token, token_is_live, well_formed
from shared.accounts.metrics_access import REFUSED, metrics_allowed
from shared.accounts.users import user_by_id
from shared.core.clock import utc_now
from shared.core.settings import Settings
from shared.storage import make_engine

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

COOKIE_NAME = "beacon_login"
SESSION_PATH = "/_beacon/session"
EXPORT_PATH = "/_beacon/export/"
EXPORT_FILE_PATH = "/_beacon/export-file/"
FRAME_HEADERS = ((b"x-frame-options", b"SAMEORIGIN"),
                 (b"content-security-policy", b"frame-ancestors 'self'"),
                 (b"x-content-type-options", b"nosniff"),
                 (b"referrer-policy", b"same-origin"))
_MAX_BODY = 200


def _headers(scope: Scope) -> dict[str, str]:
    return {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}


def _cookies(headers: dict[str, str]) -> dict[str, str]:
    jar: dict[str, str] = {}
    for part in headers.get("cookie", "").split(";"):
        name, _, value = part.strip().partition("=")
        if name:
            jar.setdefault(name, value)
    return jar


class DashboardGuard:
    def __init__(self, app: ASGIApp, settings: Settings) -> None:
        self.app = app
        self.settings = settings
        self.origins = {o.strip().rstrip("/") for o in settings.dashboard_origins.split(",")
                        if o.strip()}
        self._engine: Engine | None = None

    @property
    def engine(self) -> Engine:
        if self._engine is None:
            self._engine = make_engine(self.settings.resolved_database_url)
        return self._engine

    # --- the rules ----------------------------------------------------------------
    def _secure(self, scope: Scope, headers: dict[str, str]) -> bool:
        """True when the browser is on https: the connection, a trusted proxy's
        X-Forwarded-Proto, or the page's own Origin say so."""
        forwarded = headers.get("x-forwarded-proto", "").split(",")[-1].strip()
        return (scope.get("scheme") in ("https", "wss")
                or (self.settings.trusted_proxies > 0 and forwarded == "https")
                or headers.get("origin", "").startswith("https://"))

    def same_origin(self, scope: Scope, headers: dict[str, str]) -> bool:
        """True when the request's Origin is this server's own host and port (as the Host
        header names them) or listed in BEACON_DASHBOARD_ORIGINS. Another port of the
        same host, or a sibling subdomain, is another origin."""
        origin = headers.get("origin")
        if origin is None:
            return scope["type"] == "websocket"   # only non-browser clients omit it
        if origin.rstrip("/") in self.origins:
            return True
        netloc = urlsplit(origin).netloc.lower()
        return bool(netloc) and netloc == headers.get("host", "").lower()

    # --- ASGI ---------------------------------------------------------------------
    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "websocket":
            if not self.same_origin(scope, _headers(scope)):
                await send({"type": "websocket.close", "code": 1008})
                return
            await self.app(scope, receive, send)
            return
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        headers = _headers(scope)
        if path.endswith("/_stcore/metrics"):
            peer = (scope.get("client") or ("", 0))[0]
            if not metrics_allowed(self.settings.metrics_token, peer, headers.get):
                await _answer(send, 403, REFUSED.encode())
                return
        elif path.endswith(SESSION_PATH):
            await self._session(scope, receive, send, headers)
            return
        elif EXPORT_PATH in path:
            await self._export(path.rsplit("/", 1)[-1], send, headers)
            return
        elif EXPORT_FILE_PATH in path:
            await self._export_file(path.rsplit("/", 1)[-1], send, headers)
            return
        await self.app(scope, receive, _with_frame_headers(send))

    async def _session(self, scope: Scope, receive: Receive, send: Send,
                       headers: dict[str, str]) -> None:
        if not self.same_origin(scope, headers):
            await _answer(send, 403, b"cross-origin request refused")
            return
        secure = "; Secure" if self._secure(scope, headers) else ""
        attributes = f"; Path=/; HttpOnly; SameSite=Strict{secure}"
        if scope["method"] == "DELETE":
            await _answer(send, 204, b"", [("set-cookie", f"{COOKIE_NAME}={attributes}; "
                                            "Max-Age=0")])
            return
        if scope["method"] != "POST":
            await _answer(send, 405, b"POST or DELETE")
            return
        token = (await _body(receive)).decode("ascii", "replace").strip()
        max_age = await to_thread.run_sync(self._live_seconds, token)
        if not max_age:
            await _answer(send, 403, b"not a live sign-in")
            return
        await _answer(send, 204, b"", [("set-cookie", f"{COOKIE_NAME}={token}{attributes}; "
                                        f"Max-Age={max_age}")])

    def _live_seconds(self, token: str) -> int:
        """Seconds `token` stays valid, or 0 when it is not a live sign-in."""
        if not well_formed(token):
            return 0
        now = utc_now()
        with self.engine.connect() as conn:
            record = get_login_token(conn, token)
            if record is None or not token_is_live(conn, token, now=now):
                return 0
        return max(0, int((record.expires_at - now).total_seconds()))

    def _cookie_user(self, headers: dict[str, str]) -> int | None:
        token = _cookies(headers).get(COOKIE_NAME, "")
        if not well_formed(token):
            return None
        with self.engine.connect() as conn:
            record = get_login_token(conn, token)
            live = record is not None and token_is_live(conn, token)
        return record.user_id if record is not None and live else None

    def _audit_download(self, prepared: export_store.Prepared) -> None:
        note = prepared.audit
        assert note is not None
        with self.engine.connect() as conn:
            user = user_by_id(conn, prepared.user_id)
        audit.record(self.engine, actor=user.email if user else f"user #{prepared.user_id}",
                     source="dashboard", action=note.action, target=note.target,
                     site_id=note.site_id, details=note.details)

    async def _export(self, export_id: str, send: Send, headers: dict[str, str]) -> None:
        user_id = await to_thread.run_sync(self._cookie_user, headers)
        prepared = export_store.take(export_id, user_id) if user_id is not None else None
        if prepared is None:
            await _answer(send, 404, b"no such export for this sign-in (it may have expired)")
            return
        if prepared.audit is not None:
            await to_thread.run_sync(self._audit_download, prepared)
        await _answer(send, 200, prepared.data, [
            ("content-type", prepared.mime),
            ("content-disposition", f'attachment; filename="{prepared.filename}"'),
            ("cache-control", "no-store")])

    async def _export_file(self, token: str, send: Send, headers: dict[str, str]) -> None:
        user_id = await to_thread.run_sync(self._cookie_user, headers)
        found = None if user_id is None else await to_thread.run_sync(
            export_files.downloadable, self.engine, self.settings, token, user_id)
        if found is None:
            await _answer(send, 404, b"no such export for this sign-in (it may have expired)")
            return
        try:
            await to_thread.run_sync(export_files.audit_download, self.engine, found)
        except BaseException:
            found.handle.close()
            raise
        await send({"type": "http.response.start", "status": 200, "headers": [
            (b"content-type", found.mime.encode()),
            (b"content-disposition", f'attachment; filename="{found.filename}"'.encode()),
            (b"content-length", str(found.size).encode()),
            (b"cache-control", b"no-store"), *FRAME_HEADERS]})
        with found.handle as handle:
            while True:
                chunk = await to_thread.run_sync(handle.read, export_files.CHUNK_BYTES)
                await send({"type": "http.response.body", "body": chunk,
                            "more_body": bool(chunk)})
                if not chunk:
                    break


def _with_frame_headers(send: Send) -> Send:
    async def wrapped(message: Message) -> None:
        if message["type"] == "http.response.start":
            names = {k.lower() for k, _ in message.get("headers", [])}
            extra = [h for h in FRAME_HEADERS if h[0] not in names]
            message["headers"] = [*message.get("headers", []), *extra]
        await send(message)
    return wrapped


async def _body(receive: Receive) -> bytes:
    data = b""
    while len(data) <= _MAX_BODY:
        message = await receive()
        data += message.get("body", b"")
        if not message.get("more_body"):
            break
    return data[:_MAX_BODY]


async def _answer(send: Send, status: int, body: bytes,
                  headers: list[tuple[str, str]] | None = None) -> None:
    raw = [(k.encode("latin-1"), v.encode("latin-1")) for k, v in headers or []]
    names = {k for k, _ in raw}
    if body and b"content-type" not in names:
        raw.append((b"content-type", b"text/plain; charset=utf-8"))
    if b"cache-control" not in names:
        raw.append((b"cache-control", b"no-store"))
    await send({"type": "http.response.start", "status": status,
                "headers": [*raw, *FRAME_HEADERS]})
    await send({"type": "http.response.body", "body": body})


def guarded_dashboard(settings: Settings) -> tuple[Any, DashboardGuard]:
    """(the st.App, the guard around it): mount or serve the guard; the st.App gives the
    lifespan."""
    from pathlib import Path

    import streamlit as st

    dashboard = st.App(str(Path(__file__).resolve().parent / "app.py"))
    return dashboard, DashboardGuard(dashboard, settings)
