"""Background jobs: the worker loop, retention and housekeeping."""
