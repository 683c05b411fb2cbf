"""The schema, declared once in SQLAlchemy Core; the Alembic migrations mirror it.

The same tables serve SQLite and PostgreSQL. Times are UTC and stored naive;
local days (rollups, retention) are computed in each site's timezone.
"""

from __future__ import annotations

import sqlalchemy as sa

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

metadata = sa.MetaData(naming_convention=NAMING_CONVENTION)

# SQLite only aliases the rowid (fast appends, auto-increment) for a column typed INTEGER.
BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")

sites = sa.Table(
    "sites", metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("domain", sa.String(253), nullable=False, unique=True),
    sa.Column("timezone", sa.String(64), nullable=False, server_default="UTC"),
    sa.Column("created_at", sa.DateTime, nullable=False),
    sa.Column("ignored_ips", sa.JSON, nullable=False),         # list of IPs / CIDRs
    sa.Column("extra_hostnames", sa.JSON, nullable=False),     # also accepted as this site
    sa.Column("honor_dnt", sa.Boolean, nullable=False, server_default=sa.text("false")),
    sa.Column("collect_language", sa.Boolean, nullable=False, server_default=sa.text("true")),
    sa.Column("allow_localhost", sa.Boolean, nullable=False, server_default=sa.text("false")),
    sa.Column("api_token_hash", sa.String(128), nullable=True),  # for POST /api/events
    sa.Column("retention_months", sa.Integer, nullable=False, server_default="0"),
    sa.Column("rollup_retention_months", sa.Integer, nullable=False, server_default="0"),
)

# Daily random salts for the visitor hash; rotated at 00:00 UTC, deleted after 48 h.
salts = sa.Table(
    "salts", metadata,
    sa.Column("day", sa.Date, primary_key=True),
    sa.Column("salt", sa.LargeBinary(32), nullable=False),
    sa.Column("created_at", sa.DateTime, nullable=False),
)

events = sa.Table(
    "events", metadata,
    sa.Column("id", BigId, primary_key=True, autoincrement=True),
    sa.Column("uid", sa.BigInteger, nullable=False),
    sa.Column("site_id", sa.Integer, nullable=False),
    sa.Column("ts", sa.DateTime, nullable=False),
    sa.Column("name", sa.String(120), nullable=False),
    sa.Column("visitor_id", sa.BigInteger, nullable=False),
    sa.Column("session_id", sa.BigInteger, nullable=False),
    sa.Column("hostname", sa.String(253), nullable=False),
    sa.Column("pathname", sa.String(2000), nullable=False),
    sa.Column("referrer", sa.String(2000), nullable=False),
    sa.Column("referrer_source", sa.String(200), nullable=False),
    sa.Column("channel", sa.String(40), nullable=False),
    sa.Column("utm_source", sa.String(300), nullable=False),
    sa.Column("utm_medium", sa.String(300), nullable=False),
    sa.Column("utm_campaign", sa.String(300), nullable=False),
    sa.Column("utm_term", sa.String(300), nullable=False),
    sa.Column("utm_content", sa.String(300), nullable=False),
    sa.Column("click_id", sa.Boolean, nullable=False),
    sa.Column("country", sa.String(2), nullable=False),
    sa.Column("region", sa.String(200), nullable=False),
    sa.Column("city", sa.String(200), nullable=False),
    sa.Column("browser", sa.String(100), nullable=False),
    sa.Column("browser_version", sa.String(40), nullable=False),
    sa.Column("os", sa.String(100), nullable=False),
    sa.Column("os_version", sa.String(40), nullable=False),
    sa.Column("device", sa.String(20), nullable=False),
    sa.Column("language", sa.String(20), nullable=False),
    sa.Column("props", sa.JSON, nullable=False),
    sa.Column("revenue_amount", sa.Float, nullable=True),
    sa.Column("revenue_currency", sa.String(3), nullable=True),
    sa.Column("engagement_ms", sa.Integer, nullable=True),
    sa.Column("scroll_depth", sa.SmallInteger, nullable=True),
    sa.Column("interactive", sa.Boolean, nullable=False),
    sa.Index(None, "site_id", "ts"),
    sa.UniqueConstraint("uid"),
)

# The live visit of each visitor: lets several beacon processes agree on session ids.
visitor_sessions = sa.Table(
    "visitor_sessions", metadata,
    sa.Column("site_id", sa.Integer, primary_key=True),
    sa.Column("visitor_id", sa.BigInteger, primary_key=True),
    sa.Column("session_id", sa.BigInteger, nullable=False),
    sa.Column("last_seen", sa.DateTime, nullable=False),
)

