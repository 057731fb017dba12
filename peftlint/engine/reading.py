"""How the engine words a file it did not read (see ``peftlint.reading``)."""

from __future__ import annotations

from peftlint.reading import NotReadable
from peftlint.rules.meta import NOT_READ
from peftlint.sources import Problem


def not_read_problem(exc: NotReadable) -> Problem:
    """PFT907 for a file that is not a regular file or is over ``max-file-size``."""
    if exc.too_large:
        return Problem(NOT_READ, f"not read: the file is {exc}; raise the limit with --max-file-size "
                                 "(e.g. --max-file-size 50MB) or max-file-size in [tool.peftlint] to check it")
    return Problem(NOT_READ, f"not read: this is {exc}")
