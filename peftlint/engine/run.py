"""The pipeline: discover → sources → spec → resolve → inventory → rules → diagnostics."""

from __future__ import annotations

import codecs
import gc
import time
import traceback
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Collection, Iterable

from peftlint.codes import Code
from peftlint.config import Settings
from peftlint.diagnostics import Applicability, Diagnostic, Edit, Fix, Severity, Span
from peftlint.engine import discover as disc
from peftlint.engine import prefetch
from peftlint.engine.models import InventoryMemo
from peftlint.engine.readers import READERS, SourceReader
from peftlint.engine.reading import (
    SourceRead,
    adapter_encoding_problem,
    binary_problem,
    not_read_problem,
    source_from_bytes,
)
from peftlint.engine.replay import Replay
from peftlint.engine.results import RunResult, SpecOutcome
from peftlint.engine.results_cache import (
    ResolutionLog,
    ResultCache,
    evict,
    weight_files,
)
from peftlint.engine.spec_lint import SpecLint
from peftlint.engine.suppress import NoqaComment, Suppressions, parse_suppressions, per_file_ignored
from peftlint.model.offload import in_process
from peftlint.reading import NotReadable, human_size
from peftlint.rules.meta import INTERNAL, UNRESOLVED, UNUSED_NOQA
from peftlint.rules.selectors import is_known, suggestion
from peftlint.semantics import peft_check, regex_budget
from peftlint.sources import MAX_CONFIGS, Problem, SourceResult, too_many_configs

# The rules, the model loader and the rule context are imported when a file is linted: a run whose
# files all come from the result cache never needs them.
if TYPE_CHECKING:
    from peftlint.engine.hierarchy import Hierarchy
    from peftlint.rules import Rule
    from peftlint.semantics.peft_facts import PeftFacts


def _remove_noqa(c: NoqaComment, path: str, code: str) -> Fix | None:
    """The fix of an unused suppression: delete a ``# noqa: CODE`` naming this one code and nothing after it, with the
    blanks before it. A comment with several codes or more text is left to the user; in a notebook
    the comment is inside a JSON string (the fix would need the cell mapping), so it is left too."""
    if c.codes is None or len(c.codes) != 1 or not c.alone or not c.lead or path.endswith(".ipynb"):
        return None
    return Fix(Applicability.SAFE, (Edit(path, Span(c.line, c.lead, c.line, c.end_column), ""),),
               f"remove the unused `# noqa: {code}`")


def _sorted(result: RunResult) -> RunResult:
    result.diagnostics.sort(key=Diagnostic.sort_key)
    result.outcomes.sort(key=lambda o: (o.spec.path, o.spec.span.line, o.spec.span.column))
    result.verdicts.sort()
    return result


# Bytes and characters of the files a run keeps between reading them (result cache lookup) and linting them; past
# this, a file is read again when its turn comes (1,000 notebooks of TRL's held 330 MB at once)
KEPT_READS = 64 << 20


