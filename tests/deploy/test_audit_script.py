"""scripts/audit.sh: a vulnerability reported by a reachable advisory database fails the
build; an audit that could not happen says so on a WARNING line instead of passing
silently. The advisory services are the edge faked here: a stand-in `pip-audit` answers
as the real one does for each case (its messages and exit codes)."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
UNREACHABLE = ('echo "ConnectionError: HTTPSConnectionPool(host=\'pypi.org\', port=443): '
               'Max retries exceeded"; exit 1')
VULNERABLE = ('echo "Found 1 known vulnerability in 1 package"; '
              'echo "setuptools 65.5.0 PYSEC-2022-43012 65.5.1"; exit 1')
CLEAN = 'echo "No known vulnerabilities found"; exit 0'
# What pip-audit says, exit 0, when the advisory data it reached knows none of the
# packages (a mirror without the advisory API): nothing was checked.
NOT_AUDITED = ('echo "No known vulnerabilities found"; '
               'echo "flask  Dependency not found on PyPI and could not be audited: flask"; '
               'exit 0')


def _audit(tmp_path: Path, pypi: str, osv: str) -> subprocess.CompletedProcess[str]:
    fake = tmp_path / "bin" / "pip-audit"
    fake.parent.mkdir()
    fake.write_text("#!/usr/bin/env bash\n"
                    'case "$*" in\n'
                    f'  *"--vulnerability-service pypi"*) {pypi} ;;\n'
                    f'  *"--vulnerability-service osv"*) {osv} ;;\n'
                    '  *) echo "unexpected arguments: $*"; exit 3 ;;\n'
                    "esac\n")
    fake.chmod(0o755)
    return subprocess.run(["bash", str(ROOT / "scripts" / "audit.sh"), str(fake.parent)],
                          capture_output=True, text=True, timeout=60, check=False)


@pytest.mark.parametrize("pypi,osv", [(VULNERABLE, CLEAN), (UNREACHABLE, VULNERABLE)],
                         ids=["pypi-reports", "pypi-down-osv-reports"])
def test_a_reported_vulnerability_fails(tmp_path: Path, pypi: str, osv: str) -> None:
    done = _audit(tmp_path, pypi, osv)
    assert done.returncode == 1
    assert "known vulnerabilities in the installed packages" in done.stderr


@pytest.mark.parametrize("pypi,osv", [(UNREACHABLE, UNREACHABLE), (NOT_AUDITED, UNREACHABLE)],
                         ids=["both-down", "packages-not-audited"])
def test_an_audit_that_did_not_happen_is_a_visible_warning(tmp_path: Path, pypi: str,
                                                           osv: str) -> None:
    done = _audit(tmp_path, pypi, osv)
    assert done.returncode == 0
    assert any(line.startswith("WARNING: dependency audit NOT done")
               for line in done.stdout.splitlines())
    assert "no known vulnerabilities" not in done.stdout


@pytest.mark.parametrize("pypi,osv", [(CLEAN, UNREACHABLE), (NOT_AUDITED, CLEAN)],
                         ids=["pypi-clean", "osv-clean"])
def test_a_complete_clean_answer_passes_without_warning(tmp_path: Path, pypi: str,
                                                        osv: str) -> None:
    done = _audit(tmp_path, pypi, osv)
    assert done.returncode == 0 and "WARNING" not in done.stdout
