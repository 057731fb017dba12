"""Python source → AdapterSpecs, read statically with libcst (the linted code is never executed).

Every call of a PEFT config class (``LoraConfig(...)``, ``peft.IA3Config(...)``, aliases,
submodule imports; resolved by qualified name so a local ``class LoraConfig`` does not match) and
every unsloth ``FastLanguageModel.get_peft_model(model, ...)`` becomes one spec: its keyword
values resolved statically (see ``pyscope.ValueResolver``) and its base model linked through the
code (see ``pymodel.ModelLinker``).

What else the reader saw goes to ``spec.facts`` (see ``SourceFacts``); for unsloth specs ``tool``
and ``call`` say so (unsloth accepts keywords that ``LoraConfig`` does not).
"""

from __future__ import annotations

import os
from collections.abc import Collection

import libcst as cst

from peftlint.diagnostics import Span
from peftlint.sources import Problem, SourceResult
from peftlint.sources.python.link_model import ModelLinker
from peftlint.sources.python.parse import parse_python
from peftlint.sources.python.scope import ModuleIndex, ValueResolver
from peftlint.spec import AdapterSpec, Value

UNSLOTH_MARKER = "get_peft_model"


def extract_python(text: str, path: str, abspath: str, config_classes: Collection[str]) -> SourceResult:
    """Read one Python file and return a spec per PEFT config call, plus file-level problems.

    Never raises: syntax errors become ``PFT902`` problems, internal failures ``PFT999``.
    """
    try:
        return _extract(text, path, abspath, frozenset(config_classes))
    except (KeyboardInterrupt, SystemExit):
        raise
    except BaseException as exc:  # noqa: BLE001 - includes pyo3's PanicException from libcst
        message = f"internal error while reading Python source: {_describe(exc)}"
        return SourceResult(problems=[Problem("PFT999", message)])


def _describe(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0][:200]}" if text else type(exc).__name__


def _extract(text: str, path: str, abspath: str, classes: frozenset[str]) -> SourceResult:
    if isinstance(text, bytes):  # defensive: the engine passes str
        text = text.decode("utf-8", errors="replace")
    relevant = any(name in text for name in classes) or UNSLOTH_MARKER in text
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        return SourceResult(problems=[Problem("PFT902", f"cannot parse: the text is not valid Unicode ({exc.reason})")])
    outcome = parse_python(text, need_tree=relevant)
    if outcome.code:
        return SourceResult(problems=[Problem(outcome.code, outcome.message, outcome.span)])
    if outcome.module is None:
        return SourceResult()
    try:
        index = ModuleIndex(outcome.module, text)
    except RecursionError:
        return SourceResult(problems=[Problem("PFT999", "the file is nested too deeply to be analysed statically")])
    return _Extractor(index, path, abspath, classes).run()