# Policy drops, per site (0 = no site matched) per UTC day per reason.
drop_counts = sa.Table(
    "drop_counts", metadata,
    sa.Column("site_id", sa.Integer, primary_key=True),
    sa.Column("day", sa.Date, primary_key=True),
    sa.Column("reason", sa.String(40), primary_key=True),
    sa.Column("count", sa.BigInteger, nullable=False),
)

# Dropped bot hits per site, UTC day, category and agent family ("GPTBot"): who came
# besides people. No user agent string is kept, only the family a bot list names.
bot_counts = sa.Table(
    "bot_counts", metadata,
    sa.Column("site_id", sa.Integer, primary_key=True),
    sa.Column("day", sa.Date, primary_key=True),
    sa.Column("category", sa.String(20), primary_key=True),
    sa.Column("family", sa.String(60), primary_key=True),
    sa.Column("count", sa.BigInteger, nullable=False),
)

# Days whose events changed since their rollups were built: the worker's to-do list.
dirty_days = sa.Table(
    "dirty_days", metadata,
    sa.Column("site_id", sa.Integer, primary_key=True),
    sa.Column("day", sa.Date, primary_key=True),        # the site's local day
    sa.Column("marked_at", sa.DateTime, nullable=False),
)


def _event_sum_columns() -> list[sa.Column[object]]:
    """The sums of a set of events: kept per day and value, per stored visit and per
    (visit, value) group alike."""
    return [
        sa.Column("pageviews", sa.Integer, nullable=False),
        sa.Column("events", sa.Integer, nullable=False),
        sa.Column("engaged_ms", sa.BigInteger, nullable=False),
        sa.Column("scroll_sum", sa.BigInteger, nullable=False),
        sa.Column("scroll_count", sa.Integer, nullable=False),
        sa.Column("revenue", sa.Float, nullable=False),
    ]


# Additive ingredients of every report per (site, local day, dimension, value); the
# dimension "" holds the day's totals. Rebuilt whole for a day (shared/rollups/build.py).
daily_rollups = sa.Table(
    "daily_rollups", metadata,
    sa.Column("site_id", sa.Integer, nullable=False),
    sa.Column("day", sa.Date, nullable=False),                 # the site's local day
    sa.Column("dimension", sa.String(40), nullable=False),
    sa.Column("value", sa.String(2000), nullable=False),
    sa.Column("visitors", sa.Integer, nullable=False),         # distinct visitors that day
    sa.Column("visits", sa.Integer, nullable=False),
    sa.Column("bounces", sa.Integer, nullable=False),
    sa.Column("duration_ms", sa.BigInteger, nullable=False),
    *_event_sum_columns(),
    sa.Index(None, "site_id", "dimension", "day"),
)


# The visit dimensions of shared/stats/dimensions.py (a test keeps the two equal).
VISIT_DIMENSION_COLUMNS = (
    "entry_page", "exit_page", "source", "channel", "referrer", "utm_source", "utm_medium",
    "utm_campaign", "utm_term", "utm_content", "country", "region", "city", "browser",
    "browser_version", "os", "os_version", "device", "language",
)

# The visits behind the rollups, kept per (site, local day, session): what a query with
# several filtered visit dimensions reads instead of the raw events. Columns are named
# after the visit dimensions (shared/stats/dimensions.py); built with daily_rollups.
rollup_visits = sa.Table(
    "rollup_visits", metadata,
    sa.Column("site_id", sa.Integer, primary_key=True),
    sa.Column("day", sa.Date, primary_key=True),
    sa.Column("session_id", sa.BigInteger, primary_key=True),
    sa.Column("visitor", sa.BigInteger, nullable=False),
    *[sa.Column(name, sa.String(2000)) for name in VISIT_DIMENSION_COLUMNS],
    sa.Column("bounce", sa.Integer, nullable=False),
    sa.Column("duration_ms", sa.BigInteger, nullable=False),
    *_event_sum_columns(),
    # Rows clustered by (site, day, session) on SQLite: a day's or a period's visits are
    # read in order instead of one row lookup per index entry.
    sqlite_with_rowid=False,
)

# Per visit and value of an event dimension (page, hostname, event): the sums of the
# visit's events with that value - what a filtered page breakdown needs from the events.
rollup_visit_events = sa.Table(
    "rollup_visit_events", metadata,
    sa.Column("site_id", sa.Integer, nullable=False),
    sa.Column("dimension", sa.String(40), nullable=False),
    sa.Column("day", sa.Date, nullable=False),
    sa.Column("session_id", sa.BigInteger, nullable=False),
    sa.Column("value", sa.String(2000), nullable=False),
    *_event_sum_columns(),
    sa.Column("matched", sa.Integer, nullable=False),
    sa.Index(None, "site_id", "dimension", "day", "session_id"),
)

