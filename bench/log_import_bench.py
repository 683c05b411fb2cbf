"""Access-log import benchmark: lines per second of `beacon import logs` (parse, page-view
rules, the live enrichment, visits, batched writes into SQLite) beside the machine's own
yardstick, a bare regular-expression loop over the same file.

    python bench/log_import_bench.py [--lines N] [--gzip]

The log is synthetic but shaped like a real one: for every page view a browser also
fetches assets, crawlers and AI agents fetch pages, some requests are redirects and
errors, a few thousand visitors with a few hundred user agents. Target: >= 50,000
lines/s, printed with the yardstick's rate (which says how fast this machine is now).
"""

from __future__ import annotations

import argparse
import gzip
import random
import re
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from beacon_app.import_enrichment import SiteEnricher  # noqa: E402
from shared.core.settings import load_settings  # noqa: E402
from shared.imports.log_import import LogImportOptions, run_log_import  # noqa: E402
from shared.sites import add_site  # noqa: E402
from shared.storage import make_engine, migrate  # noqa: E402

BROWSERS = [
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/{v}.0.0.0 Safari/537.36",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/17.{v} Safari/605.1.15",
    "Mozilla/5.0 (X11; Linux x86_64; rv:{v}.0) Gecko/20100101 Firefox/{v}.0",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_{v} like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1",
    "Mozilla/5.0 (Linux; Android 14; Pixel {v}) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/120.0.0.0 Mobile Safari/537.36",
]
BOTS = [
    "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
    "Mozilla/5.0 AppleWebKit/537.36 (KHTML, like Gecko; compatible; GPTBot/1.2; "
    "+https://openai.com/gptbot)",
    "Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)",
    "Mozilla/5.0 (compatible; AhrefsBot/7.0; +http://ahrefs.com/robot/)",
    "curl/8.5.0", "python-requests/2.31.0",
]
PAGES = ["/", "/blog/", "/pricing", "/about", "/docs/start", "/contact"] + \
    [f"/blog/post-{i}" for i in range(200)]
ASSETS = ["/static/app.css", "/static/app.js", "/img/logo.svg", "/favicon.ico",
          "/fonts/inter.woff2"]
REFERRERS = ["-", "-", "https://www.google.com/", "https://news.ycombinator.com/",
             "https://example.com/blog/", "https://duckduckgo.com/"]


def write_log(path: Path, lines: int, compress: bool) -> None:
    rng = random.Random(7)
    agents = [b.format(v=v) for b in BROWSERS for v in range(100, 160)]
    visitors = [(f"{rng.randint(1, 223)}.{rng.randint(0, 255)}.{rng.randint(0, 255)}."
                 f"{rng.randint(1, 254)}", rng.choice(agents)) for _ in range(5000)]
    t = datetime(2026, 11, 1)
    out = gzip.open(path, "wt") if compress else open(path, "w")  # noqa: SIM115
    with out:
        written = 0
        while written < lines:
            t += timedelta(seconds=rng.random() * 2)
            stamp = t.strftime("%d/%b/%Y:%H:%M:%S +0000")
            if rng.random() < 0.12:
                ip, ua = f"66.249.{rng.randint(0, 255)}.{rng.randint(1, 254)}", rng.choice(BOTS)
                batch = [(rng.choice(PAGES), 200)]
            else:
                ip, ua = rng.choice(visitors)
                page = rng.choice(PAGES)
                status = 200 if rng.random() < 0.9 else rng.choice((301, 404, 500))
                batch = [(page, status)] + [(a, 200) for a in rng.sample(ASSETS, 3)]
            for target, status in batch:
                method = "GET" if rng.random() < 0.97 else "HEAD"
                out.write(f'{ip} - - [{stamp}] "{method} {target} HTTP/1.1" {status} 5120 '
                          f'"{rng.choice(REFERRERS)}" "{ua}"\n')
                written += 1


QUOTED = r'"([^"\\]*(?:\\.[^"\\]*)*)"'
YARDSTICK = re.compile(r'(\S+) \S+ \S+ \[([^\]]+)\] ' + QUOTED + r' (\d{3}) \S+ '
                       + QUOTED + " " + QUOTED)


def yardstick(path: Path) -> tuple[int, float, float]:
    """The plainest Python over the file: read, match one regex. (lines, wall s, CPU s)"""
    opener = gzip.open if path.suffix == ".gz" else open
    started, cpu, n = time.perf_counter(), time.process_time(), 0
    with opener(path, "rt", encoding="utf-8", errors="replace") as handle:
        for line in handle:
            if YARDSTICK.match(line):
                n += 1
    return n, time.perf_counter() - started, time.process_time() - cpu


def import_once(path: Path, workdir: Path) -> tuple[int, float, float, int]:
    url = f"sqlite:///{workdir / 'bench.db'}"
    migrate(url)
    engine = make_engine(url)
    with engine.begin() as conn:
        site = add_site(conn, "example.com", timezone="UTC", now=datetime(2026, 12, 1))
    settings = load_settings({}, data_dir=str(workdir / "data"), database_url=url)
    enrich = SiteEnricher(settings, site)
    warm_up = workdir / "warm-up.log"       # the bot lists compile on first use: before the clock
    write_log(warm_up, 2_000, False)
    run_log_import(engine, site, [str(warm_up)], enrich, LogImportOptions())
    started, cpu = time.perf_counter(), time.process_time()
    result = run_log_import(engine, site, [str(path)], enrich, LogImportOptions())
    elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu
    engine.dispose()
    return int(result.record.counts["lines"]), elapsed, cpu, result.record.pageviews


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=400_000)
    parser.add_argument("--gzip", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        path = workdir / ("access.log.gz" if args.gzip else "access.log")
        write_log(path, args.lines, args.gzip)
        size = path.stat().st_size
        n_bare, t_bare, c_bare = yardstick(path)
        lines, t_import, c_import, pageviews = import_once(path, workdir)
        print(f"log: {lines:,} lines, {size / 1e6:.1f} MB{' (gzip)' if args.gzip else ''}, "
              f"{pageviews:,} page views stored")
        print(f"{'':<30} {'lines/s (wall)':>15} {'lines/s (CPU)':>15}")
        print(f"{'bare regex loop (yardstick)':<30} {n_bare / t_bare:>15,.0f} "
              f"{n_bare / c_bare:>15,.0f}")
        print(f"{'beacon import logs (SQLite)':<30} {lines / t_import:>15,.0f} "
              f"{lines / c_import:>15,.0f}")
        print(f"import / yardstick: {c_bare / n_bare * lines / c_import:.3f} (CPU); "
              "target >= 50,000 lines/s. Wall rates count the time this process waited "
              "for a core: compare them only on an idle machine.")


if __name__ == "__main__":
    main()
