"""The tracker script's committed builds (static/, built from tracker/src) and versions.

Read once per process: the beacon serves them, the snippet names their version in
`?v=` URLs that browsers may cache for a year.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from functools import cache
from importlib import resources

FULL, CORE = "script.js", "script.core.js"


@dataclass(frozen=True)
class Build:
    body: bytes
    version: str     # the first 16 hex digits of the SHA-256 of the body; also the ETag


@cache
def load_build(name: str) -> Build:
    body = resources.files("shared.tracking").joinpath("static", name).read_bytes()
    return Build(body=body, version=hashlib.sha256(body).hexdigest()[:16])


def script_version(core: bool = False) -> str:
    """The current build's version, for `?v=` URLs that can be cached for a year."""
    return load_build(CORE if core else FULL).version
