"""Reading files that peftlint did not write: regular files only, and never more than a limit.

A linted tree, a model folder or a cache directory can hold a FIFO (reading it blocks forever), a
symlink to ``/dev/zero`` (reading it never ends) or a file of several gigabytes. Every read of such
a file goes through :func:`read_limited`: it opens without blocking, checks with ``fstat`` on the
open descriptor (so a file swapped after a check is still caught) that it is a regular file, and
reads at most ``limit`` bytes.
"""

from __future__ import annotations

import codecs
import io
import os
import stat
import tokenize

DEFAULT_MAX_FILE_SIZE = 10 * 1024 * 1024  # bytes; ``max-file-size`` / ``--max-file-size``

# O_NONBLOCK: opening a FIFO for reading would otherwise wait for a writer. O_NOCTTY: a terminal
# device never becomes the controlling terminal. Both are absent on Windows (no FIFOs there).
_OPEN_FLAGS = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0) | getattr(os, "O_BINARY", 0)


class NotReadable(Exception):
    """The file was not read; the message says why in words a user can act on."""

    def __init__(self, message: str, *, too_large: bool = False) -> None:
        super().__init__(message)
        self.too_large = too_large


def _kind(mode: int) -> str:
    if stat.S_ISDIR(mode):
        return "a directory"
    if stat.S_ISFIFO(mode):
        return "a named pipe (FIFO)"
    if stat.S_ISCHR(mode):
        return "a character device"
    if stat.S_ISBLK(mode):
        return "a block device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "not a regular file"


def not_regular(mode: int) -> str | None:
    """Why a file of this ``st_mode`` is not read ("a named pipe (FIFO), not a regular file"), or None."""
    return None if stat.S_ISREG(mode) else f"{_kind(mode)}, not a regular file"


def human_size(n: int) -> str:
    for unit, size in (("GB", 1 << 30), ("MB", 1 << 20), ("KB", 1 << 10)):
        if n >= size:
            value = n / size
            return f"{value:.0f} {unit}" if value == int(value) else f"{value:.1f} {unit}"
    return f"{n} bytes"


def read_limited(path: str | os.PathLike[str], limit: int = DEFAULT_MAX_FILE_SIZE) -> bytes:
    """The bytes of the regular file ``path`` (symlinks followed), at most ``limit`` of them.

    Raises :class:`NotReadable` for anything that is not a regular file or is larger than ``limit``,
    and ``OSError`` when the file cannot be opened or read.
    """
    fd = os.open(os.fspath(path), _OPEN_FLAGS)
    try:
        st = os.fstat(fd)
        why = not_regular(st.st_mode)
        if why is not None:
            raise NotReadable(why)
        if st.st_size > limit:
            raise NotReadable(f"{human_size(st.st_size)}, over the {human_size(limit)} limit", too_large=True)
        if hasattr(os, "set_blocking"):
            try:
                os.set_blocking(fd, True)
            except OSError:
                pass
        chunks: list[bytes] = []
        got = 0
        while True:  # the size may have changed since fstat: read at most limit + 1 bytes
            chunk = os.read(fd, min(1 << 20, limit + 1 - got))
            if not chunk:
                break
            chunks.append(chunk)
            got += len(chunk)
            if got > limit:
                raise NotReadable(f"more than the {human_size(limit)} limit", too_large=True)
        return b"".join(chunks)
    finally:
        os.close(fd)


def read_text_limited(path: str | os.PathLike[str], limit: int = DEFAULT_MAX_FILE_SIZE,
                      encoding: str = "utf-8", errors: str = "strict") -> str:
    """:func:`read_limited` decoded; raises ``UnicodeDecodeError`` for bad bytes with ``errors="strict"``."""
    return read_limited(path, limit).decode(encoding, errors)



# Codecs whose decoding time grows with the square of the input (punycode inserts each code point
# into the output decoded so far; idna decodes labels with punycode): a coding cookie may name them.
_QUADRATIC_CODECS = {"punycode", "idna"}
MAX_QUADRATIC_DECODE = 64 * 1024  # bytes


class SourceEncodingError(ValueError):
    """Python source whose encoding declaration CPython refuses (an unknown codec, a BOM with a
    cookie naming another encoding); the message is CPython's."""


def decode_text(data: bytes, python: bool = False) -> str:
    """UTF-8 text (a BOM dropped); Python source decoded as CPython decodes it (PEP 263: a BOM or a
    coding cookie on line 1 or 2, found by ``tokenize.detect_encoding``). Raises
    ``UnicodeDecodeError`` for bytes the encoding rejects and :class:`SourceEncodingError` for a
    declaration CPython refuses."""
    if not python:
        return data.decode("utf-8-sig")
    try:
        encoding, _ = tokenize.detect_encoding(io.BytesIO(data).readline)
    except SyntaxError as exc:
        if data.startswith(b"\xef\xbb\xbf"):
            raise SourceEncodingError("it starts with a UTF-8 byte order mark and its coding cookie names another "
                                      "encoding, which CPython refuses (encoding problem ... with BOM)") from None
        raise SourceEncodingError(str(exc.msg if hasattr(exc, "msg") else exc)) from None
    info = codecs.lookup(encoding)
    if not getattr(info, "_is_text_encoding", True):  # hex, rot13, zlib, base64: bytes-to-bytes codecs
        raise SourceEncodingError(f"{encoding!r} is not a text encoding (CPython refuses it)")
    if info.name in _QUADRATIC_CODECS and len(data) > MAX_QUADRATIC_DECODE:
        raise SourceEncodingError(f"its coding cookie names {info.name}, whose decoding time grows with the square of "
                                  f"the file's size; peftlint decodes at most {human_size(MAX_QUADRATIC_DECODE)} of it")
    try:
        return data.decode(encoding)
    except UnicodeDecodeError:
        raise
    except (UnicodeError, LookupError) as exc:  # a codec that fails as a whole (punycode, undefined)
        raise SourceEncodingError(str(exc)) from None
