"""Entry point of `beacon`: builds the parser from the command modules and turns every
expected failure into one clear line on stderr and a non-zero exit code."""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from shared.core.settings import SettingsError
from shared.storage.private_files import restrict_umask

# Each module has register(subparsers); a command sets `func(args) -> int`.
COMMAND_MODULES = (
    "beacon_cli.db",
    "beacon_cli.sites",
    "beacon_cli.users",
    "beacon_cli.serve",
    "beacon_cli.first_admin",
    "beacon_cli.snippet",
    "beacon_cli.demo",
    "beacon_cli.keys",
    "beacon_cli.export",
    "beacon_cli.import_events",
    "beacon_cli.goals",
    "beacon_cli.rollup",
    "beacon_cli.web",
    "beacon_cli.ops",
)


class CliError(Exception):
    """An operator mistake or refused operation; printed as one line, exit code 2."""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="beacon", description="Beacon Analytics")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    # Before anything is created: databases, backups, exports and the spool are private.
    restrict_umask()
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except (CliError, SettingsError, ValueError) as exc:
        print(f"beacon {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    except Exception as exc:  # a database that is down, a full disk, ...
        from sqlalchemy.exc import SQLAlchemyError

        if isinstance(exc, SQLAlchemyError | OSError):
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            print(f"beacon {args.command}: error: {first}", file=sys.stderr)
            return 1
        raise


if __name__ == "__main__":
    sys.exit(main())
