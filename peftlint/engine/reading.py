"""How the engine reads a source file, and words one it did not read (see ``peftlint.reading``)."""

from __future__ import annotations

from pathlib import Path

from peftlint.engine.discover import PYTHON
from peftlint.reading import NotReadable, decode_text, read_limited
from peftlint.rules.meta import NOT_READ
from peftlint.sources import Problem


def not_read_problem(exc: NotReadable) -> Problem:
    """PFT907 for a file that is not a regular file or is over ``max-file-size``."""
    if exc.too_large:
        return Problem(NOT_READ, f"not read: the file is {exc}; raise the limit with --max-file-size "
                                 "(e.g. --max-file-size 50MB) or max-file-size in [tool.peftlint] to check it")
    return Problem(NOT_READ, f"not read: this is {exc}")


def read_source(path: Path, max_size: int, kind: str = PYTHON) -> tuple[bytes, str] | None:
    """The bytes and text of a source file, or None when it is not one to read: unreadable, over
    ``max_size``, binary (a NUL byte in its first 8 KiB) or not UTF-8. Passes that skip such files
    quietly use this; ``Linter._lint_file`` reports each case."""
    try:
        data = read_limited(path, max_size)
    except (OSError, NotReadable):
        return None
    if b"\x00" in data[:8192]:
        return None
    text = decode_source(data, kind)
    return None if text is None else (data, text)


def decode_source(data: bytes, kind: str) -> str | None:
    """The text of a source file's bytes (Python as CPython decodes it), None when it cannot be decoded."""
    try:
        return decode_text(data, python=kind == PYTHON)
    except ValueError:  # UnicodeDecodeError, SourceEncodingError
        return None
