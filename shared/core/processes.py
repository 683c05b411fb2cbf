"""Is a process alive? One answer for the spool (whose segments name their writer's pid)
and for the backup command (which refuses to copy a database beacons still write to)."""

from __future__ import annotations

import os
from pathlib import Path


def process_alive(pid: int) -> bool:
    """True while `pid` runs (the current process included); False once it has exited,
    even if nobody has reaped it yet."""
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True          # someone else's process: it exists
    # A killed process nobody has reaped yet (a zombie) still answers kill(pid, 0).
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return True
    return state not in ("Z", "X")
