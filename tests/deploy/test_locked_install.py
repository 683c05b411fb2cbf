"""The environment `make venv` / `make dev-venv` builds follows requirements.lock, and its
build tools are current. Only meaningful in an environment the Makefile built, so it runs
under CI=true (as `make test` in CI does) and skips elsewhere."""

from __future__ import annotations

import os
import re
from importlib import metadata
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PIN = re.compile(r"^([A-Za-z0-9_.\-]+)==([^\s;]+)", re.M)

pytestmark = pytest.mark.skipif(os.environ.get("CI") != "true",
                                reason="checks the environment the Makefile builds (CI)")


def _normal(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def test_installed_versions_are_the_locked_ones() -> None:
    locked = {_normal(n): v for n, v in PIN.findall((ROOT / "requirements.lock").read_text())}
    installed = {_normal(d.metadata["Name"]): d.version for d in metadata.distributions()}
    differing = {n: (v, installed[n]) for n, v in locked.items()
                 if n in installed and installed[n] != v}
    assert not differing, f"installed versions differ from requirements.lock: {differing}"


def test_build_tools_are_current() -> None:
    major = int(metadata.version("setuptools").split(".")[0])
    assert major >= 70, "the venv carries an old setuptools (known CVEs); run make venv"
