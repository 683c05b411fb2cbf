"""Cost of one rate-limit check: the shared count-min sketch (`beacon_app.rate_limit`)
against a plain per-process dict counter, measured side by side in one run.

    .venv/bin/python bench/rate_limit_bench.py
"""

from __future__ import annotations

import itertools
import tempfile
import timeit

from beacon_app.rate_limit import RateLimiter

CALLS = 100_000


class DictLimiter:
    """The shape of the former per-process limiter: one dict entry per address."""

    def __init__(self, per_minute: int) -> None:
        self.per_minute = per_minute
        self.counts: dict[str, int] = {}

    def allow(self, ip: str) -> bool:
        count = self.counts.get(ip, 0) + 1
        self.counts[ip] = count
        return count <= self.per_minute


def _per_call(limiter: RateLimiter | DictLimiter, addresses: list[str]) -> float:
    cycle = itertools.cycle(addresses)
    best = min(timeit.repeat(lambda: limiter.allow(next(cycle)), number=CALLS, repeat=5))
    return best / CALLS * 1e6


def main() -> None:
    with tempfile.TemporaryDirectory() as folder:
        shared = RateLimiter(10**9, folder)
        for label, count in (("1 address", 1), ("10,000 returning addresses", 10_000),
                             ("500,000 addresses (a flood)", 500_000)):
            addresses = [f"10.{n >> 16 & 255}.{n >> 8 & 255}.{n & 255}" for n in range(count)]
            ours, plain = _per_call(shared, addresses), _per_call(DictLimiter(10**9), addresses)
            print(f"{label:30s} shared {ours:5.2f} us  dict {plain:5.2f} us  "
                  f"ratio {ours / plain:4.1f}x")


if __name__ == "__main__":
    main()
