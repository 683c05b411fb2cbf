"""The Bots & AI agents page shows the bot counts the beacon wrote (through the real
metrics flush), as the query layer reads them; names stay text."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from beacon_app.metrics import Metrics
from shared.core.bot_categories import BotCategory, BotLabel
from shared.core.records import DropReason
from shared.reports.bots import bot_report
from tests.dashboard.conftest import DOMAIN, Seeded, app_as, no_exception, utcnow

HOSTILE = '<img src=x onerror="alert(1)">bot'


def _seed_bots(seeded: Seeded, tmp_path: Path) -> None:
    metrics = Metrics(str(tmp_path / "metrics"))
    today = utcnow().date()
    hits = [(BotLabel(BotCategory.AI_CRAWLER, "GPTBot"), today, 5),
            (BotLabel(BotCategory.AI_ASSISTANT, "ChatGPT-User"), today, 2),
            (BotLabel(BotCategory.SEARCH_CRAWLER, "Googlebot"), today - timedelta(days=1), 3),
            (BotLabel(BotCategory.OTHER, HOSTILE), today, 1)]
    for label, day, n in hits:
        for _ in range(n):
            metrics.drop(seeded.site.id, DropReason.BOT, day, label)
    metrics.flush_drops(seeded.engine)


def test_bots_page_shows_agents_and_categories(seeded: Seeded, tmp_path: Path) -> None:
    _seed_bots(seeded, tmp_path)
    at = no_exception(app_as("viewer@example.com", site=DOMAIN, period="7d").run())
    at.switch_page("views/bots.py").run()
    no_exception(at)
    assert at.title[0].value == "Bots & AI agents"
    assert {m.label: m.value for m in at.metric}["Bot hits"] == "11"
    agents, categories = (df.value for df in at.dataframe)
    with seeded.engine.connect() as conn:
        today = utcnow().date()
        rows = bot_report(conn, seeded.site.id, today - timedelta(days=6), today)
    assert list(agents["Agent"]) == [r.dimensions[1] for r in rows]
    assert list(agents["Hits"]) == [r.count for r in rows]
    assert list(agents["Agent"])[:2] == ["GPTBot", "Googlebot"]
    assert HOSTILE in list(agents["Agent"])          # shown as the text it is
    assert dict(zip(categories["Category"], categories["Hits"], strict=True)) == {
        "AI crawler": 5, "Search crawler": 3, "AI assistant": 2, "Other bot": 1}


def test_bots_page_without_bots_says_so(seeded: Seeded) -> None:
    at = no_exception(app_as("owner@example.com", site=DOMAIN).run())
    at.switch_page("views/bots.py").run()
    no_exception(at)
    assert {m.label: m.value for m in at.metric}["Bot hits"] == "0"
    assert "No bot hits" in at.info[0].value
