"""Demo data, stage "seed": one site's traffic for one local day, as numpy columns.

Vectorised so that ten million events take minutes, not hours: visitors are drawn
first (place, device), then their visits (source, entry page, length), then the
pageviews, engagement pings and custom events of each visit. A visitor id is only
valid for one day (the daily salt), so every day draws new ids. Visits of the same
visitor are >= 2 hours apart and last < 1 hour, and pages within a visit are < 5
minutes apart: the 30-minute session rule would split the events the same way.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from shared.demo import catalog as cat

DAY_SECONDS = 86_400
MAX_PAGES = 10
KIND_PAGEVIEW, KIND_ENGAGEMENT, KIND_SIGNUP, KIND_DOWNLOAD, KIND_PURCHASE, KIND_OUTBOUND = range(6)
# Per visit: chance of each custom event for (one-page visit, longer visit).
CUSTOM_CHANCES = {KIND_SIGNUP: (0.01, 0.05), KIND_DOWNLOAD: (0.02, 0.07),
                  KIND_PURCHASE: (0.0, 0.015), KIND_OUTBOUND: (0.02, 0.04)}
EVENTS_PER_VISIT = 4.3  # measured mean of what `_draw` produces; sizes the first draw

_HOUR_CDF = np.concatenate([[0.0], np.cumsum(cat.HOURLY)])
_HOUR_SECONDS = np.arange(25, dtype=np.float64) * 3600
_SOURCE_P = cat.normalised([s.weight for s in cat.SOURCES])
_GEO_P = cat.normalised([g[4] for g in cat.GEO])
_UA_P = cat.normalised([u[5] for u in cat.USER_AGENTS])


@dataclass
class DayColumns:
    """Events of one day in visit order; `seconds` are local seconds since midnight."""

    visit: np.ndarray          # index into visit_* arrays
    entry: np.ndarray          # belongs to the visit's landing page (carries the source)
    seconds: np.ndarray
    kind: np.ndarray
    page: np.ndarray
    engagement_ms: np.ndarray  # -1 = none
    scroll: np.ndarray         # -1 = none
    extra: np.ndarray          # plan / file / link index for custom events
    revenue: np.ndarray        # NaN = none
    currency: np.ndarray       # 0 EUR, 1 USD
    visit_visitor: np.ndarray  # visitor id of each visit
    visit_session: np.ndarray
    visit_source: np.ndarray
    visit_geo: np.ndarray
    visit_ua: np.ndarray

    def __len__(self) -> int:
        return len(self.kind)


def fraction_of_day(elapsed_seconds: float) -> float:
    """Share of a day's traffic that falls before `elapsed_seconds` local time."""
    return float(np.interp(min(elapsed_seconds, DAY_SECONDS), _HOUR_SECONDS, _HOUR_CDF))


def _start_seconds(rng: np.random.Generator, n: int, limit: float) -> np.ndarray:
    """Visit starts following the hourly curve, all before `limit` (inverse CDF)."""
    u = rng.uniform(0.0, fraction_of_day(limit), n)
    return np.interp(u, _HOUR_CDF, _HOUR_SECONDS)


def _visits(rng: np.random.Generator, n_visitors: int, limit: float) -> dict[str, np.ndarray]:
    """Most visitors come once a day, some two or three times, >= 2 hours apart."""
    per_visitor = rng.choice(3, n_visitors, p=[0.86, 0.11, 0.03]) + 1
    starts = np.sort(_start_seconds(rng, n_visitors * 3, limit).reshape(n_visitors, 3), axis=1)
    starts[:, 1] = np.maximum(starts[:, 1], starts[:, 0] + 7200)
    starts[:, 2] = np.maximum(starts[:, 2], starts[:, 1] + 7200)
    keep = (np.arange(3) < per_visitor[:, None]) & (starts < limit - 60)
    keep[:, 0] = True
    visitor_index = np.nonzero(keep)[0]
    n = len(visitor_index)
    single = rng.random(n) < 0.52
    pages = np.where(single, 1, np.minimum(1 + rng.geometric(0.38, n), MAX_PAGES))
    return {"visitor": visitor_index, "start": starts[keep], "pages": pages,
            "source": rng.choice(len(cat.SOURCES), n, p=_SOURCE_P)}


def _pageviews(rng: np.random.Generator, visits: dict[str, np.ndarray],
               page_p: np.ndarray) -> dict[str, np.ndarray]:
    """Every page of every visit; the next page follows the time spent on the last."""
    visit = np.repeat(np.arange(len(visits["pages"])), visits["pages"])
    first = np.concatenate([[0], np.cumsum(visits["pages"])[:-1]])
    position = np.arange(len(visit)) - first[visit]
    page = rng.choice(len(page_p), len(visit), p=page_p)
    dwell = np.clip(rng.lognormal(np.log(25.0), 1.0, len(visit)), 2.0, 300.0)
    elapsed = np.cumsum(dwell + 1.0)
    before = elapsed - (dwell + 1.0)                    # time spent before this page
    offset = before - before[first][visit]              # ... within this visit
    return {"visit": visit, "position": position, "page": page, "dwell": dwell,
            "seconds": visits["start"][visit] + offset}


