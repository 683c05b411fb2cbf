"""Sites API: provisioning with a user's "sites" key (list, create, get, delete sites;
goals; shared links), read-only listing for a site's stats key, v1's error shapes."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime

import pytest
from flask import Flask
from flask.testing import FlaskClient

from beacon_app import create_app, state_of
from beacon_cli.main import main
from shared.accounts.api_keys import create_key, create_sites_key
from shared.accounts.share_links import resolve_share_link
from shared.accounts.users import add_user, grant_role, require_user
from shared.core.settings import Settings
from shared.reports.goals import list_goals
from shared.sites import add_site, get_site, require_site

NOW = datetime(2026, 3, 10, 15, 30)


@pytest.fixture
def app(settings: Settings) -> Iterator[Flask]:
    flask_app = create_app(settings, clock=lambda: NOW)
    with state_of(flask_app).engine.begin() as conn:
        for domain in ("a.test", "b.test", "c.test", "theirs.test"):
            add_site(conn, domain, now=NOW)
        add_user(conn, "owner@example.com", "correct horse battery", now=NOW)
        add_user(conn, "viewer@example.com", "correct horse battery", now=NOW)
        for domain in ("a.test", "b.test", "c.test"):
            grant_role(conn, "owner@example.com", domain, "owner")
        grant_role(conn, "viewer@example.com", "a.test", "viewer")
    yield flask_app
    state_of(flask_app).close()


def _client(app: Flask, *, user: str | None = None, site: str | None = None) -> FlaskClient:
    with state_of(app).engine.begin() as conn:
        if user:
            token, _ = create_sites_key(conn, require_user(conn, user).id, "t", now=NOW)
        else:
            token, _ = create_key(conn, require_site(conn, site or "").id, "t", now=NOW)
    c = app.test_client()
    c.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {token}"
    return c


def test_list_sites_with_cursor_pagination(app: Flask) -> None:
    c = _client(app, user="owner@example.com")
    first = c.get("/api/v1/sites?limit=2").json
    assert first["sites"] == [{"domain": "a.test", "timezone": "UTC"},
                              {"domain": "b.test", "timezone": "UTC"}]
    assert first["meta"]["before"] is None and first["meta"]["limit"] == 2
    second = c.get(f"/api/v1/sites?limit=2&after={first['meta']['after']}").json
    assert second["sites"] == [{"domain": "c.test", "timezone": "UTC"}]
    assert second["meta"]["after"] is None
    back = c.get(f"/api/v1/sites?limit=2&before={second['meta']['before']}").json
    assert back["sites"] == first["sites"]
    # a site's stats key sees its one site (every key may read the sites it reads)
    assert _client(app, site="theirs.test").get("/api/v1/sites").json["sites"] == [
        {"domain": "theirs.test", "timezone": "UTC"}]


def test_create_get_and_delete_a_site(app: Flask) -> None:
    c = _client(app, user="owner@example.com")
    res = c.post("/api/v1/sites", data={"domain": "new.test", "timezone": "Europe/London"})
    assert res.status_code == 200 and res.json == {"domain": "new.test",
                                                   "timezone": "Europe/London"}
    assert c.get("/api/v1/sites/new.test").json == {"domain": "new.test",
                                                    "timezone": "Europe/London"}
    taken = c.post("/api/v1/sites", json={"domain": "new.test"})
    assert taken.status_code == 400 and taken.json["error"].startswith("domain:")
    bad_tz = c.post("/api/v1/sites", json={"domain": "x.test", "timezone": "Mars/Base"})
    assert bad_tz.status_code == 400 and bad_tz.json["error"].startswith("timezone:")
    assert c.delete("/api/v1/sites/new.test").json == {"deleted": True}
    with state_of(app).engine.connect() as conn:
        assert get_site(conn, "new.test") is None
    assert c.get("/api/v1/sites/new.test").status_code == 404


def test_who_may_do_what(app: Flask) -> None:
    viewer = _client(app, user="viewer@example.com")
    assert viewer.get("/api/v1/sites/a.test").status_code == 200
    res = viewer.delete("/api/v1/sites/a.test")
    assert res.status_code == 401 and "Invalid API key" in res.json["error"]
    owner = _client(app, user="owner@example.com")
    assert owner.get("/api/v1/sites/theirs.test").json == {"error": "Site could not be found"}
    assert owner.delete("/api/v1/sites/theirs.test").status_code == 404
    stats = _client(app, site="a.test")
    assert stats.post("/api/v1/sites", json={"domain": "z.test"}).status_code == 401
    assert app.test_client().get("/api/v1/sites").status_code == 401
    with state_of(app).engine.connect() as conn:
        assert get_site(conn, "a.test") is not None and get_site(conn, "z.test") is None


def test_goals_find_or_create_list_and_delete(app: Flask) -> None:
    c = _client(app, user="owner@example.com")
    made = c.put("/api/v1/sites/goals", data={"site_id": "a.test", "goal_type": "event",
                                              "event_name": "Signup"}).json
    assert made == {"domain": "a.test", "id": made["id"], "display_name": "Signup",
                    "goal_type": "event", "event_name": "Signup", "page_path": None}
    again = c.put("/api/v1/sites/goals", json={"site_id": "a.test", "goal_type": "event",
                                                "event_name": "Signup"}).json
    assert again == made                                   # idempotent
    page = c.put("/api/v1/sites/goals", json={"site_id": "a.test", "goal_type": "page",
                                               "page_path": "/register"}).json
    assert page["display_name"] == "Visit /register"
    listed = c.get("/api/v1/sites/goals?site_id=a.test").json
    assert [g["display_name"] for g in listed["goals"]] == ["Signup", "Visit /register"]
    bad = c.put("/api/v1/sites/goals", json={"site_id": "a.test", "goal_type": "page"})
    assert bad.status_code == 400 and "page_path" in bad.json["error"]
    gone = c.delete(f"/api/v1/sites/goals/{made['id']}", json={"site_id": "a.test"})
    assert gone.json == {"deleted": True}
    assert c.delete(f"/api/v1/sites/goals/{made['id']}",
                    json={"site_id": "a.test"}).status_code == 404
    with state_of(app).engine.connect() as conn:
        assert [g.display_name for g in list_goals(conn, require_site(conn, "a.test").id)] \
            == ["Visit /register"]


def test_shared_link_made_once_by_name(app: Flask) -> None:
    c = _client(app, user="owner@example.com")
    res = c.put("/api/v1/sites/shared-links", data={"site_id": "a.test", "name": "WordPress"})
    assert res.status_code == 200 and res.json["name"] == "WordPress"
    token = res.json["url"].split("?share=")[1]
    with state_of(app).engine.connect() as conn:
        link = resolve_share_link(conn, token, now=NOW)
    assert link is not None and link.name == "WordPress"
    again = c.put("/api/v1/sites/shared-links", data={"site_id": "a.test", "name": "WordPress"})
    assert again.status_code == 409 and "stored only as a hash" in again.json["error"]


def test_cli_makes_and_revokes_a_users_sites_key(app: Flask, capsys: pytest.CaptureFixture[str],
                                                  settings: Settings,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", settings.database_url)
    monkeypatch.setenv("BEACON_DATA_DIR", settings.data_dir)
    assert main(["keys", "create", "--user", "owner@example.com", "--name", "wp"]) == 0
    token = capsys.readouterr().out.strip()
    c = app.test_client()
    c.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {token}"
    assert len(c.get("/api/v1/sites").json["sites"]) == 3
    assert main(["keys", "revoke", token[:12], "--user", "owner@example.com"]) == 0
    assert c.get("/api/v1/sites").status_code == 401


def test_a_sites_key_reads_the_stats_of_its_users_sites_only(app: Flask) -> None:
    viewer = _client(app, user="viewer@example.com")
    ok = viewer.get("/api/v1/stats/aggregate?site_id=a.test")
    assert ok.status_code == 200 and ok.json == {"results": {"visitors": {"value": 0}}}
    assert viewer.get("/api/v1/stats/aggregate?site_id=b.test").status_code == 401
    v2 = {"metrics": ["visitors"], "date_range": "7d"}
    assert viewer.post("/api/v2/query", json={**v2, "site_id": "a.test"}).status_code == 200
    assert viewer.post("/api/v2/query", json={**v2, "site_id": "b.test"}).status_code == 403


def test_changes_through_the_sites_api_are_in_the_audit_log(app: Flask) -> None:
    """Every change a sites key makes is recorded with the key's user, source "api"."""
    from shared.accounts import audit

    c = _client(app, user="owner@example.com")
    assert c.post("/api/v1/sites", json={"domain": "new.test"}).status_code == 200
    goal = c.put("/api/v1/sites/goals", json={"site_id": "new.test", "goal_type": "event",
                                              "event_name": "Signup"}).json
    assert c.put("/api/v1/sites/shared-links",
                 json={"site_id": "new.test", "name": "Board"}).status_code == 200
    assert c.delete(f"/api/v1/sites/goals/{goal['id']}",
                    json={"site_id": "new.test"}).json == {"deleted": True}
    assert c.delete("/api/v1/sites/new.test").json == {"deleted": True}
    with state_of(app).engine.connect() as conn:
        entries = list(audit.entries(conn))
    api = [(e.action, e.target) for e in entries if e.source == "api"]
    assert sorted(a for a, _ in api) == ["goal.add", "goal.remove", "share_link.create",
                                         "site.add", "site.remove"]
    assert all(e.actor.startswith("owner@example.com (API key ")
               for e in entries if e.source == "api")
