"""Access to the dashboard through AppTest: login, throttled failures, roles, share links, OIDC."""

from __future__ import annotations

import pytest

from dashboard_app.auth import FAILED_SHARE_OPEN, FAILED_SIGN_IN
from shared.accounts import users as auth
from shared.accounts.share_links import create_share_link, revoke_share_link
from tests.dashboard.conftest import DOMAIN, PASSWORD, Seeded, app_as, no_exception


def _login(at, email: str, password: str):
    at.text_input[0].input(email)
    at.text_input[1].input(password)
    at.button[0].click()
    return at.run()


def _errors(at) -> list[str]:
    return [e.value for e in at.error]


def test_never_open_without_login(seeded: Seeded) -> None:
    at = no_exception(app_as(None).run())
    assert not at.metric and "Sign in" in [b.label for b in at.button]
    assert at.text_input[1].proto.type == at.text_input[1].proto.PASSWORD


def test_login_ok_then_sign_out(seeded: Seeded) -> None:
    at = _login(app_as(None).run(), "viewer@example.com", PASSWORD)
    no_exception(at)
    assert at.metric and at.session_state["auth_user_email"] == "viewer@example.com"
    at.sidebar.button(key="sign_out").click().run()
    assert not at.metric and "auth_user_email" not in at.session_state


def test_one_message_for_every_failed_sign_in(seeded: Seeded) -> None:
    at = app_as(None).run()
    seen = set()
    for email in ["viewer@example.com"] * 8 + ["nobody@example.com", "not an e-mail"]:
        at = _login(at, email, "not the password")
        seen.update(_errors(at))
        assert not at.metric
    # Wrong password, a try that waits, an unknown account: one answer, no lock-out.
    assert seen == {FAILED_SIGN_IN}
    with seeded.engine.connect() as conn:
        assert auth.get_user(conn, "viewer@example.com").locked_until is None


def test_viewer_cannot_edit_owner_can(seeded: Seeded) -> None:
    viewer = no_exception(app_as("viewer@example.com", site=DOMAIN).run())
    viewer.switch_page("views/goals.py").run()
    assert "Save goal" not in [b.label for b in viewer.button]
    viewer.switch_page("views/settings.py").run()
    assert "Save" not in [b.label for b in viewer.button]
    owner = no_exception(app_as("owner@example.com", site=DOMAIN).run())
    owner.switch_page("views/goals.py").run()
    assert "Save goal" in [b.label for b in owner.button]


def test_owner_creates_a_goal_in_the_ui(seeded: Seeded) -> None:
    at = no_exception(app_as("owner@example.com", site=DOMAIN).run())
    at.switch_page("views/goals.py").run()
    at.text_input(key="goal_new_name").input("Pricing page")
    at.text_input(key="goal_new_target").input("/pricing")
    next(b for b in at.button if b.label == "Save goal").click().run()
    no_exception(at)
    with seeded.engine.connect() as conn:
        from shared.reports import list_goals

        assert "Pricing page" in [g.display_name for g in list_goals(conn, seeded.site.id)]
    assert "Pricing page" in at.dataframe[0].value["Goal"].tolist()


def test_user_without_role_sees_no_site(seeded: Seeded) -> None:
    with seeded.engine.begin() as conn:
        auth.add_user(conn, "nobody@example.com", PASSWORD)
    at = no_exception(app_as("nobody@example.com", site=DOMAIN).run())
    assert not at.metric
    assert any("no role" in i.value for i in at.info)


def test_share_link_is_read_only_and_revocable(seeded: Seeded) -> None:
    with seeded.engine.begin() as conn:
        link, token = create_share_link(conn, seeded.site.id)
    at = no_exception(app_as(None, share=token).run())
    assert at.metric  # the overview, without signing in
    pages = at.session_state["access"]
    assert pages.is_share and not pages.can_edit(seeded.site.id)
    at.switch_page("views/goals.py").run()
    assert "Save goal" not in [b.label for b in at.button]
    with seeded.engine.begin() as conn:
        revoke_share_link(conn, link.id, seeded.site.id)
    at.run()
    assert not at.metric and "not valid" in _errors(at)[0]


def test_share_link_with_password(seeded: Seeded) -> None:
    with seeded.engine.begin() as conn:
        _, token = create_share_link(conn, seeded.site.id, password="share password 1")  # noqa: S106
    at = no_exception(app_as(None, share=token).run())
    assert not at.metric
    at.text_input[0].input("wrong one").run()
    at.button[0].click().run()
    assert not at.metric and _errors(at) == [FAILED_SHARE_OPEN]
    at.text_input[0].input("share password 1")
    at.button[0].click().run()
    assert at.metric


def test_production_without_secret_refuses(seeded: Seeded, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BEACON_ENV", "production")
    monkeypatch.delenv("BEACON_SECRET_KEY", raising=False)
    at = no_exception(app_as("admin@example.com").run())
    assert "cannot start" in _errors(at)[0] and not at.metric
    assert "BEACON_SECRET_KEY" in at.code[0].value


def test_oidc_user_on_allow_list(seeded: Seeded, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BEACON_OIDC_ALLOWED_EMAILS", "viewer@example.com,@team.example")
    at = app_as(None)
    at.user = {"is_logged_in": True, "email": "viewer@example.com"}
    no_exception(at.run())
    assert at.metric
    stranger = app_as(None)
    stranger.user = {"is_logged_in": True, "email": "x@evil.example"}
    no_exception(stranger.run())
    assert not stranger.metric and "allow-list" in _errors(stranger)[0]


def test_owner_creates_a_funnel_and_sees_its_chart(seeded: Seeded) -> None:
    at = no_exception(app_as("owner@example.com", site=DOMAIN).run())
    at.switch_page("views/goals.py").run()
    at.text_input(key="funnel_new_name").input("Pricing to signup")
    at.text_area(key="funnel_new_steps").input("/\n/pricing\nSignup")
    next(b for b in at.button if b.label == "Save funnel").click().run()
    no_exception(at)
    from shared.reports import StatsQuery, funnel_report, list_funnels
    from tests.dashboard.conftest import utcnow

    with seeded.engine.connect() as conn:
        (funnel,) = list_funnels(conn, seeded.site.id)
        q = StatsQuery(site_id=seeded.site.id, timezone="UTC", period="30d", now=utcnow())
        expected = [s.visitors for s in funnel_report(conn, q, funnel).steps]
    table = next(d.value for d in at.dataframe if "Drop-off" in d.value.columns)
    assert table["Visitors"].tolist() == expected and expected[0] > 0


def test_sso_button_only_when_configured(seeded: Seeded, monkeypatch: pytest.MonkeyPatch) -> None:
    plain = no_exception(app_as(None).run())
    assert "Sign in with single sign-on" not in [b.label for b in plain.button]
    monkeypatch.setenv("BEACON_OIDC_ALLOWED_EMAILS", "@example.com")
    at = app_as(None)
    at.secrets["auth"] = {"redirect_uri": "http://localhost:8501/oauth2callback",
                          "cookie_secret": "x" * 32, "client_id": "id", "client_secret": "s",
                          "server_metadata_url": "https://idp.invalid/.well-known/openid"}
    no_exception(at.run())
    assert "Sign in with single sign-on" in [b.label for b in at.button]
