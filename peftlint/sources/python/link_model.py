"""Link a PEFT config found in Python code to the base model it is applied to.

The config's value is followed forward (variables, helper parameters, returns) to the call that
applies it (``get_peft_model``, ``PeftModel``, ``add_adapter``, ``inject_adapter_in_model``, a
trainer's ``peft_config=``); the model argument of that call is followed backward to a
``from_pretrained`` call, and the model name passed there is resolved statically, including the
defaults of argparse options, HfArgumentParser dataclass fields and function parameters.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

import libcst as cst

from peftlint.diagnostics import Span
from peftlint.sources.python.scope import ModuleIndex, ValueResolver, dotted_name
from peftlint.spec import ModelRef

HINT_HOW = "# peftlint: model= comment"
NO_MODEL = "no from_pretrained() call or trainer linked to this config"

_HINT = re.compile(r"peftlint:\s*model\s*=\s*(\"[^\"]*\"|'[^']*'|[^\s#,;]+)")
_MAX_STEPS = 16
_MAX_CALL_SITES = 8
# Following values through call sites branches; one link gives up after this many steps.
_BUDGET = 5000
# methods that return the model itself (or the same module tree)
_SAME_MODEL_METHODS = frozenset(
    {"to", "cuda", "cpu", "half", "float", "bfloat16", "eval", "train", "requires_grad_", "to_empty"}
)
_NOT_MODELS = ("Tokenizer", "TokenizerFast", "Config", "Processor", "FeatureExtractor", "ImageProcessor",
               "ImageProcessorFast", "VideoProcessor")
_PEFT_MODEL_CLASSES = frozenset({"PeftModel", "PeftMixedModel"})
_DATACLASS_PARSES = frozenset(
    {"parse_args_into_dataclasses", "parse_yaml_file", "parse_json_file", "parse_dict", "parse_args_and_config"}
)


@dataclass(frozen=True)
class Frame:
    """A call of a function of this file, binding its parameters while following a value."""

    func: cst.FunctionDef
    call: cst.Call


Ctx = tuple[Frame, ...]


@dataclass(frozen=True)
class Load:
    """A call that creates the base model."""

    call: cst.Call
    kind: str  # "transformers" | "unsloth" | "from_config"
    cls: str  # the class as imported, canonical name: "AutoModelForCausalLM", "FastLanguageModel"
    ctx: Ctx


@dataclass(frozen=True)
class RefFound:
    ref: str
    span: Span
    how: str | None = None  # None: the model call's own description is used
    from_default: bool = False
    note: str = ""


@dataclass(frozen=True)
class Namespace:
    """What ``X`` is in ``X.attr``: parsed argparse options, a dataclass (class) or an instance."""

    kind: str  # "argparse" | "class" | "instance"
    cls: str = ""
    call: cst.Call | None = None


def arg_of(call: cst.Call, index: int | None, keyword: str | None) -> cst.BaseExpression | None:
    """The argument passed as ``keyword=`` or at positional ``index``."""
    if keyword is not None:
        for a in call.args:
            if a.keyword is not None and a.keyword.value == keyword:
                return a.value
    if index is None:
        return None
    i = 0
    for a in call.args:
        if a.keyword is not None:
            continue
        if a.star:
            return None
        if i == index:
            return a.value
        i += 1
    return None


def _position(call: cst.Call, arg: cst.Arg) -> int | None:
    if arg.keyword is not None or arg.star:
        return None
    i = 0
    for a in call.args:
        if a.keyword is not None:
            continue
        if a is arg:
            return i
        if a.star:
            return None
        i += 1
    return None


def callee_name(call: cst.Call) -> str:
    name = dotted_name(call.func)
    if name is None:
        return "the call"
    return name.rsplit(".", 1)[-1]


class ModelLinker:
    def __init__(self, index: ModuleIndex, resolver: ValueResolver, base_dir: str | None) -> None:
        self.index = index
        self.values = resolver
        self.base_dir = base_dir
        self._loads_by_function: dict[cst.FunctionDef | None, list[Load]] | None = None
        self._returns: dict[cst.FunctionDef, list[cst.Return]] = {}
        self._steps = 0

    def _exhausted(self) -> bool:
        self._steps += 1
        return self._steps > _BUDGET

    # ------------------------------------------------------------------------ entry points
    def hint(self, call: cst.Call) -> ModelRef | None:
        """``# peftlint: model=ID`` on the call's first line, its statement's first line, or in the
        contiguous comment block right above either."""
        idx = self.index
        lines = list(dict.fromkeys([idx.line(call), idx.line(idx.enclosing_statement(call))]))
        for line in lines:
            for text in idx.comments.get(line, ()):
                found = self._hint_in(text, line)
                if found is not None:
                    return found
        for line in lines:
            ln = line - 1
            while 1 <= ln <= len(idx.lines) and idx.lines[ln - 1].lstrip().startswith("#"):
                found = self._hint_in(idx.lines[ln - 1], ln)
                if found is not None:
                    return found
                ln -= 1
        return None

    def _hint_in(self, text: str, line: int) -> ModelRef | None:
        m = _HINT.search(text)
        if m is None:
            return None
        ref = m.group(1).strip("'\"")
        if not ref:
            return None
        raw = self.index.lines[line - 1] if 0 < line <= len(self.index.lines) else text
        col = raw.find(m.group(0))
        col = col + 1 if col >= 0 else 1
        span = Span(line, col, line, col + len(m.group(0)))
        return ModelRef(ref=ref, how=HINT_HOW, span=span, base_dir=self.base_dir)

    def link_config(self, call: cst.Call) -> tuple[ModelRef | None, str]:
        """The base model a config call is applied to, or None and why not."""
        self._steps = 0
        first_failure = ""
        for consumer, arg, ctx in self._flow(call, (), 0, set()):
            found = self._consumer(consumer, arg)
            if found is None:
                continue
            model_expr, label, is_trainer = found
            if model_expr is None:
                first_failure = first_failure or f"{label} at line {self.index.line(consumer)} is given no model"
                continue
            ref, traced = self._ref_for_model_expr(model_expr, ctx, consumer, label if is_trainer else None)
            if isinstance(ref, ModelRef):
                return ref, ""
            if traced:
                # the model call was found; its name is what cannot be read: do not guess another
                return None, ref
            first_failure = first_failure or ref
        return self._fallback(call, first_failure)

    def link_model_expr(self, owner: cst.Call, model_expr: cst.BaseExpression | None) -> tuple[ModelRef | None, str]:
        """For calls that are configs and take the model themselves (unsloth's get_peft_model)."""
        self._steps = 0
        failure = ""
        if model_expr is not None:
            ref, traced = self._ref_for_model_expr(model_expr, (), owner, None)
            if isinstance(ref, ModelRef):
                return ref, ""
            if traced:
                return None, ref
            failure = ref
        return self._fallback(owner, failure)

    def _fallback(self, call: cst.Call, failure: str) -> tuple[ModelRef | None, str]:
        nearest = self._nearest_load(call)
        if isinstance(nearest, ModelRef):
            return nearest, ""
        return None, failure or nearest or NO_MODEL

    def _returns_of(self, func: cst.FunctionDef) -> list[cst.Return]:
        if func not in self._returns:
            self._returns[func] = returns_of(func)
        return self._returns[func]

    def describe_attribute(self, expr: cst.Attribute) -> str | None:
        """Why ``args.x`` is dynamic, when ``args`` holds parsed command-line arguments."""
        attr = expr.attr.value
        saved, self._steps = self._steps, 0
        try:
            ns = self.namespace(expr.value, (), 0, ())
        finally:
            self._steps = saved
        if ns is None:
            return None
        if ns.kind == "argparse" and attr in self.index.arg_options:
            return f"set at runtime by {self.index.arg_options[attr][0].flag} (argparse)"
        if ns.kind in ("class", "instance") and ns.cls:
            return f"set at runtime by {ns.cls}.{attr}"
        return None

    # ------------------------------------------------------------------- forward: the config
    def _flow(self, expr: cst.CSTNode, ctx: Ctx, depth: int, seen: set) -> Iterator[tuple[cst.Call, cst.Arg, Ctx]]:
        """Calls that receive the value of ``expr`` as an argument, in source order."""
        key = (expr, ctx)
        if depth > _MAX_STEPS or key in seen or self._exhausted():
            return
        seen.add(key)
        idx = self.index
        parent = idx.parent(expr)
        if isinstance(parent, cst.IfExp) and expr is not parent.test:
            yield from self._flow(parent, ctx, depth + 1, seen)
        elif isinstance(parent, cst.Arg) and parent.value is expr:
            call = idx.parent(parent)
            if not isinstance(call, cst.Call):
                return
            yield call, parent, ctx
            func = idx.local_function(call.func)
            if func is not None:
                param = ModuleIndex.param_for_argument(func, call, parent)
                assignment = idx.assignment_of(param) if param is not None else None
                if assignment is not None:
                    inner = ctx + (Frame(func, call),)
                    for ref in idx.references(assignment):
                        yield from self._flow(ref, inner, depth + 1, seen)
        elif isinstance(parent, (cst.Assign, cst.AnnAssign)) and parent.value is expr:
            targets = [t.target for t in parent.targets] if isinstance(parent, cst.Assign) else [parent.target]
            for target in targets:
                if not isinstance(target, cst.Name):
                    continue
                assignment = idx.assignment_of(target)
                if assignment is None:
                    continue
                for ref in idx.references(assignment):
                    yield from self._flow(ref, ctx, depth + 1, seen)
        elif isinstance(parent, cst.Return) and parent.value is expr:
            func = idx.enclosing_function(parent)
            if func is None:
                return
            if ctx and ctx[-1].func is func:
                yield from self._flow(ctx[-1].call, ctx[:-1], depth + 1, seen)
            else:
                for site in idx.call_sites(func)[:_MAX_CALL_SITES]:
                    yield from self._flow(site, (), depth + 1, seen)

    def _consumer(self, call: cst.Call, arg: cst.Arg) -> tuple[cst.BaseExpression | None, str, bool] | None:
        """If ``call`` applies the config passed as ``arg``: (model expression, label, is_trainer)."""
        kw = arg.keyword.value if arg.keyword is not None else None
        pos = _position(call, arg)
        qns = self.index.qualified_names(call.func)
        for qn in qns:
            parts = qn.split(".")
            if parts[0] != "peft":
                continue
            last = parts[-1]
            if last == "get_peft_model" or last in _PEFT_MODEL_CLASSES or last.startswith("PeftModelFor"):
                if kw == "peft_config" or pos == 1:
                    return arg_of(call, 0, "model"), f"{last}()", False
            elif last == "from_pretrained" and len(parts) >= 2 and (
                parts[-2] in _PEFT_MODEL_CLASSES or parts[-2].startswith("PeftModelFor")
            ):
                if kw == "config":
                    return arg_of(call, 0, "model"), f"{parts[-2]}.from_pretrained()", False
            elif last == "inject_adapter_in_model":
                if kw == "peft_config" or pos == 0:
                    return arg_of(call, 1, "model"), "inject_adapter_in_model()", False
        func = call.func
        if isinstance(func, cst.Attribute) and func.attr.value == "add_adapter" and not qns:
            return func.value, "add_adapter()", False
        if kw == "peft_config":
            model = arg_of(call, None, "model")
            name = callee_name(call)
            if model is None and name.endswith("Trainer"):
                model = arg_of(call, 0, None)
            if model is not None:
                return model, f"{name}()", True
        return None

    # ------------------------------------------------------------------- backward: the model
    def _ref_for_model_expr(
        self, expr: cst.BaseExpression, ctx: Ctx, consumer: cst.Call, trainer: str | None
    ) -> tuple[ModelRef | str, bool]:
        """(model ref or why not, whether the expression was traced to a model-loading call)."""
        via = f"model= of {trainer} at line {self.index.line(consumer)}"
        if trainer is not None:
            v = self.values.value(expr)
            if v.is_str:
                return self._model_ref(RefFound(v.value, v.span), via, None, None), True
        traced = self._trace(expr, ctx, 0, ())
        if isinstance(traced, Load):
            return self._ref_from_load(traced), True
        if trainer is not None:
            found = self._resolve_ref(expr, ctx, 0)
            if isinstance(found, RefFound):
                return self._model_ref(found, via, None, None), True
        return traced, False

    def _loader(self, call: cst.Call) -> tuple[str, str] | None:
        for qn in self.index.qualified_names(call.func):
            parts = qn.split(".")
            if len(parts) < 3:
                continue
            root, cls, method = parts[0], parts[-2], parts[-1]
            if root == "transformers" and method in ("from_pretrained", "from_config") and _is_model_class(cls):
                return ("transformers" if method == "from_pretrained" else "from_config"), cls
            if root == "unsloth" and method == "from_pretrained" and cls.startswith("Fast"):
                return "unsloth", cls
        return None

    def _trace(self, expr: cst.BaseExpression, ctx: Ctx, depth: int, path: tuple[int, ...]) -> Load | str:
        """Follow a model expression back to the call that loads the model."""
        idx = self.index
        if depth > _MAX_STEPS or self._exhausted():
            return f"the model variable {idx.code(expr)} could not be followed to its from_pretrained() call"
        if isinstance(expr, cst.Call):
            loader = self._loader(expr)
            if loader is not None:
                kind, cls = loader
                if path == () or (kind == "unsloth" and path == (0,)):
                    return Load(expr, kind, cls, ctx)
                return f"{idx.code(expr)} does not return the model at this position"
            func = idx.local_function(expr.func)
            if func is not None:
                failure = f"{func.name.value}() does not visibly return a loaded model"
                for ret in self._returns_of(func):
                    if ret.value is None:
                        continue
                    res = self._trace(ret.value, ctx + (Frame(func, expr),), depth + 1, path)
                    if isinstance(res, Load):
                        return res
                    failure = res
                return failure
            if isinstance(expr.func, cst.Attribute) and expr.func.attr.value in _SAME_MODEL_METHODS:
                return self._trace(expr.func.value, ctx, depth + 1, path)
            first = arg_of(expr, 0, "model")
            if first is not None and path == ():
                # prepare_model_for_kbit_training(model), get_peft_model(model, ...), ...
                res = self._trace(first, ctx, depth + 1, path)
                if isinstance(res, Load):
                    return res
            return (
                f"the model comes from {idx.code(expr)} at line {idx.line(expr)}, "
                "which is not a from_pretrained() call"
            )
        if isinstance(expr, cst.Subscript):
            i = _int_index(expr)
            if i is not None:
                return self._trace(expr.value, ctx, depth + 1, (i,) + path)
        if isinstance(expr, (cst.Tuple, cst.List)) and path:
            els = expr.elements
            if path[0] < len(els) and isinstance(els[path[0]], cst.Element):
                return self._trace(els[path[0]].value, ctx, depth + 1, path[1:])
        if isinstance(expr, cst.Name):
            binding = idx.latest_binding(expr)
            node = getattr(binding, "node", None)
            if node is None:
                return f"{expr.value} is not defined in this file"
            if isinstance(node, cst.Param):
                return self._trace_param(node, ctx, depth, path)
            if isinstance(node, cst.Name):
                bound = idx.bound_value(node)
                if bound is not None and bound.value is not None and bound.kind in ("assign", "annassign", "walrus"):
                    return self._trace(bound.value, ctx, depth + 1, bound.path + path)
            return f"the model variable {expr.value} is only known at runtime"
        return f"the model {idx.code(expr)} is not loaded visibly in this file"

    def _trace_param(self, param: cst.Param, ctx: Ctx, depth: int, path: tuple[int, ...]) -> Load | str:
        idx = self.index
        func = idx.function_of_param(param)
        pname = param.name.value
        if func is None:
            return f"the model is the lambda argument '{pname}'"
        if ctx and ctx[-1].func is func:
            arg = ModuleIndex.bind_argument(func, ctx[-1].call, param)
            if arg is not None:
                return self._trace(arg, ctx[:-1], depth + 1, path)
        failure = f"the model is the argument '{pname}' of {func.name.value}(), and no call in this file passes it"
        for site in idx.call_sites(func)[:_MAX_CALL_SITES]:
            arg = ModuleIndex.bind_argument(func, site, param)
            if arg is None:
                continue
            res = self._trace(arg, (), depth + 1, path)
            if isinstance(res, Load):
                return res
            failure = res
        return failure

    def _ref_from_load(self, load: Load) -> ModelRef | str:
        idx = self.index
        call = load.call
        method = "from_config" if load.kind == "from_config" else "from_pretrained"
        via = f"{load.cls}.{method}() at line {idx.line(call)}"
        if load.kind == "from_config":
            ref_expr = self._config_source(arg_of(call, 0, "config"), load.ctx)
            if isinstance(ref_expr, str):
                return ref_expr
        elif load.kind == "unsloth":
            ref_expr = arg_of(call, 0, "model_name")
        else:
            ref_expr = arg_of(call, 0, "pretrained_model_name_or_path")
        if ref_expr is None:
            return f"{via} names no model"
        found = self._resolve_ref(ref_expr, load.ctx, 0)
        if isinstance(found, str):
            return found
        return self._model_ref(found, via, load, call)

    def _model_ref(self, found: RefFound, default_how: str, load: Load | None, call: cst.Call | None) -> ModelRef:
        how = found.how or default_how
        if found.note:
            how = f"{how} ({found.note})"
        revision = None
        trust = False
        if call is not None:
            rev = arg_of(call, None, "revision")
            if rev is not None:
                v = self.values.value(rev)
                revision = v.value if v.is_str else None
            trc = arg_of(call, None, "trust_remote_code")
            if trc is not None:
                v = self.values.value(trc)
                trust = (not v.dynamic) and v.value is True
        return ModelRef(
            ref=found.ref,
            how=how,
            span=found.span,
            revision=revision,
            base_dir=self.base_dir,
            model_class=load.cls if load is not None else None,
            from_default=found.from_default,
            trust_remote_code=trust,
        )

    def _config_source(self, expr: cst.BaseExpression | None, ctx: Ctx) -> cst.BaseExpression | str:
        """For ``X.from_config(cfg)``: the model name of ``cfg = AutoConfig.from_pretrained(name)``."""
        idx = self.index
        for _ in range(_MAX_STEPS):
            if expr is None:
                break
            if isinstance(expr, cst.Call):
                for qn in idx.qualified_names(expr.func):
                    parts = qn.split(".")
                    if parts[0] == "transformers" and parts[-1] == "from_pretrained" and len(parts) >= 3:
                        ref = arg_of(expr, 0, "pretrained_model_name_or_path")
                        if ref is not None:
                            return ref
                break
            if isinstance(expr, cst.Name):
                node = getattr(idx.latest_binding(expr), "node", None)
                bound = idx.bound_value(node) if isinstance(node, cst.Name) else None
                if bound is None or bound.value is None or bound.path:
                    break
                expr = bound.value
                continue
            break
        return "the model is built from a config object that is not loaded from a model name"

    def _nearest_load(self, call: cst.Call) -> ModelRef | str:
        """Fallback when no data flow links the config: the only model loaded in the nearest
        enclosing function (then its enclosing functions, then the module)."""
        idx = self.index
        if self._loads_by_function is None:
            self._loads_by_function = {}
            for c in idx.calls:
                loader = self._loader(c)
                if loader is not None:
                    self._loads_by_function.setdefault(idx.enclosing_function(c), []).append(
                        Load(c, loader[0], loader[1], ())
                    )
        scopes: list[cst.FunctionDef | None] = [a for a in idx.ancestors(call) if isinstance(a, cst.FunctionDef)]
        scopes.append(None)
        for scope in scopes:
            loads = self._loads_by_function.get(scope)
            if not loads:
                continue
            where = f"{scope.name.value}()" if scope is not None else "this module"
            refs = [self._ref_from_load(load) for load in loads]
            failed = next((r for r in refs if isinstance(r, str)), None)
            if failed is not None:
                return failed
            good = [r for r in refs if isinstance(r, ModelRef)]
            if len({r.ref for r in good}) > 1:
                return f"several models are loaded in {where} and none is visibly given this config"
            ref = good[0]
            ref.how = f"{ref.how}, the only model loaded in {where}"
            return ref
        return ""

    # --------------------------------------------------------------- the model name itself
    def _resolve_ref(self, expr: cst.BaseExpression, ctx: Ctx, depth: int) -> RefFound | str:
        idx = self.index
        v = self.values.value(expr)
        if v.is_str:
            return RefFound(v.value, v.span)
        if not v.dynamic:
            return f"the model name {idx.code(expr)} is not a string"
        if depth > _MAX_STEPS or self._exhausted():
            return v.reason
        if isinstance(expr, cst.Name):
            node = getattr(idx.latest_binding(expr), "node", None)
            if isinstance(node, cst.Param):
                return self._resolve_param(node, ctx, depth)
            if isinstance(node, cst.Name):
                bound = idx.bound_value(node)
                if bound is not None and bound.value is not None and bound.kind in ("assign", "annassign", "walrus"):
                    value = bound.value
                    for i in bound.path:
                        if isinstance(value, (cst.Tuple, cst.List)) and i < len(value.elements):
                            value = value.elements[i].value
                        else:
                            return v.reason
                    return self._resolve_ref(value, ctx, depth + 1)
            return v.reason
        if isinstance(expr, cst.Attribute):
            return self._resolve_attribute(expr, ctx, depth)
        if isinstance(expr, cst.Call):
            env = self._environment(expr)
            if env is not None:
                return env
        if isinstance(expr, cst.Subscript):
            for qn in idx.qualified_names(expr.value):
                if qn == "os.environ":
                    index = expr.slice[0].slice
                    key = self.values.value(index.value) if isinstance(index, cst.Index) else None
                    name = key.value if key is not None and key.is_str else "?"
                    return f"the model comes from the environment variable {name}, which has no default"
                if qn == "sys.argv":
                    return f"the model comes from the command line ({idx.code(expr)})"
        return v.reason

    def _resolve_param(self, param: cst.Param, ctx: Ctx, depth: int) -> RefFound | str:
        idx = self.index
        func = idx.function_of_param(param)
        pname = param.name.value
        if func is None:
            return f"the model comes from the lambda argument '{pname}'"
        fname = f"{func.name.value}()"
        if ctx and ctx[-1].func is func:
            arg = ModuleIndex.bind_argument(func, ctx[-1].call, param)
            if arg is not None:
                return self._with_note(self._resolve_ref(arg, ctx[:-1], depth + 1), pname, ctx[-1].call, 1)
        else:
            sites = idx.call_sites(func)
            if sites:
                first = sites[0]
                arg = ModuleIndex.bind_argument(func, first, param)
                if arg is not None:
                    found = self._resolve_ref(arg, (), depth + 1)
                    return self._with_note(found, pname, first, len(sites))
        if param.default is None:
            return f"argument '{pname}' of {fname} has no default"
        d = self.values.value(param.default)
        if d.is_str:
            how = f"default of parameter {pname} of {fname} at line {idx.line(param)}"
            return RefFound(d.value, d.span, how=how, from_default=True)
        if not d.dynamic and d.value is None:
            return f"argument '{pname}' of {fname} defaults to None"
        return self._resolve_ref(param.default, (), depth + 1)

    def _with_note(self, found: RefFound | str, pname: str, call: cst.Call, n_sites: int) -> RefFound | str:
        if isinstance(found, str) or found.from_default:
            return found
        line = self.index.line(call)
        where = f"the call at line {line}" if n_sites == 1 else f"the first of {n_sites} calls, at line {line}"
        note = f"{pname} from {where}"
        if found.note:
            note = f"{found.note}; {note}"
        return RefFound(found.ref, found.span, found.how, found.from_default, note)

    def _environment(self, call: cst.Call) -> RefFound | str | None:
        idx = self.index
        qns = idx.qualified_names(call.func)
        if not qns & {"os.getenv", "os.environ.get"}:
            return None
        key_expr = arg_of(call, 0, "key")
        key = self.values.value(key_expr) if key_expr is not None else None
        name = key.value if key is not None and key.is_str else "?"
        default = arg_of(call, 1, "default")
        if default is None:
            return f"the model comes from the environment variable {name}, which has no default"
        d = self.values.value(default)
        if d.is_str:
            how = f"default of environment variable {name} at line {idx.line(call)}"
            return RefFound(d.value, d.span, how=how, from_default=True)
        return f"the model comes from the environment variable {name}, whose default is {idx.code(default)}"

    def _resolve_attribute(self, expr: cst.Attribute, ctx: Ctx, depth: int) -> RefFound | str:
        idx = self.index
        attr = expr.attr.value
        ns = self.namespace(expr.value, ctx, depth, ())
        if ns is not None:
            if ns.kind == "argparse" and attr in idx.arg_options:
                return self._argparse_default(attr)
            if ns.kind == "class":
                return self._field_default(ns.cls, attr)
            if ns.kind == "instance" and ns.call is not None:
                passed = arg_of(ns.call, None, attr)
                if passed is not None:
                    return self._resolve_ref(passed, ctx, depth + 1)
                return self._field_default(ns.cls, attr)
        # the namespace is not visible (e.g. a parameter nobody passes here): look the name up
        if attr in idx.arg_options:
            return self._argparse_default(attr)
        classes = idx.field_classes(attr)
        if classes:
            return self._field_default(classes[0], attr)
        return f"{idx.code(expr)} is only known at runtime"

    def _argparse_default(self, dest: str) -> RefFound | str:
        idx = self.index
        opt = idx.arg_options[dest][0]
        if opt.required or opt.default is None:
            return f"the model comes from {opt.flag}, which has no default"
        d = self.values.value(opt.default)
        if d.is_str:
            how = f"default of {opt.flag} (argparse) at line {idx.line(opt.call)}"
            return RefFound(d.value, d.span, how=how, from_default=True)
        if not d.dynamic and d.value is None:
            return f"the model comes from {opt.flag}, whose default is None"
        return f"the model comes from {opt.flag}, whose default is computed at runtime"

    def _field_default(self, cls_name: str, attr: str) -> RefFound | str:
        idx = self.index
        found = idx.class_field(cls_name, attr)
        if found is None:
            return f"the model comes from {cls_name}.{attr}, which is not defined in this file"
        cls, stmt, value = found
        label = f"{cls.name.value}.{attr}"
        if isinstance(value, cst.Call) and callee_name(value) == "field":
            if arg_of(value, None, "default_factory") is not None:
                return f"the model comes from {label}, whose default is computed at runtime"
            value = arg_of(value, None, "default")
        if value is None:
            return f"the model comes from {label}, which has no default"
        d = self.values.value(value)
        if d.is_str:
            return RefFound(d.value, d.span, how=f"default of {label} at line {idx.line(stmt)}", from_default=True)
        if not d.dynamic and d.value is None:
            return f"the model comes from {label}, whose default is None"
        return f"the model comes from {label}, whose default is computed at runtime"

    def namespace(self, expr: cst.BaseExpression, ctx: Ctx, depth: int, path: tuple[int, ...]) -> Namespace | None:
        """What kind of object ``expr`` is, when it holds parsed command-line arguments."""
        idx = self.index
        if depth > _MAX_STEPS or self._exhausted():
            return None
        if isinstance(expr, cst.Call):
            func = expr.func
            if isinstance(func, cst.Attribute):
                method = func.attr.value
                if method == "parse_args" and path == ():
                    return Namespace("argparse")
                if method == "parse_known_args" and path[:1] == (0,):
                    return Namespace("argparse")
                if method in _DATACLASS_PARSES and len(path) >= 1:
                    classes = self._parser_classes(func.value)
                    if path[0] < len(classes):
                        return Namespace("class", classes[path[0]])
                    return None
            if isinstance(func, cst.Name) and path == ():
                node = getattr(idx.latest_binding(func), "node", None)
                if isinstance(node, cst.ClassDef):
                    return Namespace("instance", node.name.value, expr)
                if isinstance(node, cst.FunctionDef):
                    for ret in self._returns_of(node):
                        if ret.value is not None:
                            ns = self.namespace(ret.value, ctx + (Frame(node, expr),), depth + 1, path)
                            if ns is not None:
                                return ns
            return None
        if isinstance(expr, cst.Subscript):
            i = _int_index(expr)
            return None if i is None else self.namespace(expr.value, ctx, depth + 1, (i,) + path)
        if isinstance(expr, (cst.Tuple, cst.List)) and path:
            els = expr.elements
            if path[0] < len(els) and isinstance(els[path[0]], cst.Element):
                return self.namespace(els[path[0]].value, ctx, depth + 1, path[1:])
            return None
        if isinstance(expr, cst.Name):
            node = getattr(idx.latest_binding(expr), "node", None)
            if isinstance(node, cst.Param):
                ann = node.annotation.annotation if node.annotation is not None else None
                if isinstance(ann, cst.Name) and ann.value in idx.classes and path == ():
                    return Namespace("class", ann.value)
                func = idx.function_of_param(node)
                if func is None:
                    return None
                if ctx and ctx[-1].func is func:
                    arg = ModuleIndex.bind_argument(func, ctx[-1].call, node)
                    return None if arg is None else self.namespace(arg, ctx[:-1], depth + 1, path)
                for site in idx.call_sites(func)[:_MAX_CALL_SITES]:
                    arg = ModuleIndex.bind_argument(func, site, node)
                    if arg is not None:
                        ns = self.namespace(arg, (), depth + 1, path)
                        if ns is not None:
                            return ns
                return None
            if isinstance(node, cst.Name):
                bound = idx.bound_value(node)
                if bound is not None and bound.value is not None and bound.kind in ("assign", "annassign", "walrus"):
                    return self.namespace(bound.value, ctx, depth + 1, bound.path + path)
        return None

    def _parser_classes(self, parser: cst.BaseExpression) -> list[str]:
        """Dataclass names given to ``HfArgumentParser((A, B, C))`` (or TrlParser)."""
        idx = self.index
        for _ in range(_MAX_STEPS):
            if isinstance(parser, cst.Name):
                node = getattr(idx.latest_binding(parser), "node", None)
                bound = idx.bound_value(node) if isinstance(node, cst.Name) else None
                if bound is None or bound.value is None or bound.path:
                    return []
                parser = bound.value
                continue
            break
        if not isinstance(parser, cst.Call):
            return []
        types = arg_of(parser, 0, "dataclass_types")
        if isinstance(types, (cst.Tuple, cst.List)):
            return [e.value.value if isinstance(e.value, cst.Name) else "" for e in types.elements]
        if isinstance(types, cst.Name):
            return [types.value]
        return []


def _is_model_class(cls: str) -> bool:
    if cls in ("AutoConfig", "GenerationConfig", "BitsAndBytesConfig", "pipeline"):
        return False
    return not cls.endswith(_NOT_MODELS)


def _int_index(expr: cst.Subscript) -> int | None:
    if len(expr.slice) != 1 or not isinstance(expr.slice[0].slice, cst.Index):
        return None
    value = expr.slice[0].slice.value
    if isinstance(value, cst.Integer):
        return int(value.evaluated_value)
    return None


def returns_of(func: cst.FunctionDef) -> list[cst.Return]:
    """Return statements of ``func`` itself (not of nested functions or classes)."""
    out: list[cst.Return] = []

    class _Finder(cst.CSTVisitor):
        def visit_FunctionDef(self, node: cst.FunctionDef) -> bool:
            return node is func

        def visit_ClassDef(self, node: cst.ClassDef) -> bool:
            return False

        def visit_Lambda(self, node: cst.Lambda) -> bool:
            return False

        def visit_Return(self, node: cst.Return) -> None:
            out.append(node)

    func.visit(_Finder())
    return out

