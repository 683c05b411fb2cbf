"""Notify stage: what an alert or report says - the webhook JSON bodies (Beacon's own,
or Slack-compatible `{"text": ...}`) and the alert e-mails.

Beacon's body: {"event", "site", "created_at", "text", "data"}; `data` holds the
numbers (docs/notifications.md lists them per event).
"""

from __future__ import annotations

import json
from datetime import datetime
from email.message import EmailMessage
from email.utils import make_msgid
from typing import Any

from shared.notify.periods import describe
from shared.notify.report_data import ReportData
from shared.notify.report_email import headline


def body(event: str, site: str, created_at: datetime, text: str, data: dict[str, Any],
         payload_format: str) -> bytes:
    """The webhook body as bytes (the exact bytes that get signed)."""
    if payload_format == "slack":
        return json.dumps({"text": text}).encode()
    return json.dumps({"event": event, "site": site,
                       "created_at": created_at.isoformat(timespec="seconds") + "Z",
                       "text": text, "data": data}, sort_keys=True).encode()


def report_summary(data: ReportData) -> tuple[str, dict[str, Any]]:
    """(one-line text, numbers) of a report for its webhook."""
    m = data.totals.metrics
    numbers = {key: getattr(m, key) for key in
               ("visitors", "visits", "pageviews", "bounce_rate", "visit_duration")}
    text = (f"{'Weekly' if data.kind == 'week' else 'Monthly'} report for {data.domain}, "
            f"{describe(data.first, data.last)}: " + ", ".join(
                f"{h['label'].lower()} {h['value']} ({h['change']})" for h in headline(data)))
    return text, {
        "period": data.kind, "first_day": data.first.isoformat(),
        "last_day": data.last.isoformat(), "timezone": data.timezone, "metrics": numbers,
        "changes": {k: data.totals.changes.get(k) for k in numbers},
        "top_pages": [{"page": r.value, "visitors": r.metrics.visitors} for r in data.pages],
        "top_sources": [{"source": r.value, "visitors": r.metrics.visitors}
                        for r in data.sources],
        "top_countries": [{"country": r.value, "visitors": r.metrics.visitors}
                          for r in data.countries],
        "goals": [{"goal": g.goal.display_name, "conversions": g.conversions,
                   "conversion_rate": g.conversion_rate} for g in data.goals],
    }


def alert_email(*, subject: str, text: str, sender: str, to: str) -> EmailMessage:
    message = EmailMessage()
    message["Subject"] = subject
    message["From"] = sender
    message["To"] = to
    message["Message-ID"] = make_msgid(domain=sender.rsplit("@", 1)[-1].strip(">"))
    message.set_content(text + "\n\n--\nAn alert from Beacon Analytics. Site owners change "
                        "alerts on the dashboard's Notifications page.\n")
    return message
