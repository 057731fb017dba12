"""Code actions: each finding's fix as a quick fix (safe ones preferred, unsafe ones marked), a
``# noqa: CODE`` for the finding's line, and "fix all" (what ``--fix`` does) for the document. In a
notebook the edits go to the cells they change."""

from __future__ import annotations

import re

from lsprotocol import types as lsp

from peftlint.diagnostics import Applicability, Diagnostic
from peftlint.fix.apply import edited_text, fix_text
from peftlint.server.convert import Lines
from peftlint.server.documents import Linted, diagnostics_by_uri
from peftlint.server.notebooks import cells_of

FIX_ALL = lsp.CodeActionKind.SourceFixAll.value + ".peftlint"
_NOQA_SUFFIXES = (".py", ".pyi", ".yaml", ".yml", ".sh", ".ipynb")  # where a comment can hold a noqa
_NOQA = re.compile(r"#\s*noqa(?::\s*(?P<codes>[A-Za-z0-9]+(?:[\s,]+[A-Za-z0-9]+)*))?", re.IGNORECASE)


def code_actions(linted: Linted, uri: str, rng: lsp.Range, only: list[str] | None) -> list[lsp.CodeAction]:
    """The actions for the range ``rng`` of ``uri`` (the document, or a cell of the notebook)."""
    out: list[lsp.CodeAction] = []
    wanted = (lambda kind: not only or any(kind == k or kind.startswith(k + ".") for k in only))
    if wanted(lsp.CodeActionKind.QuickFix.value):
        target = _text_of(linted, uri)
        for d, shown in diagnostics_by_uri(linted).get(uri, []):
            r = shown.range
            if (r.end.line, r.end.character) < (rng.start.line, rng.start.character) or (
                    (r.start.line, r.start.character) > (rng.end.line, rng.end.character)):
                continue
            fix = _quick_fix(linted, d, shown)
            if fix is not None:
                out.append(fix)
            noqa = _noqa(linted, uri, target, d, shown) if target is not None else None
            if noqa is not None:
                out.append(noqa)
    if wanted(FIX_ALL) and any(d.fix is not None and d.fix.applicability == "safe" for d in linted.result.diagnostics):
        fixed = fix_text(linted.linter, linted.text, linted.path, unsafe=bool(linted.linter.settings.unsafe_fixes))
        edit = _edit(linted, fixed.text) if fixed.text != linted.text else None
        if edit is not None:
            out.append(lsp.CodeAction(title=f"peftlint: fix all ({fixed.fixed} fixable)", kind=FIX_ALL, edit=edit))
    return out


def _text_of(linted: Linted, uri: str) -> str | None:
    if linted.notebook is None:
        return linted.text
    return next((c.text for c in linted.notebook.cells if c.uri == uri), None)


def _quick_fix(linted: Linted, d: Diagnostic, shown: lsp.Diagnostic) -> lsp.CodeAction | None:
    if d.fix is None or not d.fix.has_edits:
        return None
    new, _ = edited_text(linted.path, d.path, linted.text, [d])
    edit = _edit(linted, new)
    if edit is None:
        return None
    safe = d.fix.applicability == Applicability.SAFE
    title = f"{d.fix.description or 'fix ' + d.code} ({d.code}" + (")" if safe else ", unsafe fix: check the result)")
    return lsp.CodeAction(title=title[0].upper() + title[1:], kind=lsp.CodeActionKind.QuickFix, diagnostics=[shown],
                          is_preferred=safe, edit=edit)


def _noqa(linted: Linted, uri: str, text: str, d: Diagnostic, shown: lsp.Diagnostic) -> lsp.CodeAction | None:
    """``# noqa: CODE`` at the end of the finding's line (added to a ``# noqa: ...`` already there)."""
    if linted.path.suffix not in _NOQA_SUFFIXES:
        return None
    lines = text.split("\n")
    index = shown.range.start.line
    if not 0 <= index < len(lines):
        return None
    line = lines[index]
    body = line.rstrip("\r")
    m = _NOQA.search(body)
    if m is not None and not m.group("codes"):
        return None  # a bare noqa already suppresses everything on the line
    if m is not None:
        new_line = body[:m.end("codes")] + f", {d.code}" + body[m.end("codes"):]
    else:
        new_line = f"{body.rstrip()}  # noqa: {d.code}"
    lines[index] = new_line + line[len(body):]
    return lsp.CodeAction(title=f"Ignore {d.code} on this line (# noqa: {d.code})", kind=lsp.CodeActionKind.QuickFix,
                          diagnostics=[shown],
                          edit=lsp.WorkspaceEdit(changes={uri: [replace_edit(text, "\n".join(lines))]}))


def _edit(linted: Linted, new: str) -> lsp.WorkspaceEdit | None:
    """The edit turning the linted text into ``new``: one text edit, or one per changed cell."""
    if new == linted.text:
        return None
    if linted.notebook is None:
        return lsp.WorkspaceEdit(changes={linted.uri: [replace_edit(linted.text, new)]})
    cells = linted.notebook.cells
    sources = cells_of(new)
    if len(sources) != len(cells):
        return None
    return lsp.WorkspaceEdit(changes={c.uri: [replace_edit(c.text, s)] for c, s in zip(cells, sources) if s != c.text})


def replace_edit(old: str, new: str) -> lsp.TextEdit:
    """One edit turning ``old`` into ``new``: the span between their common prefix and suffix."""
    start = 0
    limit = min(len(old), len(new))
    while start < limit and old[start] == new[start]:
        start += 1
    end = 0
    while end < limit - start and old[len(old) - 1 - end] == new[len(new) - 1 - end]:
        end += 1
    lines = Lines(old)

    def position(offset: int) -> lsp.Position:
        line = old.count("\n", 0, offset)
        return lines.position(line + 1, offset - (old.rfind("\n", 0, offset) + 1) + 1)

    return lsp.TextEdit(range=lsp.Range(start=position(start), end=position(len(old) - end)),
                        new_text=new[start:len(new) - end])
