"""What a run can do without linting a file: drop it by the text prefilter, or replay its findings
from the result cache; and, after linting, store them there."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

from peftlint.config import Settings
from peftlint.engine import discover as disc
from peftlint.engine.reading import SourceRead, read_file, source_from_bytes
from peftlint.engine.results import RunResult
from peftlint.engine.results_cache import CachedFile, ResolutionLog, ResultCache, outcome_from_summary, outcome_summary

if TYPE_CHECKING:
    from collections.abc import Collection


class Replay:
    """Mixed into the Linter (``engine.run``), whose state it reads."""

    settings: Settings
    cwd: Path
    results: ResultCache | None
    _resolved: ResolutionLog
    overrides: dict[str, bytes]

    def config_classes(self) -> Collection[str]:  # provided by the Linter
        raise NotImplementedError

    def _replay(self, cand: disc.Candidate, result: RunResult) -> tuple[disc.Candidate, SourceRead | None] | None:
        """Handle ``cand`` without linting it when possible: a file the prefilter drops, or a
        result-cache hit (None). Otherwise ``cand`` and the run's one read of it, which linting
        uses (None for a binary kind, whose reader reads only a header)."""
        if cand.kind in (disc.ORPHAN_WEIGHTS, disc.DIFFUSERS_LORA):  # binary: never read whole
            return cand, None
        read = self.read_candidate(cand)
        if read.text is None:  # unread, binary or undecodable: reported when the file is linted
            return cand, read
        if not self.passes_prefilter(cand.kind, read.text):
            result.files += 1
            return None
        if self.results is None:
            return cand, read
        display = disc.candidate_display_path(cand, self.cwd)
        hit = self.results.lookup(self.results.entry_key(cand.path, display, cand.kind, cand.explicit), read.sha256,
                                  self._resolved)
        if hit is None:
            return cand, read
        try:
            outcomes = [outcome_from_summary(o) for o in hit.outcomes]
        except (KeyError, TypeError, ValueError):
            return cand, read
        result.extend(RunResult(hit.diagnostics, hit.files, outcomes, hit.verdicts, {display: read.sha256}))
        return None

    def read_candidate(self, cand: disc.Candidate) -> SourceRead:
        """The bytes to lint for ``cand``: the in-memory text of ``overrides`` (``--fix``/``--diff``
        re-lint fixed text), or the file's, read once."""
        data = self.overrides.get(os.path.normpath(os.path.join(self.cwd, cand.path))) if self.overrides else None
        if data is not None:
            return source_from_bytes(data, cand.kind)
        return read_file(cand.path, self.settings.max_file_size, cand.kind)

    def passes_prefilter(self, kind: str, text: str) -> bool:
        return disc.passes_prefilter(kind, text, self.config_classes)

    def _remember(self, cand: disc.Candidate, part: RunResult, content: str, dependencies: list[str]) -> None:
        """Store what ``cand`` contributed, with what it depended on, in the result cache."""
        found = [outcome_summary(o) for o in part.outcomes]
        summaries = [s for s in found if s is not None]
        records = self._resolved.records(self._resolved.touched)
        if self.results is None or records is None or len(summaries) != len(found):
            return
        key = self.results.entry_key(cand.path, disc.candidate_display_path(cand, self.cwd), cand.kind, cand.explicit)
        self.results.store(key, content, CachedFile(part.files, part.diagnostics, summaries, part.verdicts),
                           dependencies, records)
