"""Ctrl-C during a long job (an import): the first one is a request the job honours at
a safe point, the second stops it at once."""

from __future__ import annotations

import os
import signal

import pytest

from shared.core.interrupts import StopOnInterrupt


def test_the_first_ctrl_c_is_a_request_the_second_stops_at_once() -> None:
    with StopOnInterrupt() as stop:
        os.kill(os.getpid(), signal.SIGINT)
        assert stop.requested
        with pytest.raises(KeyboardInterrupt):
            os.kill(os.getpid(), signal.SIGINT)
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler
