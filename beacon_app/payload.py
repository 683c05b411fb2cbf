"""Edge parsing: turn one request's data into RawHits, or a list of reasons why not.

Everything is capped and typed here, once; nothing after this stage reads the
request again. The clock is passed in (`now`) so tests are deterministic.
Field names follow Plausible's Events API so its tracker can point at us.
"""

from __future__ import annotations

import ipaddress
import json
import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import pycountry

from beacon_app.enrichment.text import strip_unsafe
from shared.core.records import RawHit
from shared.core.screen_size import MAX_WIDTH as MAX_SCREEN_WIDTH

MAX_NAME = 120
MAX_URL_BYTES = 2000
MAX_REFERRER = 2000
MAX_PROPS = 30
MAX_PROP_KEY_BYTES = 300
MAX_PROP_VALUE_BYTES = 2000
MAX_UA = 1000
MAX_HEADER = 500
MAX_ENGAGEMENT_MS = 6 * 3600 * 1000   # longer is a tab left open, not engagement
MAX_REVENUE_CHARS = 500               # {"amount": ..., "currency": "EUR"} as a string
MAX_PAST = timedelta(days=366 * 5)    # oldest timestamp the batch API accepts
MAX_FUTURE = timedelta(minutes=5)

_CURRENCIES = frozenset(c.alpha_3 for c in pycountry.currencies)


class PayloadError(ValueError):
    """The payload is malformed; `errors` lists each problem as {field, message}."""

    def __init__(self, errors: list[dict[str, str]]) -> None:
        super().__init__("; ".join(f"{e['field']}: {e['message']}" for e in errors))
        self.errors = errors


@dataclass(frozen=True)
class ClientInfo:
    """What the request's headers and socket say about the client."""

    ip: str = ""
    user_agent: str = ""
    accept_language: str = ""
    dnt: bool = False
    gpc: bool = False
    prefetch: bool = False
    browser_headers: bool = True   # see enrichment/browser_headers.py


def clean_text(value: str, max_chars: int | None = None) -> str:
    """Drop NUL bytes (PostgreSQL refuses them in text) and lone surrogates, then cap."""
    if "\x00" in value:
        value = value.replace("\x00", "")
    value = value.encode("utf-8", "replace").decode("utf-8")
    return value[:max_chars] if max_chars is not None else value


def cap_bytes(value: str, max_bytes: int) -> str:
    raw = value.encode("utf-8")
    if len(raw) <= max_bytes:
        return value
    return raw[:max_bytes].decode("utf-8", "ignore")


def decode_json_body(body: bytes, max_bytes: int) -> Any:
    """The body as JSON whatever the Content-Type (browsers send text/plain)."""
    if len(body) > max_bytes:
        raise PayloadError([{"field": "body", "message": f"larger than {max_bytes} bytes"}])
    if not body.strip():
        raise PayloadError([{"field": "body", "message": "empty body, expected a JSON object"}])
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise PayloadError([{"field": "body",
                             "message": f"not valid UTF-8 at byte {exc.start}"}]) from None
    try:
        return _JSON.decode(text)
    except (ValueError, RecursionError) as exc:
        raise PayloadError([{"field": "body", "message": f"not valid JSON: {exc}"[:200]}]) from None


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not allowed")


# One decoder for every body: json.loads with an option builds a new one per call.
_JSON = json.JSONDecoder(parse_constant=_reject_constant)


def _first(data: Mapping[str, Any], *keys: str) -> Any:
    for key in keys:
        if key in data and data[key] is not None:
            return data[key]
    return None


def _truthy(value: Any) -> bool:
    if isinstance(value, str):
        return value.strip().lower() in ("1", "true", "yes", "on")
    return bool(value) if isinstance(value, bool | int) else False


def parse_props(raw: Any, errors: list[dict[str, str]]) -> dict[str, str]:
    """Props as {str: str}: <= 30 kept, keys <= 300 B, values <= 2000 B, scalars only."""
    if raw is None or raw == "":
        return {}
    if isinstance(raw, str):
        try:
            raw = json.loads(raw)
        except (ValueError, RecursionError):
            errors.append({"field": "props", "message": "a string that is not a JSON object"})
            return {}
    if not isinstance(raw, dict):
        errors.append({"field": "props", "message": "must be an object"})
        return {}
    props: dict[str, str] = {}
    for key, value in raw.items():
        if len(props) >= MAX_PROPS:
            break
        if isinstance(value, bool):
            text = "true" if value else "false"
        elif isinstance(value, int | float) and not (isinstance(value, float)
                                                     and not math.isfinite(value)):
            text = str(value)
        elif isinstance(value, str):
            text = value
        else:  # objects, lists, null: dropped, like Plausible does
            continue
        # Controls and bidi overrides go, as from every other stored string: a value
        # must read as what it is, in a dashboard cell and a CSV export alike.
        key = strip_unsafe(clean_text(str(key))).strip()
        if not key or len(key.encode()) > MAX_PROP_KEY_BYTES:
            continue
        props[key] = cap_bytes(strip_unsafe(clean_text(text)), MAX_PROP_VALUE_BYTES)
    return props


