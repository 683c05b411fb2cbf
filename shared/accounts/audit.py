"""The audit log: who changed what, when, and from where (dashboard, command line, API).

Every change a person makes - signing in (and failing to), users and roles, two-factor
set-up, sites and their settings, goals, funnels, API keys, share links, exports,
purges, backups - is one row: `at` (UTC), `actor` (the signed-in e-mail, or the system
account that ran a `beacon` command), `source`, `action` (a dotted name from ACTIONS),
`target` (what was changed, in words), `site_id` and `details` (for settings: only the
changed keys, before and after).

Callers record in the same transaction as the change, so a change that rolls back
leaves no entry and an entry never describes a change that was not kept:

    from shared.accounts import audit
    audit.record(conn, actor="ana@example.com", source="dashboard", action="goal.add",
                 target="goal 3: Signup", site_id=site.id, after={"page_path": "/signup"})

It stores no visitor data: no addresses, no user agents, nothing from tracked pages. A
failed sign-in names the account only when it exists, so a password typed into the
e-mail field does not end up in the log. The worker deletes entries older than
BEACON_AUDIT_RETENTION_DAYS (`prune`).
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from dataclasses import asdict, dataclass, is_dataclass
from datetime import date, datetime, timedelta
from enum import Enum
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from shared.core import schema
from shared.core.clock import utc_now
from shared.storage import write_transaction

SOURCES = ("dashboard", "cli", "api", "system")

# Every action name, with what it means. Other features add theirs here (imports,
# e-mail reports, alerts and webhooks: see docs/security.md#audit-log).
ACTIONS: dict[str, str] = {
    "sign_in.success": "signed in to the dashboard (details: method)",
    "sign_in.failed": "a sign-in was refused (details: step password or second_factor)",
    "sign_out": "signed out of the dashboard",
    "user.add": "created a user account",
    "user.remove": "deleted a user account",
    "user.password": "set a new password for a user",
    "user.admin": "made a user admin or not (before/after)",
    "role.grant": "gave a user a role on a site (before/after)",
    "role.revoke": "took a user's role on a site away",
    "two_factor.enable": "set up two-factor sign-in",
    "two_factor.disable": "turned two-factor sign-in off",
    "two_factor.reset": "removed a user's two-factor set-up (locked-out user)",
    "two_factor.recovery_codes": "made new recovery codes (the old ones stop working)",
    "site.add": "registered a site",
    "site.update": "changed a site's settings (before/after of the changed settings)",
    "site.remove": "deleted a site and all its data",
    "site.ingest_token": "made a new token for the site's event import API",
    "goal.add": "added a goal",
    "goal.update": "changed a goal (before/after)",
    "goal.remove": "deleted a goal",
    "funnel.add": "added a funnel",
    "funnel.update": "changed a funnel (before/after)",
    "funnel.remove": "deleted a funnel",
    "api_key.create": "created a Stats API key",
    "api_key.revoke": "revoked a Stats API key",
    "share_link.create": "created a share link",
    "share_link.revoke": "revoked a share link",
    "export.report": "exported a report (details: period, filters, format)",
    "export.events": "exported raw events (details: period, filters, format)",
    "export.audit_log": "exported the audit log",
    "data.purge": "deleted a site's events before a day",
    "data.backup": "copied the database to a backup file",
    "data.restore": "replaced the database with a backup",
    "report.subscribe": "added or changed a recipient of a site's e-mail reports",
    "report.unsubscribe": "removed a recipient of e-mail reports (also by the e-mail's link)",
    "alert.update": "changed a site's traffic alerts (details: the new rules)",
    "goal_threshold.add": "added a goal threshold notice",
    "goal_threshold.remove": "removed a goal threshold notice",
    "webhook.add": "added a webhook",
    "webhook.remove": "removed a webhook",
    "import.logs": "imported (or resumed importing) access logs into a site",
    "import.delete": "deleted an import and the events it brought",
    "import.events": "imported a Beacon events export into a site",
    "segment.add": "saved filters as a segment",
    "segment.update": "renamed or (un)shared a segment",
    "segment.remove": "deleted a segment",
    "annotation.add": "added an annotation",
    "annotation.update": "changed an annotation",
    "annotation.remove": "deleted an annotation",
}


@dataclass(frozen=True)
class AuditEntry:
    id: int
    at: datetime
    actor: str
    source: str
    action: str
    target: str
    site_id: int | None
    details: dict[str, Any]


def _plain(value: Any) -> Any:
    """A JSON value for `value`: times as ISO text, tuples as lists, others as text."""
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Enum):
        return _plain(value.value)
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        items = [_plain(v) for v in value]
        return sorted(items, key=json.dumps) if isinstance(value, set | frozenset) else items
    return str(value)


# Never written to the log: secrets, their hashes, and derived values.
_HIDDEN_FIELDS = frozenset({"networks", "api_token_hash", "key_hash", "token_hash",
                            "password_hash", "totp_secret"})


def state_of(thing: Any) -> dict[str, Any]:
    """The fields of a record (a Site, Goal, Funnel, ... dataclass) for before/after,
    without secrets and hashes."""
    if not is_dataclass(thing) or isinstance(thing, type):
        raise TypeError(f"state_of needs a dataclass instance, not {type(thing).__name__}")
    return {k: _plain(v) for k, v in asdict(thing).items() if k not in _HIDDEN_FIELDS}


def changes(before: Mapping[str, Any], after: Mapping[str, Any]) -> dict[str, Any]:
    """{"before": {...}, "after": {...}} holding only the keys whose value changed."""
    b, a = _plain(dict(before)), _plain(dict(after))
    keys = [k for k in sorted(set(b) | set(a)) if b.get(k) != a.get(k)]
    return {"before": {k: b.get(k) for k in keys}, "after": {k: a.get(k) for k in keys}}


def _details(before: Mapping[str, Any] | None, after: Mapping[str, Any] | None,
             details: Mapping[str, Any] | None) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if before is not None and after is not None:
        out.update(changes(before, after))
    elif before is not None:
        out["before"] = _plain(dict(before))
    elif after is not None:
        out["after"] = _plain(dict(after))
    if details:
        out.update(_plain(dict(details)))
    return out


def record(conn_or_engine: Connection | Engine, *, actor: str, source: str, action: str,
           target: str = "", site_id: int | None = None,
           before: Mapping[str, Any] | None = None, after: Mapping[str, Any] | None = None,
           details: Mapping[str, Any] | None = None, now: datetime | None = None) -> None:
    """Add one entry. Pass the connection of the change's own transaction (the entry is
    kept only if the change is); an engine gets a write transaction of its own.

    `before`/`after`: the state around a change (only changed keys are kept when both
    are given); `details`: anything else worth knowing (JSON-able; times become text).
    An unknown `source` or an action not in ACTIONS is a programming error (ValueError).
    """
    if source not in SOURCES:
        raise ValueError(f"audit source must be one of {', '.join(SOURCES)}, not {source!r}")
    if action not in ACTIONS:
        raise ValueError(f"unknown audit action {action!r} (add it to audit.ACTIONS)")
    row = {"at": now or utc_now(), "actor": (actor or "unknown")[:320], "source": source,
           "action": action, "target": target[:400], "site_id": site_id,
           "details": _details(before, after, details)}
    if isinstance(conn_or_engine, Engine):
        with write_transaction(conn_or_engine) as conn:
            conn.execute(sa.insert(schema.audit_log).values(**row))
    else:
        conn_or_engine.execute(sa.insert(schema.audit_log).values(**row))


@dataclass(frozen=True)
class AuditFilter:
    """Which entries to read: all fields optional, combined with AND."""

    since: datetime | None = None
    until: datetime | None = None
    actor: str = ""          # exact e-mail or system account
    action: str = ""         # an action, or a prefix ending in "." ("site.")
    site_id: int | None = None


def _where(query: sa.Select[Any], f: AuditFilter) -> sa.Select[Any]:
    t = schema.audit_log
    if f.since is not None:
        query = query.where(t.c.at >= f.since)
    if f.until is not None:
        query = query.where(t.c.at < f.until)
    if f.actor:
        query = query.where(t.c.actor == f.actor.strip())
    if f.action.endswith("."):
        query = query.where(t.c.action.in_([a for a in ACTIONS if a.startswith(f.action)]))
    elif f.action:
        query = query.where(t.c.action == f.action)
    if f.site_id is not None:
        query = query.where(t.c.site_id == f.site_id)
    return query


def _entry(row: sa.Row[Any]) -> AuditEntry:
    m = row._mapping
    details = m["details"]
    if isinstance(details, str):  # a driver that hands JSON back as text
        details = json.loads(details)
    return AuditEntry(id=m["id"], at=m["at"], actor=m["actor"], source=m["source"],
                      action=m["action"], target=m["target"], site_id=m["site_id"],
                      details=dict(details or {}))


def entries(conn: Connection, f: AuditFilter | None = None, *,
            limit: int = 500) -> list[AuditEntry]:
    """The newest `limit` entries matching `f`, newest first."""
    t = schema.audit_log
    query = _where(sa.select(t), f or AuditFilter()).order_by(t.c.at.desc(), t.c.id.desc())
    return [_entry(r) for r in conn.execute(query.limit(limit))]


def iter_entries(conn: Connection, f: AuditFilter | None = None, *,
                 page: int = 5000) -> Iterator[AuditEntry]:
    """Every entry matching `f`, oldest first, read a page at a time (for exports)."""
    t = schema.audit_log
    last_id = 0
    while True:
        query = _where(sa.select(t), f or AuditFilter()).where(t.c.id > last_id)
        rows = [_entry(r) for r in conn.execute(query.order_by(t.c.id).limit(page))]
        yield from rows
        if len(rows) < page:
            return
        last_id = rows[-1].id


def prune(conn: Connection, now: datetime, keep_days: int) -> int:
    """Delete entries older than `keep_days` (0 keeps everything); the number deleted."""
    if keep_days <= 0:
        return 0
    t = schema.audit_log
    result = conn.execute(sa.delete(t).where(t.c.at < now - timedelta(days=keep_days)))
    return result.rowcount or 0
