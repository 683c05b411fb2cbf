"""Benchmark, stage "query": SQLite's REGEXP on RE2 against Python's `re`, side by side.

`matches` filters reach SQLite as `column REGEXP pattern`, one function call per row.
SQLAlchemy's own function uses Python's backtracking `re`; ours (`shared.storage.sqlite_regexp`)
uses RE2. This measures, in one run and one process, the same queries with each
function installed on the same in-memory table of `--rows` page paths:

* typical: wildcard patterns a dashboard user writes (`/blog/**`, `/docs/*/install`, ...)
  over ordinary paths: the price of linear time on every-day filters;
* attack: `**a**a**a**!` against one stored path of `--attack-chars` `a`s (the issue's
  attack used 1,900; `re` needs cubic time, so keep it small for the `re` side).

Usage: python bench/regexp_bench.py [--rows 200000] [--attack-chars 400]
"""

from __future__ import annotations

import argparse
import random
import re
import sqlite3
import time
from collections.abc import Callable

from shared.stats.filters import wildcard_regex
from shared.storage.sqlite_regexp import regexp as re2_regexp

TYPICAL = ["/blog/**", "/docs/*/install", "**/pricing", "/shop/*/item-*", "/a/**/b/*"]
ATTACK = "**a**a**a**!"


def python_regexp(pattern: str | None, value: str | None) -> bool | None:
    """What SQLAlchemy's SQLite dialect installs (re.search)."""
    if pattern is None or value is None:
        return None
    return re.search(pattern, value) is not None


def _paths(rows: int) -> list[tuple[str]]:
    rnd = random.Random(7)
    heads = ["blog", "docs", "shop", "a", "about", "pricing", "news"]
    out = []
    for i in range(rows):
        depth = rnd.randint(1, 4)
        parts = [rnd.choice(heads)] + [f"seg-{rnd.randint(0, 999)}" for _ in range(depth)]
        out.append(("/" + "/".join(parts) + ("/pricing" if i % 13 == 0 else ""),))
    return out


def _table(paths: list[tuple[str]]) -> sqlite3.Connection:
    db = sqlite3.connect(":memory:")
    db.execute("CREATE TABLE events (pathname TEXT)")
    db.executemany("INSERT INTO events VALUES (?)", paths)
    return db


def _timed(db: sqlite3.Connection, fn: Callable[..., bool | None],
           patterns: list[str]) -> tuple[float, list[int]]:
    db.create_function("regexp", 2, fn, deterministic=True)
    started = time.perf_counter()
    counts = [db.execute("SELECT count(*) FROM events WHERE pathname REGEXP ?",
                         (wildcard_regex(p),)).fetchone()[0] for p in patterns]
    return time.perf_counter() - started, counts


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--attack-chars", type=int, default=400)
    args = parser.parse_args()
    db = _table(_paths(args.rows))
    py_s, py_counts = _timed(db, python_regexp, TYPICAL)
    re2_s, re2_counts = _timed(db, re2_regexp, TYPICAL)
    assert py_counts == re2_counts, (py_counts, re2_counts)
    print(f"typical: {len(TYPICAL)} patterns x {args.rows:,} rows: re {py_s:.2f} s, "
          f"re2 {re2_s:.2f} s, re2/re = {re2_s / py_s:.2f}")
    attack = _table([("/" + "a" * args.attack_chars,)])
    py_s, _ = _timed(attack, python_regexp, [ATTACK])
    re2_s, _ = _timed(attack, re2_regexp, [ATTACK])
    print(f"attack: {ATTACK} on {args.attack_chars} a's: re {py_s:.3f} s, "
          f"re2 {re2_s * 1e3:.3f} ms, re/re2 = {py_s / re2_s:,.0f}")


if __name__ == "__main__":
    main()
