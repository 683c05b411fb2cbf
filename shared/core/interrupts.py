"""Ctrl-C at a safe point: a long job finishes the step it is in, then stops.

A KeyboardInterrupt raised at an arbitrary bytecode can land between SQLite's
`BEGIN IMMEDIATE` and the code that would release it, leaving the write lock held by
a connection nobody closes; the job's own "stopped, run again with --resume" write then
waits on that lock and fails. With `StopOnInterrupt`, the first Ctrl-C only sets a flag
the job checks between steps; a second one interrupts at once, as a person expects.
"""

from __future__ import annotations

import signal
import threading
from types import FrameType, TracebackType
from typing import Any


class StopOnInterrupt:
    """`with StopOnInterrupt() as stop: ... if stop.requested: <save, then stop>`.

    Outside the main thread (where Python runs signal handlers) it does nothing and
    Ctrl-C keeps its default behaviour."""

    def __init__(self) -> None:
        self.requested = False
        self._previous: Any = None
        self._installed = False

    def __enter__(self) -> StopOnInterrupt:
        if threading.current_thread() is threading.main_thread() \
                and signal.getsignal(signal.SIGINT) is signal.default_int_handler:
            self._previous = signal.signal(signal.SIGINT, self._on_sigint)
            self._installed = True
        return self

    def _on_sigint(self, signum: int, frame: FrameType | None) -> None:
        if self.requested:                   # the second Ctrl-C: stop now
            raise KeyboardInterrupt
        self.requested = True

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        if self._installed:
            signal.signal(signal.SIGINT, self._previous)
            self._installed = False
