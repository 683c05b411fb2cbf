"""Imports stage: one access-log line -> `LogLine` (or a reason it cannot be read).

Formats: nginx's and Apache's "combined" and "common" (optionally with the virtual host
first, Apache's `vhost_combined` / `vhost_common`) and Caddy's JSON access log. One
compiled regular expression per format and a hand-written time parser keep a line at a
few microseconds: `strptime` alone would cost more than the whole regex match.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

MAX_FIELD = 4096   # longer fields are cut: nothing useful hides past this in a log line


@dataclass(slots=True)
class LogLine:
    ip: str
    when: str | datetime       # the log's time text until `ts` is asked for (most lines
    method: str                # are assets and never need it)
    target: str                # path and query as requested ("/blog/?utm_source=x")
    status: int
    referrer: str = ""
    user_agent: str = ""
    host: str = ""             # the virtual host, when the format carries it
    content_type: str = ""     # the response's, when the format carries it (Caddy)
    parse_time: Callable[[str], datetime] | None = None

    @property
    def ts(self) -> datetime:
        """The request's time, naive UTC (BadLine("bad_time") when it cannot be read)."""
        if not isinstance(self.when, datetime):
            assert self.parse_time is not None
            self.when = self.parse_time(self.when)
        return self.when


class BadLine(ValueError):
    """A line that is not in the format: the message is the drop reason."""


_Q = r'"([^"\\]*(?:\\.[^"\\]*)*)"'     # a quoted field; nginx escapes a quote inside as \x22
_CLF = r'(\S+) \S+ (?:\S+|"[^"]*") \[([^\]]+)\] ' + _Q + r" (\d{3}) \S+"
_PATTERNS = {
    "combined": re.compile(_CLF + " " + _Q + " " + _Q),
    "common": re.compile(_CLF + r"\s*$"),
    "vhost_combined": re.compile(r"(\S+?)(?::\d+)? " + _CLF + " " + _Q + " " + _Q),
    "vhost_common": re.compile(r"(\S+?)(?::\d+)? " + _CLF + r"\s*$"),
}
FORMATS = ("auto", *_PATTERNS, "caddy")

_MONTHS = {m: i for i, m in enumerate(
    ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"), 1)}
_ESCAPE = re.compile(r"\\x([0-9A-Fa-f]{2})|\\(.)")


def _unescape(text: str) -> str:
    """nginx writes `\\xHH` for quotes and non-ASCII bytes, Apache `\\"` and `\\\\`."""
    if "\\" not in text:
        return text[:MAX_FIELD]
    raw = _ESCAPE.sub(lambda m: chr(int(m.group(1), 16)) if m.group(1) else m.group(2), text)
    # \xHH sequences are UTF-8 bytes one by one: put them back together.
    try:
        return raw.encode("latin-1").decode("utf-8", errors="replace")[:MAX_FIELD]
    except UnicodeEncodeError:
        return raw[:MAX_FIELD]


class ClfTime:
    """`10/Oct/2000:13:55:36 -0700` -> naive UTC; the minute's start is cached, because
    a log repeats the same minute thousands of times."""

    def __init__(self) -> None:
        self._minutes: dict[str, datetime] = {}

    def __call__(self, text: str) -> datetime:
        key = text[:17] + text[20:]
        base = self._minutes.get(key)
        if base is None:
            base = self._parse_minute(text)
            if len(self._minutes) > 10_000:
                self._minutes.clear()
            self._minutes[key] = base
        try:
            return base + timedelta(seconds=int(text[18:20]))
        except ValueError:
            raise BadLine("bad_time") from None

    @staticmethod
    def _parse_minute(text: str) -> datetime:
        try:
            day, month, year = int(text[0:2]), _MONTHS[text[3:6]], int(text[7:11])
            hour, minute = int(text[12:14]), int(text[15:17])
            zone = text[21:].strip()
            sign = -1 if zone[0] == "-" else 1
            offset = timedelta(hours=int(zone[1:3]), minutes=int(zone[3:5])) * sign
            return datetime(year, month, day, hour, minute) - offset
        except (ValueError, KeyError, IndexError):
            raise BadLine("bad_time") from None


Parser = Callable[[str], LogLine]


def clf_parser(fmt: str) -> Parser:
    """A parser for one of the CLF-family formats (the hot loop of a log import: one
    regex match, no other call for a line without escapes)."""
    match, with_host = _PATTERNS[fmt].match, fmt.startswith("vhost_")
    combined = fmt.endswith("combined")
    parse_time = ClfTime()

    def parse(line: str) -> LogLine:
        m = match(line)
        if m is None:
            raise BadLine("unparsable")
        groups = m.groups()
        if with_host:
            host, groups = groups[0].lower(), groups[1:]
        else:
            host = ""
        request = groups[2]
        if "\\" in request:
            request = _unescape(request)
        method, _, target = request.partition(" ")
        if " HTTP/" in target:
            target = target.rpartition(" ")[0]
        if not method or not target:
            raise BadLine("malformed_request")
        referrer = ua = ""
        if combined:
            referrer, ua = groups[4], groups[5]
            if referrer == "-":
                referrer = ""
            elif "\\" in referrer or len(referrer) > MAX_FIELD:
                referrer = _unescape(referrer)
            if ua == "-":
                ua = ""
            elif "\\" in ua or len(ua) > MAX_FIELD:
                ua = _unescape(ua)
        return LogLine(groups[0], groups[1], method, target[:MAX_FIELD], int(groups[3]),
                       referrer, ua, host, "", parse_time)
    return parse


def _first(headers: object, name: str) -> str:
    if not isinstance(headers, dict):
        return ""
    values = headers.get(name) or headers.get(name.lower()) or []
    return str(values[0])[:MAX_FIELD] if isinstance(values, list) and values else ""


def caddy_parser() -> Parser:
    """Caddy's JSON access log (one object per line, `request` nested)."""
    decode = json.JSONDecoder().decode

    def parse(line: str) -> LogLine:
        try:
            record = decode(line)
            request = record["request"]
            ip = str(request.get("client_ip") or request.get("remote_ip") or "")
            ts = datetime.fromtimestamp(float(record["ts"]), UTC).replace(tzinfo=None)
            status = int(record.get("status") or 0)
        except (ValueError, KeyError, TypeError, AttributeError, OverflowError, OSError):
            raise BadLine("unparsable") from None
        headers = request.get("headers")
        return LogLine(ip=ip, when=ts, method=str(request.get("method") or ""),
                       target=str(request.get("uri") or "")[:MAX_FIELD], status=status,
                       referrer=_first(headers, "Referer"),
                       user_agent=_first(headers, "User-Agent"),
                       host=str(request.get("host") or "").lower()[:253],
                       content_type=_first(record.get("resp_headers"), "Content-Type"))
    return parse


def parser_for(fmt: str) -> Parser:
    return caddy_parser() if fmt == "caddy" else clf_parser(fmt)


def detect_format(sample: Iterable[str]) -> str | None:
    """The format most of the sample's lines are in (combined before common: a combined
    line also starts like a common one); None when no format reads any of them."""
    lines = [line for line in sample if line.strip()][:50]
    scores: dict[str, int] = {}
    for fmt in ("combined", "vhost_combined", "common", "vhost_common", "caddy"):
        parse = parser_for(fmt)
        ok = 0
        for line in lines:
            try:
                parse(line)
                ok += 1
            except BadLine:
                pass
        scores[fmt] = ok
    best = max(scores, key=lambda f: scores[f])
    return best if scores[best] else None
