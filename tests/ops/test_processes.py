"""One answer to "is this process alive?" for the spool and the backup command."""

from __future__ import annotations

import os
import subprocess
import sys
import time

from shared.core.processes import process_alive


def test_the_current_process_is_alive() -> None:
    assert process_alive(os.getpid())


def test_a_running_child_is_alive_and_an_exited_unreaped_one_is_not() -> None:
    child = subprocess.Popen([sys.executable, "-c", "import sys; sys.stdin.read()"],
                             stdin=subprocess.PIPE)
    try:
        assert process_alive(child.pid)
        assert child.stdin is not None
        child.stdin.close()                 # the child exits; nobody has reaped it yet
        deadline = time.monotonic() + 30
        while process_alive(child.pid) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not process_alive(child.pid)  # a zombie counts as gone
    finally:
        child.wait()
