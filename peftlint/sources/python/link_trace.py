"""Backward from a model expression to the call(s) that create the model.

``from_pretrained``/``from_config`` of a transformers or diffusers model class, unsloth's loaders,
a component of a diffusers pipeline (``pipe.unet``), or an ``nn.Module`` class of this file;
through variables, helper functions and methods (their return values), parameters (bound at the
call being followed, at call sites, or by pytest fixtures), ``self.x`` set in a test class's
setup, ``copy.deepcopy`` and methods such as ``.to()``.
"""

from __future__ import annotations

import ast
from dataclasses import replace

from peftlint.sources.python.bindings import Binding
from peftlint.sources.python.link_paths import bindings_on_route
from peftlint.sources.python.link_pytest import Pytest
from peftlint.sources.python.link_self import ClassAttributes, not_none
from peftlint.sources.python.linkbase import MAX_CALL_SITES, MAX_STEPS, Budget, Ctx, Frame, Load, arg_of, int_index
from peftlint.sources.python.program import Program

# methods that return the model itself (or the same module tree)
_SAME_MODEL_METHODS = frozenset(
    {"to", "cuda", "cpu", "half", "float", "bfloat16", "eval", "train", "requires_grad_", "to_empty"}
)
_NOT_MODELS = ("Tokenizer", "TokenizerFast", "Config", "Processor", "FeatureExtractor", "ImageProcessor",
               "ImageProcessorFast", "VideoProcessor")
# diffusers classes with from_pretrained/from_config that are not one model
_DIFFUSERS_NOT_MODELS = ("Scheduler", "Config", "Processor", "Pipeline", "Tokenizer", "Mixin")
_DIFFUSERS_NON_MODEL_CLASSES = frozenset({"EMAModel"})
_COPIES = frozenset({"copy.deepcopy", "copy.copy"})
_MODULE_BASES = frozenset({"torch.nn.Module", "torch.nn.modules.module.Module", "transformers.PreTrainedModel",
                           "transformers.modeling_utils.PreTrainedModel"})


