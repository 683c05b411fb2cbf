"""Query model: the one error every part of a query raises when a value is invalid.

Its own module so that the dimension catalogue and the query value can both raise it
without importing each other.
"""


class QueryError(ValueError):
    """A query value is invalid; the message says which part and why."""
