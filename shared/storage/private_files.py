"""Files the product writes are private to its service account.

The database, its WAL, the spool, backups, exports and the first-admin password hold
page URLs, visitor hashes and the daily salt; with the salt, a visitor hash can be
reversed to an IP address by brute force. Every entry point therefore sets the umask
to 0o077 (files 0600, folders 0700) before it creates anything, warns at start-up
about existing files that others may read, and files written on an operator's order
(exports, the password file) never follow a symlink.
"""

from __future__ import annotations

import itertools
import logging
import os
import stat
from collections.abc import Iterable
from pathlib import Path

from shared.core.settings import Settings
from shared.storage.dialects import dialect_for

PRIVATE_UMASK = 0o077
_OTHERS = stat.S_IRWXG | stat.S_IRWXO
_SCAN_LIMIT = 10_000   # files looked at per folder at start-up, so a huge spool is cheap

log = logging.getLogger(__name__)


class PrivateFileError(ValueError):
    """A file could not be written privately; the message says why, in one line."""


def restrict_umask() -> None:
    """Make every file and folder created from now on private (0600 / 0700)."""
    os.umask(PRIVATE_UMASK)


def too_open(paths: Iterable[str | Path]) -> list[Path]:
    """Existing files and folders under `paths` (recursively) that group or others may
    use; a missing path is skipped, symlinks are not followed."""
    found: list[Path] = []
    for root in paths:
        base = Path(root)
        if not base.exists():
            continue
        for path in itertools.islice(itertools.chain([base], base.rglob("*")), _SCAN_LIMIT):
            try:
                mode = path.lstat().st_mode
            except OSError:
                continue
            if not stat.S_ISLNK(mode) and mode & _OTHERS:
                found.append(path)
    return found


def warn_if_open(paths: Iterable[str | Path]) -> list[Path]:
    """Log one warning naming the files others may read (and how to fix it)."""
    found = too_open(paths)
    if found:
        shown = ", ".join(str(p) for p in found[:5])
        more = f" and {len(found) - 5} more" if len(found) > 5 else ""
        log.warning("files readable by other accounts: %s%s; run `chmod -R go-rwx` on the "
                    "data folder", shown, more)
    return found


def open_private(path: str | Path, *, replace: bool, tighten: bool = False) -> int:
    """A file descriptor for writing `path` (emptied) with mode 0600.

    An existing file is refused unless `replace`; a symlink is always refused (it could
    point anywhere the service account may write). An existing file that others may
    read gets mode 0600 when `tighten`, else it is refused (rewriting it would keep its
    mode, and others may already hold it open).
    """
    # O_NONBLOCK: a FIFO planted at `path` fails at once instead of hanging the command.
    flags = (os.O_WRONLY | os.O_CREAT | os.O_NOFOLLOW | os.O_NONBLOCK
             | getattr(os, "O_CLOEXEC", 0))
    if not replace:
        flags |= os.O_EXCL
    if os.path.islink(path):
        raise PrivateFileError(f"{path} is a symbolic link; refusing to write through it")
    try:
        fd = os.open(path, flags, 0o600)
    except FileExistsError:
        raise PrivateFileError(f"{path} exists; use --force to replace it") from None
    except OSError as exc:
        if os.path.islink(path):
            raise PrivateFileError(f"{path} is a symbolic link; refusing to write "
                                   "through it") from None
        raise PrivateFileError(f"{path}: {exc.strerror}") from None
    info = os.fstat(fd)
    if stat.S_ISREG(info.st_mode) and info.st_mode & _OTHERS and tighten:
        os.fchmod(fd, 0o600)
    elif not stat.S_ISREG(info.st_mode) or info.st_mode & _OTHERS:
        os.close(fd)
        what = "is not a regular file" if not stat.S_ISREG(info.st_mode) else \
            f"has mode {stat.S_IMODE(info.st_mode):o}, readable by other accounts"
        raise PrivateFileError(f"{path} {what}; remove it first")
    os.ftruncate(fd, 0)
    return fd


def data_paths(settings: Settings) -> list[Path]:
    """The folders holding private data: the data folder, the spool, the SQLite file's."""
    paths = [Path(settings.data_dir), Path(settings.resolved_spool_dir)]
    database_file = dialect_for(settings.resolved_database_url).database_file(
        settings.resolved_database_url)
    if database_file and database_file != ":memory:":
        paths.append(Path(database_file).parent)
    return list(dict.fromkeys(paths))


def secure_start(settings: Settings) -> list[Path]:
    """What every entry point does first: private umask, then the start-up warning."""
    restrict_umask()
    return warn_if_open(data_paths(settings))
