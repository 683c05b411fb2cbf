"""The served tracker: small enough, built from the committed source, valid JavaScript.

The size budget is measured the way a browser receives the file: the served bytes,
gzip level 9. The preamble of each build names the SHA-256 of the source it was built
from, so an edit to tracker/src/script.js without `npm run build` fails here.
"""

from __future__ import annotations

import gzip
import hashlib
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from beacon_app import tracker

ROOT = Path(__file__).resolve().parents[2]
SOURCE = ROOT / "tracker" / "src" / "script.js"
BUDGETS = {"/js/script.core.js": 1500, "/js/script.js": 2500}   # gzip -9 bytes


@pytest.fixture
def client() -> Any:
    app = Flask(__name__)
    app.register_blueprint(tracker.bp)
    return app.test_client()


@pytest.mark.parametrize("path", sorted(BUDGETS))
def test_gzipped_size_is_within_budget(client: Any, path: str) -> None:
    body = client.get(path).data
    size = len(gzip.compress(body, compresslevel=9))
    assert size <= BUDGETS[path], f"{path} is {size} bytes gzipped"
    assert size > 500  # a truncated or empty build would pass the budget trivially


@pytest.mark.parametrize("name", ["script.js", "script.core.js"])
def test_build_matches_the_source(name: str) -> None:
    built = (ROOT / "shared" / "tracking" / "static" / name).read_text()
    digest = hashlib.sha256(SOURCE.read_bytes()).hexdigest()[:12]
    match = re.match(r"/\*! Beacon tracker ([0-9a-f]{12}) \*/\n", built)
    assert match, f"{name} lacks the build preamble"
    assert match.group(1) == digest, (f"{name} was built from another source: run "
                                      "`npm ci && npm run build` in tracker/")


def test_core_build_leaves_out_the_click_features() -> None:
    core = (ROOT / "shared" / "tracking" / "static" / "script.core.js").read_text()
    full = (ROOT / "shared" / "tracking" / "static" / "script.js").read_text()
    for marker in ("Outbound Link: Click", "File Download", "plausible-event-", "Form: Submission"):
        assert marker in full
        assert marker not in core
    for marker in ("engagement", "pushState", "beacon_ignore", "plausible_ignore", ".wd="):
        assert marker in core


NODE = shutil.which("node")
TERSER = ROOT / "tracker" / "node_modules" / "terser"


@pytest.mark.skipif(NODE is None, reason="node is not installed")
@pytest.mark.parametrize("name", ["script.js", "script.core.js"])
def test_builds_are_valid_javascript(name: str) -> None:
    path = ROOT / "shared" / "tracking" / "static" / name
    subprocess.run([str(NODE), "--check", str(path)], check=True, capture_output=True)


@pytest.mark.skipif(NODE is None or not TERSER.is_dir(),
                    reason="needs node and `npm ci` in tracker/")
def test_a_fresh_build_is_identical_to_the_committed_one() -> None:
    result = subprocess.run([str(NODE), "build.mjs", "--check"], cwd=ROOT / "tracker",
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