class Linter(Replay, SpecLint):
    """One run. Holds the per-run memo of resolved models and inventories (no global state)."""

    def __init__(self, settings: Settings, cwd: Path | None = None, *, result_cache: bool = False,
                 refresh_results: bool = False, progress: Callable[[int, int], None] | None = None) -> None:
        """``result_cache``: reuse and store each file's findings in the cache directory (the command
        line does; a hit has no ``SpecOutcome.ctx``); ``refresh_results``: store them but reuse
        none. ``progress(done, total)`` is called per file."""
        self.settings = settings
        self.cwd = (cwd or Path.cwd()).resolve()
        cache_dir = settings.cache_directory() if result_cache else None
        self.results = (ResultCache(cache_dir, settings, self.cwd, refresh=refresh_results)
                        if cache_dir is not None else None)
        self.progress = progress
        self.readers: dict[str, SourceReader] = dict(READERS)
        self._facts: PeftFacts | None = None
        self._config_classes: set[str] | None = None
        self._resolved = ResolutionLog(settings, recording=self.results is not None)
        self.read_ahead: dict[str, prefetch.ReadAhead] = {}  # files read while peft was imported
        self._inventories: InventoryMemo = {}
        self._local: dict[object, object] = {}  # module trees of classes in the linted code (module_tree memo)
        self.building = None
        self.offload = in_process  # the heavy work on a cache miss runs here (see model/offload.py)
        self._rules: dict[str, list[Rule]] = {}
        # absolute path -> bytes to lint instead of the file's (``--diff``/``--fix`` re-lint fixed text in memory)
        self.overrides: dict[str, bytes] = {}
        # the settings of files under another configuration than ``settings`` (hierarchical discovery,
        # set by the command line; see engine/hierarchy.py); None: ``settings`` for every file
        self.hierarchy: Hierarchy | None = None
        regex_budget.configure(settings.regex_timeout)

    def rules(self, source: str) -> list[Rule]:
        """The rules that look at configs read from ``source`` (see ``rules_for``)."""
        if source not in self._rules:
            from peftlint.rules import rules_for

            self._rules[source] = [r() for r in rules_for(source)]
        return self._rules[source]

    # -- peft facts ------------------------------------------------------------------------
    def facts(self) -> PeftFacts:
        if self._facts is None:
            from peftlint.semantics.peft_facts import load_peft_facts

            self._facts = load_peft_facts(self.cache_dir(), offload=self.offload)
        return self._facts

    def config_classes(self) -> set[str]:
        if self._config_classes is None and self._facts is None:
            from peftlint.semantics.peft_facts import cached_target_classes

            self._config_classes = cached_target_classes(self.cache_dir())
        if self._config_classes is None:
            self._config_classes = {name for name, c in self.facts().configs.items() if c.has_target_modules}
        return self._config_classes

    def peft_types(self) -> dict[str, str]:
        return {c.peft_type: name for name, c in self.facts().configs.items()}

    def cache_dir(self) -> Path | None:
        return self.settings.cache_directory()

    # -- the run -----------------------------------------------------------------------------
    def lint_paths(self, paths: Iterable[Path], jobs: int = 1) -> RunResult:
        """Lint every file under ``paths``: cached results first, the rest here or in ``jobs`` worker
        processes (0: as many as pay off, see ``engine.parallel``)."""
        # the serial budget counts from here: a cold run whose replay pass already paid for importing
        # peft (its facts) goes parallel as soon as linting starts, the workers inherit the import
        start = time.monotonic()
        result = RunResult()
        for sub, group in self.walk_by_configuration(paths):
            result.extend(sub.lint_candidates(group, jobs, start))
        return _sorted(result)

    def walk_by_configuration(self, paths: Iterable[Path]) -> list[tuple["Linter", list[disc.Candidate]]]:
        """The files under ``paths``, grouped by the configuration that applies to them, each group
        with its linter: this one for its own settings' files (first), a sibling for each other
        configuration's (``hierarchy``)."""
        walker = disc.Walker(self.settings.exclude + self.settings.extend_exclude,
                             root=Path(self.settings.project_root or self.cwd),
                             force_exclude=self.settings.force_exclude)
        cands = list(walker.walk(paths))
        groups = self.hierarchy.split(cands, walker) if self.hierarchy is not None else None
        if groups is None:
            return [(self, cands)]
        return [(self if settings is self.settings else self._sibling(settings), group) for settings, group in groups]

    def _sibling(self, settings: Settings) -> "Linter":
        """A linter for the files under another configuration: same cache use, same in-memory texts."""
        sub = Linter(settings, self.cwd, result_cache=self.results is not None,
                     refresh_results=self.results is not None and self.results.refresh, progress=self.progress)
        sub.overrides = self.overrides
        return sub

    def lint_candidates(self, cands: list[disc.Candidate], jobs: int, start: float) -> RunResult:
        """Lint the walked files ``cands`` with this linter's settings (see ``lint_paths``)."""
        from peftlint.engine import parallel

        reading = prefetch.start(cands, self.cwd, self.settings.max_file_size) if self._reads_ahead(jobs) else None
        result = RunResult()
        todo: list[tuple[disc.Candidate, SourceRead | None]] = []
        kept = 0
        for i, cand in enumerate(cands, 1):
            pending = self._replay(cand, result)
            if pending is not None:
                read = pending[1]
                if read is not None and read.data is not None:
                    kept += len(read.data) + len(read.text or "")
                    if kept > KEPT_READS:  # read again when linted: a run over many files holds a bounded text
                        pending = (cand, None)
                todo.append(pending)
            if self.progress is not None:
                self.progress(i - len(todo), len(cands))
        if reading is not None:
            self.read_ahead = prefetch.usable(reading, self.config_classes() if todo else ())
        done = len(cands) - len(todo)
        collect = not gc.isenabled()  # the command line runs without the cyclic collector (__main__)
        if collect:
            gc.freeze()  # what is imported so far is never garbage: no pass scans it again
        for i, (cand, read) in enumerate(todo):
            workers = parallel.worker_count(jobs, len(todo) - i, time.monotonic() - start)
            if workers > 1:
                parallel.lint_in_workers(self, todo[i:], workers, result, done, len(cands))
                break
            if collect and i:
                gc.collect(0)  # the cycles the previous file left
            self.lint_file(cand, result, read)
            todo[i] = (cand, None)  # its text is not kept past its lint
            done += 1
            if self.progress is not None:
                self.progress(done, len(cands))
        if todo and self.results is not None:
            evict(self.results.directory)
        return result

    def _reads_ahead(self, jobs: int) -> bool:
        """Whether this run will import peft for its facts (then files are read meanwhile, see prefetch)."""
        from peftlint.semantics.peft_facts import facts_cached

        return jobs != 1 and self._facts is None and not facts_cached(self.cache_dir())

    def lint_file(self, cand: disc.Candidate, result: RunResult, read: SourceRead | None = None) -> None:
        """Lint ``cand`` into ``result``. ``read``: the run's read of it (see ``_replay``), whose text
        passed the prefilter; None: read it now."""
        part = RunResult()
        self._resolved.touched = set()
        unjudged = len(peft_check.UNJUDGED)
        try:
            cacheable = self._lint_file(cand, part, read)
        except MemoryError as exc:  # a limit of this machine: this file gets a note, the others are linted
            part = RunResult(files=1)
            self._emit(part, [self._internal(disc.candidate_display_path(cand, self.cwd), Span(1, 1, 1, 1), exc)], None)
            cacheable = None
        if cacheable is not None and self.results is not None and len(peft_check.UNJUDGED) == unjudged:
            self._remember(cand, part, *cacheable)
        result.extend(part)

    def _lint_file(self, cand: disc.Candidate, result: RunResult,
                   read: SourceRead | None = None) -> tuple[str, list[str]] | None:
        """Lint one file into ``result``; returns the sha256 of its bytes and the other files its
        findings were read from when the findings may be cached."""
        regex_budget.start_file()
        path = disc.candidate_display_path(cand, self.cwd)
        if cand.kind == disc.ORPHAN_WEIGHTS:
            result.files += 1
            orphan = self._problem(path, Problem(
                Code.INVALID_ADAPTER_CONFIG, f"{cand.path.name} has no adapter_config.json beside it: PeftModel.from_pretrained cannot "
                "load this folder", subject="adapter_config.json"))
            orphan.detail = ("The config says which method and base model the weights are for. Save the adapter "
                             "with save_pretrained, or put its adapter_config.json here.")
            self._emit(result, [orphan], None)
            return None
        if cand.kind == disc.DIFFUSERS_LORA:
            self._lint_diffusers_lora(cand, path, result)
            return None
        prefiltered = read is not None
        read = read if read is not None else self.read_candidate(cand)
        if read.data is None:
            result.files += 1
            if read.unread is not None:
                self._emit(result, [self._problem(path, read.unread)], None)
            return None
        return self._lint_read(cand, path, read, result, prefiltered)

    def lint_text(self, text: str | bytes, path: Path) -> RunResult:
        """Lint ``text`` as if it were the file at ``path`` (an editor's unsaved buffer, stdin).

        The per-file pipeline of a run (reader by the file's kind, model resolution from beside
        ``path``, rules, ``# noqa`` and the per-file ignores of its display path); ``path`` itself
        is not read and need not exist. Bytes are checked as a file's are (binary, not UTF-8, size).
        A name peftlint lints no file of (README.md), or a weights file, gives an empty result. The
        result cache is neither read nor written.
        """
        path = path if path.is_absolute() else self.cwd / path
        path = path.parent.resolve() / path.name  # as the walker gives paths: resolved directories
        kind = disc.file_kind(path, explicit=True)
        result = RunResult()
        if kind is None or kind in (disc.ORPHAN_WEIGHTS, disc.DIFFUSERS_LORA):
            return result
        cand = disc.Candidate(path, kind, explicit=True)
        display = disc.candidate_display_path(cand, self.cwd)
        data = text if isinstance(text, bytes) else text.encode("utf-8", "surrogatepass")
        read = None if len(data) > self.settings.max_file_size else source_from_bytes(data, kind)
        self._resolved.touched = set()
        if read is None:
            result.files += 1
            too_large = NotReadable(f"{human_size(len(data))}, over the {human_size(self.settings.max_file_size)} "
                                    "limit", too_large=True)
            self._emit(result, [self._problem(display, not_read_problem(too_large))], None)
        else:
            self._lint_read(cand, display, read, result)
        result.diagnostics.sort(key=Diagnostic.sort_key)
        result.outcomes.sort(key=lambda o: (o.spec.span.line, o.spec.span.column))
        return result

    def _lint_read(self, cand: disc.Candidate, path: str, read: SourceRead, result: RunResult,
                   prefiltered: bool = False) -> tuple[str, list[str]] | None:
        """The rest of ``_lint_file`` once the bytes are read (shared with ``lint_text``);
        ``prefiltered``: the text passed the prefilter already."""
        data = read.data
        assert data is not None
        result.digests[path] = read.sha256
        encoding_problem = adapter_encoding_problem(data) if cand.kind == disc.ADAPTER_CONFIG else None
        if encoding_problem is not None and not data.startswith(codecs.BOM_UTF8):  # UTF-16/32: not read further
            result.files += 1
            self._emit(result, [self._problem(path, encoding_problem)], None)
            return None
        if read.binary:
            # named on the command line, or holding what a config of its kind needs once its NUL bytes
            # are dropped (UTF-16 text without a byte order mark): a note, never a silent skip
            if cand.explicit or self.passes_prefilter(cand.kind, data.replace(b"\0", b"").decode("latin-1")):
                result.files += 1
                self._emit(result, [self._problem(path, binary_problem(cand.kind, data))], None)
            return None
        text = read.text
        if text is None:
            result.files += 1
            if read.undecodable is not None:
                self._emit(result, [self._problem(path, read.undecodable)], None)
            return None
        result.files += 1
        if not prefiltered and not self.passes_prefilter(cand.kind, text):
            return None
        reader = self.readers.get(cand.kind)
        if reader is None:
            return None
        diags: list[Diagnostic] = []
        ahead = self.read_ahead.pop(str(cand.path), None)
        try:
            if ahead is not None and ahead.sha256 == result.digests[path]:
                src = ahead.source
            else:
                src = reader(text, path, str(cand.path), self)
        except Exception as exc:  # a reader bug must not stop the run
            diags.append(self._internal(path, Span(1, 1, 1, 1), exc))
            src = SourceResult()
        if len(src.specs) > MAX_CONFIGS:  # a reader that has no bound of its own (shell commands, YAML documents)
            src.problems.append(too_many_configs(src.specs[MAX_CONFIGS].span))
            src.specs = src.specs[:MAX_CONFIGS]
        diags += [self._problem(path, p) for p in src.problems]
        if encoding_problem is not None:
            diags.append(self._problem(path, encoding_problem))
        skipped_codes: set[str] = set()
        outcomes = []
        for spec in src.specs:
            outcome = SpecOutcome(spec)
            outcomes.append(outcome)
            try:
                diags += self.lint_spec(spec, src.program or text, outcome)
            except Exception as exc:
                diags.append(self._internal(path, spec.span, exc))
            if spec.source == "adapter_config":
                self._verdict(outcome, result)
            if outcome.skipped:
                skipped_codes |= {r.code for r in self.rules(spec.source) if r.needs_model}
        diags = src.remap(diags)
        for o in outcomes:
            o.how, o.skipped = src.name_lines(o.how), o.skipped and src.name_lines(o.skipped)
        result.outcomes += outcomes
        sup = parse_suppressions(text) if cand.kind in (disc.PYTHON, disc.NOTEBOOK, disc.YAML, disc.SHELL) else None
        self._emit(result, diags, sup, path, skipped_codes)
        return result.digests[path], list(src.dependencies) + weight_files(src.specs)

    def _lint_diffusers_lora(self, cand: disc.Candidate, path: str, result: RunResult) -> None:
        """A binary safetensors file: its header is the source (see sources/diffusers_lora.py)."""
        from peftlint.sources.diffusers_lora import extract_diffusers_lora

        result.files += 1
        diags: list[Diagnostic] = []
        try:
            src = extract_diffusers_lora(path, str(cand.path), self.peft_types())
        except Exception as exc:  # a reader bug must not stop the run
            diags.append(self._internal(path, Span(1, 1, 1, 1), exc))
            src = SourceResult()
        diags += [self._problem(path, p) for p in src.problems]
        for spec in src.specs:
            outcome = SpecOutcome(spec)
            result.outcomes.append(outcome)
            try:
                diags += self.lint_spec(spec, "", outcome)
            except Exception as exc:
                diags.append(self._internal(path, spec.span, exc))
            self._verdict(outcome, result)
        self._emit(result, diags, None, path)

    def _emit(self, result: RunResult, diags: list[Diagnostic], sup: Suppressions | None, path: str = "",
              skipped_codes: Collection[str] = frozenset()) -> None:
        s = self.settings
        kept = []
        for d in diags:
            if not self.settings.selects(d.code):
                continue
            if per_file_ignored(d.code, d.path, s.per_file_ignores):
                continue
            if sup is not None and sup.suppresses(d.code, d.noqa_lines or (d.span.line,)):
                continue
            if s.strict and d.code == UNRESOLVED:
                d.severity = Severity.ERROR
            kept.append(d)
        if sup is not None and self.settings.selects(UNUSED_NOQA):
            for code in sup.file_codes or []:
                if sup.file_comment is not None and code.upper().startswith("PFT") and not is_known(code):
                    kept.append(Diagnostic(UNUSED_NOQA, "unused-suppression", Severity.WARNING,
                                           f"`# peftlint: noqa: {code}` names no peftlint rule{suggestion(code)}",
                                           path, sup.file_comment, subject=code))
            for c in sup.lines.values():
                for code in c.codes or []:
                    code = code.upper()
                    if not code.startswith("PFT") or any(u.startswith(code) for u in c.used):
                        continue
                    span = Span(c.line, c.column, c.line, c.end_column)
                    if not is_known(code):  # a typo suppresses nothing, whatever is selected
                        kept.append(Diagnostic(UNUSED_NOQA, "unused-suppression", Severity.WARNING,
                                               f"`# noqa: {code}` names no peftlint rule{suggestion(code)}", path, span, subject=code))
                        continue
                    if code in skipped_codes or not self.settings.selects(code):
                        continue
                    kept.append(Diagnostic(
                        UNUSED_NOQA, "unused-suppression", Severity.WARNING,
                        f"`# noqa: {code}` suppresses nothing on this line; remove it",
                        path, span, subject=code, fix=_remove_noqa(c, path, code)))
        result.diagnostics.extend(kept)

    def _verdict(self, outcome: SpecOutcome, result: RunResult) -> None:
        """Whether a saved adapter's weights load onto its base model (see semantics/weights.py)."""
        if outcome.ctx is None or not outcome.spec.adapter_dir:
            return
        from peftlint.semantics.weights import verdict

        label = disc.display_path(Path(outcome.spec.adapter_dir), self.cwd)
        if outcome.spec.source == "diffusers_lora":
            label = f"{outcome.spec.path} ({outcome.spec.facts.subfolder})"
        try:
            line = verdict(outcome.ctx.weights, outcome.ctx.model_label, label, outcome.skipped)
        except Exception as exc:  # the findings are already reported; the summary line is optional
            line = f"adapter {label}: fits {outcome.model or 'its base model'}: unknown (peftlint failed: {exc})"
        if line:
            result.verdicts.append(line)

    def _problem(self, path: str, p: Problem) -> Diagnostic:
        from peftlint.rules import rule_by_code

        rule = rule_by_code(p.code)
        return Diagnostic(p.code, rule.name if rule else p.code, rule.severity if rule else Severity.ERROR,
                          p.message, path, p.span, subject=p.subject)

    def _internal(self, path: str, span: Span, exc: BaseException) -> Diagnostic:
        if isinstance(exc, MemoryError):  # a limit of this machine, not a bug
            return self._problem(path, Problem(Code.FILE_NOT_READ, "not checked: this needs more memory than is "
                                                                   "available", span))
        where = traceback.extract_tb(exc.__traceback__)[-1] if exc.__traceback__ else None
        loc = f" ({Path(where.filename).name}:{where.lineno})" if where else ""
        return Diagnostic(INTERNAL, "internal-error", Severity.ERROR,
                          f"peftlint failed here: {type(exc).__name__}: {exc}{loc}; the rest of the run continues. "
                          "Please report this.", path, span)
