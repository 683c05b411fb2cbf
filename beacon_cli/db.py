"""`beacon migrate`: apply the database migrations."""

from __future__ import annotations

import argparse

from beacon_cli.common import settings_and_engine
from shared.storage import current_revisions, migrate


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("migrate", help="apply database migrations (safe to repeat)")
    p.set_defaults(func=run_migrate)


def run_migrate(args: argparse.Namespace) -> int:
    settings, engine = settings_and_engine()
    migrate(engine)
    print(f"database at revision {', '.join(sorted(current_revisions(engine)))}")
    engine.dispose()
    return 0
