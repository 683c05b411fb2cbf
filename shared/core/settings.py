"""Settings: the one place that reads the environment.

Every setting is a field of the frozen `Settings` with a default and a line of help
(`metadata["help"]`); `.env.example` documents each one and a test fails when it misses
one. An invalid value stops start-up with a `SettingsError` that names the variable.

The environment is the process's own, over a `.env` file in the working directory (as
`.env.example` suggests): a variable set in the environment wins over the file.
"""

from __future__ import annotations

import math
import os
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from dotenv import dotenv_values


class SettingsError(ValueError):
    """A setting from the environment is invalid; the message names the variable."""


def _help(text: str, env: str) -> dict[str, str]:
    return {"help": text, "env": env}


@dataclass(frozen=True)
class Settings:
    data_dir: str = field(
        default="data",
        metadata=_help("Folder for the embedded SQLite database, the spool and backups.",
                       "BEACON_DATA_DIR"),
    )
    database_url: str = field(
        default="",
        metadata=_help("SQLAlchemy URL; empty = sqlite in BEACON_DATA_DIR. postgres:// and "
                       "postgresql:// are accepted (Heroku form).", "DATABASE_URL"),
    )
    env: str = field(
        default="development",
        metadata=_help("development or production; production refuses to start without "
                       "BEACON_SECRET_KEY.", "BEACON_ENV"),
    )
    secret_key: str = field(
        default="",
        metadata=_help("Key of the HMACs the sign-in throttle keeps instead of client "
                       "addresses; required in production (>= 32 characters, random: a "
                       "guessable key is refused). Sessions, share links and remembered "
                       "sign-ins are random tokens stored as hashes and need no key. "
                       "Generate one: python -c \"import secrets; "
                       "print(secrets.token_urlsafe(32))\"",
                       "BEACON_SECRET_KEY"),
    )
    port: int = field(default=8000, metadata=_help("Port of the web process.", "PORT"))
    host: str = field(
        default="127.0.0.1",
        metadata=_help("Address the beacon and the dashboard listen on. 127.0.0.1 = this "
                       "machine only (put a reverse proxy in front); 0.0.0.0 = every "
                       "interface (the Procfile passes it: a platform's router connects "
                       "from outside the process).", "BEACON_HOST"),
    )
    dashboard_port: int = field(
        default=8501,
        metadata=_help("Port of the Streamlit dashboard that `beacon serve` starts (run "
                       "alone, `streamlit run` takes --server.port).", "BEACON_DASHBOARD_PORT"),
    )
    trusted_proxies: int = field(
        default=0,
        metadata=_help("How many reverse proxies in front of the beacon append to "
                       "X-Forwarded-For; 0 = use the socket address.", "BEACON_TRUSTED_PROXIES"),
    )
    geoip_db: str = field(
        default="",
        metadata=_help("Optional path to a .mmdb city database; empty = the DB-IP City Lite "
                       "file that installs with the package.", "BEACON_GEOIP_DB"),
    )
    spam_list_file: str = field(
        default="",
        metadata=_help("Optional extra referrer-spam host list (one host per line).",
                       "BEACON_SPAM_LIST_FILE"),
    )
    empty_ua_policy: str = field(
        default="drop",
        metadata=_help("What to do with a hit that has no User-Agent: drop (counted as "
                       "empty_user_agent) or keep.", "BEACON_EMPTY_UA_POLICY"),
    )
    spool_dir: str = field(
        default="",
        metadata=_help("Folder of the local write-ahead spool; empty = BEACON_DATA_DIR/spool.",
                       "BEACON_SPOOL_DIR"),
    )
    spool_fsync: bool = field(
        default=False,
        metadata=_help("fsync the spool after each append (survives power loss, slower). "
                       "Without it events survive a crash of the process.", "BEACON_SPOOL_FSYNC"),
    )
    spool_max_bytes: int = field(
        default=1_073_741_824,
        metadata=_help("Spool size at which new events are refused: the browser endpoints "
                       "answer them with X-Beacon-Drop: spool_full (counted), the batch API "
                       "with 503 and Retry-After. Nothing is held in memory instead.",
                       "BEACON_SPOOL_MAX_BYTES"),
    )
    batch_size: int = field(
        default=1000, metadata=_help("Events per database write.", "BEACON_BATCH_SIZE"),
    )
    flush_interval_ms: int = field(
        default=250,
        metadata=_help("Longest time an accepted event waits before it is written.",
                       "BEACON_FLUSH_INTERVAL_MS"),
    )
    max_body_bytes: int = field(
        default=65_536, metadata=_help("Largest accepted request body.", "BEACON_MAX_BODY_BYTES"),
    )
    session_timeout_minutes: int = field(
        default=30,
        metadata=_help("Inactivity after which a visit ends.", "BEACON_SESSION_TIMEOUT_MINUTES"),
    )
    rate_limit_per_minute: int = field(
        default=0,
        metadata=_help("Per-IP limit of event requests a minute, shared by the beacon "
                       "processes of one machine (and spool folder); 0 = off.",
                       "BEACON_RATE_LIMIT_PER_MINUTE"),
    )
    rollup_interval_seconds: int = field(
        default=30,
        metadata=_help("How often the worker refreshes rollups for touched days.",
                       "BEACON_ROLLUP_INTERVAL_SECONDS"),
    )
    log_level: str = field(
        default="INFO",
        metadata=_help("Log level: DEBUG, INFO, WARNING or ERROR.", "BEACON_LOG_LEVEL"),
    )
    login_max_failures: int = field(
        default=5,
        metadata=_help("Wrong passwords in a row from one address for one account (or share "
                       "link) before each further try waits, twice as long every time; "
                       "accounts are never locked.", "BEACON_LOGIN_MAX_FAILURES"),
    )
    login_lockout_minutes: int = field(
        default=15,
        metadata=_help("Longest wait between password tries from one address for one "
                       "account (or share link).", "BEACON_LOGIN_LOCKOUT_MINUTES"),
    )
    login_global_failures_per_hour: int = field(
        default=500,
        metadata=_help("Failed password checks an hour on the whole server beyond which only "
                       "networks an account signed in from before may try its password.",
                       "BEACON_LOGIN_GLOBAL_FAILURES_PER_HOUR"),
    )
    require_2fa: str = field(
        default="off",
        metadata=_help("Who must sign in to the dashboard with a second factor (an "
                       "authenticator app's code) after the password: off, admins or all. "
                       "A user it applies to who has none set up must set it up right "
                       "after the password (OpenID Connect sign-ins rely on the "
                       "provider's).", "BEACON_REQUIRE_2FA"),
    )
    audit_retention_days: int = field(
        default=365,
        metadata=_help("Days the audit log (who changed what, sign-ins) is kept; the worker "
                       "deletes older entries. 0 = keep forever.",
                       "BEACON_AUDIT_RETENTION_DAYS"),
    )
    export_keep_hours: int = field(
        default=24,
        metadata=_help("Hours a raw-event export started from the dashboard stays "
                       "downloadable; the worker then deletes its file.",
                       "BEACON_EXPORT_KEEP_HOURS"),
    )
    oidc_allowed_emails: str = field(
        default="",
        metadata=_help("Comma list of e-mails or @domains that may sign in to the dashboard "
                       "with OpenID Connect ([auth] in .streamlit/secrets.toml); empty = off.",
                       "BEACON_OIDC_ALLOWED_EMAILS"),
    )
    dashboard_cache_seconds: int = field(
        default=60,
        metadata=_help("How long the dashboard reuses a report's result before asking the "
                       "database again.", "BEACON_DASHBOARD_CACHE_SECONDS"),
    )
    query_timeout_seconds: int = field(
        default=20,
        metadata=_help("Longest time one report query of the Stats API or the dashboard may "
                       "run before it is stopped (503 / a message); 0 = no limit. Keep it "
                       "below gunicorn's 30 s worker timeout.", "BEACON_QUERY_TIMEOUT_SECONDS"),
    )
    mcp_api_key: str = field(
        default="",
        metadata=_help("The Stats API key `beacon mcp` answers with: its tools read only the "
                       "sites this key may read. Empty: `beacon mcp` refuses to start.",
                       "BEACON_MCP_API_KEY"),
    )
    allowed_hosts: str = field(
        default="",
        metadata=_help("Comma list of Host header names the beacon answers (e.g. "
                       "stats.example.com, *.example.com); empty = any. Others get 400.",
                       "BEACON_ALLOWED_HOSTS"),
    )
    dashboard_origins: str = field(
        default="",
        metadata=_help("Comma list of origins (https://stats.example.com) whose pages may "
                       "open the dashboard's websocket besides its own; needed when a proxy "
                       "in front rewrites the Host header.", "BEACON_DASHBOARD_ORIGINS"),
    )
    metrics_token: str = field(
        default="",
        metadata=_help("Bearer token a scraper sends to read /metrics (beacon) and "
                       "/_stcore/metrics (dashboard); empty = only direct connections from "
                       "this machine may read them.", "BEACON_METRICS_TOKEN"),
    )
    login_remember_days: int = field(
        default=30,
        metadata=_help("Days a dashboard password sign-in is remembered by the browser (a "
                       "cookie holding a random token); 0 = ask again on every reload.",
                       "BEACON_LOGIN_REMEMBER_DAYS"),
    )
    web_concurrency: int = field(
        default=2,
        metadata=_help("gunicorn worker processes of the beacon (gunicorn.conf.py: the "
                       "Procfile's `beacon` process and `beacon serve`).", "WEB_CONCURRENCY"),
    )
    threads: int = field(
        default=8,
        metadata=_help("Threads of each gunicorn worker; more threads let one process write "
                       "more requests in one batch.", "BEACON_THREADS"),
    )
    new_password: str = field(
        default="",
        metadata=_help("The new password for `beacon users add` and `beacon users passwd` "
                       "in scripts; empty = asked on the terminal. Unset it afterwards.",
                       "BEACON_NEW_PASSWORD"),
    )

    smtp_url: str = field(
        default="",
        metadata=_help("Outgoing mail server for reports and alerts as one URL: "
                       "smtp://user:password@host:587 (STARTTLS when the server offers it), "
                       "smtps://... (TLS from the start, port 465) or "
                       "smtp://host:25?tls=off; wins over the BEACON_SMTP_HOST group. Empty "
                       "and no host = no e-mail is sent (reports and alerts wait in the "
                       "queue).", "BEACON_SMTP_URL"),
    )
    smtp_host: str = field(
        default="",
        metadata=_help("Outgoing mail server's host name, when BEACON_SMTP_URL is not set.",
                       "BEACON_SMTP_HOST"),
    )
    smtp_port: int = field(
        default=0,
        metadata=_help("Its port; 0 = 465 with BEACON_SMTP_TLS=ssl, else 587.",
                       "BEACON_SMTP_PORT"),
    )
    smtp_user: str = field(
        default="", metadata=_help("User name for SMTP AUTH; empty = no login.",
                                   "BEACON_SMTP_USER"),
    )
    smtp_password: str = field(
        default="", metadata=_help("Password for SMTP AUTH.", "BEACON_SMTP_PASSWORD"),
    )
    smtp_tls: str = field(
        default="starttls",
        metadata=_help("starttls (upgrade the connection, refuse a server that cannot), "
                       "ssl (TLS from the start) or off (plain text; only for a relay on "
                       "this machine or network).", "BEACON_SMTP_TLS"),
    )
    mail_from: str = field(
        default="",
        metadata=_help("From address of reports and alerts, e.g. Beacon "
                       "<stats@example.com>; empty = beacon@ and the host name.",
                       "BEACON_MAIL_FROM"),
    )
    public_url: str = field(
        default="",
        metadata=_help("Public address of the beacon (https://stats.example.com): the "
                       "unsubscribe links of report e-mails point to it. Empty = the "
                       "e-mails say how to unsubscribe in the dashboard instead.",
                       "BEACON_PUBLIC_URL"),
    )
    notify_max_attempts: int = field(
        default=8,
        metadata=_help("Tries of one e-mail or webhook delivery before it is given up; "
                       "the waits between them double from 1 minute (8 tries span about "
                       "2 hours).", "BEACON_NOTIFY_MAX_ATTEMPTS"),
    )

    # --- derived values -------------------------------------------------------------
    @property
    def resolved_database_url(self) -> str:
        return normalise_database_url(self.database_url, self.data_dir)

    @property
    def resolved_spool_dir(self) -> str:
        return self.spool_dir or str(Path(self.data_dir) / "spool")

    @property
    def is_production(self) -> bool:
        return self.env == "production"


