"""Enrichment step: is a referrer host a known referrer spammer?

The bundled list is a snapshot of the Matomo community list (public domain); operators
add hosts with BEACON_SPAM_LIST_FILE. A listed host matches itself and its subdomains,
never a substring: `semalt.com` lists `x.semalt.com` but not `notsemalt.com`.
"""

from __future__ import annotations

from collections.abc import Iterable
from importlib import resources
from pathlib import Path

_BUNDLED = "referrer_spam.txt"


def _hosts(lines: Iterable[str]) -> set[str]:
    hosts = set()
    for line in lines:
        host = line.split("#", 1)[0].strip().lower().rstrip(".").removeprefix("www.")
        if host:
            hosts.add(host)
    return hosts


class SpamList:
    """A set of spam hosts with parent-domain matching."""

    def __init__(self, hosts: Iterable[str]) -> None:
        self._hosts = frozenset(_hosts(hosts))

    @classmethod
    def from_files(cls, extra_path: str | None) -> SpamList:
        """The bundled snapshot plus, when given, the operator's file (one host a line)."""
        bundled = resources.files("beacon_app.enrichment").joinpath("data").joinpath(_BUNDLED)
        lines = bundled.read_text(encoding="utf-8").splitlines()
        if extra_path:
            lines += Path(extra_path).read_text(encoding="utf-8").splitlines()
        return cls(lines)

    def __len__(self) -> int:
        return len(self._hosts)

    def is_spam(self, host: str) -> bool:
        """True when `host` or one of its parent domains is listed."""
        labels = host.strip().lower().rstrip(".").split(".")
        return any(".".join(labels[i:]) in self._hosts for i in range(len(labels)))