class ModelTracer:
    def __init__(self, program: Program, budget: Budget, attributes: ClassAttributes, pytest: Pytest) -> None:
        self.p = program
        self.budget = budget
        self.attributes = attributes
        self.pytest = pytest
        self._module_classes: dict[ast.ClassDef, bool] = {}
        # the first ``X.from_pretrained(...)`` of an unknown class met while tracing (reset by the linker)
        self.unreadable: ast.Call | None = None
        # the config's route to the call whose model is traced (see ``link_paths``; set by the linker)
        self.route: tuple[ast.AST, ...] = ()

    def loader(self, call: ast.Call) -> tuple[str, str] | None:
        for qn in self.p.qualified_names(call.func):
            parts = qn.split(".")
            if len(parts) < 3:
                continue
            root, cls, method = parts[0], parts[-2], parts[-1]
            if root == "transformers" and method in ("from_pretrained", "from_config") and _is_model_class(cls):
                return ("transformers" if method == "from_pretrained" else "from_config"), cls
            if root == "unsloth" and method == "from_pretrained" and cls.startswith("Fast"):
                return "unsloth", cls
            if root == "diffusers" and method in ("from_pretrained", "from_config"):
                if _is_pipeline_class(cls):
                    return ("pipeline", cls) if method == "from_pretrained" else None
                if _is_diffusers_model_class(cls):
                    return ("diffusers" if method == "from_pretrained" else "diffusers_from_config"), cls
        cls_def = self.p.local_class(call.func)
        if cls_def is not None and self._is_module_class(cls_def, 0):
            return "local", cls_def.name
        return None

    def _is_module_class(self, cls: ast.ClassDef, depth: int) -> bool:
        """A class of this file deriving from ``torch.nn.Module`` (directly or through local bases)."""
        if cls in self._module_classes:
            return self._module_classes[cls]
        self._module_classes[cls] = False  # cycles
        found = False
        for base in cls.bases:
            if self.p.qualified_names(base) & _MODULE_BASES:
                found = True
            else:
                local = self.p.local_class(base)
                found = local is not None and depth < MAX_STEPS and self._is_module_class(local, depth + 1)
            if found:
                break
        self._module_classes[cls] = found
        return found

    def trace(self, expr: ast.expr, ctx: Ctx, depth: int, path: tuple[int, ...]) -> list[Load] | str:
        """Follow a model expression back to the call(s) that load the model."""
        p = self.p
        if depth > MAX_STEPS or self.budget.exhausted():
            return f"the model variable {p.code(expr)} could not be followed to its from_pretrained() call"
        if isinstance(expr, ast.Call):
            loader = self.loader(expr)
            if loader is not None:
                kind, cls = loader
                if path == () or (kind == "unsloth" and path == (0,)):
                    return [Load(expr, kind, cls, ctx)]
                return f"{p.code(expr)} does not return the model at this position"
            func = p.local_function(expr.func)
            if func is not None:
                failure = f"{func.name}() does not visibly return a loaded model"
                for ret in p.returns_of(func):
                    if ret.value is None:
                        continue
                    res = self.trace(ret.value, ctx + (Frame(func, expr),), depth + 1, path)
                    if isinstance(res, list):
                        return res
                    failure = res
                return failure
            methods = self.attributes.called_methods(expr.func, ctx)
            if methods:
                return self._trace_methods(expr, methods, ctx, depth, path)
            if isinstance(expr.func, ast.Attribute) and expr.func.attr in _SAME_MODEL_METHODS:
                return self.trace(expr.func.value, ctx, depth + 1, path)
            if p.qualified_names(expr.func) & _COPIES and path == ():
                copied = arg_of(p, expr, 0, "x")
                if copied is not None:
                    return self.trace(copied, ctx, depth + 1, path)
            first = arg_of(p, expr, 0, "model")
            if first is not None and path == ():
                # prepare_model_for_kbit_training(model), get_peft_model(model, ...), ...
                res = self.trace(first, ctx, depth + 1, path)
                if isinstance(res, list):
                    return res
            if isinstance(expr.func, ast.Attribute) and expr.func.attr == "from_pretrained" and self.unreadable is None:
                self.unreadable = expr  # ``text_encoder_cls.from_pretrained(..., subfolder=...)``: the class is unknown
            return f"the model comes from {p.code(expr)} at line {p.line(expr)}, which is not a from_pretrained() call"
        if isinstance(expr, ast.Subscript):
            i = int_index(expr)
            if i is not None:
                return self.trace(expr.value, ctx, depth + 1, (i,) + path)
        if isinstance(expr, (ast.Tuple, ast.List)) and path:
            els = expr.elts
            if path[0] < len(els) and not isinstance(els[path[0]], ast.Starred):
                return self.trace(els[path[0]], ctx, depth + 1, path[1:])
        if isinstance(expr, ast.Attribute) and path == ():
            owner = self.attributes.owner(expr.value)
            if owner is not None:
                return self._trace_self(expr, owner[1], ctx, depth)
            components = self._trace_component(expr, ctx, depth)
            if components is not None:
                return components
        if isinstance(expr, ast.Name):
            bindings = bindings_on_route(p, expr, self.route)
            if not bindings:
                return f"{expr.id} is not defined in this file"
            loads: list[Load] = []
            failure = ""
            for b in bindings:  # each assignment the config may meet: it is checked against each model
                res = self._trace_binding(b, expr, ctx, depth, path)
                if isinstance(res, str):
                    failure = failure or res
                else:
                    loads.extend(res)
            return loads or failure
        return f"the model {p.code(expr)} is not loaded visibly in this file"

    def _trace_binding(self, b: Binding, expr: ast.Name, ctx: Ctx, depth: int, path: tuple[int, ...]) -> list[Load] | str:
        if b.kind == "param" and isinstance(b.node, ast.arg):
            return self._trace_param(b.node, ctx, depth, path)
        if isinstance(b.node, ast.Name) and b.value is not None and b.kind in ("assign", "annassign", "walrus"):
            return self.trace(b.value, ctx, depth + 1, b.path + path)
        return f"the model variable {expr.id} is only known at runtime"

    def _trace_component(self, expr: ast.Attribute, ctx: Ctx, depth: int) -> list[Load] | None:
        """``pipe.unet``: the component of a diffusers pipeline (its attribute names its folder)."""
        if expr.attr.startswith("_"):
            return None
        res = self.trace(expr.value, ctx, depth + 1, ())
        if isinstance(res, str) or not res or any(load.kind != "pipeline" or load.component for load in res):
            return None
        return [replace(load, component=expr.attr) for load in res]

    def _trace_methods(self, call: ast.Call, methods: list, ctx: Ctx, depth: int, path: tuple[int, ...]) -> list[Load] | str:
        """What ``self.helper(...)`` returns, for every override that may run (all must load a model)."""
        loads: list[Load] = []
        for method, receivers, skip in methods:
            failure = f"{method.name}() does not visibly return a loaded model"
            found: list[Load] | None = None
            for ret in self.p.returns_of(method):
                if ret.value is None:
                    continue
                res = self.trace(ret.value, ctx + (Frame(method, call, receivers, skip),), depth + 1, path)
                if isinstance(res, list):
                    found = res
                    break
                failure = res
            if found is None:
                return failure
            loads.extend(found)
        return loads

    def _trace_self(self, expr: ast.Attribute, method: ast.AST, ctx: Ctx, depth: int) -> list[Load] | str:
        """``self.model``: what the class (or each subclass) stores there."""
        p = self.p
        receivers = ctx[-1].receivers if ctx and ctx[-1].func is method else ()
        found_values = not_none(self.attributes.values(expr, receivers) or [])
        if not found_values:
            return f"the model {p.code(expr)} is not set in its class or the bases of its class in this file"
        loads: list[Load] = []
        for av in found_values:
            if av.value is None:
                return f"the model {p.code(expr)} is set at runtime (line {p.line(av.statement)})"
            setup = p.enclosing_function(av.statement)
            inner: Ctx = (Frame(setup, None, av.receivers),) if setup is not None else ()
            res = self.trace(av.value, inner, depth + 1, ())
            if isinstance(res, str):
                return res
            loads.extend(res)
        return loads

    def _trace_param(self, param: ast.arg, ctx: Ctx, depth: int, path: tuple[int, ...]) -> list[Load] | str:
        p = self.p
        func = p.function_of_param(param)
        pname = param.arg
        if func is None:
            return f"the model is the lambda argument '{pname}'"
        if ctx and ctx[-1].func is func and ctx[-1].call is not None:
            call = ctx[-1].call
            arg = p.bind_argument(func, call, param, ctx[-1].skip) if call is not None else None
            if arg is not None:
                return self.trace(arg, ctx[:-1], depth + 1, path)
        failure = f"the model is the argument '{pname}' of {func.name}(), and no call in this file passes it"
        sites = p.call_sites(func)
        found: list[Load] = []
        for site in sites[:MAX_CALL_SITES]:  # each call may pass another model: the config meets each
            arg = p.bind_argument(func, site, param)
            if arg is None:
                continue
            res = self.trace(arg, (), depth + 1, path)
            if isinstance(res, list):
                found.extend(load for load in res if all(load.call is not f.call for f in found))
            else:
                failure = res
        if found:
            return found
        if not sites and self.pytest.receives_fixtures(func):
            fixture = self.pytest.fixture(func, pname)
            if fixture is not None:
                loads: list[Load] = []
                for result in self.pytest.results(fixture):
                    res = self.trace(result, (Frame(fixture, None),), depth + 1, path)
                    if isinstance(res, str):
                        return res
                    loads.extend(res)
                return loads or f"fixture {fixture.name}() returns nothing visible"
        return failure


def _is_pipeline_class(cls: str) -> bool:
    return cls.endswith("Pipeline") or cls.startswith("AutoPipeline")


def _is_diffusers_model_class(cls: str) -> bool:
    return cls not in _DIFFUSERS_NON_MODEL_CLASSES and not cls.endswith(_DIFFUSERS_NOT_MODELS)


def _is_model_class(cls: str) -> bool:
    if cls in ("AutoConfig", "GenerationConfig", "BitsAndBytesConfig", "pipeline"):
        return False
    return not cls.endswith(_NOT_MODELS)
