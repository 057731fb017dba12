"""The rule contract: one small class per rule, carrying its code, docs and examples (Fixit style)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar, Iterator

from peftlint.diagnostics import Diagnostic, Fix, Severity, Span

if TYPE_CHECKING:
    from peftlint.rules.context import Context


@dataclass(frozen=True)
class Expect:
    """One finding a bad example must produce (Fixit's ``expected_line``/``expected_message``/
    ``expected_replacement``): its position, a part of its one-line message, a part of its longer
    explanation (``detail``: where peft's own words are quoted), and for a fixable finding the whole
    file after ``--fix`` (with ``--unsafe-fixes`` when the fix is unsafe)."""

    line: int
    column: int
    message: str
    fixed: str | None = None
    detail: str | None = None


@dataclass(frozen=True)
class Example:
    """A snippet that is linted as a real file in tests and shown by ``peftlint rule CODE``.

    ``kind`` is the file type: "python" (written as ``train.py``), "json" (written as
    ``adapter_config.json``), "yaml" or "notebook". ``files`` adds further files beside it (for
    saved-adapter examples: name -> text or bytes), written before linting. ``args`` are extra CLI
    arguments (for instance ``["--model", "gpt2"]``). ``expect`` pins, for a bad example, every
    finding of the rule (and nothing else of that rule may be reported).
    """

    code: str
    kind: str = "python"
    args: tuple[str, ...] = ()
    files: tuple[tuple[str, str | bytes], ...] = ()
    note: str = ""
    expect: tuple[Expect, ...] = ()


class Rule:
    code: ClassVar[str]
    name: ClassVar[str]
    severity: ClassVar[Severity]
    summary: ClassVar[str]  # one line
    docs: ClassVar[str] = ""  # markdown: why it matters, what PEFT does, how to fix
    bad: ClassVar[tuple[Example, ...]] = ()
    good: ClassVar[tuple[Example, ...]] = ()
    needs_model: ClassVar[bool] = True  # skipped (with PFT901) when the base model is unresolved

    def check(self, ctx: "Context") -> Iterator[Diagnostic]:
        raise NotImplementedError
        yield  # pragma: no cover

    def diagnostic(
        self,
        ctx: "Context",
        span: Span,
        message: str,
        *,
        subject: str | None = None,
        fix: Fix | None = None,
        severity: Severity | None = None,
        detail: str | None = None,
    ) -> Diagnostic:
        return Diagnostic(
            code=self.code,
            name=self.name,
            severity=severity or self.severity,
            message=message,
            path=ctx.spec.path,
            span=span,
            subject=subject,
            model=ctx.model_label,
            fix=fix,
            detail=detail,
        )