def parse_revenue(raw: Any, errors: list[dict[str, str]]) -> tuple[float | None, str | None]:
    if raw is None:
        return None, None
    if isinstance(raw, str):
        try:   # a short object only: "[[[[..." must not reach the parser's recursion
            raw = json.loads(raw) if len(raw) <= MAX_REVENUE_CHARS else None
        except (ValueError, RecursionError):
            raw = None
    if not isinstance(raw, dict):
        errors.append({"field": "revenue", "message": "must be {amount, currency}"})
        return None, None
    amount, currency = raw.get("amount"), raw.get("currency")
    try:
        value = math.nan if isinstance(amount, bool) or amount is None else float(amount)
    except (TypeError, ValueError):
        value = math.nan
    if not math.isfinite(value) or abs(value) > 1e12:
        errors.append({"field": "revenue.amount", "message": "must be a finite number"})
        return None, None
    code = currency.upper() if isinstance(currency, str) else ""
    if code not in _CURRENCIES:
        errors.append({"field": "revenue.currency",
                       "message": "must be an ISO 4217 code such as EUR"})
        return None, None
    return round(value, 4), code


def _bounded_int(raw: Any, field: str, low: int, high: int,
                 errors: list[dict[str, str]]) -> int | None:
    if raw is None:
        return None
    if isinstance(raw, bool) or not isinstance(raw, int | float | str):
        errors.append({"field": field, "message": "must be a number"})
        return None
    try:
        number = float(raw)
    except ValueError:
        errors.append({"field": field, "message": "must be a number"})
        return None
    if not math.isfinite(number):
        errors.append({"field": field, "message": "must be a finite number"})
        return None
    return int(min(max(number, low), high))


def _required_text(data: Mapping[str, Any], keys: tuple[str, ...], field: str,
                   errors: list[dict[str, str]]) -> str:
    value = _first(data, *keys)
    if value is None or (isinstance(value, str) and not value.strip()):
        errors.append({"field": field, "message": "is required"})
        return ""
    if not isinstance(value, str):
        errors.append({"field": field, "message": "must be a string"})
        return ""
    return clean_text(value).strip()


def _check_url(url: str, errors: list[dict[str, str]]) -> str:
    if not url:
        return url
    if len(url.encode("utf-8")) > MAX_URL_BYTES:
        errors.append({"field": "url", "message": f"longer than {MAX_URL_BYTES} bytes"})
    elif not url.lower().startswith(("http://", "https://")):
        errors.append({"field": "url", "message": "must be an http(s) URL (data: and "
                                                  "other schemes are refused)"})
    return url


def _domains(raw: Any, errors: list[dict[str, str]]) -> tuple[str, ...]:
    if raw is None:
        return ()
    if not isinstance(raw, str):
        errors.append({"field": "domain", "message": "must be a string"})
        return ()
    parts = [clean_text(d).strip().lower()[:253] for d in raw.split(",")]
    return tuple(dict.fromkeys(p for p in parts if p))[:10]


def parse_timestamp(raw: Any, now: datetime, errors: list[dict[str, str]]) -> datetime | None:
    """An ISO 8601 or Unix-seconds timestamp, converted to naive UTC; batch API only."""
    if raw is None:
        return None
    try:
        if isinstance(raw, int | float) and not isinstance(raw, bool):
            ts = datetime.fromtimestamp(float(raw), UTC)
        elif isinstance(raw, str):
            ts = datetime.fromisoformat(raw.replace("Z", "+00:00"))
            ts = ts.astimezone(UTC) if ts.tzinfo else ts.replace(tzinfo=UTC)
        else:
            raise ValueError
    except (ValueError, OverflowError, OSError):
        errors.append({"field": "timestamp", "message": "must be ISO 8601 or Unix seconds"})
        return None
    naive = ts.replace(tzinfo=None)
    if naive > now + MAX_FUTURE:
        errors.append({"field": "timestamp", "message": "is in the future"})
    elif naive < now - MAX_PAST:
        errors.append({"field": "timestamp", "message": "is more than 5 years old"})
    return naive


