"""Random 63-bit ids (event uids, session ids) from a per-process generator.

Ids need to be unique, not secret, and a system call per id is measurable on the hot
path, so each process seeds its own generator once from the OS - and again in a forked
child (an at-fork hook), so two workers never share a sequence (shared sequences would
collide, and a collision would make the writer skip an event as a duplicate).
"""

from __future__ import annotations

import hashlib
import os
import random


def _seeded() -> random.Random:
    return random.Random(os.urandom(32))  # noqa: S311 - uniqueness only, not secrecy


_rng = _seeded()


def _reseed_after_fork() -> None:
    global _rng
    _rng = _seeded()


os.register_at_fork(after_in_child=_reseed_after_fork)


def random_id() -> int:
    """A random positive 63-bit integer (fits a signed BIGINT)."""
    return _rng.getrandbits(63) or 1


def stable_id(*parts: str | int) -> int:
    """A positive 63-bit id that is the same every time for the same `parts`: the uid of
    an event whose sender named it, so a resent event is stored once."""
    digest = hashlib.blake2b("\x1f".join(map(str, parts)).encode(), digest_size=8,
                             person=b"beacon-uid").digest()
    return (int.from_bytes(digest, "big") >> 1) or 1
