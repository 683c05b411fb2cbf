"""Notify stage: one e-mail report as a MIME message - a plain-text part, an HTML part
and the visitors chart as an inline image (multipart/alternative + related).

Page paths, sources and goal names came from tracked pages: the HTML template escapes
every value (Jinja2 autoescape for .html), the text part shows them as they are (text
is never interpreted).
"""

from __future__ import annotations

from email.message import EmailMessage
from email.utils import make_msgid

from jinja2 import Environment, PackageLoader, select_autoescape

from shared.notify.chart import visitors_chart
from shared.notify.periods import describe
from shared.notify.report_data import ReportData
from shared.reports import Row

_TEMPLATES = Environment(loader=PackageLoader("shared.notify", "templates"),
                         autoescape=select_autoescape(["html"], default=False), trim_blocks=True,
                         lstrip_blocks=True, keep_trailing_newline=True)
_TITLES = {"week": "Weekly", "month": "Monthly"}
# (label, metric, how to show a value)
HEADLINE = (("Visitors", "visitors"), ("Visits", "visits"), ("Pageviews", "pageviews"),
            ("Bounce rate", "bounce_rate"), ("Visit duration", "visit_duration"))


def fmt_value(metric: str, value: float) -> str:
    if metric == "bounce_rate":
        return f"{value:.0f}%"
    if metric == "visit_duration":
        minutes, seconds = divmod(round(value), 60)
        return f"{minutes}m {seconds:02d}s" if minutes else f"{seconds}s"
    return f"{int(value):,}"


def fmt_change(metric: str, change: float | None) -> str:
    if change is None:
        return "new" if metric != "bounce_rate" else "–"
    unit = " pts" if metric == "bounce_rate" else "%"
    return f"{change:+.0f}{unit}"


def headline(data: ReportData) -> list[dict[str, str]]:
    m, changes = data.totals.metrics, data.totals.changes
    return [{"label": label, "value": fmt_value(key, getattr(m, key)),
             "change": fmt_change(key, changes.get(key))} for label, key in HEADLINE]


def _rows(rows: list[Row]) -> list[dict[str, str]]:
    return [{"name": r.value or "(none)", "visitors": f"{r.metrics.visitors:,}"} for r in rows]


def country_name(code: str) -> str:
    """"Germany" for "DE"; the code itself when pycountry does not know it."""
    import pycountry

    found = pycountry.countries.get(alpha_2=(code or "").upper())
    return str(getattr(found, "common_name", None) or found.name) if found else code


def subject(data: ReportData) -> str:
    return f"{_TITLES[data.kind]} report for {data.domain}: {describe(data.first, data.last)}"


def context(data: ReportData, unsubscribe_url: str | None) -> dict[str, object]:
    return {
        "title": f"{_TITLES[data.kind]} report", "domain": data.domain,
        "period": describe(data.first, data.last), "timezone": data.timezone,
        "headline": headline(data), "pages": _rows(data.pages),
        "sources": _rows(data.sources),
        "countries": [{**row, "name": country_name(row["name"])}
                      for row in _rows(data.countries)],
        "goals": [{"name": g.goal.display_name, "conversions": f"{g.conversions:,}",
                   "rate": f"{g.conversion_rate:.1f}%"} for g in data.goals],
        "unsubscribe_url": unsubscribe_url,
    }


def build_message(data: ReportData, *, sender: str, to: str,
                  unsubscribe_url: str | None) -> EmailMessage:
    """The report e-mail; with an unsubscribe URL also the List-Unsubscribe headers that
    let a mail program offer one-click unsubscribing (RFC 8058)."""
    values = context(data, unsubscribe_url)
    message = EmailMessage()
    message["Subject"] = subject(data)
    message["From"] = sender
    message["To"] = to
    message["Message-ID"] = make_msgid(domain=sender.rsplit("@", 1)[-1].strip(">"))
    if unsubscribe_url:
        message["List-Unsubscribe"] = f"<{unsubscribe_url}>"
        message["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    message.set_content(_TEMPLATES.get_template("report.txt").render(values))
    chart_id = make_msgid(domain="beacon.chart")
    message.add_alternative(_TEMPLATES.get_template("report.html").render(
        values, chart_cid=chart_id[1:-1]), subtype="html")
    png = visitors_chart([p.bucket.date() for p in data.series],
                         [p.metrics.visitors for p in data.series])
    html_part = message.get_body(("html",))
    assert isinstance(html_part, EmailMessage)
    html_part.add_related(png, "image", "png", cid=chart_id, filename="visitors.png",
                          disposition="inline")
    return message
