"""`beacon import logs` on logs written by a real nginx (Debian's package) serving a test
site to a scripted client: browsers, crawlers, assets, redirects, errors, HEADs."""

from __future__ import annotations

import getpass
import gzip
import os
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
import sqlalchemy as sa

from beacon_cli.main import main
from shared.core import schema
from shared.sites import add_site
from shared.storage import make_engine
from tests.imports.helpers import CHROME, FIREFOX, GOOGLEBOT, GPTBOT, IPHONE

NGINX = shutil.which("nginx") or "/usr/sbin/nginx"

CONFIG = """
{user}
daemon off;
worker_processes 1;
pid {root}/nginx.pid;
error_log {root}/error.log;
events {{ worker_connections 64; }}
http {{
    include /etc/nginx/mime.types;
    client_body_temp_path {root}/tmp; proxy_temp_path {root}/tmp;
    fastcgi_temp_path {root}/tmp; uwsgi_temp_path {root}/tmp; scgi_temp_path {root}/tmp;
    # The client's address as a proxy in front would pass it (so geo has real addresses).
    set_real_ip_from 127.0.0.1;
    real_ip_header X-Forwarded-For;
    log_format vhost '$host $remote_addr - $remote_user [$time_local] "$request" '
                     '$status $body_bytes_sent "$http_referer" "$http_user_agent"';
    access_log {root}/access.log combined;
    access_log {root}/vhost.log vhost;
    server {{
        listen 127.0.0.1:{port};
        server_name example.com blog.example.com other.example.net;
        root {root}/site;
        location = /old {{ return 301 /new/; }}
        location /api/ {{ default_type application/json; return 200 '{{}}'; }}
    }}
}}
"""

PAGES = {"index.html": "<h1>home</h1>", "new/index.html": "<h1>new</h1>",
         "blog/post/index.html": "<h1>post</h1>", "pricing.html": "<h1>pricing</h1>",
         "style.css": "body{}", "app.js": "1", "logo.svg": "<svg/>"}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def nginx(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, int]]:
    if not os.path.exists(NGINX):
        message = "nginx is not installed (apt-get install nginx; scripts/test-services.sh)"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    root = tmp_path_factory.mktemp("nginx")
    (root / "tmp").mkdir()
    for name, body in PAGES.items():
        (root / "site" / name).parent.mkdir(parents=True, exist_ok=True)
        (root / "site" / name).write_text(body)
    port = _free_port()
    # Started as root, nginx's workers would run as nobody and not read the private test
    # folder: they run as the user who started it.
    user = f"user {getpass.getuser()};" if os.geteuid() == 0 else ""
    (root / "nginx.conf").write_text(CONFIG.format(root=root, port=port, user=user))
    proc = subprocess.Popen([NGINX, "-c", str(root / "nginx.conf"), "-p", str(root)],
                            stderr=subprocess.PIPE)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            break
        except OSError:
            assert proc.poll() is None, proc.stderr.read() if proc.stderr else ""
            time.sleep(0.05)
    yield root, port
    proc.terminate()
    proc.wait(10)


# (client address, user agent, host, path, referrer, method)
VISITS = [
    ("8.8.8.8", CHROME, "example.com", "/?utm_source=newsletter&utm_medium=email",
     "https://mail.example.net/", "GET"),
    ("8.8.8.8", CHROME, "example.com", "/style.css", "http://example.com/", "GET"),
    ("8.8.8.8", CHROME, "example.com", "/app.js", "http://example.com/", "GET"),
    ("8.8.8.8", CHROME, "example.com", "/pricing.html", "http://example.com/", "GET"),
    ("81.2.69.160", IPHONE, "blog.example.com", "/blog/post/", "https://www.google.com/",
     "GET"),
    ("81.2.69.160", IPHONE, "blog.example.com", "/logo.svg", "", "GET"),
    ("1.1.1.1", FIREFOX, "example.com", "/old", "https://news.ycombinator.com/", "GET"),
    ("1.1.1.1", FIREFOX, "example.com", "/new/", "https://news.ycombinator.com/", "GET"),
    ("1.1.1.1", FIREFOX, "example.com", "/missing", "", "GET"),
    ("1.1.1.1", FIREFOX, "example.com", "/api/cart", "", "GET"),
    ("1.1.1.1", FIREFOX, "example.com", "/", "", "HEAD"),
    ("66.249.66.1", GOOGLEBOT, "example.com", "/pricing.html", "", "GET"),
    ("20.15.240.64", GPTBOT, "example.com", "/blog/post/", "", "GET"),
    ("9.9.9.9", CHROME, "other.example.net", "/", "", "GET"),
    ("9.9.9.9", "", "example.com", "/", "", "GET"),
]


