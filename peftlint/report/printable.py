"""Text that can be written as UTF-8 whatever file names it mentions.

A file name that is not valid UTF-8 reaches Python with its bad bytes as lone surrogates
(``surrogateescape``); writing such a string as UTF-8 raises. Reports show those bytes as U+FFFD
(JSON keeps the exact name as ``\\udcXX`` escapes, SARIF as a percent-encoded URI).
"""

from __future__ import annotations

import re

_SURROGATE = re.compile("[\ud800-\udfff]")


def printable(text: str) -> str:
    """``text`` with every lone surrogate replaced by U+FFFD."""
    return _SURROGATE.sub("\ufffd", text)