def parse_event(data: Any, client: ClientInfo, now: datetime, *,
                trusted: bool = False) -> RawHit:
    """One event object of the Events API -> RawHit, or PayloadError with every problem.

    `trusted` (the token-authenticated batch API) may also set ip, user_agent and
    timestamp; on the public endpoint those fields are ignored.
    """
    if not isinstance(data, dict):
        raise PayloadError([{"field": "body", "message": "must be a JSON object"}])
    errors: list[dict[str, str]] = []
    name = strip_unsafe(_required_text(data, ("n", "name"), "name", errors)).strip()
    if not name and "name" not in {e["field"] for e in errors}:
        errors.append({"field": "name", "message": "has no printable characters"})
    if len(name) > MAX_NAME:
        errors.append({"field": "name", "message": f"longer than {MAX_NAME} characters"})
    url = _check_url(_required_text(data, ("u", "url"), "url", errors), errors)
    domains = _domains(_first(data, "d", "domain"), errors)
    if not domains and "domain" not in {e["field"] for e in errors}:
        errors.append({"field": "domain", "message": "is required"})
    referrer = _first(data, "r", "referrer")
    if referrer is not None and not isinstance(referrer, str):
        errors.append({"field": "referrer", "message": "must be a string"})
        referrer = None
    props = parse_props(_first(data, "p", "props", "m", "meta"), errors)
    amount, currency = parse_revenue(_first(data, "revenue", "$"), errors)
    scroll = _bounded_int(_first(data, "sd"), "sd", 0, 100, errors)
    engaged = _bounded_int(_first(data, "e"), "e", 0, MAX_ENGAGEMENT_MS, errors)
    width = _bounded_int(_first(data, "w"), "w", 0, MAX_SCREEN_WIDTH, errors)
    interactive = data.get("i", data.get("interactive", True))
    client = _trusted_client(data, client, errors) if trusted else client
    timestamp = parse_timestamp(data.get("timestamp"), now, errors) if trusted else None
    client_uid = parse_client_uid(data.get("uid"), errors) if trusted else ""
    if errors:
        raise PayloadError(errors)
    return RawHit(
        received_at=now, name=name, url=url, domains=domains,
        referrer=cap_bytes(clean_text(referrer or ""), MAX_REFERRER), props=props,
        revenue_amount=amount, revenue_currency=currency, hash_mode=_truthy(data.get("h")),
        interactive=interactive is not False and interactive != 0,
        engagement_ms=engaged, scroll_depth=scroll, screen_width=width, ip=client.ip,
        user_agent=client.user_agent, accept_language=client.accept_language,
        dnt=client.dnt, gpc=client.gpc, prefetch=client.prefetch,
        browser_headers=client.browser_headers,
        webdriver=_truthy(data.get("wd")), timestamp=timestamp, client_uid=client_uid,
    )


MAX_CLIENT_UID = 200


def parse_client_uid(value: Any, errors: list[dict[str, str]]) -> str:
    """The batch sender's own id of an event (a string or an integer), or "" for none."""
    if value is None:
        return ""
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    if isinstance(value, str) and 0 < len(value) <= MAX_CLIENT_UID and value.isprintable():
        return value
    errors.append({"field": "uid", "message": f"must be an integer or a string of 1 to "
                                              f"{MAX_CLIENT_UID} printable characters"})
    return ""


def _trusted_client(data: Mapping[str, Any], client: ClientInfo,
                    errors: list[dict[str, str]]) -> ClientInfo:
    ip, ua = data.get("ip"), data.get("user_agent")
    if ip is not None:
        try:
            ip = str(ipaddress.ip_address(str(ip).strip()))
        except ValueError:
            errors.append({"field": "ip", "message": "not an IP address"})
            ip = None
    if ua is not None and not isinstance(ua, str):
        errors.append({"field": "user_agent", "message": "must be a string"})
        ua = None
    return ClientInfo(ip=ip or client.ip,
                      user_agent=clean_text(ua, MAX_UA) if ua is not None else client.user_agent,
                      accept_language=client.accept_language)


def parse_query_hit(args: Mapping[str, str], referer_header: str, client: ClientInfo,
                    now: datetime) -> RawHit:
    """The pixel (`/p.gif?u=&r=&n=&d=`): page from u/url, else the Referer header."""
    url = clean_text(args.get("u") or args.get("url") or referer_header or "").strip()
    if not url:
        raise PayloadError([{"field": "url", "message": "no u= parameter and no Referer header"}])
    data: dict[str, Any] = {"n": args.get("n") or "pageview", "u": url,
                            "r": args.get("r") or "", "h": args.get("h")}
    domain = args.get("d") or args.get("domain") or hostname_of(url)
    if domain:
        data["d"] = domain
    return parse_event(data, client, now)


def hostname_of(url: str) -> str:
    try:
        host = urlsplit(url).hostname or ""
    except ValueError:
        return ""
    return host.lower().removeprefix("www.")
