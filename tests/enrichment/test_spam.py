"""SpamList: bundled snapshot plus the operator's file; parent-domain matching."""

from __future__ import annotations

from pathlib import Path

import pytest

from beacon_app.enrichment.spam import SpamList


@pytest.fixture(scope="module")
def bundled() -> SpamList:
    return SpamList.from_files(None)


def test_bundled_snapshot_is_loaded(bundled: SpamList) -> None:
    assert len(bundled) >= 100


@pytest.mark.parametrize(("host", "spam"), [
    ("semalt.com", True),
    ("SEMALT.COM", True),
    ("semalt.com.", True),
    ("www.semalt.com", True),
    ("x.y.semalt.com", True),
    ("darodar.com", True),
    ("buttons-for-website.com", True),
    ("ilovevitaly.com", True),
    ("notsemalt.com", False),
    ("semalt.com.example.org", False),
    ("semalt", False),
    ("com", False),
    ("google.com", False),
    ("example.com", False),
    ("", False),
], ids=lambda v: str(v))
def test_is_spam(bundled: SpamList, host: str, spam: bool) -> None:
    assert bundled.is_spam(host) is spam


def test_bundled_file_has_only_hosts() -> None:
    path = Path(__file__).parents[2] / "beacon_app/enrichment/data/referrer_spam.txt"
    lines = [line for line in path.read_text().splitlines() if not line.startswith("#")]
    assert lines == sorted(set(lines))
    assert all(line and " " not in line and "." in line and line == line.lower()
               for line in lines)


def test_operator_file_extends_the_list(tmp_path: Path) -> None:
    extra = tmp_path / "spam.txt"
    extra.write_text("# my additions\nspam-one.example\n\n  WWW.Spam-Two.example  # inline\n")
    spam = SpamList.from_files(str(extra))
    assert spam.is_spam("spam-one.example") and spam.is_spam("a.spam-two.example")
    assert spam.is_spam("semalt.com")
    assert not SpamList.from_files(None).is_spam("spam-one.example")


def test_missing_operator_file_fails_loudly(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        SpamList.from_files(str(tmp_path / "nope.txt"))
