"""The pipeline: discover → sources → spec → resolve → inventory → rules → diagnostics."""

from __future__ import annotations

import hashlib
import re
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable

from peftlint.config import Settings
from peftlint.diagnostics import Diagnostic, Severity, Span
from peftlint.engine import discover as disc
from peftlint.engine.reading import not_read_problem
from peftlint.engine.suppress import Suppressions, parse_suppressions, per_file_ignored
from peftlint.model.load import Loaded, load_inventory
from peftlint.reading import NotReadable, read_limited
from peftlint.rules import Rule, all_rules, rule_by_code
from peftlint.rules.context import Context
from peftlint.rules.meta import INTERNAL, REMOTE_CODE, SYNTAX, UNRESOLVED, UNUSED_NOQA
from peftlint.semantics import regex_budget
from peftlint.semantics.regex_budget import RegexTooSlow
from peftlint.sources import Problem, SourceResult
from peftlint.spec import AdapterSpec, ModelRef


@dataclass
class SpecOutcome:
    spec: AdapterSpec
    model: str | None = None
    how: str = ""  # where the model reference came from
    from_default: bool = False
    skipped: str | None = None  # why the model-aware rules did not run
    inventory: Any = None
    ctx: Context | None = None


@dataclass
class RunResult:
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

    def __init__(self, settings: Settings, cwd: Path | None = None) -> None:
        self.settings = settings
        self.cwd = (cwd or Path.cwd()).resolve()
        self.readers: dict[str, SourceReader] = {
            disc.PYTHON: _read_python,
            disc.ADAPTER_CONFIG: _read_adapter_config,
            disc.NOTEBOOK: _read_notebook,
            disc.YAML: _read_trainer_yaml,
            disc.SHELL: _read_trainer_shell,
        }
        self._facts: Any = None
        self._resolved: dict[tuple, Any] = {}
        self._inventories: dict[tuple, Any] = {}
        self.rules: list[Rule] = [r() for r in all_rules()]
        regex_budget.configure(settings.regex_timeout)

    # -- peft facts ------------------------------------------------------------------------
    def facts(self) -> Any:
        if self._facts is None:
            from peftlint.semantics.peft_facts import load_peft_facts

            self._facts = load_peft_facts(self.cache_dir())
        return self._facts

    def config_classes(self) -> set[str]:
        return {name for name, c in self.facts().configs.items() if c.has_target_modules}

    def peft_types(self) -> dict[str, str]:
        return {c.peft_type: name for name, c in self.facts().configs.items()}

    def cache_dir(self) -> Path | None:
        return self.settings.cache_directory()

    # -- the run -----------------------------------------------------------------------------
    def lint_paths(self, paths: Iterable[Path], jobs: int = 1) -> RunResult:
        walker = disc.Walker(self.settings.exclude, root=Path(self.settings.project_root or self.cwd))
        cands = list(walker.walk(paths))
        if jobs > 1 and len(cands) >= 4 * jobs:
            result = self._lint_parallel(cands, jobs)
        else:
            result = RunResult()
            for cand in cands:
                self.lint_file(cand, result)
        result.diagnostics.sort(key=Diagnostic.sort_key)
        result.outcomes.sort(key=lambda o: (o.spec.path, o.spec.span.line, o.spec.span.column))
        result.verdicts.sort()
        return result

    def _lint_parallel(self, cands: list[disc.Candidate], jobs: int) -> RunResult:
        """Files in ``jobs`` worker processes; each worker keeps its own memo of models."""
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor

        self.facts()  # read (or build and cache) peft's facts once, before the workers start
        chunks = [cands[i::jobs] for i in range(jobs)]
        result = RunResult()
        ctx = multiprocessing.get_context("fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn")
        with ProcessPoolExecutor(max_workers=jobs, mp_context=ctx) as pool:
            for part in pool.map(_lint_chunk, [(self.settings, self.cwd, chunk) for chunk in chunks]):
                result.diagnostics += part.diagnostics
                result.files += part.files
                result.outcomes += part.outcomes
                result.verdicts += part.verdicts
                result.digests.update(part.digests)
        return result

    def lint_file(self, cand: disc.Candidate, result: RunResult) -> None:
        path = disc.display_path(cand.path, self.cwd)
        if cand.kind == disc.ORPHAN_WEIGHTS:
            result.files += 1
            self._emit(result, [self._problem(path, Problem(
                "PFT401", f"{cand.path.name} has no adapter_config.json beside it: PeftModel.from_pretrained cannot "
                "load this folder (the config says which method and base model the weights are for); save the "
                "adapter with save_pretrained, or put its adapter_config.json here", subject="adapter_config.json"))],
                None)
            return
        try:
            data = read_limited(cand.path, self.settings.max_file_size)
        except NotReadable as exc:
            result.files += 1
            self._emit(result, [self._problem(path, not_read_problem(exc))], None)
            return
        except OSError as exc:
            result.files += 1
            self._emit(result, [self._problem(path, Problem(SYNTAX, f"cannot read file: {exc.strerror or exc}"))], None)
            return
        result.digests[path] = hashlib.sha256(data).hexdigest()
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
        if not disc.passes_prefilter(cand.kind, text):
            return
        reader = self.readers.get(cand.kind)
        if reader is None:
            return
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
            except RegexTooSlow:
                continue  # a user regex over its time budget: PFT212 reports it, dependent checks are skipped
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
        rule = rule_by_code(code)
        if code == UNRESOLVED:
            msg = (f"base model not resolved: {why}. Model-aware checks were skipped for this {spec.config_class}; "
                   "add `# peftlint: model=<hub id or path>` above it or pass --model")
        else:
            msg = why
        return Diagnostic(code, rule.name if rule else code, rule.severity if rule else Severity.INFO, msg,
                          spec.path, span)

    def _inventory_for(self, spec: AdapterSpec, ref: ModelRef) -> Loaded:
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


def _lint_chunk(args: tuple[Settings, Path, list[disc.Candidate]]) -> RunResult:
    settings, cwd, chunk = args
    linter = Linter(settings, cwd)
    part = RunResult()
    for cand in chunk:
        linter.lint_file(cand, part)
    for o in part.outcomes:  # what crosses the process boundary: findings and summaries only
        o.ctx, o.inventory = None, None
    return part
