"""Notify stage: the one error its setup functions raise for bad input."""


class NotifyError(ValueError):
    """A report, alert or webhook setting was refused; the message says why."""
