"""primary_language: the primary subtag of the most preferred Accept-Language entry."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from beacon_app.enrichment.language import primary_language

CASES = [
    ("de-AT,de;q=0.9,en;q=0.8", "de"),
    ("en-US,en;q=0.9", "en"),
    ("fr-CH, fr;q=0.9, en;q=0.8, de;q=0.7, *;q=0.5", "fr"),
    ("en;q=0.1, fr", "fr"),
    ("es;q=0.5,pt-BR;q=0.8", "pt"),
    ("ZH-hant-TW", "zh"),
    ("zh_CN", "zh"),
    ("*", ""),
    ("*;q=1, nl;q=0.5", "nl"),
    ("", ""),
    ("en;q=0", ""),
    ("en;q=abc, it", "it"),
    ("en;q=7", ""),
    ("1234, ja", "ja"),
    ("<script>,ko", "ko"),
    ("de\x00,sv", "sv"),
    ("a" * 5000, ""),
    ("en;q=0.5,de;q=0.5", "en"),
]


@pytest.mark.parametrize(("header", "expected"), CASES, ids=[c[0][:30] or "empty"
                                                             for c in CASES])
def test_primary_language(header: str, expected: str) -> None:
    assert primary_language(header) == expected


@given(st.text(max_size=300))
def test_never_raises_and_is_short_lowercase(header: str) -> None:
    result = primary_language(header)
    assert result == "" or (result.isascii() and result.islower() and len(result) <= 8)
