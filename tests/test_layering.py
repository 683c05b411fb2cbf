"""Package boundaries that keep processes lean: `shared` loads neither Flask nor
Streamlit, the beacon (many processes, one per core) loads neither pandas nor
numpy - only the rollup build, the demo and the data-out paths use them - and the
beacon's writer loads none of the read side. The static rules are import-linter's
contracts in pyproject.toml (`lint-imports`); these probes check what a process loads."""

from __future__ import annotations

import subprocess
import sys

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

