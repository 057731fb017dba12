"""How the engine reads a source file, and words one it did not read (see ``peftlint.reading``)."""

from __future__ import annotations

from pathlib import Path

from peftlint.reading import NotReadable, read_limited
from peftlint.rules.meta import NOT_READ
from peftlint.sources import Problem


def not_read_problem(exc: NotReadable) -> Problem:
    """PFT907 for a file that is not a regular file or is over ``max-file-size``."""
    if exc.too_large:
        return Problem(NOT_READ, f"not read: the file is {exc}; raise the limit with --max-file-size "
                                 "(e.g. --max-file-size 50MB) or max-file-size in [tool.peftlint] to check it")
    return Problem(NOT_READ, f"not read: this is {exc}")


def read_source(path: Path, max_size: int) -> tuple[bytes, str] | None:
    """The bytes and text of a source file, or None when it is not one to read: unreadable, over
    ``max_size``, binary (a NUL byte in its first 8 KiB) or not UTF-8. Passes that skip such files
    quietly use this; ``Linter._lint_file`` reports each case."""
    try:
        data = read_limited(path, max_size)
    except (OSError, NotReadable):
        return None
    if b"\x00" in data[:8192]:
        return None
    try:
        return data, data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return None
