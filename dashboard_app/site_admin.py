"""Sites & settings building blocks: add a site, a site's settings form, share links,
API keys and the tracking code. Changes go through `shared` functions in one write
transaction each, with their audit entry; only owners see the forms (viewers get
read-only tables)."""

from __future__ import annotations

from zoneinfo import available_timezones

import pandas as pd
import streamlit as st
from sqlalchemy.engine import Connection

from dashboard_app import audit_trail, data
from dashboard_app.ui import data_table
from shared.accounts.api_keys import ApiKey, create_key, list_keys, revoke_key
from shared.accounts.audit import state_of
from shared.accounts.share_links import (
    DEFAULT_EXPIRY_DAYS,
    MAX_EXPIRY_DAYS,
    ShareLink,
    create_share_link,
    list_share_links,
    revoke_share_link,
)
from shared.sites import Site, SiteError, add_site, require_site, update_site
from shared.storage import write_transaction

TIMEZONES = sorted(available_timezones())


def _write(fn: object, *args: object, **kwargs: object) -> object:
    with write_transaction(data.current_engine()) as conn:
        return fn(conn, *args, **kwargs)  # type: ignore[operator]


def _add_site(conn: Connection, domain: str, timezone: str) -> Site:
    site = add_site(conn, domain, timezone=timezone)
    audit_trail.record(conn, "site.add", site.domain, site_id=site.id, after=state_of(site))
    return site


def _update_site(conn: Connection, domain: str, **options: object) -> Site:
    before = require_site(conn, domain)
    site = update_site(conn, domain, **options)
    audit_trail.record(conn, "site.update", site.domain, site_id=site.id,
                       before=state_of(before), after=state_of(site))
    return site


def _create_share_link(conn: Connection, site: Site, password: str | None,
                       days: int) -> tuple[ShareLink, str]:
    link, token = create_share_link(conn, site.id, password=password, days=days)
    audit_trail.record(conn, "share_link.create", f"share link {link.id} of {site.domain}",
                       site_id=site.id, after={"expires_at": link.expires_at,
                                               "password": link.has_password})
    return link, token


def _revoke_share_link(conn: Connection, site: Site, link_id: int) -> None:
    if revoke_share_link(conn, link_id, site.id):
        audit_trail.record(conn, "share_link.revoke",
                           f"share link {link_id} of {site.domain}", site_id=site.id)


def _create_key(conn: Connection, site: Site, name: str) -> tuple[str, ApiKey]:
    token, key = create_key(conn, site.id, name)
    audit_trail.record(conn, "api_key.create", f"key {key.id} ({key.prefix}…) of {site.domain}",
                       site_id=site.id, after={"name": key.name, "prefix": key.prefix})
    return token, key


def _revoke_key(conn: Connection, site: Site, key_id: int) -> None:
    key = revoke_key(conn, site.id, key_id)
    audit_trail.record(conn, "api_key.revoke", f"key {key.id} ({key.prefix}…) of {site.domain}",
                       site_id=site.id, before={"name": key.name, "prefix": key.prefix})


def add_site_form() -> None:
    with st.form("add_site", clear_on_submit=True):
        domain = st.text_input("Domain", placeholder="example.com")
        tz = st.selectbox("Time zone", TIMEZONES, index=TIMEZONES.index("UTC"))
        if st.form_submit_button("Add site", type="primary"):
            try:
                site = _write(_add_site, domain, tz)
            except SiteError as exc:
                st.error("The site was not added.")
                st.text(str(exc))
                return
            assert isinstance(site, Site)
            st.success("Site added. Pick it in the sidebar and copy its tracking code.")


def settings_table(site: Site) -> None:
    rows = [("Domain", site.domain), ("Time zone", site.timezone),
            ("Other hostnames", ", ".join(site.extra_hostnames) or "–"),
            ("Excluded IPs (own traffic)", ", ".join(site.ignored_ips) or "–"),
            ("Honour Do Not Track / GPC", "on" if site.honor_dnt else "off"),
            ("Record browser language", "on" if site.collect_language else "off"),
            ("Count localhost", "on" if site.allow_localhost else "off"),
            ("Keep raw events (months, 0 = forever)", str(site.retention_months)),
            ("Keep daily aggregates (months)", str(site.rollup_retention_months)),
            ("Site search parameters", ", ".join(site.search_params) or "off")]
    data_table(pd.DataFrame(rows, columns=["Setting", "Value"]), f"{site.domain}-settings",
               f"settings_{site.id}", width="stretch")


