"""The pipeline: discover → sources → spec → resolve → inventory → rules → diagnostics."""

from __future__ import annotations

import re
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Iterable

from peftlint.config import Settings
from peftlint.diagnostics import Diagnostic, Severity, Span
from peftlint.engine import discover as disc
from peftlint.engine.results_cache import (
    CachedFile,
    ResolutionLog,
    ResultCache,
    evict,
    outcome_from_summary,
    outcome_summary,
    weight_files,
)
from peftlint.engine.suppress import Suppressions, parse_suppressions, per_file_ignored
from peftlint.rules.meta import INTERNAL, REMOTE_CODE, SYNTAX, UNRESOLVED, UNUSED_NOQA
from peftlint.sources import Problem, SourceResult
from peftlint.spec import AdapterSpec, ModelRef

# The rules, the model loader and the rule context are imported when a file is linted: a run whose
# files all come from the result cache never needs them.
if TYPE_CHECKING:
    from peftlint.model.load import Loaded
    from peftlint.rules import Rule
    from peftlint.rules.context import Context


@dataclass
class SpecOutcome:
    spec: AdapterSpec
    model: str | None = None
    how: str = ""  # where the model reference came from
    from_default: bool = False
    skipped: str | None = None  # why the model-aware rules did not run
    inventory: Any = None
    ctx: "Context | None" = None


@dataclass
class RunResult:
    diagnostics: list[Diagnostic] = field(default_factory=list)
    files: int = 0
    outcomes: list[SpecOutcome] = field(default_factory=list)
    # saved adapters: "adapter DIR: fits MODEL: yes/no (...)" lines for the text report
    verdicts: list[str] = field(default_factory=list)

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


# A source reader: (text, display path, absolute path, linter) -> SourceResult
SourceReader = Callable[[str, str, str, "Linter"], SourceResult]


def _read_python(text: str, path: str, abspath: str, linter: "Linter") -> SourceResult:
    from peftlint.sources.python import extract_python

    return extract_python(text, path, abspath, linter.config_classes())


def _read_adapter_config(text: str, path: str, abspath: str, linter: "Linter") -> SourceResult:
    from peftlint.sources.adapter_json import extract_adapter_config

    return extract_adapter_config(text, path, abspath, linter.peft_types())


def _read_notebook(text: str, path: str, abspath: str, linter: "Linter") -> SourceResult:
    from peftlint.sources.notebook import extract_notebook

    return extract_notebook(text, path, abspath, linter.config_classes())


def _read_trainer_yaml(text: str, path: str, abspath: str, linter: "Linter") -> SourceResult:
    from peftlint.sources.trainer_yaml import extract_trainer_yaml

    return extract_trainer_yaml(text, path, abspath)


def _read_trainer_shell(text: str, path: str, abspath: str, linter: "Linter") -> SourceResult:
    from peftlint.sources.trainer_shell import extract_trainer_shell

    return extract_trainer_shell(text, path, abspath)