class _Extractor:
    def __init__(self, index: ModuleIndex, path: str, abspath: str, classes: frozenset[str]) -> None:
        self.index = index
        self.path = path
        self.abspath = abspath
        self.classes = classes
        self.values = ValueResolver(index)
        base_dir = os.path.dirname(abspath) if abspath else None
        self.linker = ModelLinker(index, self.values, base_dir)
        self.values.describe_attribute = self.linker.describe_attribute

    def run(self) -> SourceResult:
        result = SourceResult()
        for call in self.index.calls:
            config_class, unsloth = self._classify(call)
            if config_class is None:
                continue
            try:
                spec = self._spec(call, config_class, unsloth)
            except RecursionError:
                result.problems.append(
                    Problem("PFT999", f"{config_class} call is nested too deeply to be analysed", self.index.span(call))
                )
                continue
            except Exception as exc:  # noqa: BLE001 - one bad call must not lose the others
                message = f"internal error while reading {config_class}(): {_describe(exc)}"
                result.problems.append(Problem("PFT999", message, self.index.span(call)))
                continue
            try:
                self._link(spec, call, unsloth)
            except Exception as exc:  # noqa: BLE001
                spec.facts.model_unresolved = f"internal error while linking the model: {_describe(exc)}"
                message = f"internal error while linking {config_class}() to its model: {_describe(exc)}"
                result.problems.append(Problem("PFT999", message, spec.span))
            result.specs.append(spec)
        return result

    def _classify(self, call: cst.Call) -> tuple[str | None, str | None]:
        """(canonical config class, unsloth class or None) for a config call, else (None, None)."""
        for qn in self.index.qualified_names(call.func):
            parts = qn.split(".")
            if parts[0] == "peft" and len(parts) >= 2 and parts[-1] in self.classes:
                return parts[-1], None
            if (
                parts[0] == "unsloth"
                and len(parts) >= 3
                and parts[-1] == "get_peft_model"
                and parts[-2].startswith("Fast")
                and "LoraConfig" in self.classes
            ):
                return "LoraConfig", parts[-2]
        return None, None

    def _spec(self, call: cst.Call, config_class: str, unsloth: str | None) -> AdapterSpec:
        idx = self.index
        spec = AdapterSpec(
            path=self.path,
            source="python",
            config_class=config_class,
            method="",
            span=idx.span(call),
            abspath=self.abspath,
        )
        keyword_spans: dict[str, Span] = {}
        arg_spans: dict[str, Span] = {}
        opaque_args: list[str] = []
        positional = 0
        for arg in call.args:
            if arg.star == "**":
                if not self._expand_kwargs(arg, spec.fields, keyword_spans, arg_spans):
                    opaque_args.append(f"**{idx.code(arg.value, 40)}")
                continue
            if arg.star == "*":
                opaque_args.append(f"*{idx.code(arg.value, 40)}")
                continue
            if arg.keyword is None:
                positional += 1
                if unsloth and positional == 1:
                    continue  # the model
                opaque_args.append(f"positional argument {idx.code(arg.value, 40)}")
                continue
            name = arg.keyword.value
            if unsloth and name == "model":
                continue
            spec.fields[name] = self.values.value(arg.value)
            keyword_spans[name] = _join(idx.span(arg.keyword), idx.span(arg.value))
            arg_spans[name] = idx.span(arg.value)
        spec.opaque = bool(opaque_args)
        task = spec.fields.get("task_type")
        spec.task_type = task.value if task is not None and task.is_str else None
        spec.facts.key_spans = keyword_spans
        spec.facts.arg_spans = arg_spans
        spec.facts.opaque_args = opaque_args
        if unsloth:
            spec.facts.tool = "unsloth"
            spec.facts.call = f"{unsloth}.get_peft_model"
        return spec

    def _expand_kwargs(
        self, arg: cst.Arg, fields: dict[str, Value], keyword_spans: dict[str, Span], arg_spans: dict[str, Span]
    ) -> bool:
        """``**{...}`` / ``**CONSTANT_DICT`` with static string keys: read as keywords."""
        whole = self.values.value(arg.value)
        if whole.dynamic or whole.kind != "dict" or whole.keys is None or whole.members is None:
            return False
        if not all(isinstance(k, str) for k in whole.value):
            return False
        for key, key_value in whole.keys.items():
            fields[key] = whole.members[key]
            keyword_spans[key] = key_value.span
            arg_spans[key] = whole.members[key].span
        return True

    def _link(self, spec: AdapterSpec, call: cst.Call, unsloth: str | None) -> None:
        hint = self.linker.hint(call)
        if hint is not None:
            spec.model = hint
            return
        if unsloth:
            model_expr = None
            for a in call.args:
                if a.keyword is not None and a.keyword.value == "model":
                    model_expr = a.value
            if model_expr is None and call.args and call.args[0].keyword is None and not call.args[0].star:
                model_expr = call.args[0].value
            ref, why = self.linker.link_model_expr(call, model_expr)
        else:
            ref, why = self.linker.link_config(call)
        spec.model = ref
        if ref is None:
            spec.facts.model_unresolved = why


def _join(first: Span, last: Span) -> Span:
    return Span(first.line, first.column, last.end_line, last.end_column)

