"""The unsubscribe link of report e-mails: `/notify/unsubscribe?token=...`, no sign-in.

GET shows a page with one button (mail scanners open links; a GET must not unsubscribe
anyone); POST unsubscribes - also the one-click POST mail programs send for the
List-Unsubscribe-Post header (RFC 8058). The token is the only input; an unknown one
gets the same calm answer as a used one.
"""

from __future__ import annotations

import html
import logging

import sqlalchemy as sa
from flask import Blueprint, Response, current_app, request

from beacon_app.state import BeaconState
from shared.accounts import audit
from shared.notify.subscriptions import subscription_by_token, unsubscribe_by_token
from shared.sites import get_site
from shared.storage import write_transaction

bp = Blueprint("unsubscribe", __name__)
log = logging.getLogger(__name__)
PATH = "/notify/unsubscribe"
# The beacon's strict policy, except that this page's one form may post to itself.
PAGE_CSP = ("default-src 'none'; frame-ancestors 'none'; base-uri 'none'; "
            "form-action 'self'")


def _page(title: str, body: str, status: int = 200) -> Response:
    text = (f"<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">"
            f"<meta name=\"viewport\" content=\"width=device-width\">"
            f"<meta name=\"robots\" content=\"noindex\"><title>{html.escape(title)}</title>"
            f"</head><body><h1>{html.escape(title)}</h1>{body}</body></html>")
    resp = Response(text, status=status, mimetype="text/html")
    resp.headers["Content-Security-Policy"] = PAGE_CSP
    resp.headers["Cache-Control"] = "no-store"
    return resp


def _state() -> BeaconState:
    state: BeaconState = current_app.extensions["beacon"]
    return state


def _unavailable() -> Response:
    resp = _page("Please try again later", "<p>The server cannot reach its database right "
                 "now. Your link stays valid.</p>", 503)
    resp.headers["Retry-After"] = "300"
    return resp


@bp.get(PATH)
def confirm() -> Response:
    token = request.args.get("token", "")
    try:
        with _state().engine.connect() as conn:
            sub = subscription_by_token(conn, token)
            site = get_site(conn, sub.site_id) if sub else None
    except sa.exc.SQLAlchemyError:
        return _unavailable()
    if sub is None:
        return _page("Nothing to unsubscribe", "<p>This link is not (or no longer) valid: "
                     "the address gets no reports through it.</p>", 404)
    what = f"the {' and '.join(sub.periods)}ly reports of {site.domain if site else 'a site'}"
    return _page("Unsubscribe", (
        f"<p>Stop sending {html.escape(what)} to {html.escape(sub.email)}?</p>"
        f"<form method=\"post\" action=\"{PATH}?token={html.escape(token)}\">"
        "<button type=\"submit\">Unsubscribe</button></form>"))


@bp.post(PATH)
def unsubscribe() -> Response:
    token = request.args.get("token", "") or request.form.get("token", "")
    try:
        with write_transaction(_state().engine) as conn:
            sub = unsubscribe_by_token(conn, token)
            if sub is not None:
                # A person's change like any other, made without signing in: the
                # recipient is the actor, the link the way in.
                audit.record(conn, actor=f"{sub.email} (unsubscribe link)", source="api",
                             action="report.unsubscribe", target=f"report recipient {sub.email}",
                             site_id=sub.site_id)
    except sa.exc.SQLAlchemyError:
        return _unavailable()
    if sub is None:
        return _page("Nothing to unsubscribe", "<p>This link is not (or no longer) valid: "
                     "the address gets no reports through it.</p>", 404)
    log.info("report recipient unsubscribed by link (site %s)", sub.site_id)
    return _page("Unsubscribed", f"<p>{html.escape(sub.email)} gets no more reports of "
                 "this site.</p>")
