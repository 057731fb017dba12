"""Python source → AdapterSpecs, read statically from the stdlib ``ast`` (the code is never executed).

Every call of a PEFT config class (``LoraConfig(...)``, ``peft.IA3Config(...)``, aliases,
submodule imports; resolved by qualified name so a local ``class LoraConfig`` does not match) and
every unsloth ``FastLanguageModel.get_peft_model(model, ...)`` becomes one spec: its keyword
values resolved statically (``evaluate.ValueResolver``) and its base model(s) linked through the
code (``link_model.ModelLinker``).

What else the reader saw goes to ``spec.facts`` (see ``SourceFacts``); for unsloth specs ``tool``
and ``call`` say so (unsloth accepts keywords that ``LoraConfig`` does not).
"""

from __future__ import annotations

import ast
import os
from collections.abc import Collection

from peftlint.codes import Code
from peftlint.diagnostics import Span
from peftlint.sources import MAX_CONFIGS, Problem, SourceResult, too_many_configs
from peftlint.sources.python.evaluate import ValueResolver
from peftlint.sources.python.index import Arg
from peftlint.sources.python.intent import read_intent
from peftlint.sources.python.link_mmengine import TOOL as MMENGINE_TOOL
from peftlint.sources.python.link_mmengine import dict_config_class, link_dict_config, xtuner_targets
from peftlint.sources.python.link_model import ModelLinker
from peftlint.sources.python.linkbase import Component
from peftlint.sources.python.parse import parse_python
from peftlint.sources.python.program import Program
from peftlint.spec import AdapterSpec, ModelRef, SourceKind, Value

UNSLOTH_MARKER = "get_peft_model"
NEWER_SYNTAX = Code.NEWER_SYNTAX  # see rules/meta/pft908_newer_syntax.py
# Python's parser needs some 450 times a file's size in memory: a 6 MB file of a million short
# lines took 1.9 GB. Real modules have a few thousand lines (the largest in transformers ~10,000).
MAX_LINES = 200_000
NOT_READ = Code.FILE_NOT_READ


def extract_python(text: str, path: str, abspath: str, config_classes: Collection[str]) -> SourceResult:
    """Read one Python file and return a spec per PEFT config call, plus file-level problems.

    Never raises: syntax errors become ``PFT902`` problems, internal failures ``PFT999``.
    """
    lines = text.count("\n")
    if lines > MAX_LINES:
        return SourceResult(problems=[Problem(NOT_READ, (
            f"not read: the file has {lines:,} lines; peftlint analyses Python files of at most {MAX_LINES:,} lines "
            "(parsing takes several hundred times the file's size in memory)"))])
    try:
        return _extract(text, path, abspath, frozenset(config_classes))
    except (KeyboardInterrupt, SystemExit):
        raise
    except MemoryError:
        return SourceResult(problems=[Problem(NOT_READ, "not read: parsing this file needs more memory than is available")])
    except RecursionError:  # the parse succeeded (CPython could compile it): peftlint's own limit
        return SourceResult(problems=[Problem(NOT_READ, "not read: the file nests too deeply for peftlint to analyse it")])
    except Exception as exc:  # noqa: BLE001 - a reader bug must not stop the run
        message = f"internal error while reading Python source: {_describe(exc)}"
        return SourceResult(problems=[Problem(Code.INTERNAL_ERROR, message)])


def _describe(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0][:200]}" if text else type(exc).__name__


def _extract(text: str, path: str, abspath: str, classes: frozenset[str]) -> SourceResult:
    if isinstance(text, bytes):  # defensive: the engine passes str
        text = text.decode("utf-8", errors="replace")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        return SourceResult(problems=[Problem(Code.SYNTAX_ERROR, f"cannot parse: the text is not valid Unicode ({exc.reason})")])
    outcome = parse_python(text)
    if outcome.code:
        return SourceResult(problems=[Problem(Code(outcome.code), outcome.message, outcome.span)])
    relevant = any(name in text for name in classes) or UNSLOTH_MARKER in text
    if outcome.tree is None or not relevant:
        return SourceResult()
    result = _Extractor(Program(outcome.tree, text), path, abspath, classes).run()
    if outcome.note:  # syntax of a newer Python, read by the fallback parser
        result.problems.insert(0, Problem(NEWER_SYNTAX, outcome.note, outcome.note_span or Span(1, 1, 1, 1)))
    return result


