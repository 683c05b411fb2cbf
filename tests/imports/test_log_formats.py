"""Access-log lines -> LogLine, per format; unreadable lines get a reason, never a crash."""

from __future__ import annotations

from datetime import datetime

import pytest

from shared.imports.log_formats import BadLine, LogLine, detect_format, parser_for
from shared.imports.log_rules import PageViewRules, Reason, parse_statuses

CHROME = ("Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
          "Chrome/120.0.0.0 Safari/537.36")

CASES = [
    ("combined",
     f'203.0.113.9 - - [10/Oct/2026:13:55:36 -0700] "GET /a?b=1 HTTP/1.1" 200 2326 '
     f'"https://duckduckgo.com/" "{CHROME}"',
     dict(ip="203.0.113.9", ts=datetime(2026, 10, 10, 20, 55, 36), method="GET",
          target="/a?b=1", status=200, referrer="https://duckduckgo.com/",
          user_agent=CHROME, host="")),
    ("combined",   # nginx escapes a quote and non-ASCII bytes as \xHH
     r'2001:db8::1 - bob [01/Jan/2026:00:00:00 +0000] "GET /caf\xC3\xA9 HTTP/2.0" 304 0 '
     r'"-" "Evil \x22agent\x22"',
     dict(ip="2001:db8::1", ts=datetime(2026, 1, 1), target="/café", status=304,
          referrer="", user_agent='Evil "agent"')),
    ("combined",   # Apache escapes a quote as \"
     r'198.51.100.1 - - [01/Jan/2026:00:00:00 +0100] "GET / HTTP/1.1" 200 1 "-" "A \"b\" c"',
     dict(ts=datetime(2025, 12, 31, 23), user_agent='A "b" c')),
    ("common",
     '198.51.100.1 - - [01/Mar/2026:10:00:00 +0000] "POST /form HTTP/1.1" 302 -',
     dict(method="POST", target="/form", status=302, user_agent="", referrer="")),
    ("vhost_combined",
     f'Example.com:443 203.0.113.9 - - [10/Oct/2026:13:55:36 +0000] "GET / HTTP/1.1" 200 1 '
     f'"-" "{CHROME}"',
     dict(host="example.com", ip="203.0.113.9", user_agent=CHROME)),
    ("vhost_common",
     'blog.example.com 203.0.113.9 - - [10/Oct/2026:13:55:36 +0000] "GET /x HTTP/1.1" 404 9',
     dict(host="blog.example.com", target="/x", status=404)),
    ("caddy",
     '{"level":"info","ts":1767225600.25,"logger":"http.log.access","msg":"handled request",'
     '"request":{"remote_ip":"10.0.0.1","client_ip":"203.0.113.7","proto":"HTTP/2.0",'
     '"method":"GET","host":"example.com","uri":"/p?utm_source=x","headers":{"User-Agent":'
     f'["{CHROME}"],"Referer":["https://t.co/"]}}}},"status":200,"size":10,'
     '"resp_headers":{"Content-Type":["text/html; charset=utf-8"]}}',
     dict(ip="203.0.113.7", ts=datetime(2026, 1, 1, 0, 0, 0, 250000), target="/p?utm_source=x",
          host="example.com", referrer="https://t.co/", content_type="text/html; charset=utf-8")),
]


@pytest.mark.parametrize(("fmt", "line", "expected"), CASES,
                         ids=[f"{c[0]}-{i}" for i, c in enumerate(CASES)])
def test_parses(fmt: str, line: str, expected: dict[str, object]) -> None:
    parsed = parser_for(fmt)(line)
    for name, value in expected.items():
        assert getattr(parsed, name) == value, name
    assert detect_format([line]) == fmt


@pytest.mark.parametrize(("fmt", "line", "reason"), [
    ("combined", "garbage", "unparsable"),
    ("combined", '1.2.3.4 - - [10/Oct/2026:13:55:36 +0000] "-" 400 0 "-" "-"',
     "malformed_request"),
    ("caddy", '{"ts": "yesterday", "request": {}}', "unparsable"),
    ("caddy", "[1, 2]", "unparsable"),
], ids=["garbage", "no-request", "caddy-bad-ts", "caddy-not-object"])
def test_bad_lines_have_reasons(fmt: str, line: str, reason: str) -> None:
    with pytest.raises(BadLine, match=reason):
        parser_for(fmt)(line)


def test_bad_time_is_a_reason_not_a_crash() -> None:
    line = parser_for("combined")(
        '1.2.3.4 - - [99/Foo/2026:13:55:36 +0000] "GET / HTTP/1.1" 200 0 "-" "-"')
    with pytest.raises(BadLine, match="bad_time"):
        _ = line.ts


def test_detect_format_none_for_other_text() -> None:
    assert detect_format(["hello", "world"]) is None


def _line(target: str = "/", method: str = "GET", status: int = 200,
          content_type: str = "") -> LogLine:
    return LogLine("1.2.3.4", datetime(2026, 1, 1), method, target, status,
                   content_type=content_type)


@pytest.mark.parametrize(("line", "reason"), [
    (_line("/"), None),
    (_line("/blog/post/"), None),
    (_line("/index.html?x=1"), None),
    (_line("/v1.2/notes"), None),        # a dot in a folder name is not an extension
    (_line("/static/app.css"), Reason.ASSET),
    (_line("/img/a.PNG"), Reason.ASSET),
    (_line("/feed.xml"), Reason.ASSET),
    (_line("/", method="HEAD"), Reason.METHOD),
    (_line("/", method="POST"), Reason.METHOD),
    (_line("/old", status=301), Reason.STATUS_REDIRECT),
    (_line("/cached", status=304), None),
    (_line("/missing", status=404), Reason.STATUS_ERROR),
    (_line("/boom", status=502), Reason.STATUS_ERROR),
    (_line("/api/users"), Reason.EXCLUDED),
    (_line("/api"), Reason.EXCLUDED),
    (_line("/apiary"), None),
    (_line("/robots.txt"), Reason.ASSET),
    (_line("/", content_type="application/json"), Reason.NOT_HTML),
    (_line("/", content_type="text/html; charset=utf-8"), None),
], ids=lambda v: v.target + v.method + str(v.status) if isinstance(v, LogLine) else str(v))
def test_default_page_view_rules(line: LogLine, reason: str | None) -> None:
    assert PageViewRules().reason_to_skip(line) == reason


def test_rules_are_adjustable_and_survive_storage() -> None:
    rules = PageViewRules(methods=frozenset({"GET", "POST"}), statuses=parse_statuses("200"),
                          excluded_paths=("/admin/*",), included_paths=("/shop/*", "/"))
    assert rules.reason_to_skip(_line("/shop/cart", method="POST")) is None
    assert rules.reason_to_skip(_line("/cached", status=304)) == Reason.STATUS_REDIRECT
    assert rules.reason_to_skip(_line("/admin/x")) == Reason.EXCLUDED
    assert rules.reason_to_skip(_line("/blog/")) == Reason.EXCLUDED
    assert PageViewRules.from_description(rules.describe()) == rules


@pytest.mark.parametrize("text", ["", "abc", "99-100", "200-700"])
def test_bad_status_lists_are_refused(text: str) -> None:
    with pytest.raises(ValueError):
        parse_statuses(text)
