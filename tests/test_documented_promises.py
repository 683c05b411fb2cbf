"""The documentation's checkable statements, each against the running software.

Where a statement lives in a document that can be read - the metrics named anywhere in
the Markdown docs, the headers SECURITY.md lists, the variables the docs, app.json and
the Procfile name, the help and defaults of .env.example - it is read from there
(tests/documented.py). The documented numbers and codes are asserted one by one below
(`LIMITS`, `test_documented_answers`), against the code's constants and real requests.
"""

from __future__ import annotations

import ast
import dataclasses
import json
from pathlib import Path

import pytest
from flask.testing import FlaskClient

from beacon_app import state_of
from beacon_app.hits import MAX_BATCH_BYTES
from beacon_app.routes import MAX_BATCH
from shared.core.settings import Settings, SettingsError, load_settings, setting_fields
from shared.sites import get_site
from shared.storage import migrate
from tests.beacon.helpers import CHROME_UA, make_app, stored_events
from tests.beacon.server import BeaconServer
from tests.documented import (
    ROOT,
    carries,
    documented_metric_series,
    documented_variables,
    env_example,
    security_headers,
)
from tests.security.test_security import REQUESTS
from tests.security.test_security import _client as security_client

SETTINGS = {env: (name, default, help_text) for env, name, default, help_text in setting_fields()}
EVENT = {"n": "pageview", "u": "https://example.com/a", "d": "example.com"}


# --- metrics --------------------------------------------------------------------------
def test_every_metric_the_docs_name_is_served_by_a_live_beacon(tmp_path: Path) -> None:
    documented = documented_metric_series()
    assert 'beacon_events_dropped_total{reason="internal_error"}' in documented
    url = f"sqlite:///{tmp_path / 'b.db'}"
    migrate(url)
    server = BeaconServer({"BEACON_DATA_DIR": str(tmp_path / "d"), "DATABASE_URL": url},
                          workers=1).start()
    try:
        status, body = server.get("/metrics")
    finally:
        server.stop()
    assert status == 200
    served = {line.split(" ")[0] for line in body.decode().splitlines()
              if line and not line.startswith("#")}
    families = {series.split("{")[0] for series in served}
    for series in documented:
        assert series in (served if "{" in series else families), series


# --- headers --------------------------------------------------------------------------
# Every kind of response of tests/security, and the error answers besides.
RESPONSES = [
    *REQUESTS,
    ("POST", "/api/event", json.dumps({**EVENT, "pad": "x" * 70_000})),   # over 64 KB
    ("PUT", "/api/event", None),                                           # 405
    ("OPTIONS", "/api/event", None),                                       # preflight
]


@pytest.fixture
def client(tmp_path: Path) -> FlaskClient:
    return security_client(tmp_path)


def test_every_response_carries_the_headers_security_md_lists(client: FlaskClient) -> None:
    everywhere, not_on_scripts = security_headers()
    for method, path, body in RESPONSES:
        resp = client.open(path, method=method, data=body,
                           headers={"User-Agent": CHROME_UA, "Referer": "https://example.com/"})
        assert resp.status_code < 500, (method, path)
        promised = everywhere if path.endswith(".js") else {**everywhere, **not_on_scripts}
        for name, value in promised.items():
            assert carries(dict(resp.headers), name, value), (method, path, name)


# --- settings -------------------------------------------------------------------------
def test_every_variable_the_docs_name_is_a_setting() -> None:
    read_by_tests: set[str] = set()   # the test suite's own (a PostgreSQL URL, Chromium)
    for path in (ROOT / "tests").rglob("*.py"):
        read_by_tests.update(_environment_reads(path))
    unknown = documented_variables() - set(SETTINGS) - read_by_tests
    assert not unknown, f"documented but not settings: {sorted(unknown)}"


def _rendered(default: object) -> str:
    return ("true" if default else "false") if isinstance(default, bool) else str(default)


@pytest.mark.parametrize("env", sorted(SETTINGS))
def test_env_example_says_what_the_setting_says(env: str) -> None:
    _name, default, help_text = SETTINGS[env]
    assert len(help_text) > 10
    comment, value = env_example()[env]
    assert comment == " ".join(help_text.split()), env
    assert value == _rendered(default), env


_READERS = ("os.environ.get", "os.getenv", "getenv")


