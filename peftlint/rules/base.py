"""The rule contract: one small class per rule, carrying its code, docs and examples (Fixit style)."""

from __future__ import annotations

from dataclasses import dataclass, replace
from itertools import islice
from typing import TYPE_CHECKING, ClassVar, Iterator

from peftlint.diagnostics import Diagnostic, Fix, Severity, Span

if TYPE_CHECKING:
    from peftlint.rules.context import Context

# Findings one rule reports on one config: far above any real config (a rule that lists repetitions
# stops at 100 per field itself), far below what a crafted file gets out of a rule that reports
# each of its entries (300,000 unknown keys in an adapter_config.json took 1.4 GB as findings).
MAX_FINDINGS = 500


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

    def findings(self, ctx: "Context") -> list[Diagnostic]:
        """What ``check`` reports, at most ``MAX_FINDINGS`` of it: past that, one finding (where the
        next one would be) says the rest are not listed, and the rule is not asked for them."""
        found = list(islice(self.check(ctx), MAX_FINDINGS + 1))
        if len(found) > MAX_FINDINGS:
            found[-1] = replace(found[-1], subject=None, fix=None, detail=None, notes=(), message=(
                f"more {self.name} findings on this config from here on are not listed (peftlint reports at most "
                f"{MAX_FINDINGS} per rule and config)"))
        return found

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
