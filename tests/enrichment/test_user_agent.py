"""parse_user_agent: normalised browser, OS, versions and device type."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from beacon_app.enrichment.user_agent import Agent, parse_user_agent

from .uas import UA_CASES


@pytest.mark.parametrize(("ua", "browser", "version", "os", "os_version", "device"), UA_CASES,
                         ids=[f"{c[1]}-{c[3]}-{c[5]}-{i}" for i, c in enumerate(UA_CASES)])
def test_real_browsers(ua: str, browser: str, version: str, os: str, os_version: str,
                       device: str) -> None:
    assert parse_user_agent(ua) == Agent(browser, version, os, os_version, device)


@pytest.mark.parametrize(("ua", "expected"), [
    ("", Agent()),
    ("garbage", Agent()),
    ("\x00\x01\x02", Agent()),
    ("Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
     Agent("Googlebot", "2", "", "", "")),
    ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) " + "A" * 50_000,
     Agent("", "", "Windows", "10", "desktop")),
], ids=["empty", "garbage", "controls", "googlebot", "huge"])
def test_unknown_and_hostile(ua: str, expected: Agent) -> None:
    assert parse_user_agent(ua) == expected


def test_second_parse_is_a_cache_hit() -> None:
    ua = UA_CASES[0][0] + " cache-check"
    parse_user_agent(ua)
    hits = parse_user_agent.cache_info().hits
    parse_user_agent(ua)
    assert parse_user_agent.cache_info().hits == hits + 1


@given(st.text(max_size=400))
def test_never_raises(ua: str) -> None:
    agent = parse_user_agent(ua)
    assert agent.device in ("desktop", "mobile", "tablet", "")
    assert len(agent.browser) <= 100 and len(agent.browser_version) <= 40
    assert not any(ord(c) < 32 for c in agent.browser + agent.os)
