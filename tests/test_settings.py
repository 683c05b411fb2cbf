"""Settings: every variable documented in .env.example; invalid values name the variable."""

from __future__ import annotations

import re
import secrets
from pathlib import Path

import pytest

from shared.core.settings import (
    SettingsError,
    load_settings,
    normalise_database_url,
    setting_fields,
)

ROOT = Path(__file__).resolve().parent.parent


def test_env_example_documents_every_setting() -> None:
    text = (ROOT / ".env.example").read_text()
    documented = set(re.findall(r"^#?\s*([A-Z][A-Z0-9_]+)=", text, re.M))
    missing = {env for env, *_ in setting_fields()} - documented
    assert not missing, f".env.example misses {sorted(missing)}"


def test_every_setting_has_help() -> None:
    for env, _name, _default, help_text in setting_fields():
        assert len(help_text) > 10, env


@pytest.mark.parametrize(("env", "value"), [
    ("BEACON_TRUSTED_PROXIES", "two"),
    ("BEACON_TRUSTED_PROXIES", "-1"),
    ("BEACON_SPOOL_FSYNC", "maybe"),
    ("BEACON_ENV", "staging"),
    ("BEACON_EMPTY_UA_POLICY", "ignore"),
    ("DATABASE_URL", "mysql://root@localhost/x"),
    ("BEACON_BATCH_SIZE", "0"),
    ("BEACON_LOG_LEVEL", "LOUD"),
    ("BEACON_GEOIP_DB", "/nonexistent/city.mmdb"),
], ids=lambda v: str(v))
def test_invalid_values_stop_start_up_naming_the_variable(env: str, value: str) -> None:
    with pytest.raises(SettingsError, match=env):
        load_settings({env: value})


def test_production_needs_a_secret_key() -> None:
    with pytest.raises(SettingsError, match="BEACON_SECRET_KEY"):
        load_settings({"BEACON_ENV": "production"})
    key = secrets.token_urlsafe(32)
    assert load_settings({"BEACON_ENV": "production", "BEACON_SECRET_KEY": key}).is_production


@pytest.mark.parametrize("key", ["a" * 32, "x" * 64, "abab" * 16, "password" * 5, "0123" * 10],
                         ids=["a32", "x64", "abab", "password", "digits"])
def test_a_guessable_secret_key_is_refused(key: str) -> None:
    with pytest.raises(SettingsError, match="BEACON_SECRET_KEY looks guessable"):
        load_settings({"BEACON_ENV": "production", "BEACON_SECRET_KEY": key})
    with pytest.raises(SettingsError, match="BEACON_SECRET_KEY looks guessable"):
        load_settings({"BEACON_SECRET_KEY": key})   # set in development: checked too


def test_generated_secret_keys_pass() -> None:
    for key in (secrets.token_urlsafe(32), secrets.token_hex(32)):
        assert load_settings({"BEACON_ENV": "production", "BEACON_SECRET_KEY": key})


@pytest.mark.parametrize(("url", "expected"), [
    ("postgres://u:p@h:5432/db", "postgresql+psycopg://u:p@h:5432/db"),
    ("postgresql://u@h/db", "postgresql+psycopg://u@h/db"),
    ("postgresql+psycopg://u@h/db", "postgresql+psycopg://u@h/db"),
    ("sqlite:///x.db", "sqlite:///x.db"),
], ids=["heroku", "plain", "driver", "sqlite"])
def test_database_url_forms(url: str, expected: str) -> None:
    assert normalise_database_url(url, "data") == expected


def test_default_database_is_sqlite_in_the_data_dir(tmp_path: Path) -> None:
    s = load_settings({"BEACON_DATA_DIR": str(tmp_path)})
    assert s.resolved_database_url == f"sqlite:///{tmp_path.resolve() / 'beacon.db'}"