def settings_form(site: Site) -> None:
    with st.form(f"site_settings_{site.id}"):
        tz = st.selectbox("Time zone", TIMEZONES, index=TIMEZONES.index(site.timezone)
                          if site.timezone in TIMEZONES else 0)
        hosts = st.text_input("Other hostnames (comma list)", ", ".join(site.extra_hostnames))
        ips = st.text_area("Exclude own traffic: IPs or CIDR ranges, one per line",
                           "\n".join(site.ignored_ips))
        my_ip = st.context.ip_address
        if my_ip:
            st.caption("Your address as the dashboard sees it (behind a proxy this may "
                       "be the proxy):")
            st.code(my_ip, language=None)
        dnt = st.toggle("Honour Do Not Track and Global Privacy Control", site.honor_dnt)
        lang = st.toggle("Record the browser language", site.collect_language)
        local = st.toggle("Count visits from localhost pages", site.allow_localhost)
        keep = st.number_input("Keep raw events (months, 0 = forever)", 0, 1200,
                               site.retention_months)
        keep_rollups = st.number_input("Keep daily aggregates (months, 0 = forever)", 0,
                                       1200, site.rollup_retention_months)
        search = st.text_input("Site search: query parameters holding the term (comma list; "
                               "empty = off)", ", ".join(site.search_params))
        if st.form_submit_button("Save", type="primary"):
            _save(site, timezone=tz, extra_hostnames=[h for h in hosts.split(",")],
                  ignored_ips=ips.splitlines(), honor_dnt=dnt, collect_language=lang,
                  allow_localhost=local, retention_months=int(keep),
                  rollup_retention_months=int(keep_rollups),
                  search_params=search.split(","))


def _save(site: Site, **options: object) -> None:
    try:
        _write(_update_site, site.domain, **options)
    except SiteError as exc:
        st.error("Not saved.")
        st.text(str(exc))
        return
    data.clear()
    st.success("Saved.")
    st.rerun()


def share_links(site: Site, public_base: str) -> None:
    with data.current_engine().connect() as conn:
        links = list_share_links(conn, site.id)
    live = [link for link in links if link.revoked_at is None]
    if live:
        data_table(pd.DataFrame([{"id": x.id, "created (UTC)": x.created_at,
                                  "expires (UTC)": x.expires_at,
                                  "password": x.has_password} for x in live]),
                   f"{site.domain}-share-links", f"share_links_{site.id}")
    with st.form(f"share_{site.id}", clear_on_submit=True):
        password = st.text_input("Optional password (10+ characters)", type="password")
        days = st.number_input(f"Works for how many days (at most {MAX_EXPIRY_DAYS})", 1,
                               MAX_EXPIRY_DAYS, DEFAULT_EXPIRY_DAYS)
        if st.form_submit_button("Create a share link"):
            try:
                link, token = _write_pair(_create_share_link, site, password or None,
                                          int(days))
            except ValueError as exc:
                st.text(str(exc))
                return
            assert isinstance(link, ShareLink)
            st.success(f"Share link created; it works until {link.expires_at:%Y-%m-%d %H:%M} "
                       "UTC. Copy it now: it is not shown again.")
            st.code(f"{public_base}?share={token}", language=None)
    _revoke_picker("share link", [x.id for x in live],
                   lambda i: _write(_revoke_share_link, site, i), f"rv_share_{site.id}")


def _write_pair(fn: object, *args: object, **kwargs: object) -> tuple[object, str]:
    result = _write(fn, *args, **kwargs)
    assert isinstance(result, tuple)
    return result[0], result[1]


def api_keys(site: Site) -> None:
    with data.current_engine().connect() as conn:
        keys = [k for k in list_keys(conn, site.id) if k.active]
    if keys:
        data_table(pd.DataFrame([{"id": k.id, "name": k.name, "prefix": k.prefix,
                                  "created (UTC)": k.created_at} for k in keys]),
                   f"{site.domain}-api-keys", f"api_keys_{site.id}")
    with st.form(f"key_{site.id}", clear_on_submit=True):
        name = st.text_input("Name of the new key", placeholder="reporting script")
        if st.form_submit_button("Create an API key"):
            try:
                token, _ = _write_pair(_create_key, site, name)
            except ValueError as exc:
                st.text(str(exc))
                return
            st.success("Key created. Copy it now: it is not shown again.")
            st.code(str(token), language=None)
    _revoke_picker("API key", [k.id for k in keys],
                   lambda i: _write(_revoke_key, site, i), f"rv_key_{site.id}")


def _revoke_picker(what: str, ids: list[int], revoke: object, key: str) -> None:
    if not ids:
        return
    with st.form(key):
        chosen = st.selectbox(f"Revoke {what} (id)", ids)
        if st.form_submit_button(f"Revoke {what}"):
            revoke(chosen)  # type: ignore[operator]
            st.rerun()
