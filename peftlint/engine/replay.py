"""What a run can do without linting a file: drop it by the text prefilter, or replay its findings
from the result cache; and, after linting, store them there."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import TYPE_CHECKING

from peftlint.config import Settings
from peftlint.engine import discover as disc
from peftlint.engine.reading import read_source
from peftlint.engine.results import RunResult, SpecOutcome
from peftlint.engine.results_cache import CachedFile, ResolutionLog, ResultCache, outcome_from_summary, outcome_summary

if TYPE_CHECKING:
    from collections.abc import Collection


class Replay:
    """Mixed into the Linter (``engine.run``), whose state it reads."""

    settings: Settings
    cwd: Path
    results: ResultCache | None
    _resolved: ResolutionLog

    def config_classes(self) -> Collection[str]:  # provided by the Linter
        raise NotImplementedError

    def _replay(self, cand: disc.Candidate, result: RunResult) -> bool:
        """Handle ``cand`` without reading it as a source when possible: a file the prefilter drops,
        or a result-cache hit. False: it must be linted."""
        if cand.kind in (disc.ORPHAN_WEIGHTS, disc.DIFFUSERS_LORA):  # binary: never read whole
            return False
        read = read_source(cand.path, self.settings.max_file_size, cand.kind)
        if read is None:  # reported when the file is linted
            return False
        data, text = read
        if not self.passes_prefilter(cand.kind, text):
            result.files += 1
            return True
        if self.results is None:
            return False
        display = disc.candidate_display_path(cand, self.cwd)
        content = hashlib.sha256(data).hexdigest()
        hit = self.results.lookup(self.results.entry_key(cand.path, display, cand.kind, cand.explicit), content,
                                  self._resolved)
        if hit is None:
            return False
        try:
            outcomes = [outcome_from_summary(SpecOutcome, o) for o in hit.outcomes]
        except (KeyError, TypeError, ValueError):
            return False
        result.extend(RunResult(hit.diagnostics, hit.files, outcomes, hit.verdicts, {display: content}))
        return True

    def passes_prefilter(self, kind: str, text: str) -> bool:
        return disc.passes_prefilter(kind, text, self.config_classes)

    def _remember(self, cand: disc.Candidate, part: RunResult, content: str, dependencies: list[str]) -> None:
        """Store what ``cand`` contributed, with what it depended on, in the result cache."""
        summaries = [outcome_summary(o) for o in part.outcomes]
        records = self._resolved.records(self._resolved.touched)
        if records is None or any(s is None for s in summaries):
            return
        key = self.results.entry_key(cand.path, disc.candidate_display_path(cand, self.cwd), cand.kind, cand.explicit)
        self.results.store(key, content, CachedFile(part.files, part.diagnostics, summaries, part.verdicts),
                           dependencies, records)