class _Extractor:
    def __init__(self, program: Program, path: str, abspath: str, classes: frozenset[str]) -> None:
        self.p = program
        self.path = path
        self.abspath = abspath
        self.classes = classes
        self.values = ValueResolver(program)
        base_dir = os.path.dirname(abspath) if abspath else None
        self.linker = ModelLinker(program, self.values, base_dir)
        self.values.describe_attribute = self.linker.describe_attribute
        wanted = classes | {UNSLOTH_MARKER}
        # names a config class may be called by: its own, or an alias it is imported as
        self.callable_names = wanted | {pair.split("/")[1] for pair in program.imported if pair.split("/")[0] in wanted}

    def run(self) -> SourceResult:
        result = SourceResult()
        for call in self.p.calls:
            if not self._may_be_config(call):
                continue
            config_class, unsloth = self._classify(call)
            if config_class is None:
                continue
            if len(result.specs) == MAX_CONFIGS:  # the rest are not even read
                result.problems.append(too_many_configs(self.p.span(call)))
                break
            try:
                spec = self._spec(call, config_class, unsloth)
            except RecursionError:
                result.problems.append(
                    Problem(Code.DYNAMIC_VALUE, f"{config_class} call nests too deeply to be read statically; it was "
                                                "not checked", self.p.span(call))
                )
                continue
            except Exception as exc:  # noqa: BLE001 - one bad call must not lose the others
                message = f"internal error while reading {config_class}(): {_describe(exc)}"
                result.problems.append(Problem(Code.INTERNAL_ERROR, message, self.p.span(call)))
                continue
            try:
                self._link(spec, call, unsloth)
            except Exception as exc:  # noqa: BLE001
                spec.facts.model_unresolved = f"internal error while linking the model: {_describe(exc)}"
                message = f"internal error while linking {config_class}() to its model: {_describe(exc)}"
                result.problems.append(Problem(Code.INTERNAL_ERROR, message, spec.span))
            result.specs.append(spec)
        if self.p.scopes.exhausted:
            result.problems.append(Problem(Code.DYNAMIC_VALUE, (
                "not every use of the configs was followed: names in this file are bound and read so often that "
                "peftlint stopped searching their reads; a config whose model is linked through them is reported "
                "as unresolved")))
        return result

    def _may_be_config(self, call: ast.Call) -> bool:
        """Cheap test before resolving names: the callee ends with a config class or get_peft_model."""
        func = call.func
        last = func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else None
        return last in self.callable_names or (last == "dict" and any(k.arg == "type" for k in call.keywords))

    def _classify(self, call: ast.Call) -> tuple[str | None, str | None]:
        """(canonical config class, unsloth class or None) for a config call, else (None, None);
        ``dict(type=LoraConfig, ...)`` (mmengine/xtuner) is (LoraConfig, "dict")."""
        in_dict = dict_config_class(self.p, call, self.classes)
        if in_dict is not None:
            return in_dict, MMENGINE_TOOL
        for qn in self.p.qualified_names(call.func):
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

    def _spec(self, call: ast.Call, config_class: str, unsloth: str | None) -> AdapterSpec:
        if unsloth == MMENGINE_TOOL:
            spec = self._call_spec(call, config_class, None, skip="type")
            spec.facts.tool = MMENGINE_TOOL
            xtuner_targets(self.p, call, spec)
            return spec
        return self._call_spec(call, config_class, unsloth)

    def _call_spec(self, call: ast.Call, config_class: str, unsloth: str | None, skip: str = "") -> AdapterSpec:
        p = self.p
        spec = AdapterSpec(
            path=self.path,
            source=SourceKind.PYTHON,
            config_class=config_class,
            method="",
            span=p.span(call),
            abspath=self.abspath,
        )
        keyword_spans: dict[str, Span] = {}
        arg_spans: dict[str, Span] = {}
        opaque_args: list[str] = []
        positional = 0
        for arg in p.args(call):
            if arg.star == "**":
                if not self._expand_kwargs(arg, spec.fields, keyword_spans, arg_spans):
                    opaque_args.append(f"**{p.code(arg.value, 40)}")
                continue
            if arg.star == "*":
                opaque_args.append(f"*{p.code(arg.value, 40)}")
                continue
            if arg.keyword is None:
                positional += 1
                if unsloth and positional == 1:
                    continue  # the model
                opaque_args.append(f"positional argument {p.code(arg.value, 40)}")
                continue
            name = arg.keyword
            if (unsloth and name == "model") or name == skip:
                continue
            assert isinstance(arg.node, ast.keyword)
            spec.fields[name] = self.values.value(arg.value)
            keyword_spans[name] = _join(p.keyword_span(arg.node), p.span(arg.value))
            arg_spans[name] = p.span(arg.value)
        spec.opaque = bool(opaque_args)
        task = spec.fields.get("task_type")
        spec.task_type = task.value if task is not None and task.is_str else None
        spec.facts.key_spans = keyword_spans
        spec.facts.arg_spans = arg_spans
        spec.facts.opaque_args = opaque_args
        read_intent(p, call, spec.facts)
        if unsloth:
            spec.facts.tool = "unsloth"
            spec.facts.call = f"{unsloth}.get_peft_model"
        return spec

    def _expand_kwargs(
        self, arg: Arg, fields: dict[str, Value], keyword_spans: dict[str, Span], arg_spans: dict[str, Span]
    ) -> bool:
        """``**{...}`` / ``**CONSTANT_DICT`` with static string keys: read as keywords (a member
        computed at runtime becomes a dynamic field; an unknown set of keys is not expanded)."""
        if isinstance(arg.value, ast.IfExp):
            return self._expand_either(arg.value, fields, keyword_spans, arg_spans)
        whole = self.values.value(arg.value)
        if whole.keys is None or whole.members is None or (not whole.dynamic and whole.kind != "dict"):
            return False
        if not all(isinstance(k.value, str) for k in whole.keys.values()):
            return False
        for key, key_value in whole.keys.items():
            fields[key] = whole.members[key]
            keyword_spans[key] = key_value.span
            arg_spans[key] = whole.members[key].span
        return True

    def _expand_either(self, expr: ast.IfExp, fields: dict[str, Value], keyword_spans: dict[str, Span],
                       arg_spans: dict[str, Span]) -> bool:
        """``**({...} if cond else {...})``: the keys of either dict; a key whose value the two do
        not share is chosen at runtime."""
        arms = [self.values.value(e) for e in (expr.body, expr.orelse)]
        if any(a.keys is None or a.members is None or (not a.dynamic and a.kind != "dict") for a in arms):
            return False
        if not all(isinstance(k.value, str) for a in arms for k in (a.keys or {}).values()):
            return False
        reason = f"chosen at runtime by the condition {self.p.code(expr.test, 40)}"
        for arm in arms:
            for key, key_value in (arm.keys or {}).items():
                member = (arm.members or {})[key]
                others = [(a.members or {}).get(key) for a in arms]
                same = all(o is not None and o.fully_static and member.fully_static and o.value == member.value
                           for o in others)
                fields[key] = member if same else Value(None, member.span, dynamic=True, kind="dynamic", reason=reason)
                keyword_spans[key] = key_value.span
                arg_spans[key] = member.span
        return True

    def _link(self, spec: AdapterSpec, call: ast.Call, unsloth: str | None) -> None:
        if unsloth == MMENGINE_TOOL:
            hint = self.linker.hint(call)
            spec.model, why = (hint, "") if hint is not None else link_dict_config(self.p, self.values, call)
            if spec.model is None:
                spec.facts.model_unresolved = why
            return
        hint = self.linker.hint(call)
        if hint is not None:
            spec.model = hint
            # when the code loads one component of a repository, the comment's model means that part
            refs, _ = self._linked(call, unsloth)
            self._changed_later(spec)
            self._component_facts(spec, refs[:1])
            return
        refs, why = self._linked(call, unsloth)
        self._changed_later(spec)
        spec.model = refs[0] if refs else None
        spec.other_models = refs[1:]
        if not refs:
            spec.facts.model_unresolved = why
            self._component_facts(spec, [])

    def _changed_later(self, spec: AdapterSpec) -> None:
        """A field set on the config object after it is built (``config.target_modules = ...``,
        ``setattr(config, name, value)``) is unknown, never the value (or the default) of the call.
        The call's own arguments stay as written (peft checked them when the config was built)."""
        p = self.p
        facts = spec.facts
        for node in self.linker.changes:
            where = f"{p.code(node, 50)} at line {p.line(node)}"
            reason = f"changed after the config is built ({where})"
            if isinstance(node, ast.Attribute):
                facts.changed_later[node.attr] = Value(None, p.span(node), dynamic=True, kind="dynamic", reason=reason)
                continue
            name = self.values.value(node.args[1]) if len(node.args) > 1 else None
            if name is not None and name.is_str:
                facts.changed_later[name.value] = Value(None, p.span(node), dynamic=True, kind="dynamic",
                                                        reason=reason)
            elif not facts.changed_unknown:
                facts.changed_unknown = where

    def _component_facts(self, spec: AdapterSpec, refs: list[ModelRef]) -> None:
        """The repository folder (and class, library) of the model the code loads, when it loads
        one component (``subfolder="unet"``, ``pipe.unet``), for a model named elsewhere."""
        if refs:
            ref = refs[0]
            found = Component(ref.subfolder, ref.model_class, ref.library) if ref.subfolder else None
        else:
            found = self.linker.component
        if found is None:
            return
        spec.facts.subfolder = found.subfolder
        spec.facts.model_class = found.model_class
        spec.facts.library = found.library

    def _linked(self, call: ast.Call, unsloth: str | None) -> tuple[list[ModelRef], str]:
        if unsloth:
            model_expr = None
            args = self.p.args(call)
            for a in args:
                if a.keyword == "model":
                    model_expr = a.value
            if model_expr is None and args and args[0].keyword is None and not args[0].star:
                model_expr = args[0].value
            return self.linker.link_model_expr(call, model_expr)
        return self.linker.link_config(call)


def _join(first: Span, last: Span) -> Span:
    return Span(first.line, first.column, last.end_line, last.end_column)
