"""`matches` filters cannot freeze a server: SQLite tests wildcard patterns with RE2 (time
linear in the text), PostgreSQL with its own engine, and patterns are capped.

The attack: plant a page path of 1,900 `a`s through the public `/api/event`, then filter
on `**a**a**a**a**!`. A backtracking matcher needs about n^5 steps for it on that path
(the three-`a` form took 22 s and a worker timeout): a server that answers at all, with
the right rows, has not backtracked. The client timeouts below only stop a broken build
from hanging the run; no test asserts a duration.
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from shared.accounts.api_keys import create_key
from shared.sites import add_site
from shared.stats.filters import wildcard_regex
from shared.stats.query import Filter, QueryError
from shared.storage import make_engine
from shared.storage.sqlite_regexp import regexp
from tests.beacon.helpers import CHROME_UA
from tests.beacon.server import BeaconServer, wait_stored

ATTACK_PATH = "/" + "a" * 1900
ATTACK = "**a**a**a**a**!"            # never matches: the worst case for backtracking
MATCHING = "/**a**a**a**a"             # matches the planted path
GENEROUS = 120                         # seconds; a backtracking build would need days


@pytest.fixture
def server(db_url: str, tmp_path: Path) -> Iterator[tuple[BeaconServer, str]]:
    engine = make_engine(db_url)
    with engine.begin() as conn:
        site = add_site(conn, "example.com")
        token, _ = create_key(conn, site.id, "attack test")
    engine.dispose()
    beacon = BeaconServer({"DATABASE_URL": db_url, "BEACON_DATA_DIR": str(tmp_path / "data"),
                           "BEACON_FLUSH_INTERVAL_MS": "50", "BEACON_LOG_LEVEL": "WARNING"})
    beacon.start()
    yield beacon, token
    beacon.stop()


def _query(beacon: BeaconServer, token: str, pattern: str) -> tuple[int, Any]:
    body = {"site_id": "example.com", "metrics": ["pageviews"], "date_range": "7d",
            "dimensions": ["event:page"], "filters": [["matches", "event:page", [pattern]]]}
    status, _, raw = beacon.request(
        "POST", "/api/v2/query", json.dumps(body).encode(),
        {"Content-Type": "application/json", "Authorization": f"Bearer {token}"},
        timeout=GENEROUS)
    return status, json.loads(raw)


def test_planted_path_and_backtracking_pattern_do_not_hold_the_beacon(
        db_url: str, server: tuple[BeaconServer, str]) -> None:
    beacon, token = server
    assert beacon.send_event(ATTACK_PATH, CHROME_UA)[0] == 202
    assert ATTACK_PATH in wait_stored(db_url, {ATTACK_PATH})
    answers: dict[str, tuple[int, Any]] = {}

    def attack(name: str) -> None:
        try:
            answers[name] = _query(beacon, token, ATTACK)
        except OSError as exc:          # e.g. the worker was killed mid-answer
            answers[name] = (0, repr(exc))

    # Two attacks at once (they killed both workers before) and a visitor's hit meanwhile.
    threads = [threading.Thread(target=attack, args=(n,)) for n in ("first", "second")]
    for t in threads:
        t.start()
    hit_status = beacon.send_event("/during-the-attack", CHROME_UA)[0]
    for t in threads:
        t.join(GENEROUS)
    assert hit_status == 202
    assert answers["first"] == answers["second"]
    assert answers["first"][0] == 200 and answers["first"][1]["results"] == []
    status, body = _query(beacon, token, MATCHING)
    assert status == 200
    assert body["results"] == [{"metrics": [1], "dimensions": [ATTACK_PATH]}]
    assert "/during-the-attack" in wait_stored(db_url, {"/during-the-attack"})
    assert "WORKER TIMEOUT" not in beacon.log.read_text()


@pytest.mark.parametrize(("pattern", "path", "expected"), [
    ("/blog/*", "/blog/post", True),
    ("/blog/*", "/blog/a/b", False),
    ("/blog/**", "/blog/a/b", True),
    ("/a_b.c/*", "/a_b.c/x", True),
    ("/a_b.c/*", "/aXb.c/x", False),          # `.` is literal
    ("/café—(1)/**", "/café—(1)/x/y", True),  # non-ASCII and punctuation are literal
    ("/x[1]+?", "/x[1]+?", True),
    (ATTACK, ATTACK_PATH, False),
    (MATCHING, ATTACK_PATH, True),
], ids=lambda v: str(v)[:20])
def test_wildcards_keep_their_meaning_under_re2(pattern: str, path: str, expected: bool) -> None:
    assert regexp(wildcard_regex(pattern), path) is expected


@settings(max_examples=400, deadline=None)
@given(pattern=st.text("ab/.é*", max_size=14), text=st.text("ab/.é", max_size=40))
def test_re2_answers_what_a_backtracking_matcher_answers(pattern: str, text: str) -> None:
    """Differential: on inputs small enough for `re`, RE2 agrees with it (the same
    wildcard translation; stars, slashes, a dot and a non-ASCII letter)."""
    translated = wildcard_regex(pattern)
    assert regexp(translated, text) is (re.search(translated, text) is not None)


def test_the_largest_allowed_pattern_still_answers_on_a_long_path() -> None:
    """At the caps (300 characters, 10 stars) against a 2,000-character path that keeps
    hundreds of partial matches alive at every step: RE2's DFA stays within its memory
    and answers right both ways."""
    pattern = "**a**a**a**a**" + "a" * 280 + "b"
    assert len(pattern) <= 300 and pattern.count("*") == 10
    path = "/" + "a" * 1998 + "b"
    assert regexp(wildcard_regex(pattern), path) is True
    assert regexp(wildcard_regex(pattern + "!"), path) is False


@pytest.mark.parametrize(("values", "reason"), [
    (("*" * 11,), "at most 10 are allowed"),
    (("/" + "x" * 300,), "at most 300 are allowed"),
    (tuple(f"/p{i}/*" for i in range(21)), "at most 20 are allowed"),
    (("/a\x00",), "NUL"),
], ids=["stars", "length", "count", "nul"])
def test_patterns_beyond_the_caps_are_refused_with_the_limit(values: tuple[str, ...],
                                                             reason: str) -> None:
    with pytest.raises(QueryError, match=reason):
        Filter("page", "matches", values)
