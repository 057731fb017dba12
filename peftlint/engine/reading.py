"""How the engine reads a source file: once per run, into a :class:`SourceRead` that every later
step uses (prefilter, result-cache lookup, linting); and how it words one it did not read. The
bounds are those of ``peftlint.reading``: regular files only, at most ``max-file-size`` bytes."""

from __future__ import annotations

import codecs
import hashlib
from dataclasses import dataclass
from pathlib import Path

from peftlint.codes import Code
from peftlint.engine.discover import ADAPTER_CONFIG, PYTHON
from peftlint.reading import NotReadable, SourceEncodingError, decode_text, read_limited
from peftlint.rules.meta import NOT_READ, SYNTAX
from peftlint.sources import Problem

BINARY_PROBE = 8192  # a NUL byte in this many leading bytes: a binary file, not decoded


@dataclass(frozen=True)
class SourceRead:
    """One read of a source file. ``data`` is None when it was not read (``unread`` says why);
    ``text`` is None when the bytes are binary or do not decode (``undecodable`` says why, None for
    binary)."""

    data: bytes | None
    sha256: str = ""
    text: str | None = None
    unread: Problem | None = None
    undecodable: Problem | None = None

    @property
    def binary(self) -> bool:
        return self.data is not None and b"\x00" in self.data[:BINARY_PROBE]


def not_read_problem(exc: NotReadable) -> Problem:
    """PFT907 for a file that is not a regular file or is over ``max-file-size``."""
    if exc.too_large:
        return Problem(NOT_READ, f"not read: the file is {exc}; raise the limit with --max-file-size "
                                 "(e.g. --max-file-size 50MB) or max-file-size in [tool.peftlint] to check it")
    return Problem(NOT_READ, f"not read: this is {exc}")


def binary_problem(kind: str, data: bytes) -> Problem:
    """The note for a file with a NUL byte in its first 8 KiB (not decoded, not linted)."""
    where = data.find(b"\0")
    if kind == ADAPTER_CONFIG:  # PeftConfig.from_pretrained reads it as UTF-8 JSON
        return Problem(Code.INVALID_ADAPTER_CONFIG, f"PEFT cannot read this file: it holds a NUL byte (at byte {where}): "
                                                    "UTF-16 or UTF-32 text without a byte order mark, or no text at "
                                                    "all; save it as UTF-8")
    return Problem(SYNTAX, f"binary file (a NUL byte at byte {where}), not linted")


def read_file(path: Path, max_size: int, kind: str = PYTHON) -> SourceRead:
    """Read the source file ``path`` (the run's one read of it), hash and decode it."""
    try:
        data = read_limited(path, max_size)
    except NotReadable as exc:
        return SourceRead(None, unread=not_read_problem(exc))
    except OSError as exc:
        return SourceRead(None, unread=Problem(SYNTAX, f"cannot read file: {exc.strerror or exc}"))
    return source_from_bytes(data, kind)


def source_from_bytes(data: bytes, kind: str = PYTHON) -> SourceRead:
    """A :class:`SourceRead` of bytes that are not on disk (stdin, an editor's buffer, fixed text)."""
    digest = hashlib.sha256(data).hexdigest()
    if b"\x00" in data[:BINARY_PROBE]:
        return SourceRead(data, digest)
    try:
        return SourceRead(data, digest, decode_text(data, python=kind == PYTHON))
    except UnicodeDecodeError as exc:
        what = "UTF-8" if kind != PYTHON else f"text in its declared encoding ({exc.encoding})"
        return SourceRead(data, digest, undecodable=Problem(SYNTAX, f"not {what}: {exc.reason} at byte {exc.start}"))
    except SourceEncodingError as exc:  # as CPython refuses it
        return SourceRead(data, digest, undecodable=Problem(SYNTAX, f"Python cannot decode this file: {exc}"))


def read_source(path: Path, max_size: int, kind: str = PYTHON) -> tuple[bytes, str] | None:
    """The bytes and text of a source file, or None when it is not one to read: unreadable, over
    ``max_size``, binary (a NUL byte in its first 8 KiB) or not decodable. Passes outside a lint run
    (the read-ahead's process) use this; ``Linter`` reports each case."""
    read = read_file(path, max_size, kind)
    return None if read.data is None or read.text is None else (read.data, read.text)


def decode_source(data: bytes, kind: str) -> str | None:
    """The text of a source file's bytes (Python as CPython decodes it), None when it cannot be decoded."""
    try:
        return decode_text(data, python=kind == PYTHON)
    except ValueError:  # UnicodeDecodeError, SourceEncodingError
        return None


def adapter_encoding_problem(data: bytes) -> Problem | None:
    """PFT401 for an adapter_config.json that peft cannot decode: ``PeftConfig.from_pretrained``
    opens it as UTF-8 text and calls ``json.load``, which rejects a byte order mark."""
    if data.startswith(codecs.BOM_UTF8):
        return Problem(Code.INVALID_ADAPTER_CONFIG, "PEFT cannot read this file: it starts with a UTF-8 byte order mark, which "
                                 "PeftConfig.from_pretrained's json.load rejects (Unexpected UTF-8 BOM); save it without one")
    for bom, name in ((codecs.BOM_UTF32_LE, "UTF-32"), (codecs.BOM_UTF32_BE, "UTF-32"), (codecs.BOM_UTF16_LE, "UTF-16"),
                      (codecs.BOM_UTF16_BE, "UTF-16")):
        if data.startswith(bom):
            return Problem(Code.INVALID_ADAPTER_CONFIG, f"PEFT cannot read this file: it is {name} text, and PeftConfig.from_pretrained "
                                     "reads adapter_config.json as UTF-8; save it as UTF-8")
    return None
