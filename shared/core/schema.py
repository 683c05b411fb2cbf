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
    # Query parameters holding a site-search term; null: shared.sites.SEARCH_PARAMS.
    sa.Column("search_params", sa.JSON, nullable=True),
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
    # The tracker's window width as a class (shared/core/screen_size.py), "" when not sent.
    sa.Column("screen_size", sa.String(10), nullable=False, server_default=""),
    # The site-search term of the page's query (beacon_app/enrichment/site_search.py).
    sa.Column("search_term", sa.String(300), nullable=False, server_default=""),
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
    "browser_version", "os", "os_version", "device", "language", "screen_size",
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
    # kind "scroll": visitors who scrolled at least this percent of page_path.
    sa.Column("scroll_threshold", sa.SmallInteger, nullable=True),
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

# Named, saved filter sets of a site: private to their owner, or shared with every user
# of the site. `filters` is a list of [dimension, operator, [values]] in the query
# layer's names (shared/stats/segments.py).
segments = sa.Table(
    "segments", metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("site_id", sa.Integer, nullable=False, index=True),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("filters", sa.JSON, nullable=False),
    sa.Column("owner_id", sa.Integer, nullable=True),     # null: made by an administrator
    sa.Column("shared", sa.Boolean, nullable=False),
    sa.Column("created_at", sa.DateTime, nullable=False),
    sa.Column("updated_at", sa.DateTime, nullable=False),
)

# Annotations: notes on a local day or a range of days, drawn on the site's charts (the
# variable is not named `annotations`: that name is the `__future__` import's).
notes = sa.Table(
    "annotations", metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("site_id", sa.Integer, nullable=False),
    sa.Column("first_day", sa.Date, nullable=False),
    sa.Column("last_day", sa.Date, nullable=False),
    sa.Column("text", sa.String(500), nullable=False),
    sa.Column("author", sa.String(320), nullable=True),
    sa.Column("created_at", sa.DateTime, nullable=False),
    sa.Index(None, "site_id", "first_day"),
)

# API keys, hashed at rest (SHA-256 of a 32-byte random token). A "stats" key reads one
# site (site_id); a "sites" key belongs to a user (user_id) and manages their sites.
api_keys = sa.Table(
    "api_keys", metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("site_id", sa.Integer, nullable=True, index=True),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("key_hash", sa.String(64), nullable=False, unique=True),
    sa.Column("prefix", sa.String(12), nullable=False),
    sa.Column("created_at", sa.DateTime, nullable=False),
    sa.Column("revoked_at", sa.DateTime, nullable=True),
    sa.Column("scopes", sa.String(100), nullable=False, server_default="stats"),
    sa.Column("user_id", sa.Integer, nullable=True, index=True),
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
    # Two-factor sign-in (shared/accounts/two_factor.py): the RFC 6238 secret (base32),
    # when it was confirmed, and the last time step a code was accepted for, so one code
    # never signs in twice.
    sa.Column("totp_secret", sa.String(64), nullable=True),
    sa.Column("totp_enabled_at", sa.DateTime, nullable=True),
    sa.Column("totp_last_step", sa.BigInteger, nullable=True),
)