class Linter:
    """One run. Holds the per-run memo of resolved models and inventories (no global state)."""

    def __init__(self, settings: Settings, cwd: Path | None = None, *, result_cache: bool = False,
                 progress: Callable[[int, int], None] | None = None) -> None:
        """``result_cache``: reuse and store each file's findings in the cache directory (the command
        line does; a hit has no ``SpecOutcome.ctx``). ``progress(done, total)`` is called per file."""
        self.settings = settings
        self.cwd = (cwd or Path.cwd()).resolve()
        cache_dir = settings.cache_directory() if result_cache else None
        self.results = ResultCache(cache_dir, settings, self.cwd) if cache_dir is not None else None
        self.progress = progress
        self.readers: dict[str, SourceReader] = {
            disc.PYTHON: _read_python,
            disc.ADAPTER_CONFIG: _read_adapter_config,
            disc.NOTEBOOK: _read_notebook,
            disc.YAML: _read_trainer_yaml,
            disc.SHELL: _read_trainer_shell,
        }
        self._facts: Any = None
        self._config_classes: set[str] | None = None
        self._resolved = ResolutionLog(settings, recording=self.results is not None)
        self._inventories: dict[tuple, Any] = {}
        self._rules: list[Rule] | None = None

    @property
    def rules(self) -> list[Rule]:
        if self._rules is None:
            from peftlint.rules import all_rules

            self._rules = [r() for r in all_rules()]
        return self._rules

    # -- peft facts ------------------------------------------------------------------------
    def facts(self) -> Any:
        if self._facts is None:
            from peftlint.semantics.peft_facts import load_peft_facts

            self._facts = load_peft_facts(self.cache_dir())
        return self._facts

    def config_classes(self) -> set[str]:
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
        from peftlint.engine import parallel

        walker = disc.Walker(self.settings.exclude, root=Path(self.settings.project_root or self.cwd))
        cands = list(walker.walk(paths))
        result = RunResult()
        todo: list[disc.Candidate] = []
        for i, cand in enumerate(cands, 1):
            if not self._replay(cand, result):
                todo.append(cand)
            if self.progress is not None:
                self.progress(i - len(todo), len(cands))
        done = len(cands) - len(todo)
        start = time.monotonic()
        for i, cand in enumerate(todo):
            workers = parallel.worker_count(jobs, len(todo) - i, time.monotonic() - start)
            if workers > 1:
                parallel.lint_in_workers(self, todo[i:], workers, result, done, len(cands))
                break
            self.lint_file(cand, result)
            done += 1
            if self.progress is not None:
                self.progress(done, len(cands))
        if todo and self.results is not None:
            evict(self.results.directory)
        result.diagnostics.sort(key=Diagnostic.sort_key)
        result.outcomes.sort(key=lambda o: (o.spec.path, o.spec.span.line, o.spec.span.column))
        result.verdicts.sort()
        return result

    def _replay(self, cand: disc.Candidate, result: RunResult) -> bool:
        """Handle ``cand`` without reading it as a source when possible: a file the prefilter drops,
        or a result-cache hit. False: it must be linted."""
        if cand.kind == disc.ORPHAN_WEIGHTS:
            return False
        try:
            data = cand.path.read_bytes()
        except OSError:
            return False
        if b"\x00" in data[:8192]:
            return False
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError:
            return False
        if not self.passes_prefilter(cand.kind, text):
            result.files += 1
            return True
        if self.results is None:
            return False
        key = self.results.entry_key(cand.path, disc.candidate_display_path(cand, self.cwd), cand.kind, cand.explicit)
        hit = self.results.lookup(key, data, self._resolved)
        if hit is None:
            return False
        try:
            outcomes = [outcome_from_summary(SpecOutcome, o) for o in hit.outcomes]
        except (KeyError, TypeError, ValueError):
            return False
        result.extend(RunResult(hit.diagnostics, hit.files, outcomes, hit.verdicts))
        return True

    def passes_prefilter(self, kind: str, text: str) -> bool:
        return disc.passes_prefilter(kind, text, self.config_classes)

    def lint_file(self, cand: disc.Candidate, result: RunResult) -> None:
        part = RunResult()
        self._resolved.touched = set()
        read = self._lint_file(cand, part)
        if read is not None and self.results is not None:
            self._remember(cand, part, *read)
        result.extend(part)

    def _remember(self, cand: disc.Candidate, part: RunResult, data: bytes, dependencies: list[str]) -> None:
        """Store what ``cand`` contributed, with what it depended on, in the result cache."""
        summaries = [outcome_summary(o) for o in part.outcomes]
        records = self._resolved.records(self._resolved.touched)
        if records is None or any(s is None for s in summaries):
            return
        key = self.results.entry_key(cand.path, disc.candidate_display_path(cand, self.cwd), cand.kind, cand.explicit)
        self.results.store(key, data, CachedFile(part.files, part.diagnostics, summaries, part.verdicts),
                           dependencies, records)

    def _lint_file(self, cand: disc.Candidate, result: RunResult) -> tuple[bytes, list[str]] | None:
        """Lint one file into ``result``; returns its bytes and the other files its findings were read
        from when the findings may be cached."""
        path = disc.candidate_display_path(cand, self.cwd)
        if cand.kind == disc.ORPHAN_WEIGHTS:
            result.files += 1
            self._emit(result, [self._problem(path, Problem(
                "PFT401", f"{cand.path.name} has no adapter_config.json beside it: PeftModel.from_pretrained cannot "
                "load this folder (the config says which method and base model the weights are for); save the "
                "adapter with save_pretrained, or put its adapter_config.json here", subject="adapter_config.json"))],
                None)
            return
        try:
            data = cand.path.read_bytes()
        except OSError as exc:
            result.files += 1
            self._emit(result, [self._problem(path, Problem(SYNTAX, f"cannot read file: {exc.strerror or exc}"))], None)
            return
        if b"\x00" in data[:8192]:
            if cand.explicit:
                result.files += 1
                self._emit(result, [self._problem(path, Problem(SYNTAX, "binary file, not linted"))], None)
            return
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            result.files += 1
            self._emit(result, [self._problem(path, Problem(SYNTAX, f"not UTF-8 text: {exc.reason} at byte {exc.start}"))], None)
            return
        result.files += 1
        if not self.passes_prefilter(cand.kind, text):
            return None
        reader = self.readers.get(cand.kind)
        if reader is None:
            return None
        diags: list[Diagnostic] = []
        try:
            src = reader(text, path, str(cand.path), self)
        except Exception as exc:  # a reader bug must not stop the run
            diags.append(self._internal(path, Span(1, 1, 1, 1), exc))
            src = SourceResult()
        diags += [self._problem(path, p) for p in src.problems]
        skipped_codes: set[str] = set()
        for spec in src.specs:
            outcome = SpecOutcome(spec)
            result.outcomes.append(outcome)
            try:
                diags += self.lint_spec(spec, src.program or text, outcome)
            except Exception as exc:
                diags.append(self._internal(path, spec.span, exc))
            if spec.source == "adapter_config":
                self._verdict(outcome, result)
            if outcome.skipped:
                skipped_codes |= {r.code for r in self.rules if r.needs_model}
        diags = src.remap(diags)
        sup = parse_suppressions(text) if cand.kind in (disc.PYTHON, disc.NOTEBOOK, disc.YAML, disc.SHELL) else None
        self._emit(result, diags, sup, path, skipped_codes)
        return data, list(src.dependencies) + weight_files(src.specs)

    def _emit(self, result: RunResult, diags: list[Diagnostic], sup: Suppressions | None, path: str = "",
              skipped_codes: set[str] = frozenset()) -> None:
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
            for c in sup.lines.values():
                for code in c.codes or []:
                    code = code.upper()
                    if not code.startswith("PFT") or any(u.startswith(code) for u in c.used):
                        continue
                    if code in skipped_codes or not self.settings.selects(code):
                        continue
                    kept.append(Diagnostic(
                        UNUSED_NOQA, "unused-suppression", Severity.WARNING,
                        f"`# noqa: {code}` suppresses nothing on this line; remove it",
                        path, Span(c.line, c.column, c.line, c.end_column), subject=code))
        result.diagnostics.extend(kept)

    def _verdict(self, outcome: SpecOutcome, result: RunResult) -> None:
        """Whether a saved adapter's weights load onto its base model (see linter/weights.py)."""
        if outcome.ctx is None or not outcome.spec.adapter_dir:
            return
        from peftlint.semantics.weights import verdict

        label = disc.display_path(Path(outcome.spec.adapter_dir), self.cwd)
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
        where = traceback.extract_tb(exc.__traceback__)[-1] if exc.__traceback__ else None
        loc = f" ({Path(where.filename).name}:{where.lineno})" if where else ""
        return Diagnostic(INTERNAL, "internal-error", Severity.ERROR,
                          f"peftlint failed here: {type(exc).__name__}: {exc}{loc}; the rest of the run continues. "
                          "Please report this.", path, span)

    # -- one spec -------------------------------------------------------------------------------
    def lint_spec(self, spec: AdapterSpec, text: str, outcome: SpecOutcome) -> list[Diagnostic]:
        from peftlint.rules.context import Context

        if not spec.method:
            info = self.facts().configs.get(spec.config_class)
            spec.method = info.peft_type if info else ""
        diags: list[Diagnostic] = []
        inventory, label, resolved = None, None, None
        ref = self.choose_ref(spec)
        if ref is None:
            outcome.skipped = spec.facts.model_unresolved or "no base model linked to this config"
            diags.append(self._unresolved(spec, spec.span, outcome.skipped))
        else:
            got = self._inventory_for(spec, ref)
            inventory, label, resolved = got.inventory, got.label, got.resolved
            if inventory is None:
                outcome.skipped = got.why
                code = REMOTE_CODE if got.needs_remote_code else UNRESOLVED
                diags.append(self._unresolved(spec, ref.span or spec.span, got.why, code))
        outcome.model, outcome.inventory = label, inventory
        if ref is not None:
            outcome.how, outcome.from_default = ref.how, ref.from_default
        ctx = Context(spec=spec, inventory=inventory, model_label=label, settings=self.settings,
                      facts=self.facts(), resolved=resolved, text=text)
        outcome.ctx = ctx
        for rule in self.rules:
            if rule.needs_model and inventory is None:
                continue
            if not self.settings.selects(rule.code):
                continue
            try:
                diags.extend(rule.check(ctx))
            except Exception as exc:
                diags.append(self._internal(spec.path, spec.span, exc))
        keys = {f: k for f, k in spec.facts.trainer_keys.items() if f != k}
        for d in diags:
            if d.model is None:
                d.model = label
            if keys:
                d.message = _name_trainer_key(d.message, keys, spec.facts.tool or "trainer")
            d.noqa_lines = tuple(sorted({d.span.line, spec.span.line}))
        return diags

    def choose_ref(self, spec: AdapterSpec) -> ModelRef | None:
        """comment hint > --model > what the source says > [tool.peftlint] model (see README)."""
        s = self.settings
        ref = spec.model
        if ref is not None and ref.how.startswith("# peftlint"):
            return ref
        cls = ref.model_class if ref else spec.facts.model_class
        if s.cli_model:
            return ModelRef(s.cli_model, "--model", model_class=cls, base_dir=str(self.cwd))
        if spec.source == "adapter_config" and s.model:
            return ModelRef(s.model, "[tool.peftlint] model", model_class=cls, base_dir=s.project_root)
        if ref is not None:
            return ref
        if s.model:
            return ModelRef(s.model, "[tool.peftlint] model", model_class=cls, base_dir=s.project_root)
        return None

    def _unresolved(self, spec: AdapterSpec, span: Span, why: str, code: str = UNRESOLVED) -> Diagnostic:
        from peftlint.rules import rule_by_code

        rule = rule_by_code(code)
        if code == UNRESOLVED:
            msg = (f"base model not resolved: {why}. Model-aware checks were skipped for this {spec.config_class}; "
                   "add `# peftlint: model=<hub id or path>` above it or pass --model")
        else:
            msg = why
        return Diagnostic(code, rule.name if rule else code, rule.severity if rule else Severity.INFO, msg,
                          spec.path, span)

    def _inventory_for(self, spec: AdapterSpec, ref: ModelRef) -> Loaded:
        from peftlint.model.load import load_inventory

        base_dirs = tuple(d for d in (ref.base_dir, str(Path(spec.abspath).parent) if spec.abspath else None) if d)
        got = load_inventory(ref.ref, self.settings, self.cache_dir(), revision=ref.revision, base_dirs=base_dirs,
                             model_class=ref.model_class, task_type=spec.task_type, how=ref.how,
                             resolved_memo=self._resolved, inventory_memo=self._inventories)
        return got


def _name_trainer_key(message: str, keys: dict[str, str], tool: str) -> str:
    """Messages speak PEFT's field names; say once what the field is called in the trainer config."""
    for field_name, key in keys.items():
        if re.search(rf"\b{re.escape(field_name)}\b", message):
            return f"{message} (`{field_name}` is `{key}` in this {tool} config)"
    return message
