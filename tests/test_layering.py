"""Package boundaries that keep processes lean: `shared` loads neither Flask nor
Streamlit, the beacon (many processes, one per core) loads neither pandas nor
numpy - only the rollup build, the demo and the data-out paths use them - and the
beacon's writer loads none of the read side. The static rules are import-linter's
contracts in pyproject.toml (`lint-imports`); these probes check what a process loads."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest


def _loaded_after(code: str, modules: tuple[str, ...]) -> list[str]:
    probe = (f"{code}\nimport sys\n"
             f"print(','.join(m for m in {modules!r} if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                         check=True)
    return [m for m in out.stdout.strip().split(",") if m]


@pytest.mark.parametrize("module", ["shared.rollups.build", "shared.reports.traffic",
                                    "shared.dataout.dataframes", "shared.storage",
                                    "shared.jobs.worker"])
def test_shared_loads_neither_flask_nor_streamlit(module: str) -> None:
    assert _loaded_after(f"import {module}", ("flask", "streamlit")) == []


def test_the_beacon_app_loads_neither_pandas_nor_numpy() -> None:
    code = ("import beacon_app, beacon_app.routes, beacon_app.writer, beacon_app.stats_api\n"
            "from shared.rollups import build as rollups")
    assert _loaded_after(code, ("pandas", "numpy", "streamlit")) == []


def test_the_writer_loads_none_of_the_read_side() -> None:
    code = "import beacon_app.writer, beacon_app.pipeline, shared.sites"
    read_side = ("shared.stats", "shared.reports", "shared.rollups.build", "shared.rollups.read")
    assert _loaded_after(code, read_side) == []



ROOT = Path(__file__).resolve().parent.parent
# A comparison with a dialect's name, in any of the forms the code used before storage
# became the one place that knows databases.
DIALECT_CHECK = re.compile(
    r"dialect\.name|get_backend_name\(\)"
    r"|[=!]=\s*[\"'](?:sqlite|postgresql)[\"']|[\"'](?:sqlite|postgresql)[\"']\s*[=!]="
    r"|startswith\(\s*[\"'](?:sqlite|postgres)")
# Checks allowed outside shared/storage, each with its reason.
ALLOWED = {
    # Settings validate DATABASE_URL's scheme when they load, before any engine exists.
    "shared/core/settings.py": 2,
}


def _dialect_checks(paths: list[Path]) -> dict[str, int]:
    found: dict[str, int] = {}
    for path in paths:
        count = len(DIALECT_CHECK.findall(path.read_text(encoding="utf-8")))
        if count:
            found[path.relative_to(ROOT).as_posix()] = count
    return found


def test_only_storage_checks_which_database_it_talks_to() -> None:
    code = [p for top in ("shared", "beacon_app", "beacon_cli", "dashboard_app")
            for p in sorted((ROOT / top).rglob("*.py"))
            if not p.is_relative_to(ROOT / "shared" / "storage")]
    assert _dialect_checks(code) == ALLOWED


def test_the_dialect_check_finds_the_storage_package_s_own_checks() -> None:
    # The same pattern finds the checks storage is allowed to make (and the migrations').
    found = _dialect_checks(sorted((ROOT / "shared" / "storage").rglob("*.py")))
    assert any(path.startswith("shared/storage/migrations/") for path in found)
    assert DIALECT_CHECK.search('if conn.dialect.name == "postgresql":')
    assert DIALECT_CHECK.search("if dialect != 'sqlite':")
