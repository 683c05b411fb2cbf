"""Random 63-bit ids (event uids, session ids) from a per-process generator.

Ids need to be unique, not secret, and a system call per id is measurable on the hot
path, so each process seeds its own generator once from the OS - and again after a
fork, so two workers never share a sequence (shared sequences would collide, and a
collision would make the writer skip an event as a duplicate).
"""

from __future__ import annotations

import os
import random
import threading

_state: dict[str, object] = {"pid": None, "rng": None}
_lock = threading.Lock()


def random_id() -> int:
    """A random positive 63-bit integer (fits a signed BIGINT)."""
    rng = _state["rng"]
    if _state["pid"] != os.getpid() or rng is None:
        with _lock:
            if _state["pid"] != os.getpid() or _state["rng"] is None:
                _state["rng"] = random.Random(os.urandom(32))  # noqa: S311 - uniqueness only
                _state["pid"] = os.getpid()
            rng = _state["rng"]
    assert isinstance(rng, random.Random)
    return rng.getrandbits(63) or 1