goals = sa.Table(
    "goals", metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("site_id", sa.Integer, nullable=False, index=True),
    sa.Column("kind", sa.String(10), nullable=False),          # "page" or "event"
    sa.Column("page_path", sa.String(2000), nullable=True),    # wildcards: * and **
    sa.Column("event_name", sa.String(120), nullable=True),
    sa.Column("prop_key", sa.String(300), nullable=True),
    sa.Column("prop_value", sa.String(2000), nullable=True),
    sa.Column("display_name", sa.String(200), nullable=False),
    sa.Column("created_at", sa.DateTime, nullable=False),
    # A revenue goal's ISO 4217 code: its revenue sums the amounts in this currency only
    # (amounts in others are reported apart, never added to it).
    sa.Column("currency", sa.String(3), nullable=True),
)

funnels = sa.Table(
    "funnels", metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("site_id", sa.Integer, nullable=False, index=True),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("steps", sa.JSON, nullable=False),   # [{"kind": "page"|"event", "value": ...}]
    sa.Column("created_at", sa.DateTime, nullable=False),
)

# Stats API keys, hashed at rest (SHA-256 of a 32-byte random token).
api_keys = sa.Table(
    "api_keys", metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("site_id", sa.Integer, nullable=False, index=True),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("key_hash", sa.String(64), nullable=False, unique=True),
    sa.Column("prefix", sa.String(12), nullable=False),
    sa.Column("created_at", sa.DateTime, nullable=False),
    sa.Column("revoked_at", sa.DateTime, nullable=True),
)

users = sa.Table(
    "users", metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("email", sa.String(320), nullable=False, unique=True),
    sa.Column("password_hash", sa.String(200), nullable=True),   # argon2; null = OIDC only
    sa.Column("is_admin", sa.Boolean, nullable=False, server_default=sa.text("false")),
    sa.Column("failed_logins", sa.Integer, nullable=False, server_default="0"),
    sa.Column("locked_until", sa.DateTime, nullable=True),
    sa.Column("created_at", sa.DateTime, nullable=False),
)

site_roles = sa.Table(
    "site_roles", metadata,
    sa.Column("user_id", sa.Integer, primary_key=True),
    sa.Column("site_id", sa.Integer, primary_key=True),
    sa.Column("role", sa.String(10), nullable=False),   # "owner" or "viewer"
)

share_links = sa.Table(
    "share_links", metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("site_id", sa.Integer, nullable=False, index=True),
    sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
    sa.Column("password_hash", sa.String(200), nullable=True),
    sa.Column("created_at", sa.DateTime, nullable=False),
    sa.Column("revoked_at", sa.DateTime, nullable=True),
    sa.Column("expires_at", sa.DateTime, nullable=True),   # null: made before expiry existed
)

# Failed password checks (sign-in and share-link passwords), per keyed hash of
# (what was tried, client address), plus hourly totals under "global|<hour>" keys
# (shared/accounts/sign_in_throttle.py). No address is stored, only HMACs of it.
sign_in_failures = sa.Table(
    "sign_in_failures", metadata,
    sa.Column("key", sa.String(80), primary_key=True),
    sa.Column("failures", sa.Integer, nullable=False),
    sa.Column("blocked_until", sa.DateTime, nullable=True),
    sa.Column("last_failure", sa.DateTime, nullable=False, index=True),
)

# Networks (keyed hash of the /24 or /48) a user signed in from with the right password:
# when failed sign-ins flood the whole server, these may still try.
sign_in_networks = sa.Table(
    "sign_in_networks", metadata,
    sa.Column("user_id", sa.Integer, primary_key=True),
    sa.Column("network_hash", sa.String(64), primary_key=True),
    sa.Column("last_success", sa.DateTime, nullable=False, index=True),
)

# Remembered dashboard logins: the browser keeps the token in a cookie, the database only
# its SHA-256, so a copy of the database cannot sign anyone in (shared/accounts/login_tokens.py).
login_tokens = sa.Table(
    "login_tokens", metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("user_id", sa.Integer, nullable=False, index=True),
    sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
    sa.Column("created_at", sa.DateTime, nullable=False),
    sa.Column("expires_at", sa.DateTime, nullable=False, index=True),
    sa.Column("last_used", sa.DateTime, nullable=False),
)

# Tables holding per-site data: deleting a site deletes its rows in each.
SITE_DATA_TABLES = (
    events, visitor_sessions, drop_counts, bot_counts, dirty_days, daily_rollups, rollup_visits,
    rollup_visit_events, goals, funnels, api_keys, site_roles, share_links,
)
