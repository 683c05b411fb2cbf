"""Stop the writer threads of the apps a test built, so none outlives its database."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from beacon_app import state_of
from tests.beacon.helpers import CREATED


@pytest.fixture(autouse=True)
def _stop_writers() -> Iterator[None]:
    yield
    while CREATED:
        state = state_of(CREATED.pop())
        state.writer.stop(timeout=10)
        state.engine.dispose()
