"""`beacon first-admin EMAIL`: the run command's login - create an admin with a random
password when the database has no users yet, and say where the password is kept."""

from __future__ import annotations

import argparse
import os
import secrets
from pathlib import Path

from beacon_cli.common import audited, settings_and_engine
from shared.accounts.users import add_user, list_users
from shared.storage import write_transaction
from shared.storage.private_files import open_private


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("first-admin", help="create the first admin user if there is none")
    p.add_argument("email")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    settings, engine = settings_and_engine()
    secret_file = Path(settings.data_dir) / "first-admin-password.txt"
    with write_transaction(engine) as conn:
        if list_users(conn):
            if secret_file.is_file():
                print(f"dashboard login: {args.email} / password in {secret_file}")
            return 0
        secret_file.parent.mkdir(parents=True, exist_ok=True)
        # Opened before the admin exists: a leftover file others can read, or a symlink
        # planted in the data folder, would hand them the password. Refused (one-line
        # error), the transaction rolls back and no admin is created.
        fd = open_private(secret_file, replace=True)
        password = secrets.token_urlsafe(12)
        with os.fdopen(fd, "w") as fh:
            user = add_user(conn, args.email, password, is_admin=True)
            audited(conn, "user.add", user.email, after={"admin": True, "password": True},
                    details={"first_admin": True})
            fh.write(password + "\n")
    print(f"created admin {args.email} with password {password} (also in {secret_file}; "
          "change it with `beacon users passwd`)")
    engine.dispose()
    return 0
