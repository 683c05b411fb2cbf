"""What the documentation promises, read from the documents themselves, so a test of a
promise fails when the text and the software drift apart.

Every Markdown file of the project is read (README.md, SECURITY.md and docs/*.md,
wherever a statement moves between them), plus .env.example.
"""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def markdown_files() -> list[Path]:
    found = [ROOT / "README.md", ROOT / "SECURITY.md", *sorted((ROOT / "docs").rglob("*.md"))]
    return [path for path in found if path.is_file()]


def security_headers() -> tuple[dict[str, str], dict[str, str]]:
    """The `Name: value` headers SECURITY.md says the beacon's responses carry: (those on
    every response, those on all but the tracker scripts)."""
    text = " ".join((ROOT / "SECURITY.md").read_text().split())
    promise = re.search(r"its responses carry (.+?), so a reflected string", text)
    assert promise, "SECURITY.md no longer says which headers the responses carry"
    everywhere, _, not_on_scripts = promise.group(1).partition("all but the tracker scripts")
    found = [dict(re.findall(r"`([A-Za-z-]+): ([^`]+)`", part))
             for part in (everywhere, not_on_scripts)]
    assert len(found[0]) + len(found[1]) >= 3, promise.group(1)
    return found[0], found[1]


def carries(headers: dict[str, str], name: str, documented: str) -> bool:
    """The response header `name` has the documented value (for a policy: as its first
    directive, e.g. `default-src 'none'` of a longer Content-Security-Policy)."""
    value = {k.lower(): v for k, v in headers.items()}.get(name.lower())
    return value is not None and (value == documented
                                  or value.split(";")[0].strip() == documented)


# A Prometheus series as the docs write it: a beacon_ metric name with a known suffix,
# and optionally its labels (`beacon_events_dropped_total{reason="spool_full"}`).
_SERIES = re.compile(r"\b(beacon_[a-z_]+?(?:_total|_bytes|_backlog|_seconds(?:_bucket|_sum|"
                     r"_count)?))\b(\{[^}]*\})?")


def documented_metric_series() -> set[str]:
    """Every metric series named anywhere in the Markdown docs, labels included."""
    series: set[str] = set()
    for path in markdown_files():
        for name, labels in _SERIES.findall(path.read_text()):
            series.add(name + labels)
    return series


def documented_variables() -> set[str]:
    """Every BEACON_* variable named in the Markdown docs, app.json or the Procfile."""
    names: set[str] = set()
    for path in [*markdown_files(), ROOT / "app.json", ROOT / "Procfile"]:
        names.update(re.findall(r"\b(BEACON_[A-Z0-9_]+[A-Z0-9])\b", path.read_text()))
    return names


def env_example() -> dict[str, tuple[str, str]]:
    """.env.example as {variable: (its comment text, its value)}."""
    entries: dict[str, tuple[str, str]] = {}
    comment: list[str] = []
    for line in (ROOT / ".env.example").read_text().splitlines():
        if match := re.fullmatch(r"#?([A-Z][A-Z0-9_]+)=(.*)", line):
            entries[match.group(1)] = (" ".join(comment), match.group(2))
            comment = []
        elif line.startswith("#"):
            comment.append(line.lstrip("# ").strip())
        else:
            comment = []
    return entries
