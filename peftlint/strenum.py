"""``enum.StrEnum`` on Python 3.11+, the same behaviour on 3.10: members are their text (``str()``,
format, JSON and comparisons with plain strings), so typed kinds and codes print as before."""

from __future__ import annotations

import enum
import sys

if sys.version_info >= (3, 11):
    from enum import StrEnum
else:  # pragma: no cover - Python 3.10
    class StrEnum(str, enum.Enum):
        __str__ = str.__str__
        __format__ = str.__format__  # type: ignore[assignment]

__all__ = ["StrEnum"]
