"""Serving the tracker: content type, CORS, caching, ETag revalidation, aliases."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask

from beacon_app import tracker
from shared.tracking import script


@pytest.fixture
def client() -> Any:
    app = Flask(__name__)
    app.register_blueprint(tracker.bp)
    return app.test_client()


def test_script_is_public_cacheable_javascript(client: Any) -> None:
    resp = client.get("/js/script.js")
    assert resp.status_code == 200
    assert resp.headers["Content-Type"] == "text/javascript; charset=utf-8"
    assert resp.headers["Access-Control-Allow-Origin"] == "*"
    assert resp.headers["Cross-Origin-Resource-Policy"] == "cross-origin"
    assert resp.headers["X-Content-Type-Options"] == "nosniff"
    assert resp.headers["Cache-Control"].startswith("public, max-age=86400")
    assert resp.data == script.load_build("script.js").body
    assert resp.data.startswith(b"/*! Beacon tracker ")


def test_versioned_url_is_immutable_only_for_the_current_version(client: Any) -> None:
    version = script.script_version()
    assert client.get(f"/js/script.js?v={version}").headers["Cache-Control"] == (
        "public, max-age=31536000, immutable")
    # An old (or made-up) version gets today's file, but must not be pinned for a year.
    stale = client.get("/js/script.js?v=0123456789abcdef")
    assert stale.status_code == 200
    assert "immutable" not in stale.headers["Cache-Control"]
    assert script.script_version(core=True) != version


@pytest.mark.parametrize("if_none_match, status", [
    ('"{v}"', 304),
    ('W/"{v}"', 304),                      # If-None-Match compares weakly
    ('"other", "{v}"', 304),
    ("*", 304),
    ('"other"', 200),
    ("", 200),
], ids=["strong", "weak", "list", "star", "other", "none"])
def test_etag_revalidation(client: Any, if_none_match: str, status: int) -> None:
    etag = client.get("/js/script.js").headers["ETag"]
    version = script.script_version()
    assert etag == f'"{version}"'             # strong: no W/ prefix
    headers = {"If-None-Match": if_none_match.format(v=version)} if if_none_match else {}
    resp = client.get("/js/script.js", headers=headers)
    assert resp.status_code == status
    assert resp.headers["ETag"] == etag
    if status == 304:
        assert resp.data == b""
        assert resp.headers["Access-Control-Allow-Origin"] == "*"


@pytest.mark.parametrize("path, build", [
    ("/script.js", "script.js"),
    ("/js/script.js", "script.js"),
    ("/script.core.js", "script.core.js"),
    ("/js/script.core.js", "script.core.js"),
    ("/js/script.hash.outbound-links.js", "script.js"),       # Plausible's variant names
    ("/js/script.file-downloads.hash.pageview-props.tagged-events.js", "script.js"),
    ("/js/plausible.hash.js", "script.js"),
    ("/js/script.core.hash.js", "script.core.js"),
])
def test_aliases_and_plausible_variant_names(client: Any, path: str, build: str) -> None:
    resp = client.get(path)
    assert resp.status_code == 200
    assert resp.data == script.load_build(build).body


@pytest.mark.parametrize("path", ["/js/evil.js", "/js/script..js", "/js/script.HASH.js",
                                  "/js/script.a/b.js", "/js/" + "script" + ".x" * 13 + ".js"])
def test_other_names_are_not_found(client: Any, path: str) -> None:
    assert client.get(path).status_code == 404


def test_head_request(client: Any) -> None:
    resp = client.head("/js/script.js")
    assert resp.status_code == 200
    assert resp.headers["ETag"]
