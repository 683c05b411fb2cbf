"""Event and session ids: a forked worker never repeats its parent's sequence."""

from __future__ import annotations

import os

from shared.core.ids import random_id


def test_forked_child_draws_a_different_sequence() -> None:
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:   # the child: report its next ids and leave at once
        os.write(write, ",".join(str(random_id()) for _ in range(3)).encode())
        os._exit(0)
    os.close(write)
    child = [int(x) for x in os.read(read, 1000).decode().split(",")]
    os.waitpid(pid, 0)
    os.close(read)
    parent = [random_id() for _ in range(3)]
    assert set(child).isdisjoint(parent)
    assert all(0 < i < 2 ** 63 for i in child + parent)
