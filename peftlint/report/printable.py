"""Text that can be written as UTF-8 whatever file names it mentions.

A file name that is not valid UTF-8 reaches Python with its bad bytes as lone surrogates
(``surrogateescape``); writing such a string as UTF-8 raises. Reports show those bytes as U+FFFD
(JSON keeps the exact name as ``\\udcXX`` escapes, SARIF as a percent-encoded URI).
"""

from __future__ import annotations

import re

from peftlint.redact import redact

_SURROGATE = re.compile("[\ud800-\udfff]")


def printable(text: str) -> str:
    """``text`` with every lone surrogate replaced by U+FFFD and secrets redacted (``redact``)."""
    return redact(_SURROGATE.sub("\ufffd", text))


# Control characters (C0 but the line feed between lines, DEL, C1), line and paragraph separators
# and bidirectional overrides: in a file or module name they could end a line early (a forged
# ``::error`` workflow command on a line of its own), move the cursor, retitle the terminal (OSC)
# or reorder what is shown. Human-readable output shows them escaped, as the JSON formats do.
_CONTROL = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")


def _escape(m: re.Match[str]) -> str:
    c = ord(m.group())
    return f"\\x{c:02x}" if c < 0x100 else f"\\u{c:04x}"


def escape_controls(text: str) -> str:
    """``text`` with every control character but ``\\n`` written as an escape (``\\x1b``, ``\\u2028``)."""
    return _CONTROL.sub(_escape, printable(text))


def escape_line(text: str) -> str:
    """:func:`escape_controls` that also escapes ``\n``: for a name shown inside one line."""
    return escape_controls(text).replace("\n", "\\x0a")
