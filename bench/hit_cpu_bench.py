"""CPU time per `/api/event` request through the real WSGI app, in process (no sockets,
no load generator): the request path's own cost, which a loaded machine's wall-clock
figures cannot resolve to a few per cent.

    python bench/hit_cpu_bench.py [--tree PATH] [--requests 2000] [--rounds 5]

`--tree` runs another checkout of the project (e.g. `git archive BASE | tar -x -C DIR`)
with this environment, so two commits can be compared alternately on the same machine.
Counts the process's CPU time (the writer thread included) with the verdict caches
warm, as in production; five browser agents, 500 pages, as bench/ingest.lua.
"""

from __future__ import annotations

import argparse
import gc
import io
import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

UAS = [
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/124.0.0.0 Safari/537.36",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_4) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/17.4 Safari/605.1.15",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like "
    "Gecko) Version/17.4 Mobile/15E148 Safari/604.1",
    "Mozilla/5.0 (X11; Linux x86_64; rv:125.0) Gecko/20100101 Firefox/125.0",
    "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/124.0.0.0 Mobile Safari/537.36",
]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--tree", default=str(Path(__file__).resolve().parent.parent))
    ap.add_argument("--requests", type=int, default=2000)
    ap.add_argument("--rounds", type=int, default=5)
    args = ap.parse_args()
    sys.path.insert(0, args.tree)
    from werkzeug.test import EnvironBuilder

    from beacon_app import create_app, state_of
    from shared.core.settings import load_settings
    from shared.sites import add_site
    from shared.storage import make_engine, migrate

    tmp = tempfile.mkdtemp(prefix="beacon-cpu-")
    url = f"sqlite:///{tmp}/bench.db"
    migrate(url)
    with make_engine(url).begin() as conn:
        add_site(conn, "bench.example.com")
    app = create_app(load_settings({}, data_dir=f"{tmp}/data", database_url=url))
    requests = []
    for i in range(args.requests):
        body = json.dumps({"n": "pageview", "d": "bench.example.com",
                           "u": f"https://bench.example.com/page/{i % 500}?utm_source=news",
                           "r": "https://www.google.com/"}).encode()
        environ = EnvironBuilder(path="/api/event", method="POST", data=body, headers={
            "User-Agent": UAS[i % len(UAS)], "Accept-Language": "en-GB,en;q=0.9",
            "Content-Type": "text/plain", "X-Forwarded-For": f"81.2.69.{i % 250}"}).get_environ()
        requests.append((environ, body))

    def start_response(*_: Any) -> None:
        return None

    gc.freeze()   # as gunicorn.conf.py does after loading the app
    gc.set_threshold(20_000, 50, 1000)
    per_request = []
    for _ in range(args.rounds):
        start = time.process_time()
        for environ, body in requests:
            env = dict(environ)
            env["wsgi.input"] = io.BytesIO(body)
            for _chunk in app(env, start_response):
                pass
        per_request.append((time.process_time() - start) / len(requests) * 1e6)
    state_of(app).writer.stop()
    per_request.sort()
    print(f"{args.tree}: CPU per request min {per_request[0]:.1f} us, "
          f"median {per_request[len(per_request) // 2]:.1f} us")


if __name__ == "__main__":
    main()
