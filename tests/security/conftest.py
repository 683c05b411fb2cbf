"""Stop the writer threads of the apps a test built, so none outlives its database."""

from tests.beacon.helpers import stop_created_writers  # noqa: F401 - an autouse fixture