@pytest.fixture(scope="module")
def nginx_logs(nginx: tuple[Path, int]) -> tuple[Path, Path]:
    root, port = nginx
    with requests.Session() as session:
        for ip, ua, host, path, referrer, method in VISITS:
            headers = {"Host": host, "User-Agent": ua, "X-Forwarded-For": ip}
            if referrer:
                headers["Referer"] = referrer
            session.request(method, f"http://127.0.0.1:{port}{path}", headers=headers,
                            allow_redirects=False, timeout=10)
    deadline = time.monotonic() + 10    # nginx writes each line when the request ends
    while len((root / "access.log").read_text().splitlines()) < len(VISITS):
        assert time.monotonic() < deadline
        time.sleep(0.05)
    packed = root / "access.log.1.gz"
    packed.write_bytes(gzip.compress((root / "access.log").read_bytes()))
    return packed, root / "vhost.log"


@pytest.fixture
def site_env(db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("DATABASE_URL", db_url)
    monkeypatch.setenv("BEACON_DATA_DIR", str(tmp_path / "data"))
    engine = make_engine(db_url)
    with engine.begin() as conn:
        add_site(conn, "example.com")
    engine.dispose()
    return db_url


def _events(db_url: str) -> list[sa.Row]:
    engine = make_engine(db_url)
    with engine.connect() as conn:
        rows = list(conn.execute(sa.select(schema.events).order_by(schema.events.c.ts,
                                                                   schema.events.c.id)))
        bots = {(r.category, r.family): r.count
                for r in conn.execute(sa.select(schema.bot_counts))}
    engine.dispose()
    return [*rows, bots]   # type: ignore[list-item]


def test_real_nginx_combined_log_gzip(nginx_logs: tuple[Path, Path], site_env: str,
                                      capsys: pytest.CaptureFixture[str]) -> None:
    combined, _vhost = nginx_logs
    assert main(["import", "logs", str(combined), "--site", "example.com", "--quiet"]) == 0
    out = capsys.readouterr().out
    *events, bots = _events(site_env)
    # The combined format has no host: every page is the site's.
    assert [e.pathname for e in events] == ["/", "/pricing.html", "/blog/post", "/new", "/"]
    home = events[0]
    assert (home.utm_source, home.utm_medium, home.channel, home.country, home.browser) == \
        ("newsletter", "email", "Email", "US", "Chrome")
    assert events[1].session_id == home.session_id and events[1].channel == "Direct"
    post = events[2]
    assert (post.referrer_source, post.channel, post.device, post.os, post.country) == \
        ("Google", "Organic Search", "mobile", "iOS", "GB")
    assert events[3].referrer_source == "Hacker News"
    assert bots == {("search_crawler", "Googlebot"): 1, ("ai_crawler", "GPTBot"): 1,
                    ("other_bot", "No user agent"): 1}
    for reason in ("not_a_page", "redirect", "error_status", "excluded_path", "not_get"):
        assert reason in out, reason


def test_real_nginx_log_with_virtual_hosts(nginx_logs: tuple[Path, Path], site_env: str,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    _combined, vhost = nginx_logs
    assert main(["import", "logs", str(vhost), "--site", "example.com", "--quiet"]) == 0
    out = capsys.readouterr().out
    *events, _bots = _events(site_env)
    assert [(e.hostname, e.pathname) for e in events] == [
        ("example.com", "/"), ("example.com", "/pricing.html"),
        ("blog.example.com", "/blog/post"), ("example.com", "/new")]
    assert "other_host" in out          # other.example.net is not this site
