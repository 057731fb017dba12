"""Writing the report: to ``--output-file`` never through a symlink, and a failed write (a missing
folder, a read-only file, a full disk, stdout on ``/dev/full``) as one clear line, not a traceback.

A repository can commit ``peftlint.sarif -> ../../victim`` where CI runs ``peftlint --output-file
peftlint.sarif``: the file is opened with ``O_NOFOLLOW`` (a link is refused, whatever it points
to) and ``O_NONBLOCK`` (a FIFO without a reader is refused instead of waiting forever).
"""

from __future__ import annotations

import os
import stat
import sys
from pathlib import Path

import click

_FLAGS = (os.O_WRONLY | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0)
          | getattr(os, "O_NOCTTY", 0) | getattr(os, "O_BINARY", 0))


class ReportNotWritten(Exception):
    """The report could not be written; the message says where and why."""


def write_report_file(path: Path, text: str) -> None:
    if path.is_symlink():
        raise ReportNotWritten(f"cannot write the report to {path}: it is a symbolic link (to {os.readlink(path)}); "
                               "peftlint never writes a report through a link")
    data = text.encode("utf-8")
    try:
        fd = os.open(path, _FLAGS, 0o666)
    except OSError as exc:
        raise ReportNotWritten(f"cannot write the report to {path}: {exc.strerror or exc}") from None
    try:
        mode = os.fstat(fd).st_mode
        if stat.S_ISDIR(mode):
            raise ReportNotWritten(f"cannot write the report to {path}: it is a directory")
        if stat.S_ISREG(mode):
            os.ftruncate(fd, 0)
        os.set_blocking(fd, True)
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view):]
    except OSError as exc:
        raise ReportNotWritten(f"cannot write the report to {path}: {exc.strerror or exc}") from None
    finally:
        os.close(fd)


def echo_report(text: str, color: bool | None = None) -> None:
    """The report on stdout; a failed write raises :class:`ReportNotWritten`, and stdout is pointed
    at ``/dev/null`` so that the interpreter's last flush at exit does not fail a second time."""
    try:
        click.echo(text, nl=False, color=color)
        sys.stdout.flush()
    except OSError as exc:
        try:
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
        except (OSError, ValueError, AttributeError):
            pass
        raise ReportNotWritten(f"cannot write the report to standard output: {exc.strerror or exc}") from None


def write_report(path: Path | None, text: str, color: bool | None = None) -> None:
    """The report on stdout (``color``: keep click's ANSI styles, see ``click.echo``) or in ``path``."""
    if path is None:
        echo_report(text, color)
    else:
        write_report_file(path, text)