# Single-use recovery codes of two-factor sign-in: only their SHA-256 is stored.
recovery_codes = sa.Table(
    "recovery_codes", metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("user_id", sa.Integer, nullable=False, index=True),
    sa.Column("code_hash", sa.String(64), nullable=False),
    sa.Column("created_at", sa.DateTime, nullable=False),
    sa.Column("used_at", sa.DateTime, nullable=True),
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
    sa.Column("name", sa.String(200), nullable=True),      # the Sites API's handle
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

# E-mail reports: one row per (site, recipient), weekly and/or monthly. The unsubscribe
# token is random and only unsubscribes this row, so the link needs no sign-in.
report_subscriptions = sa.Table(
    "report_subscriptions", metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("site_id", sa.Integer, nullable=False, index=True),
    sa.Column("email", sa.String(320), nullable=False),
    sa.Column("weekly", sa.Boolean, nullable=False),
    sa.Column("monthly", sa.Boolean, nullable=False),
    sa.Column("unsubscribe_token", sa.String(64), nullable=False, unique=True),
    sa.Column("created_at", sa.DateTime, nullable=False),
    sa.UniqueConstraint("site_id", "email"),
)

# Traffic alerts of a site and their open episodes (null = none open): a notice goes out
# when an episode opens, none while it stays open (shared/notify/alerts.py).
site_alerts = sa.Table(
    "site_alerts", metadata,
    sa.Column("site_id", sa.Integer, primary_key=True),
    sa.Column("spike_visitors", sa.Integer, nullable=True),    # more than N now; null = off
    sa.Column("drop_percent", sa.Integer, nullable=True),      # below X % of usual; null = off
    sa.Column("emails", sa.JSON, nullable=False),              # who gets the alert e-mails
    sa.Column("spike_since", sa.DateTime, nullable=True),
    sa.Column("drop_since", sa.DateTime, nullable=True),
    sa.Column("updated_at", sa.DateTime, nullable=False),
)

# "Goal X reached N conversions today": one notice per threshold and local day.
goal_thresholds = sa.Table(
    "goal_thresholds", metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("site_id", sa.Integer, nullable=False, index=True),
    sa.Column("goal_id", sa.Integer, nullable=False),
    sa.Column("conversions", sa.Integer, nullable=False),
    sa.Column("created_at", sa.DateTime, nullable=False),
)

# Outgoing webhooks: the owner's URL, the events it wants, its signing secret.
webhooks = sa.Table(
    "webhooks", metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("site_id", sa.Integer, nullable=False, index=True),
    sa.Column("url", sa.String(2000), nullable=False),
    sa.Column("events", sa.JSON, nullable=False),              # ["report", "spike", ...]
    sa.Column("payload_format", sa.String(10), nullable=False),  # "json" or "slack"
    sa.Column("secret", sa.String(64), nullable=False),
    sa.Column("created_at", sa.DateTime, nullable=False),
)

# The outbox of e-mails and webhook calls: what is due, each try's outcome (the delivery
# log) and, through the unique dedupe key, the record that nothing goes out twice.
notifications = sa.Table(
    "notifications", metadata,
    sa.Column("id", BigId, primary_key=True, autoincrement=True),
    sa.Column("site_id", sa.Integer, nullable=False, index=True),
    sa.Column("channel", sa.String(10), nullable=False),       # "email" or "webhook"
    sa.Column("target", sa.String(320), nullable=False),       # address, or webhook id
    sa.Column("event", sa.String(20), nullable=False),         # report, spike, drop, goal
    sa.Column("dedupe_key", sa.String(400), nullable=False, unique=True),
    sa.Column("payload", sa.JSON, nullable=False),
    sa.Column("status", sa.String(10), nullable=False),        # pending sending sent failed
    sa.Column("attempts", sa.Integer, nullable=False),
    sa.Column("next_attempt_at", sa.DateTime, nullable=False),
    sa.Column("last_error", sa.String(500), nullable=True),
    sa.Column("response_code", sa.Integer, nullable=True),
    sa.Column("created_at", sa.DateTime, nullable=False),
    sa.Column("sent_at", sa.DateTime, nullable=True),
    sa.Index(None, "status", "next_attempt_at"),
)

# Who changed what, when, from where (shared/accounts/audit.py). Kept when a site or a
# user is deleted (the record outlives them), pruned after BEACON_AUDIT_RETENTION_DAYS.
# Holds people's e-mails and the settings they changed, never visitor data.
audit_log = sa.Table(
    "audit_log", metadata,
    sa.Column("id", BigId, primary_key=True, autoincrement=True),
    sa.Column("at", sa.DateTime, nullable=False, index=True),
    sa.Column("actor", sa.String(320), nullable=False),
    sa.Column("source", sa.String(12), nullable=False),      # dashboard, cli, api, system
    sa.Column("action", sa.String(60), nullable=False, index=True),
    sa.Column("target", sa.String(400), nullable=False),
    sa.Column("site_id", sa.Integer, nullable=True),
    sa.Column("details", sa.JSON, nullable=False),           # {"before": .., "after": ..}
)

# Imports (shared/imports/): one row per import of a site's history - what was read,
# where it stopped (`position`, `state`: resumable after a kill), what it counted.
imports = sa.Table(
    "imports", metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("site_id", sa.Integer, nullable=False, index=True),
    sa.Column("kind", sa.String(20), nullable=False),            # "logs", ...
    sa.Column("fingerprint", sa.String(64), nullable=False),     # of the files read
    sa.Column("label", sa.String(2000), nullable=False),         # file names, for people
    sa.Column("status", sa.String(12), nullable=False),          # running|done|failed
    sa.Column("options", sa.JSON, nullable=False),               # format, page-view rules
    sa.Column("position", sa.JSON, nullable=False),              # file index, lines read
    sa.Column("state", sa.JSON, nullable=False),                 # open visits at `position`
    sa.Column("counts", sa.JSON, nullable=False),                # lines, drops per reason
    sa.Column("pageviews", sa.BigInteger, nullable=False, server_default="0"),
    sa.Column("visitors", sa.BigInteger, nullable=False, server_default="0"),
    sa.Column("first_ts", sa.DateTime, nullable=True),
    sa.Column("last_ts", sa.DateTime, nullable=True),
    sa.Column("error", sa.String(2000), nullable=False, server_default=""),
    sa.Column("created_at", sa.DateTime, nullable=False),
    sa.Column("updated_at", sa.DateTime, nullable=False),
    sa.Column("finished_at", sa.DateTime, nullable=True),
    sa.Index(None, "site_id", "kind", "fingerprint"),
)

# The salt of each day an import is still reading: made for that import and deleted when
# it finishes (or is deleted), so its visitor ids cannot be linked to anything later.
import_salts = sa.Table(
    "import_salts", metadata,
    sa.Column("import_id", sa.Integer, primary_key=True),
    sa.Column("site_id", sa.Integer, nullable=False),   # removing a site removes these
    sa.Column("day", sa.Date, primary_key=True),
    sa.Column("salt", sa.LargeBinary(32), nullable=False),
)

# Which import stored an event (by uid), so an import can be deleted again.
import_events = sa.Table(
    "import_events", metadata,
    sa.Column("uid", sa.BigInteger, primary_key=True, autoincrement=False),
    sa.Column("import_id", sa.Integer, nullable=False, index=True),
    sa.Column("site_id", sa.Integer, nullable=False),
)

# The bot hits an import added to bot_counts, so deleting it takes them away again.
import_bot_counts = sa.Table(
    "import_bot_counts", metadata,
    sa.Column("import_id", sa.Integer, primary_key=True),
    sa.Column("site_id", sa.Integer, nullable=False),   # removing a site removes these
    sa.Column("day", sa.Date, primary_key=True),
    sa.Column("category", sa.String(20), primary_key=True),
    sa.Column("family", sa.String(60), primary_key=True),
    sa.Column("count", sa.BigInteger, nullable=False),
)

# Raw-event exports started from the dashboard and written by the worker
# (shared/dataout/export_queue.py): what to export, how far it got, its file's token.
# `active_key` is set while the export is queued or running and unique, so the same
# export asked for twice (a double click, two tabs) is queued once.
export_jobs = sa.Table(
    "export_jobs", metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("token", sa.String(64), nullable=False, unique=True),   # URL and file name
    sa.Column("site_id", sa.Integer, nullable=False, index=True),
    sa.Column("user_id", sa.Integer, nullable=False, index=True),
    sa.Column("status", sa.String(10), nullable=False),      # queued running done failed
    sa.Column("active_key", sa.String(64), nullable=True, unique=True),
    sa.Column("format", sa.String(10), nullable=False),      # csv, parquet, ndjson
    sa.Column("options", sa.JSON, nullable=False),           # period, dates, filters, now
    sa.Column("label", sa.String(400), nullable=False),      # the period and filters, for people
    sa.Column("rows_total", sa.BigInteger, nullable=True),
    sa.Column("rows_written", sa.BigInteger, nullable=False, server_default="0"),
    sa.Column("file_bytes", sa.BigInteger, nullable=True),
    sa.Column("error", sa.String(500), nullable=False, server_default=""),
    sa.Column("created_at", sa.DateTime, nullable=False),
    sa.Column("updated_at", sa.DateTime, nullable=False),    # the running worker's heartbeat
    sa.Column("finished_at", sa.DateTime, nullable=True),
    sa.Index(None, "status", "created_at"),
)

# Tables holding per-site data: deleting a site deletes its rows in each.
SITE_DATA_TABLES = (
    events, visitor_sessions, drop_counts, bot_counts, dirty_days, daily_rollups, rollup_visits,
    rollup_visit_events, goals, funnels, api_keys, site_roles, share_links,
    report_subscriptions, site_alerts, goal_thresholds, webhooks, notifications, imports,
    segments, notes, export_jobs,
)

# Tables that name a site but outlive it: removing a site keeps its audit trail.
SITE_HISTORY_TABLES = (audit_log,)