def _customs(rng: np.random.Generator, visits: dict[str, np.ndarray],
             views: dict[str, np.ndarray]) -> list[dict[str, np.ndarray]]:
    """Signups, downloads, purchases and outbound clicks, each on a page of its visit."""
    n = len(visits["pages"])
    first = np.concatenate([[0], np.cumsum(visits["pages"])[:-1]])
    parts = []
    for kind, (one_page, longer) in CUSTOM_CHANCES.items():
        chance = np.where(visits["pages"] == 1, one_page, longer)
        hit = np.nonzero(rng.random(n) < chance)[0]
        at = first[hit] + (rng.random(len(hit)) * visits["pages"][hit]).astype(np.int64)
        parts.append({"visit": hit, "seconds": views["seconds"][at] + views["dwell"][at] * 0.5,
                      "page": views["page"][at], "kind": np.full(len(hit), kind),
                      "entry": views["position"][at] == 0,
                      "extra": _custom_extra(rng, kind, len(hit))})
    return parts


def _custom_extra(rng: np.random.Generator, kind: int, n: int) -> np.ndarray:
    if kind == KIND_SIGNUP:
        return rng.choice(len(cat.PLANS), n, p=cat.PLAN_WEIGHTS)
    if kind == KIND_PURCHASE:
        return rng.choice([1, 2], n, p=[0.8, 0.2])      # paid plans only
    if kind == KIND_DOWNLOAD:
        return rng.choice(len(cat.FILES), n, p=cat.FILE_WEIGHTS)
    return rng.choice(len(cat.OUTBOUND), n, p=cat.OUTBOUND_WEIGHTS)


def day_columns(rng: np.random.Generator, quota: int, limit: float,
                page_p: np.ndarray) -> DayColumns:
    """Exactly `quota` events of one day, none after local second `limit`.

    Visits are drawn with a margin and cut at the visit that reaches the quota; that
    visit loses its last events only, so every kept event still follows its pageview.
    """
    n_visitors = max(1, int(quota / (EVENTS_PER_VISIT * 1.17) * 1.05) + 8)
    while True:
        visits, columns = _draw(rng, n_visitors, limit, page_p)
        if len(columns["visit"]) >= quota:
            break
        n_visitors = int(n_visitors * 1.25) + 8   # rare: a small or unlucky day
    order = np.lexsort((columns["seconds"], columns["visit"]))[:quota]
    order = order[np.argsort(columns["seconds"][order], kind="stable")]
    cols = {k: v[order] for k, v in columns.items()}
    cols["seconds"] = np.minimum(cols["seconds"], limit)   # today: nothing after `now`
    return _finish(rng, cols, visits, n_visitors)


def _draw(rng: np.random.Generator, n_visitors: int, limit: float, page_p: np.ndarray,
          ) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    visits = _visits(rng, n_visitors, limit)
    views = _pageviews(rng, visits, page_p)
    engaged = rng.random(len(views["visit"])) < 0.85
    n_eng = int(engaged.sum())
    eng_ms = (views["dwell"][engaged] * rng.uniform(400.0, 1000.0, n_eng)).astype(np.int64)
    parts = [
        {"visit": views["visit"], "seconds": views["seconds"], "page": views["page"],
         "kind": np.full(len(views["visit"]), KIND_PAGEVIEW), "entry": views["position"] == 0},
        {"visit": views["visit"][engaged], "page": views["page"][engaged],
         "entry": views["position"][engaged] == 0,
         "seconds": views["seconds"][engaged] + views["dwell"][engaged],
         "kind": np.full(n_eng, KIND_ENGAGEMENT), "engagement_ms": eng_ms,
         "scroll": np.rint(rng.beta(2.0, 1.6, n_eng) * 100).astype(np.int64)},
        *_customs(rng, visits, views),
    ]
    return visits, _concat(parts)


def _concat(parts: list[dict[str, np.ndarray]]) -> dict[str, np.ndarray]:
    defaults = {"engagement_ms": -1, "scroll": -1, "extra": 0}
    out = {}
    for key in ("visit", "seconds", "page", "kind", "engagement_ms", "scroll", "extra", "entry"):
        out[key] = np.concatenate([p[key] if key in p else
                                   np.full(len(p["visit"]), defaults[key]) for p in parts])
    return out


def _finish(rng: np.random.Generator, cols: dict[str, np.ndarray],
            visits: dict[str, np.ndarray], n_visitors: int) -> DayColumns:
    n_visits = len(visits["pages"])
    purchase = cols["kind"] == KIND_PURCHASE
    seats = rng.integers(1, 6, len(purchase))
    price = np.array([cat.PLAN_PRICES[p] for p in cat.PLANS])[np.where(purchase, cols["extra"], 0)]
    currency = (rng.random(len(purchase)) < 0.4).astype(np.int64)      # 60 % EUR
    revenue = np.where(purchase, price * seats * np.where(currency == 1, 1.09, 1.0), np.nan)
    visitor_ids = rng.integers(1, 2**62, n_visitors)
    geo = rng.choice(len(cat.GEO), n_visitors, p=_GEO_P)
    ua = rng.choice(len(cat.USER_AGENTS), n_visitors, p=_UA_P)
    return DayColumns(
        visit=cols["visit"], entry=cols["entry"].astype(bool), seconds=cols["seconds"],
        kind=cols["kind"], page=cols["page"], engagement_ms=cols["engagement_ms"],
        scroll=cols["scroll"], extra=cols["extra"], revenue=np.round(revenue, 2),
        currency=currency, visit_visitor=visitor_ids[visits["visitor"]],
        visit_session=rng.integers(1, 2**62, n_visits), visit_source=visits["source"],
        visit_geo=geo[visits["visitor"]], visit_ua=ua[visits["visitor"]],
    )
