"""What flows out of the rules: diagnostics with positions, severities and optional fixes."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Any

from peftlint.fix.ops import Op


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
class CallChange:
    """Operations on one config call: ``span`` is the call in the file as stored (for a notebook,
    inside the cell's JSON string), ``call_text`` the call's Python source as it was linted."""

    span: Span
    call_text: str
    ops: tuple[Op, ...]
    notebook: bool = False  # the edit's text is written JSON-escaped into a cell's source

    def to_json(self) -> dict[str, Any]:
        return {"line": self.span.line, "column": self.span.column, "end_line": self.span.end_line,
                "end_column": self.span.end_column, "call_text": self.call_text,
                "ops": [o.to_json() for o in self.ops], "notebook": self.notebook}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> "CallChange":
        pos = [data["line"], data["column"], data["end_line"], data["end_column"]]
        if not all(type(p) is int for p in pos) or not isinstance(data["call_text"], str):
            raise TypeError("malformed fix change")
        return cls(Span(*pos), data["call_text"], tuple(Op.from_json(o) for o in data["ops"]), bool(data["notebook"]))



class Applicability(str, enum.Enum):
    """ruff's fix applicability: ``--fix`` applies safe fixes, ``--unsafe-fixes`` adds the unsafe
    ones, display-only fixes are shown and never applied."""

    SAFE = "safe"
    UNSAFE = "unsafe"
    DISPLAY_ONLY = "display-only"


@dataclass(frozen=True)
class Fix:
    """A fix: text edits (JSON, YAML, shell), or a ``change`` to a Python config call whose edit
    libcst computes the first time ``edits`` is read (see fix/cst.py), so a run that neither fixes
    nor shows edits never imports libcst."""

    applicability: Applicability
    text_edits: tuple[Edit, ...] = ()
    description: str = ""
    change: CallChange | None = None
    path: str = ""  # the file a ``change`` applies to
    _computed: list = field(default_factory=list, init=False, compare=False, repr=False)  # cache of the change's edits

    def __post_init__(self) -> None:
        if not isinstance(self.applicability, Applicability):
            object.__setattr__(self, "applicability", Applicability(self.applicability))

    @property
    def has_edits(self) -> bool:
        """Whether the fix changes anything (without computing a change's edit)."""
        return bool(self.text_edits) or self.change is not None

    @property
    def edits(self) -> tuple[Edit, ...]:
        if self.change is None:
            return self.text_edits
        if not self._computed:
            from peftlint.fix.cst import rewrite_call

            c = self.change
            new = rewrite_call(c.call_text, c.ops)
            if new is not None and c.notebook:
                import json

                new = json.dumps(new, ensure_ascii=False)[1:-1]
            if new is None:
                self._computed.append(())
            elif c.notebook:
                self._computed.append((Edit(self.path, c.span, new),))
            else:
                self._computed.append((_smallest_edit(self.path, c.span, c.call_text, new),))
        return self._computed[0]

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "applicability": self.applicability.value,
            "description": self.description,
            "edits": [e.to_json() for e in self.edits],
        }
        return out

    def to_cache(self) -> dict[str, Any]:
        """Like ``to_json`` but a ``change`` is kept as it is (no edit computed, no libcst)."""
        if self.change is None:
            return self.to_json()
        return {"applicability": self.applicability.value, "description": self.description, "edits": [],
                "change": self.change.to_json(), "path": self.path}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> "Fix":
        change = CallChange.from_json(data["change"]) if data.get("change") is not None else None
        return cls(Applicability(data["applicability"]), tuple(Edit.from_json(e) for e in data["edits"]),
                   _str(data["description"]), change, _str(data.get("path", "")))


def _word(ch: str) -> bool:
    return ch.isalnum() or ch in "_.'\"-"


def _smallest_edit(path: str, span: Span, old: str, new: str) -> Edit:
    """The edit turning ``old`` (the text at ``span``) into ``new``, narrowed to the part that
    changes, widened to whole names and strings (what editors and JSON readers show)."""
    a, limit = 0, min(len(old), len(new))
    while a < limit and old[a] == new[a]:
        a += 1
    b = 0
    while b < limit - a and old[len(old) - 1 - b] == new[len(new) - 1 - b]:
        b += 1
    while a > 0 and _word(old[a - 1]) and (a < len(old) - b and _word(old[a]) or a < len(new) - b and _word(new[a])):
        a -= 1
    while b > 0 and _word(old[len(old) - b]) and (_word(old[len(old) - b - 1]) if len(old) - b - 1 >= a else False
                                                   or (_word(new[len(new) - b - 1]) if len(new) - b - 1 >= a else False)):
        b -= 1

    def at(offset: int) -> tuple[int, int]:
        lines = old.count("\n", 0, offset)
        if not lines:
            return span.line, span.column + offset
        return span.line + lines, offset - old.rindex("\n", 0, offset)

    return Edit(path, Span(*at(a), *at(len(old) - b)), new[a:len(new) - b])


@dataclass
class Diagnostic:
    """One finding: a rule's code and message at a place in a file, with its fixes."""

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
    # Lines on which a ``noqa`` comment may suppress this finding (the finding's line and the
    # config call's first line); filled by the engine.
    noqa_lines: tuple[int, ...] = field(default=(), compare=False)
    # In a notebook: (cell, line in the cell, column in the cell), 1-based, cells counted from the
    # first; the text report prints ``nb.ipynb:cell 3:2:8`` as ruff does (the span is the JSON file's).
    cell: tuple[int, int, int] | None = field(default=None, compare=False)
    # What the engine adds to the rule's ``message``, each a parenthesised remark printed after it in
    # this order: the ``pytest.raises`` the finding is expected under, the trainer's name of a field
    # or what the trainer does with it, the candidate model it holds for. ``message`` stays the
    # rule's own text; renderers print ``text()``.
    notes: tuple[str, ...] = ()

    def text(self, cell: bool = True) -> str:
        """The message as printed: the rule's message, the engine's notes and, in a notebook (unless
        ``cell`` is False because the position already says it), ``(cell N, line L)``."""
        parts = [self.message, *self.notes]
        if cell and self.cell is not None:
            parts.append(f"(cell {self.cell[0]}, line {self.cell[1]})")
        return " ".join(parts)

    def add_note(self, note: str) -> None:
        self.notes = (*self.notes, note)

    def sort_key(self) -> tuple:
        return (self.path, self.span.line, self.span.column, self.code, self.subject or "", self.text())

    def to_json(self, cache: bool = False) -> dict[str, Any]:
        """The public JSON form; ``cache``: the results cache's (fix changes kept uncomputed)."""
        fix = None if self.fix is None else (self.fix.to_cache() if cache else self.fix.to_json())
        return {
            "code": self.code,
            "name": self.name,
            "severity": self.severity.value,
            "message": self.message if cache else self.text(),
            **({"notes": list(self.notes)} if cache else {}),
            "path": self.path,
            "line": self.span.line,
            "column": self.span.column,
            "end_line": self.span.end_line,
            "end_column": self.span.end_column,
            "subject": self.subject,
            "model": self.model,
            "model_source": self.model_source,
            "detail": self.detail,
            "fix": fix,
            **({"cell": list(self.cell)} if self.cell else {}),
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> "Diagnostic":
        """The inverse of :meth:`to_json` (of its cache form: the public ``message`` is ``text()``,
        notes included); raises KeyError/TypeError/ValueError on malformed data."""
        return cls(_str(data["code"]), _str(data["name"]), Severity(data["severity"]), _str(data["message"]),
                   _str(data["path"]), _span(data), subject=_opt_str(data["subject"]), model=_opt_str(data["model"]),
                   fix=Fix.from_json(data["fix"]) if data["fix"] is not None else None,
                   detail=_opt_str(data.get("detail")), model_source=_opt_str(data.get("model_source")),
                   cell=_cell(data.get("cell")), notes=_notes(data.get("notes", [])))


def _notes(value: Any) -> tuple[str, ...]:
    if not isinstance(value, list):
        raise TypeError("notes must be a list")
    return tuple(_str(v) for v in value)


def _cell(value: Any) -> tuple[int, int, int] | None:
    if value is None:
        return None
    if not (isinstance(value, list) and len(value) == 3 and all(type(v) is int for v in value)):
        raise TypeError("cell must be three integers")
    return (value[0], value[1], value[2])


def fixable(d: Diagnostic, unsafe: bool) -> bool:
    return d.fix is not None and d.fix.has_edits and (d.fix.applicability == Applicability.SAFE or (
        unsafe and d.fix.applicability == Applicability.UNSAFE))


def fix_summary(diagnostics: list[Diagnostic], unsafe: bool) -> str:
    """ruff-style: how many findings ``--fix`` would fix, and how many unsafe fixes are hidden."""
    safe = sum(1 for d in diagnostics if fixable(d, unsafe))
    hidden = sum(1 for d in diagnostics if d.fix is not None and d.fix.has_edits
                 and d.fix.applicability == Applicability.UNSAFE and not fixable(d, unsafe))
    parts = []
    if safe:
        parts.append(f"{safe} fixable with --fix")
    if hidden:
        parts.append(f"{hidden} hidden fix{'es' if hidden != 1 else ''} can be enabled with --unsafe-fixes")
    return "; ".join(parts)


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
