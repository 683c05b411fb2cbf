"""Throttling of password guesses (dashboard sign-in and share-link passwords) that an
attacker cannot turn against the owner.

There is no account lock-out: a lock-out lets anyone keep an admin out with five wrong
passwords. Failures are counted per (what was tried, client address): after
`free_failures` each further failure doubles a wait (1 s, 2 s, 4 s, ... up to
`max_delay`) during which that pair gets no password check at all. Another address -
the owner's - is not slowed down. A global count of failures per hour caps a guessing
run spread over many addresses: beyond `global_per_hour`, only networks the account
signed in from before with the right password still get a password check.

Keys are HMACs of the tried name and the address (BEACON_SECRET_KEY is the HMAC key),
so the table says nothing about who tried what from where; rows are deleted a day
after their last failure, known networks after 90 days without a sign-in.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from shared.core import schema
from shared.core.settings import Settings
from shared.storage import insert_ignoring_duplicates, upsert_add

# Used when BEACON_SECRET_KEY is not set (development): the hashes are then keyed by a
# public value, which still keeps addresses out of plain sight.
_DEVELOPMENT_KEY = b"beacon-development-sign-in-throttle"
FAILURE_ROWS_KEPT = timedelta(days=1)
KNOWN_NETWORKS_KEPT = timedelta(days=90)


@dataclass(frozen=True)
class ThrottlePolicy:
    free_failures: int = 5
    max_delay: timedelta = timedelta(minutes=15)
    global_per_hour: int = 500
    key: bytes = _DEVELOPMENT_KEY

    @classmethod
    def from_settings(cls, settings: Settings) -> ThrottlePolicy:
        return cls(free_failures=settings.login_max_failures,
                   max_delay=timedelta(minutes=settings.login_lockout_minutes),
                   global_per_hour=settings.login_global_failures_per_hour,
                   key=settings.secret_key.encode() or _DEVELOPMENT_KEY)

    def delay_after(self, failures: int) -> timedelta:
        """The wait after the `failures`-th failure in a row from one address."""
        extra = failures - self.free_failures
        if extra <= 0:
            return timedelta(0)
        return min(timedelta(seconds=2 ** min(extra - 1, 30)), self.max_delay)


def _hmac(policy: ThrottlePolicy, *parts: str) -> str:
    message = "\x1f".join(parts).encode()
    return hmac.new(policy.key, message, hashlib.sha256).hexdigest()


def network_of(ip: str) -> str:
    """The /24 (IPv4) or /48 (IPv6) around `ip`: "the usual network" of a person."""
    try:
        address = ipaddress.ip_address(ip)
    except ValueError:
        return "unknown"
    prefix = 24 if address.version == 4 else 48
    return str(ipaddress.ip_network(f"{address}/{prefix}", strict=False))


def _address_key(ip: str) -> str:
    """One IPv4 address, or the /64 of an IPv6 one (a host owns a whole /64)."""
    try:
        address = ipaddress.ip_address(ip)
    except ValueError:
        return "unknown"
    if address.version == 6:
        return str(ipaddress.ip_network(f"{address}/64", strict=False))
    return str(address)


def _pair_key(policy: ThrottlePolicy, subject: str, ip: str) -> str:
    return "pair|" + _hmac(policy, subject, _address_key(ip))


def _global_key(now: datetime) -> str:
    return f"global|{now:%Y-%m-%dT%H}"


def may_try(conn: Connection, policy: ThrottlePolicy, subject: str, ip: str, now: datetime,
            *, user_id: int | None = None) -> bool:
    """False when this (subject, address) must wait, or when failures flood the server
    and the address is not a network `user_id` signed in from before."""
    t = schema.sign_in_failures
    blocked = conn.execute(sa.select(t.c.blocked_until)
                           .where(t.c.key == _pair_key(policy, subject, ip))).scalar()
    if blocked is not None and blocked > now:
        return False
    total = conn.execute(sa.select(t.c.failures).where(t.c.key == _global_key(now))).scalar()
    if (total or 0) < policy.global_per_hour:
        return True
    return user_id is not None and _known_network(conn, policy, user_id, ip)


def record_failure(conn: Connection, policy: ThrottlePolicy, subject: str, ip: str,
                   now: datetime, *, count_global: bool = True) -> None:
    """Count a failure of (subject, address); `count_global=False` for a second count of
    the same try (a two-factor code is also counted per account), so the hourly total
    counts each try once."""
    t = schema.sign_in_failures
    key = _pair_key(policy, subject, ip)
    insert_ignoring_duplicates(conn, t, [{"key": key, "failures": 0, "last_failure": now}],
                               ["key"])
    conn.execute(sa.update(t).where(t.c.key == key)
                 .values(failures=t.c.failures + 1, last_failure=now))
    failures = int(conn.execute(sa.select(t.c.failures).where(t.c.key == key)).scalar_one())
    delay = policy.delay_after(failures)
    if delay:
        conn.execute(sa.update(t).where(t.c.key == key).values(blocked_until=now + delay))
    if count_global:
        upsert_add(conn, t, [{"key": _global_key(now), "failures": 1, "last_failure": now}],
                   ["key"], "failures")


def record_success(conn: Connection, policy: ThrottlePolicy, subject: str, ip: str,
                   now: datetime, *, user_id: int | None = None) -> None:
    """Forget the pair's failures; remember the network for `user_id`."""
    t = schema.sign_in_failures
    conn.execute(sa.delete(t).where(t.c.key == _pair_key(policy, subject, ip)))
    if user_id is None:
        return
    n = schema.sign_in_networks
    network = _hmac(policy, "network", network_of(ip))
    conn.execute(sa.delete(n).where(n.c.user_id == user_id, n.c.network_hash == network))
    conn.execute(sa.insert(n).values(user_id=user_id, network_hash=network, last_success=now))


def _known_network(conn: Connection, policy: ThrottlePolicy, user_id: int, ip: str) -> bool:
    n = schema.sign_in_networks
    network = _hmac(policy, "network", network_of(ip))
    return conn.execute(sa.select(n.c.user_id).where(
        n.c.user_id == user_id, n.c.network_hash == network)).first() is not None


def delete_old_entries(conn: Connection, now: datetime) -> int:
    """Housekeeping: failures a day old, networks unused for 90 days."""
    t, n = schema.sign_in_failures, schema.sign_in_networks
    gone = conn.execute(sa.delete(t).where(t.c.last_failure < now - FAILURE_ROWS_KEPT))
    old = conn.execute(sa.delete(n).where(n.c.last_success < now - KNOWN_NETWORKS_KEPT))
    return (gone.rowcount or 0) + (old.rowcount or 0)
