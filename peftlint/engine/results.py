"""What a run produces: per-config outcomes and the run's result (findings, counts, verdicts)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from peftlint.diagnostics import Diagnostic
from peftlint.spec import AdapterSpec

if TYPE_CHECKING:
    from peftlint.model.inventory import Inventory
    from peftlint.rules.context import Context
    from peftlint.semantics.param_count import ParameterCount


# The words model.resolve uses for a hub id that is not on this machine (a download would fix it);
# tests/cli/test_unchecked.py checks that resolve still says them.
NOT_ON_THIS_MACHINE = "not in the Hugging Face cache"


@dataclass
class SpecOutcome:
    """What linting one config came to: the model it was checked against, or why not."""

    spec: AdapterSpec
    model: str | None = None
    how: str = ""  # where the model reference came from
    ref: str | None = None  # the model reference that was looked up (hub id, path, alias), if any
    from_default: bool = False
    skipped: str | None = None  # why the model-aware rules did not run
    model_note: str = ""  # e.g. "built statically from train.py; 1 subtree unknown: `backbone` (...)"
    # what the config trains on its (first) model, None without one
    parameters: ParameterCount | None = None
    inventory: Inventory | None = None
    ctx: "Context | None" = None

    @property
    def fetchable(self) -> bool:
        """Not checked because its hub model's config.json is not on this machine."""
        return self.skipped is not None and NOT_ON_THIS_MACHINE in self.skipped


@dataclass
class RunResult:
    """Everything a run found, for the reports."""

    diagnostics: list[Diagnostic] = field(default_factory=list)
    files: int = 0
    outcomes: list[SpecOutcome] = field(default_factory=list)
    # saved adapters: "adapter DIR: fits MODEL: yes/no (...)" lines for the text report
    verdicts: list[str] = field(default_factory=list)
    # display path -> sha256 of the bytes that were linted: --fix applies edits only to that content
    digests: dict[str, str] = field(default_factory=dict)

    @property
    def specs(self) -> int:
        return len(self.outcomes)

    def skipped(self) -> list[SpecOutcome]:
        return [o for o in self.outcomes if o.skipped]

    def extend(self, part: "RunResult") -> None:
        """Add what another part of the run (one file, one worker) found."""
        self.diagnostics += part.diagnostics
        self.files += part.files
        self.outcomes += part.outcomes
        self.verdicts += part.verdicts
        self.digests.update(part.digests)


def parameter_count(ctx: "Context") -> ParameterCount | None:
    """The config's parameter count (SpecOutcome.parameters); a failure to count never costs the
    file's findings."""
    from peftlint.semantics.param_count import not_counted

    try:
        count = ctx.parameters
    except Exception as exc:  # a counting bug: shown as the reason instead of a PFT999 for the file
        count = not_counted(f"peftlint failed to count: {type(exc).__name__}: {exc}")
    return count
