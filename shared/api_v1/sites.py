"""Sites API (`/api/v1/sites`), as Plausible's site provisioning reference: list, get,
create and delete sites, list / find-or-create / delete goals, create shared links.

Who may do what (`access`): every key lists and reads the sites it may read; creating a
site needs a "sites" key (its user becomes the owner); deleting a site, changing goals
and making shared links need a "sites" key of an owner of the site. A site the key may
not see is answered as missing (404), so site names cannot be probed.
"""

from __future__ import annotations

import base64
from collections.abc import Mapping
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from shared.accounts import audit
from shared.accounts.api_keys import SITES, ApiKey
from shared.accounts.share_links import create_share_link, list_share_links
from shared.accounts.users import user_by_id
from shared.core import schema
from shared.reports.goals import Goal, add_goal, list_goals, remove_goal
from shared.sites import (
    Site,
    SiteError,
    add_site,
    check_timezone,
    get_site,
    list_sites,
    remove_site,
)
from shared.stats.errors import QueryError

from . import access
from .errors import V1Error

DEFAULT_LIMIT, MAX_LIMIT = 100, 1000
NOT_FOUND = "Site could not be found"


def _cursor(domain: str) -> str:
    return base64.urlsafe_b64encode(domain.encode()).decode()


def _uncursor(cursor: str) -> str:
    try:
        return base64.urlsafe_b64decode(cursor.encode()).decode()
    except ValueError:
        raise V1Error("Invalid pagination cursor: pass `after` or `before` as given in "
                      "`meta` of the previous answer.") from None


def page(items: list[Any], key: Any, args: Mapping[str, str]) -> tuple[list[Any], dict[str, Any]]:
    """Cursor pagination (`after`, `before`, `limit`) over items sorted by `key`."""
    raw = args.get("limit") or str(DEFAULT_LIMIT)
    limit = int(raw) if raw.isdigit() and len(raw) < 6 else 0
    if not 1 <= limit <= MAX_LIMIT:
        raise V1Error(f"Please provide limit as a number between 1 and {MAX_LIMIT}.")
    if args.get("after"):
        mark = _uncursor(args["after"])
        items = [i for i in items if key(i) > mark]
        chosen, before_exists = items[:limit], True
        after_exists = len(items) > limit
    elif args.get("before"):
        mark = _uncursor(args["before"])
        items = [i for i in items if key(i) < mark]
        chosen, after_exists = items[-limit:], True
        before_exists = len(items) > limit
    else:
        chosen, before_exists, after_exists = items[:limit], False, len(items) > limit
    meta = {"after": _cursor(key(chosen[-1])) if chosen and after_exists else None,
            "before": _cursor(key(chosen[0])) if chosen and before_exists else None,
            "limit": limit}
    return chosen, meta


def _site_record(site: Site) -> dict[str, Any]:
    return {"domain": site.domain, "timezone": site.timezone}


def list_readable(conn: Connection, key: ApiKey, args: Mapping[str, str]) -> dict[str, Any]:
    sites = [s for s in list_sites(conn) if access.may_read(conn, key, s)]
    chosen, meta = page(sites, lambda s: s.domain, args)
    return {"sites": [_site_record(s) for s in chosen], "meta": meta}


def readable(conn: Connection, key: ApiKey, site_id: str) -> Site:
    if not site_id:
        raise V1Error("Parameter `site_id` is required.")
    try:
        site = get_site(conn, site_id)
    except SiteError:
        site = None
    if site is None or not access.may_read(conn, key, site):
        raise V1Error(NOT_FOUND, 404)
    return site


def _audited(conn: Connection, key: ApiKey, action: str, target: str, site_id: int,
             **fields: Any) -> None:
    """Record a change made through the Sites API, in the change's own transaction; the
    actor is the key's user and the key (a key outlives no user, so both are named)."""
    user = user_by_id(conn, key.user_id) if key.user_id is not None else None
    actor = f"{user.email if user else 'unknown user'} (API key {key.prefix}…)"
    audit.record(conn, actor=actor, source="api", action=action, target=target,
                 site_id=site_id, **fields)


def managed(conn: Connection, key: ApiKey, site_id: str) -> Site:
    site = readable(conn, key, site_id)
    if not access.may_manage(conn, key, site):
        raise V1Error(access.INVALID_KEY, 401)
    return site


def get(conn: Connection, key: ApiKey, site_id: str) -> dict[str, Any]:
    return _site_record(readable(conn, key, site_id))