def normalise_database_url(url: str, data_dir: str) -> str:
    """Accept Heroku's `postgres://` form and pick the psycopg 3 driver."""
    if not url:
        return f"sqlite:///{Path(data_dir).resolve() / 'beacon.db'}"
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url


_BOOL = {"1": True, "true": True, "yes": True, "on": True,
         "0": False, "false": False, "no": False, "off": False, "": False}


def _parse(name: str, raw: str, kind: Any) -> Any:
    if kind in (bool, "bool"):
        value = _BOOL.get(raw.strip().lower())
        if value is None:
            raise SettingsError(f"{name}={raw!r} is not a boolean (use true or false)")
        return value
    if kind in (int, "int"):
        try:
            number = int(raw.strip())
        except ValueError:
            raise SettingsError(f"{name}={raw!r} is not a whole number") from None
        if number < 0:
            raise SettingsError(f"{name}={raw!r} must not be negative")
        return number
    return raw.strip()


# A key is refused below this estimate: `secrets.token_urlsafe(32)` gives ~215,
# `openssl rand -hex 32` ~250; 32 x "a" gives 0 and a short word repeated very little.
MIN_SECRET_KEY_BITS = 128


def estimated_key_bits(key: str) -> int:
    """Randomness of `key` estimated from its own character frequencies (Shannon): an
    upper bound for a random key, and low for repeats and small alphabets."""
    counts = Counter(key)
    per_char = -sum(n / len(key) * math.log2(n / len(key)) for n in counts.values())
    return int(per_char * len(key))


