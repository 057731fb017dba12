"""What flows out of the rules: diagnostics with positions, severities and optional fixes."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Any


class Severity(str, enum.Enum):
    ERROR = "error"
    WARNING = "warning"
    INFO = "info"

    @property
    def rank(self) -> int:
        return {"error": 2, "warning": 1, "info": 0}[self.value]


@dataclass(frozen=True, order=True)
class Span:
    """A 1-based source region; ``end_column`` is the column just after the region (SARIF style)."""

    line: int = 1
    column: int = 1
    end_line: int = 1
    end_column: int = 1

    @classmethod
    def point(cls, line: int, column: int = 1) -> "Span":
        return cls(line, column, line, column)


@dataclass(frozen=True)
class Edit:
    """Replace the text between two (1-based, end-exclusive) positions of ``path`` by ``content``."""

    path: str
    span: Span
    content: str

    def to_json(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "line": self.span.line,
            "column": self.span.column,
            "end_line": self.span.end_line,
            "end_column": self.span.end_column,
            "content": self.content,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> "Edit":
        return cls(_str(data["path"]), _span(data), _str(data["content"]))


@dataclass(frozen=True)
class Fix:
    applicability: str  # "safe" | "unsafe"
    edits: tuple[Edit, ...]
    description: str = ""

    def to_json(self) -> dict[str, Any]:
        return {
            "applicability": self.applicability,
            "description": self.description,
            "edits": [e.to_json() for e in self.edits],
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> "Fix":
        return cls(_str(data["applicability"]), tuple(Edit.from_json(e) for e in data["edits"]),
                   _str(data["description"]))


@dataclass
class Diagnostic:
    code: str
    name: str
    severity: Severity
    message: str
    path: str
    span: Span
    subject: str | None = None
    model: str | None = None
    fix: Fix | None = None
    # The longer explanation (why, what PEFT does, how to fix) that ``message`` leaves out; shown by
    # ``--output-format full`` and carried by JSON and SARIF. ``message`` stays one line.
    detail: str | None = None
    # Where the config's base model came from ("from_pretrained(...) at line 12", "--model"); filled
    # by the engine for every finding of a config whose model reference is known.
    model_source: str | None = None
    # Lines on which a ``# noqa`` comment may suppress this finding (the finding's line and the
    # config call's first line); filled by the engine.
    noqa_lines: tuple[int, ...] = field(default=(), compare=False)
    # In a notebook: (cell, line in the cell, column in the cell), 1-based, cells counted from the
    # first; the text report prints ``nb.ipynb:cell 3:2:8`` as ruff does (the span is the JSON file's).
    cell: tuple[int, int, int] | None = field(default=None, compare=False)

    def sort_key(self) -> tuple:
        return (self.path, self.span.line, self.span.column, self.code, self.subject or "", self.message)

    def to_json(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "name": self.name,
            "severity": self.severity.value,
            "message": self.message,
            "path": self.path,
            "line": self.span.line,
            "column": self.span.column,
            "end_line": self.span.end_line,
            "end_column": self.span.end_column,
            "subject": self.subject,
            "model": self.model,
            "model_source": self.model_source,
            "detail": self.detail,
            "fix": self.fix.to_json() if self.fix else None,
            **({"cell": list(self.cell)} if self.cell else {}),
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> "Diagnostic":
        """The inverse of :meth:`to_json`; raises KeyError/TypeError/ValueError on malformed data."""
        return cls(_str(data["code"]), _str(data["name"]), Severity(data["severity"]), _str(data["message"]),
                   _str(data["path"]), _span(data), subject=_opt_str(data["subject"]), model=_opt_str(data["model"]),
                   fix=Fix.from_json(data["fix"]) if data["fix"] is not None else None,
                   detail=_opt_str(data.get("detail")), model_source=_opt_str(data.get("model_source")),
                   cell=_cell(data.get("cell")))


def _cell(value: Any) -> tuple[int, int, int] | None:
    if value is None:
        return None
    if not (isinstance(value, list) and len(value) == 3 and all(type(v) is int for v in value)):
        raise TypeError("cell must be three integers")
    return (value[0], value[1], value[2])


def _span(data: dict[str, Any]) -> Span:
    values = [data["line"], data["column"], data["end_line"], data["end_column"]]
    if not all(type(v) is int for v in values):
        raise TypeError("span positions must be integers")
    return Span(*values)


def _str(value: Any) -> str:
    if not isinstance(value, str):
        raise TypeError(f"expected a string, got {type(value).__name__}")
    return value


def _opt_str(value: Any) -> str | None:
    return None if value is None else _str(value)
