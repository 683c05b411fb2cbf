"""Storage, SQLite: the process that runs ADBC's SQLite driver for `SQLite.arrow_batches`.

ADBC's driver carries its own copy of the SQLite library. Two copies in one process
corrupt a database (sqlite.org/howtocorrupt.html, 2.2.1: closing a file in one copy drops
the POSIX locks the other holds, and the closing copy may remove the WAL index the other
still uses). So the driver runs here, in a process of its own, and streams the batches
to its parent as Arrow IPC on stdout; the parent converts and writes meanwhile, which
also puts the read on a second core.

Input on stdin: one JSON object {"path", "sql", "params", "batch_rows"}.
"""

from __future__ import annotations

import json
import sys


def main() -> int:
    import adbc_driver_sqlite.dbapi
    import pyarrow as pa

    job = json.loads(sys.stdin.read())
    with adbc_driver_sqlite.dbapi.connect(job["path"]) as conn, conn.cursor() as cursor:
        cursor.adbc_statement.set_options(
            **{"adbc.sqlite.query.batch_rows": str(job["batch_rows"])})
        cursor.execute(job["sql"], tuple(job["params"]))
        reader = cursor.fetch_record_batch()
        try:
            with pa.ipc.new_stream(sys.stdout.buffer, reader.schema) as out:
                for batch in reader:
                    out.write_batch(batch)
        except BrokenPipeError:     # the parent stopped reading: it has what it wanted
            return 0
    return 0


if __name__ == "__main__":
    sys.exit(main())
