"""`beacon serve` starts the dashboard (`beacon dashboard`) on BEACON_DASHBOARD_PORT (the
setting's help says so; `streamlit run` alone takes --server.port) and the beacon on PORT;
flags win."""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest

from beacon_cli.serve import _commands
from shared.core.settings import setting_fields


def _ports(**flags: object) -> tuple[str, str]:
    args = argparse.Namespace(**{"port": None, "dashboard_port": None, "no_dashboard": False,
                                 "no_worker": True, **flags})
    commands = dict(_commands(args))
    beacon, dashboard = commands["beacon"], commands["dashboard"]
    return (beacon[beacon.index("--bind") + 1].rsplit(":", 1)[1],
            dashboard[dashboard.index("--port") + 1])


def test_serve_uses_the_port_settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                      capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("BEACON_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("PORT", "8123")
    monkeypatch.setenv("BEACON_DASHBOARD_PORT", "8612")
    assert _ports() == ("8123", "8612")
    assert _ports(port=9001, dashboard_port=9002) == ("9001", "9002")
    assert "http://127.0.0.1:8612/" in capsys.readouterr().out
    help_text = {env: text for env, _, _, text in setting_fields()}["BEACON_DASHBOARD_PORT"]
    assert "beacon serve" in help_text
