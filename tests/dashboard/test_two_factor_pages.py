"""Two-factor sign-in and the audit log through the dashboard (AppTest, real databases):
the code step after the password, a wrong code refused, counted and logged, the
enrolment a BEACON_REQUIRE_2FA user cannot skip, the Account and Audit log pages, and
the dashboard's changes in the audit log with the signed-in person as actor."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta

import pytest
import sqlalchemy as sa
import streamlit as st
from sqlalchemy.engine import Engine

from dashboard_app.auth import FAILED_CODE, PENDING_KEY, USER_KEY
from shared.accounts import audit, two_factor
from shared.accounts import users as auth
from shared.core import schema
from shared.core.clock import utc_now
from shared.sites import Site, add_site
from tests.dashboard.conftest import PASSWORD, app_as, no_exception

DOMAIN = "two.example"


@dataclass(frozen=True)
class Setup:
    engine: Engine
    site: Site
    secret: str          # the TOTP secret of admin@example.com


@pytest.fixture
def setup(db_url: str, engine: Engine, monkeypatch: pytest.MonkeyPatch) -> Iterator[Setup]:
    monkeypatch.setenv("DATABASE_URL", db_url)
    monkeypatch.delenv("BEACON_ENV", raising=False)
    monkeypatch.delenv("BEACON_REQUIRE_2FA", raising=False)
    secret = two_factor.new_secret()
    # Enrolled a few steps ago, so the codes of now are still unused.
    then = utc_now() - timedelta(minutes=5)
    with engine.begin() as conn:
        site = add_site(conn, DOMAIN)
        admin = auth.add_user(conn, "admin@example.com", PASSWORD, is_admin=True)
        two_factor.enable(conn, admin, secret, two_factor.current_code(secret, then), now=then)
        auth.add_user(conn, "owner@example.com", PASSWORD)
        auth.grant_role(conn, "owner@example.com", DOMAIN, "owner")
    st.cache_data.clear()
    yield Setup(engine, site, secret)
    st.cache_data.clear()


def _log(engine: Engine) -> list[audit.AuditEntry]:
    with engine.connect() as conn:
        return list(reversed(audit.entries(conn)))


def _password(at, email: str):
    if not at.text_input:
        at.run()
    at.text_input[0].input(email)
    at.text_input[1].input(PASSWORD)
    next(b for b in at.button if b.label == "Sign in").click()
    return no_exception(at.run())


def _code(at, code: str):
    at.text_input[0].input(code)
    next(b for b in at.button if b.label == "Verify").click()
    return no_exception(at.run())


def _failures(engine: Engine) -> int:
    t = schema.sign_in_failures
    with engine.connect() as conn:
        return int(conn.execute(sa.select(sa.func.sum(t.c.failures))
                                .where(t.c.key.like("global|%"))).scalar() or 0)


def test_code_after_password_wrong_code_refused_and_counted(setup: Setup) -> None:
    at = _password(app_as(None), "admin@example.com")
    assert USER_KEY not in at.session_state and at.session_state[PENDING_KEY]
    assert "Verify" in [b.label for b in at.button] and not at.metric
    at = _code(at, "000000")
    assert FAILED_CODE in [e.value for e in at.error]
    assert USER_KEY not in at.session_state and _failures(setup.engine) == 1
    at = _code(at, two_factor.current_code(setup.secret, utc_now()))
    assert at.session_state[USER_KEY] == "admin@example.com"
    at = no_exception(at.run())
    # the Overview of the site, which has had no event yet
    assert any("Waiting for the first event" in s.value for s in at.subheader)
    assert "Verify" not in [b.label for b in at.button]
    assert [(e.action, e.actor, e.source, e.details) for e in _log(setup.engine)] == [
        ("sign_in.failed", "admin@example.com", "dashboard", {"step": "second_factor"}),
        ("sign_in.success", "admin@example.com", "dashboard", {"method": "password+totp"})]


def test_recovery_code_signs_in_once(setup: Setup) -> None:
    with setup.engine.begin() as conn:
        user = auth.require_user(conn, "admin@example.com")
        codes = two_factor.new_recovery_codes(conn, user)
    at = _code(_password(app_as(None), "admin@example.com"), codes[0])
    assert at.session_state[USER_KEY] == "admin@example.com"
    again = _code(_password(app_as(None), "admin@example.com"), codes[0])
    assert USER_KEY not in again.session_state
    assert [e.details.get("method", e.details.get("step")) for e in _log(setup.engine)] == [
        "password+recovery_code", "second_factor"]


def test_wrong_password_and_unknown_account_are_logged_without_what_was_typed(
        setup: Setup) -> None:
    at = app_as(None).run()
    at.text_input[0].input("owner@example.com")
    at.text_input[1].input("not the password")
    next(b for b in at.button if b.label == "Sign in").click()
    at = no_exception(at.run())
    at.text_input[0].input("my secret password typed here")
    next(b for b in at.button if b.label == "Sign in").click()
    no_exception(at.run())
    at = _password(app_as(None), "owner@example.com")   # no second factor: signed in
    assert at.session_state[USER_KEY] == "owner@example.com"
    log = _log(setup.engine)
    assert [(e.action, e.actor) for e in log] == [
        ("sign_in.failed", "owner@example.com"), ("sign_in.failed", "(no such account)"),
        ("sign_in.success", "owner@example.com")]
    assert "secret" not in repr(log)


def test_required_second_factor_must_be_set_up_first(setup: Setup,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BEACON_REQUIRE_2FA", "all")
    at = _password(app_as(None), "owner@example.com")
    at = no_exception(at.run())
    assert [t.value for t in at.title] == ["Account"] and not at.metric
    assert any("requires two-factor" in w.value for w in at.warning)
    secret = re.sub(r"\s", "", at.code[0].value)
    at.text_input[0].input("123456" if two_factor.current_code(secret, utc_now()) != "123456"
                           else "654321")
    next(b for b in at.button if b.label == "Turn on two-factor sign-in").click()
    at = no_exception(at.run())
    assert "Not turned on." in [e.value for e in at.error]
    at.text_input[0].input(two_factor.current_code(secret, utc_now()))
    next(b for b in at.button if b.label == "Turn on two-factor sign-in").click()
    at = no_exception(at.run())
    codes = at.code[0].value.split()
    assert len(codes) == 10 and all(re.fullmatch(r"[a-z2-9]{5}-[a-z2-9]{5}", c) for c in codes)
    next(b for b in at.button if b.label == "I have saved them").click()
    at = no_exception(at.run())
    assert any("is on" in s.value for s in at.success)
    # Required: it cannot be turned off here.
    assert "Turn off two-factor sign-in" not in [b.label for b in at.button]
    at.switch_page("views/settings.py").run()
    no_exception(at)
    assert "Sites & settings" in [t.value for t in at.title]
    assert ("two_factor.enable", "owner@example.com") in [
        (e.action, e.actor) for e in _log(setup.engine)]


def test_turn_off_needs_the_current_code(setup: Setup) -> None:
    at = no_exception(app_as("admin@example.com").run())
    at.switch_page("views/account.py").run()
    no_exception(at)
    form = next(b for b in at.button if b.label == "Turn off two-factor sign-in")
    at.text_input(key="two_factor_disable_code").input("000000")
    form.click()
    at = no_exception(at.run())
    assert any("not the app's current code" in e.value for e in at.error)
    at.text_input(key="two_factor_disable_code").input(
        two_factor.current_code(setup.secret, utc_now()))
    next(b for b in at.button if b.label == "Turn off two-factor sign-in").click()
    no_exception(at.run())
    with setup.engine.connect() as conn:
        assert not two_factor.is_enabled(conn, auth.require_user(conn, "admin@example.com"))
    assert [e.action for e in _log(setup.engine)] == ["two_factor.disable"]


def test_audit_page_for_admins_only_and_dashboard_changes_logged(setup: Setup) -> None:
    at = no_exception(app_as("owner@example.com", site=DOMAIN).run())
    at.switch_page("views/settings.py").run()
    no_exception(at)
    # Site settings: honour DNT on and a retention, through the form.
    toggles = [t for t in at.toggle if t.label.startswith("Honour Do Not Track")]
    toggles[0].set_value(True)
    at.number_input[0].set_value(6)
    next(b for b in at.button if b.label == "Save").click()
    at = no_exception(at.run())
    name = next(t for t in at.text_input if t.label == "Name of the new key")
    name.input("reporting")
    next(b for b in at.button if b.label == "Create an API key").click()
    at = no_exception(at.run())
    next(b for b in at.button if b.label == "Create a share link").click()
    at = no_exception(at.run())
    log = _log(setup.engine)
    assert [(e.action, e.actor, e.source) for e in log] == [
        ("site.update", "owner@example.com", "dashboard"),
        ("api_key.create", "owner@example.com", "dashboard"),
        ("share_link.create", "owner@example.com", "dashboard")]
    assert log[0].details == {"before": {"honor_dnt": False, "retention_months": 0},
                              "after": {"honor_dnt": True, "retention_months": 6}}
    # The owner has no Audit log page; the admin has, and sees the owner's changes.
    with pytest.raises(Exception, match="audit"):
        at.switch_page("views/audit.py").run()
    admin = no_exception(app_as("admin@example.com").run())
    admin.switch_page("views/audit.py").run()
    no_exception(admin)
    table = admin.dataframe[0].value
    assert list(table["action"])[:3] == ["share_link.create", "api_key.create", "site.update"]
    assert set(table["actor"]) == {"owner@example.com"}
    assert "Export as CSV" in [b.label for b in admin.button]


def test_privacy_page_links_to_the_audit_log(setup: Setup) -> None:
    at = no_exception(app_as("admin@example.com").run())
    at.switch_page("views/privacy.py").run()
    no_exception(at)
    rows = " ".join(str(df.value.to_dict()) for df in at.dataframe)
    assert "Audit log" in rows and "365 days" in rows


def test_goal_and_funnel_changes_are_logged_with_before_and_after(setup: Setup) -> None:
    at = no_exception(app_as("owner@example.com", site=DOMAIN).run())
    at.switch_page("views/goals.py").run()
    no_exception(at)
    at.text_input(key="goal_new_target").input("/signup")
    next(b for b in at.button if b.label == "Save goal").click()
    at = no_exception(at.run())
    at.text_input(key="funnel_new_name").input("Buy")
    at.text_area(key="funnel_new_steps").input("/\nPurchase")
    next(b for b in at.button if b.label == "Save funnel").click()
    at = no_exception(at.run())
    goal = at.selectbox(key="goal_pick").options[1]
    at.selectbox(key="goal_pick").select_index(1).run()
    picked = [w.key for w in at.text_input   # the picked goal's form (ids vary by run)
              if w.key and re.fullmatch(r"goal_\d+_target", w.key)]
    at.text_input(key=picked[0]).input("/welcome")
    next(b for b in at.button if b.label == "Save goal").click()
    at = no_exception(at.run())
    log = _log(setup.engine)
    assert [(e.action, e.actor) for e in log] == [
        ("goal.add", "owner@example.com"), ("funnel.add", "owner@example.com"),
        ("goal.update", "owner@example.com")], goal
    assert log[0].details["after"]["page_path"] == "/signup"
    assert log[1].details["after"]["steps"] == [{"kind": "page", "value": "/"},
                                                {"kind": "event", "value": "Purchase"}]
    assert log[2].details["before"]["page_path"] == "/signup"
    assert log[2].details["after"]["page_path"] == "/welcome"
    assert {e.site_id for e in log} == {setup.site.id}