def _environment_reads(path: Path) -> set[str]:
    """The names one source file reads with os.environ.get / os.environ[...] / getenv
    (a name that is not a literal appears as its expression)."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        key: ast.expr | None = None
        if isinstance(node, ast.Call) and node.args and ast.unparse(node.func) in _READERS:
            key = node.args[0]
        elif isinstance(node, ast.Subscript) and isinstance(node.ctx, ast.Load) and \
                ast.unparse(node.value) == "os.environ":
            key = node.slice
        if key is not None:
            names.add(key.value if isinstance(key, ast.Constant) else ast.unparse(key))
    return names


# Read to be handed on to a child process unchanged, not to configure the product.
PASSED_THROUGH = {"PYTHONPATH"}


def test_every_variable_the_code_reads_is_a_setting() -> None:
    sources = [ROOT / "gunicorn.conf.py"]
    for package in ("shared", "beacon_app", "beacon_cli", "dashboard_app"):
        sources += sorted((ROOT / package).rglob("*.py"))
    reads = {}
    for path in sources:
        if path != ROOT / "shared" / "settings.py":
            for name in _environment_reads(path):
                reads.setdefault(name, []).append(str(path.relative_to(ROOT)))
    unknown = {name: where for name, where in reads.items()
               if name not in SETTINGS and name not in PASSED_THROUGH}
    assert not unknown, f"read from the environment, but not settings: {unknown}"


def test_the_scan_finds_environment_reads(tmp_path: Path) -> None:
    source = tmp_path / "x.py"
    source.write_text("import os\na = os.environ.get('A')\nb = os.environ['B']\n"
                      "c = os.getenv('C', '1')\nos.environ.setdefault('D', 'x')\n")
    assert _environment_reads(source) == {"A", "B", "C"}


# --- limits and answers, one by one ---------------------------------------------------
def _shortest_production_key() -> int:
    """The shortest random-looking key production accepts (a prefix of a strong key)."""
    strong = "Xq3vT9pLm2ZrB8wKd5YhN1cFj7GsA4UeR6tW"
    for length in range(1, len(strong) + 1):
        try:
            load_settings({"BEACON_ENV": "production", "BEACON_SECRET_KEY": strong[:length]})
        except SettingsError:
            continue
        return length
    return -1


LIMITS = [
    # (the statement, the value in the code, the documented value)
    ("the batch API's body limit is 5 MB (larger: 413)", MAX_BATCH_BYTES, 5 * 1024 * 1024),
    ("the batch API takes up to 500 events", MAX_BATCH, 500),
    ("an /api/event body is at most 64 KB", Settings().max_body_bytes, 64 * 1024),
    ("a visit ends after 30 minutes without a hit", Settings().session_timeout_minutes, 30),
    ("5 wrong passwords are free before sign-in waits grow", Settings().login_max_failures, 5),
    ("production needs a secret of at least 32 characters", _shortest_production_key(), 32),
]


@pytest.mark.parametrize(("statement", "actual", "documented"), LIMITS,
                         ids=[s for s, _, _ in LIMITS])
def test_documented_limits(statement: str, actual: int, documented: int) -> None:
    assert actual == documented, statement


def test_documented_answers(client: FlaskClient) -> None:
    headers = {"User-Agent": CHROME_UA}
    with state_of(client.application).engine.begin() as conn:
        assert get_site(conn, "example.com") is not None
    accepted = client.post("/api/event", data=json.dumps(EVENT), headers=headers)
    assert (accepted.status_code, accepted.get_data()) == (202, b"ok")
    pixel = client.get("/p.gif?u=https://example.com/p&d=example.com", headers=headers)
    assert pixel.status_code == 200 and pixel.mimetype == "image/gif"
    assert len(pixel.get_data()) == 43 and "no-store" in pixel.headers["Cache-Control"]
    bare = client.get("/", headers={**headers, "Referer": "https://example.com/b"})
    assert bare.status_code == 204
    over_64kb = client.post("/api/event", data=json.dumps({**EVENT, "pad": "x" * 66_000}),
                            headers=headers)
    assert over_64kb.status_code == 400 and over_64kb.headers["X-Beacon-Error"]
    no_referrer = client.get("/", headers=headers)
    assert no_referrer.status_code == 400 and no_referrer.headers["X-Beacon-Error"]
    wrong_method = client.put("/api/event", headers=headers)
    assert wrong_method.status_code == 405 and "POST" in wrong_method.headers["Allow"]
    assert client.options("/api/event").status_code == 204
    assert client.post("/api/events", json={"events": [EVENT]}).status_code == 401


def test_empty_user_agent_policy_as_documented(tmp_path: Path) -> None:
    """BEACON_EMPTY_UA_POLICY: `drop` (the default) drops hits without a User-Agent,
    counted under the reason its help names; `keep` stores them."""
    _name, default, help_text = SETTINGS["BEACON_EMPTY_UA_POLICY"]
    assert default == "drop" and "counted as empty_user_agent" in help_text
    for policy in ("drop", "keep"):
        settings = load_settings({}, data_dir=str(tmp_path / policy),
                                 database_url=f"sqlite:///{tmp_path / policy}.db",
                                 flush_interval_ms=20, empty_ua_policy=policy)
        migrate(settings.resolved_database_url)
        app = make_app(dataclasses.replace(settings))
        resp = app.test_client().post("/api/event", json=EVENT, headers={"User-Agent": ""})
        assert resp.status_code == 202
        if policy == "drop":
            assert resp.headers["X-Beacon-Drop"] == "empty_user_agent"
            assert not stored_events(app)
        else:
            assert "X-Beacon-Drop" not in resp.headers and len(stored_events(app)) == 1
