"""Imports stage: the files an import reads - plain or gzip, streamed line by line, with
a fingerprint that recognises a file imported before without reading all of it."""

from __future__ import annotations

import gzip
import hashlib
import io
import os
from collections.abc import Iterator
from dataclasses import dataclass
from typing import IO

_EDGE = 1 << 20    # the fingerprint reads the first and the last MiB


@dataclass(frozen=True)
class SourceFile:
    path: str
    size: int
    fingerprint: str

    @classmethod
    def of(cls, path: str) -> SourceFile:
        if not os.path.isfile(path):
            raise ValueError(f"{path}: no such file")
        size = os.path.getsize(path)
        digest = hashlib.sha256(str(size).encode())
        with open(path, "rb") as handle:
            digest.update(handle.read(_EDGE))
            if size > _EDGE:
                handle.seek(max(_EDGE, size - _EDGE))
                digest.update(handle.read(_EDGE))
        return cls(path, size, digest.hexdigest())

    @property
    def name(self) -> str:
        return os.path.basename(self.path)


def fingerprint_of(files: list[SourceFile]) -> str:
    """One fingerprint for a set of files, whatever order they were named in."""
    return hashlib.sha256("|".join(sorted(f.fingerprint for f in files)).encode()).hexdigest()


class LineReader:
    """Lines of a plain or gzip file as text (undecodable bytes replaced), and how many
    bytes of the file on disk were read so far (for the progress bar)."""

    def __init__(self, path: str) -> None:
        self._raw: IO[bytes] = open(path, "rb")  # noqa: SIM115 - closed in close()
        magic = self._raw.read(2)
        self._raw.seek(0)
        binary: IO[bytes] = self._raw
        if magic == b"\x1f\x8b":
            binary = gzip.GzipFile(fileobj=self._raw)  # type: ignore[assignment]
        self._text = io.TextIOWrapper(binary, encoding="utf-8", errors="replace", newline="\n")

    def __iter__(self) -> Iterator[str]:
        for line in self._text:
            yield line.rstrip("\r\n")

    def bytes_read(self) -> int:
        return self._raw.tell()

    def close(self) -> None:
        self._text.close()
        self._raw.close()

    def __enter__(self) -> LineReader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
