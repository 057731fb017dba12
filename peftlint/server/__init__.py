"""``peftlint server``: the Language Server Protocol over stdio (pygls), on unsaved buffers.

The same per-file pipeline as the command line (``Linter.lint_text``) gives diagnostics; their fixes
become code actions; hover says what an entry of ``target_modules`` (``modules_to_save``,
``exclude_modules``, pattern keys) matches in the resolved model, and completion offers the model's
target entries (what ``peftlint modules MODEL`` lists). pygls and lsprotocol are imported only here,
never by ``peftlint check``. See docs/editors.md.
"""

from __future__ import annotations


def run() -> None:
    """Serve over stdin/stdout until the client exits."""
    from peftlint.server.app import make_server

    make_server().start_io()
