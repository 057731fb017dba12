"""peftlint's findings and positions in LSP terms: 1-based code-point columns to 0-based UTF-16
positions (LSP's default encoding) and back, severities, rule links."""

from __future__ import annotations

from pathlib import Path

from lsprotocol import types as lsp

import peftlint
from peftlint.diagnostics import Diagnostic, Severity, Span

SOURCE = "peftlint"
_SEVERITY = {Severity.ERROR: lsp.DiagnosticSeverity.Error, Severity.WARNING: lsp.DiagnosticSeverity.Warning,
             Severity.INFO: lsp.DiagnosticSeverity.Information}
# The rule docs: docs/rules.md of a source checkout (an editable install), else the project page.
_RULES_DOC = Path(peftlint.__file__).resolve().parents[1] / "docs" / "rules.md"
_PROJECT_PAGE = "https://pypi.org/project/peftlint/"


def rule_url(code: str) -> str:
    if _RULES_DOC.is_file():
        return f"{_RULES_DOC.as_uri()}#{code.lower()}"
    return _PROJECT_PAGE


class Lines:
    """The lines of a document, for position conversion (LSP counts UTF-16 code units)."""

    def __init__(self, text: str) -> None:
        self.lines = text.split("\n")

    def line(self, index: int) -> str:
        return self.lines[index] if 0 <= index < len(self.lines) else ""

    def position(self, line: int, column: int) -> lsp.Position:
        """A 1-based line and code-point column as an LSP position."""
        prefix = self.line(line - 1)[: max(column - 1, 0)]
        units = len(prefix) if prefix.isascii() else len(prefix.encode("utf-16-le")) // 2
        return lsp.Position(line=max(line - 1, 0), character=units)

    def range(self, span: Span) -> lsp.Range:
        return lsp.Range(start=self.position(span.line, span.column), end=self.position(span.end_line, span.end_column))

    def point(self, pos: lsp.Position) -> tuple[int, int]:
        """An LSP position as a 1-based (line, code-point column)."""
        text = self.line(pos.line)
        if text.isascii():
            return pos.line + 1, min(pos.character, len(text)) + 1
        units = 0
        for i, ch in enumerate(text):
            if units >= pos.character:
                return pos.line + 1, i + 1
            units += 2 if ord(ch) > 0xFFFF else 1
        return pos.line + 1, len(text) + 1


def contains(span: Span, line: int, column: int) -> bool:
    """Whether the 1-based position is inside ``span`` (its end included: a cursor after the text)."""
    return (span.line, span.column) <= (line, column) <= (span.end_line, span.end_column)


def to_lsp(d: Diagnostic, lines: Lines, uri: str) -> lsp.Diagnostic:
    related = None
    if d.model:
        where = f" ({d.model_source})" if d.model_source else ""
        related = [lsp.DiagnosticRelatedInformation(
            location=lsp.Location(uri=uri, range=lines.range(d.span)),
            message=f"checked against {d.model}{where}")]
    return lsp.Diagnostic(
        range=lines.range(d.span), message=d.text(), severity=_SEVERITY[d.severity], code=d.code, source=SOURCE,
        code_description=lsp.CodeDescription(href=rule_url(d.code)), related_information=related,
        data={"name": d.name, "subject": d.subject})
