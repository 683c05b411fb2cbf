"""Access-log lines for the import tests, written the way nginx's "combined" format does."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

CHROME = ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
          "Chrome/120.0.0.0 Safari/537.36")
FIREFOX = "Mozilla/5.0 (X11; Linux x86_64; rv:121.0) Gecko/20100101 Firefox/121.0"
IPHONE = ("Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 "
          "(KHTML, like Gecko) Version/17.1 Mobile/15E148 Safari/604.1")
GOOGLEBOT = "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"
GPTBOT = ("Mozilla/5.0 AppleWebKit/537.36 (KHTML, like Gecko; compatible; GPTBot/1.2; "
          "+https://openai.com/gptbot)")


def line(ip: str, when: datetime, target: str, ua: str, *, status: int = 200,
         method: str = "GET", referrer: str = "-") -> str:
    stamp = when.strftime("%d/%b/%Y:%H:%M:%S +0000")
    return (f'{ip} - - [{stamp}] "{method} {target} HTTP/1.1" {status} 512 "{referrer}" '
            f'"{ua}"')


def write(path: Path, lines: list[str]) -> Path:
    path.write_text("".join(f"{text}\n" for text in lines))
    return path
