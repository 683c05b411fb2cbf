"""The worker's notification job: queue the reports that are due, check the traffic
alerts, then deliver what the outbox holds (shared/notify/ does each step)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.engine import Engine

from shared.core.settings import load_settings
from shared.notify.alerts import check_alerts
from shared.notify.deliver import deliver_due, delivery_settings
from shared.notify.schedule import schedule_reports
from shared.storage import write_transaction


def run_notifications(engine: Engine, now: datetime) -> dict[str, Any]:
    delivery = delivery_settings(load_settings())
    with write_transaction(engine) as conn:
        reports = schedule_reports(conn, now)
    alerts = check_alerts(engine, now)
    return {"reports_queued": reports, "alerts_queued": alerts,
            "delivered": deliver_due(engine, now, delivery)}
