"""Sources turn one file into AdapterSpecs (plus problems such as syntax errors)."""

from __future__ import annotations

from dataclasses import dataclass, field

from peftlint.codes import Code
from peftlint.diagnostics import Diagnostic, Span
from peftlint.spec import AdapterSpec

# Configs linted from one file: a test module of peft itself has a few hundred. Each costs a few
# milliseconds and ~10 KB to read and check against its model; a 10 MB file of ``LoraConfig(),``
# holds 600,000, a shell script of trainer commands 100,000.
MAX_CONFIGS = 2_000


@dataclass
class Problem:
    """A file-level problem found while reading a source; the engine turns it into a diagnostic."""

    code: Code  # the rule that reports it: Code.SYNTAX_ERROR (PFT902), Code.INVALID_ADAPTER_CONFIG (PFT401), ...
    message: str
    span: Span = field(default_factory=lambda: Span(1, 1, 1, 1))
    subject: str | None = None


@dataclass
class SourceResult:
    """What a reader found in one file: its configs and the problems reading it."""

    specs: list[AdapterSpec] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    program: str | None = None  # the text rules see when it differs from the file (notebook cells)
    # other files whose content the specs depend on (a sibling module a constant or class came
    # from): a change to any of them invalidates cached findings of this file
    dependencies: list[str] = field(default_factory=list)

    def remap(self, diags: list[Diagnostic]) -> list[Diagnostic]:
        """Move findings from program positions to positions in the file (identity but for notebooks)."""
        return diags

    def name_lines(self, text: str) -> str:
        """``text`` (a model source, a reason) with the lines it names as the user finds them in the
        file (identity but for notebooks, whose program lines become cell and line)."""
        return text


def too_many_configs(span: Span) -> Problem:
    """The note at the first config of a file past ``MAX_CONFIGS`` (it and those after it are not checked)."""
    return Problem(Code.FILE_NOT_READ, f"not checked: the file has more than {MAX_CONFIGS:,} configs; peftlint checks the "
                                       f"first {MAX_CONFIGS:,} of a file, this one and those after it were not read", span)