def _validate(s: Settings) -> None:
    if s.env not in ("development", "production"):
        raise SettingsError(f"BEACON_ENV={s.env!r} must be development or production")
    if s.empty_ua_policy not in ("drop", "keep"):
        raise SettingsError(f"BEACON_EMPTY_UA_POLICY={s.empty_ua_policy!r} must be drop or keep")
    if s.require_2fa not in ("off", "admins", "all"):
        raise SettingsError(f"BEACON_REQUIRE_2FA={s.require_2fa!r} must be off, admins or all")
    if s.is_production and len(s.secret_key) < 32:
        raise SettingsError("BEACON_SECRET_KEY must be set (>= 32 characters) when "
                            "BEACON_ENV=production")
    if s.secret_key and estimated_key_bits(s.secret_key) < MIN_SECRET_KEY_BITS:
        raise SettingsError(
            f"BEACON_SECRET_KEY looks guessable (about {estimated_key_bits(s.secret_key)} bits "
            f"of randomness, {MIN_SECRET_KEY_BITS} needed); generate one with: python -c "
            '"import secrets; print(secrets.token_urlsafe(32))"')
    url = s.resolved_database_url
    if not (url.startswith("sqlite") or url.startswith("postgresql")):
        scheme = url.split(":")[0]
        raise SettingsError(f"DATABASE_URL must be a sqlite or postgresql URL, got {scheme!r}")
    if s.web_concurrency < 1 or s.threads < 1:
        raise SettingsError("WEB_CONCURRENCY and BEACON_THREADS must be at least 1")
    if s.export_keep_hours < 1:
        raise SettingsError("BEACON_EXPORT_KEEP_HOURS must be at least 1")
    if s.batch_size < 1 or s.batch_size > 50_000:
        raise SettingsError("BEACON_BATCH_SIZE must be between 1 and 50000")
    if s.log_level.upper() not in ("DEBUG", "INFO", "WARNING", "ERROR"):
        raise SettingsError(f"BEACON_LOG_LEVEL={s.log_level!r} is not a log level")
    if s.geoip_db and not Path(s.geoip_db).is_file():
        raise SettingsError(f"BEACON_GEOIP_DB={s.geoip_db!r} is not a readable file")
    if s.smtp_tls not in ("starttls", "ssl", "off"):
        raise SettingsError(f"BEACON_SMTP_TLS={s.smtp_tls!r} must be starttls, ssl or off")
    if s.smtp_url and not s.smtp_url.startswith(("smtp://", "smtps://")):
        raise SettingsError("BEACON_SMTP_URL must start with smtp:// or smtps://")
    if s.public_url and not s.public_url.startswith(("http://", "https://")):
        raise SettingsError("BEACON_PUBLIC_URL must start with https:// (or http://)")
    if s.notify_max_attempts < 1:
        raise SettingsError("BEACON_NOTIFY_MAX_ATTEMPTS must be at least 1")
    if s.spam_list_file and not Path(s.spam_list_file).is_file():
        raise SettingsError(f"BEACON_SPAM_LIST_FILE={s.spam_list_file!r} is not a readable file")


def setting_fields() -> list[tuple[str, str, Any, str]]:
    """(env var, field name, default, help) for every setting, in declaration order."""
    return [(f.metadata["env"], f.name, f.default, f.metadata["help"]) for f in fields(Settings)]


DOTENV_FILE = ".env"


def environment(dotenv_path: str | Path = DOTENV_FILE) -> dict[str, str]:
    """The variables of the `.env` file (if there is one), overridden by the process's
    environment. Every entry point reads its settings through this, and `beacon serve`
    hands it to its child processes."""
    from_file = {k: v for k, v in dotenv_values(dotenv_path).items() if v is not None}
    return {**from_file, **os.environ}


def load_settings(environ: Mapping[str, str] | None = None, **overrides: Any) -> Settings:
    """Build Settings from `environment()` (or `environ`), then apply `overrides`."""
    env = environment() if environ is None else environ
    values: dict[str, Any] = {}
    for f in fields(Settings):
        raw = env.get(f.metadata["env"])
        if raw is not None:
            values[f.name] = _parse(f.metadata["env"], raw, f.type)
    values.update(overrides)
    settings = Settings(**values)
    _validate(settings)
    return settings
