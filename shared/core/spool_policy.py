"""How long events stay in the beacon's local spool: the constants the spool obeys and
the privacy record quotes, kept in one place so the record cannot drift from the code.

Every accepted event is appended to the spool before it is answered (that append is
what makes the 2xx durable); the writer then copies it to the database. A segment file
is sealed when it reaches SEGMENT_MAX_BYTES or SEGMENT_MAX_AGE_SECONDS, and deleted once
every event in it is in the database.
"""

from __future__ import annotations

SEGMENT_MAX_BYTES = 4 * 1024 * 1024
SEGMENT_MAX_AGE_SECONDS = 30.0


def spool_retention(flush_interval_ms: int, spool_max_bytes: int) -> str:
    """One sentence for the record of processing, from the constants and settings."""
    return (
        "every accepted event is first written to a spool file on this server's disk "
        "(the enriched event: the same fields as the database, no IP address or "
        "User-Agent); the writer copies it to the database within about "
        f"{flush_interval_ms} ms; a spool file is closed after "
        f"{SEGMENT_MAX_AGE_SECONDS:.0f} s or {SEGMENT_MAX_BYTES // (1024 * 1024)} MiB and "
        "deleted once all its events are in the database, so while the database is "
        "reachable an event stays in the spool about a minute at most; while it is "
        "unreachable, events wait in the spool until it is back (at most "
        f"{spool_max_bytes / 1e9:.1f} GB, newer events are dropped beyond that)"
    )