def create(conn: Connection, key: ApiKey, body: Mapping[str, str],
           now: datetime) -> dict[str, Any]:
    if SITES not in key.scopes or key.user_id is None:
        raise V1Error(access.INVALID_KEY, 401)
    domain = (body.get("domain") or "").strip()
    if not domain:
        raise V1Error("domain: can't be blank")
    try:
        timezone = check_timezone((body.get("timezone") or "Etc/UTC").strip())
    except SiteError as exc:
        raise V1Error(f"timezone: {exc}") from None
    try:
        site = add_site(conn, domain, timezone=timezone, now=now)
    except SiteError as exc:
        raise V1Error(f"domain: {exc}") from None
    conn.execute(sa.insert(schema.site_roles).values(user_id=key.user_id, site_id=site.id,
                                                      role="owner"))
    _audited(conn, key, "site.add", site.domain, site.id, after={"timezone": timezone})
    return _site_record(site)


def delete(conn: Connection, key: ApiKey, site_id: str) -> dict[str, Any]:
    site = managed(conn, key, site_id)
    remove_site(conn, site.domain)
    _audited(conn, key, "site.remove", site.domain, site.id)
    return {"deleted": True}


def _goal_record(goal: Goal) -> dict[str, Any]:
    return {"id": str(goal.id), "goal_type": goal.kind, "display_name": goal.display_name,
            "event_name": goal.event_name, "page_path": goal.page_path}


def goals(conn: Connection, key: ApiKey, args: Mapping[str, str]) -> dict[str, Any]:
    site = readable(conn, key, args.get("site_id") or "")
    chosen, meta = page(list_goals(conn, site.id), lambda g: f"{g.id:012d}", args)
    return {"goals": [_goal_record(g) for g in chosen], "meta": meta}


def put_goal(conn: Connection, key: ApiKey, body: Mapping[str, str],
             now: datetime) -> dict[str, Any]:
    """Find the goal of that type and value, or create it (idempotent)."""
    site = managed(conn, key, body.get("site_id") or "")
    kind = body.get("goal_type") or ""
    if kind not in ("event", "page"):
        raise V1Error("goal_type: must be one of event, page")
    field = "event_name" if kind == "event" else "page_path"
    value = (body.get(field) or "").strip()
    if not value:
        raise V1Error(f"{field}: is required for a goal of type {kind}")
    for goal in list_goals(conn, site.id):
        if goal.kind == kind and getattr(goal, field) == value and goal.prop_key is None:
            return {"domain": site.domain, **_goal_record(goal)}
    try:
        goal = add_goal(conn, site.id, event_name=value if kind == "event" else None,
                        page_path=value if kind == "page" else None, now=now,
                        display_name=(body.get("display_name") or "").strip() or None)
    except QueryError as exc:
        raise V1Error(f"{field}: {exc}") from None
    _audited(conn, key, "goal.add", f"goal {goal.id}: {goal.display_name}", site.id,
             after={field: value})
    return {"domain": site.domain, **_goal_record(goal)}


def delete_goal(conn: Connection, key: ApiKey, goal_id: str,
                body: Mapping[str, str]) -> dict[str, Any]:
    site = managed(conn, key, body.get("site_id") or "")
    if not goal_id.isdigit() or len(goal_id) > 12:
        raise V1Error("Goal could not be found", 404)
    try:
        remove_goal(conn, site.id, int(goal_id))
    except QueryError:
        raise V1Error("Goal could not be found", 404) from None
    _audited(conn, key, "goal.remove", f"goal {goal_id}", site.id)
    return {"deleted": True}


def put_shared_link(conn: Connection, key: ApiKey, body: Mapping[str, str], now: datetime,
                    base_url: str) -> dict[str, Any]:
    """Create the shared link called `name`. Links are stored as hashes, so the address
    of an existing one cannot be given again: a second request for a live name is a 409
    that says so, never a new address silently replacing the old one."""
    site = managed(conn, key, body.get("site_id") or "")
    name = (body.get("name") or "").strip()
    if not name or len(name) > 200:
        raise V1Error("name: a shared link needs a name of 1 to 200 characters")
    live = [x for x in list_share_links(conn, site.id)
            if x.name == name and x.revoked_at is None and x.expires_at > now]
    if live:
        raise V1Error(f"A shared link named `{name}` exists; its address was shown when it "
                      "was made and is stored only as a hash. Revoke it in the dashboard's "
                      "site settings to make a new one.", 409)
    _, token = create_share_link(conn, site.id, now=now, name=name)
    _audited(conn, key, "share_link.create", f"share link {name}", site.id)
    return {"name": name, "url": f"{base_url.rstrip('/')}/?share={token}"}
