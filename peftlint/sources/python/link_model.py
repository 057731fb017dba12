"""Link a PEFT config found in Python code to the base model(s) it is applied to.

The config's value is followed forward (``link_flow``) to the call that applies it; the model
argument of that call is followed backward here to the call that loads the model
(``from_pretrained``, ``from_config``, unsloth, or an ``nn.Module`` class of this file), and the
model name passed there is resolved statically (``link_names``). When a config is checked against
several models (pytest parameters, subclasses overriding a model id), all of them are returned.
"""

from __future__ import annotations

import ast

from peftlint.sources.python.evaluate import ValueResolver
from peftlint.sources.python.hints import find_hint
from peftlint.sources.python.link_flow import ConfigFlow
from peftlint.sources.python.link_names import NameResolver
from peftlint.sources.python.link_pytest import Pytest
from peftlint.sources.python.link_self import ClassAttributes
from peftlint.sources.python.link_trace import ModelTracer
from peftlint.sources.python.linkbase import (
    MAX_STEPS,
    Budget,
    Component,
    Ctx,
    Load,
    RefFound,
    arg_of,
    position,
)
from peftlint.sources.python.program import Program
from peftlint.spec import ModelRef

NO_MODEL = "no from_pretrained() call or trainer linked to this config"
NO_CONFIG_SOURCE = "the model is built from a config object that is not loaded from a model name"
# TRL trainers given a model id load it with these auto classes (trl/trainer/*_trainer.py); the
# others load a causal LM, which the config's architectures already say.
TRL_MODEL_CLASSES = {"RewardTrainer": "AutoModelForSequenceClassification",
                     "PRMTrainer": "AutoModelForTokenClassification"}

Models = list[ModelRef]


class ModelLinker:
    def __init__(self, program: Program, values: ValueResolver, base_dir: str | None) -> None:
        self.p = program
        self.values = values
        self.base_dir = base_dir
        self.budget = Budget()
        self.attributes = ClassAttributes(program)
        self.pytest = Pytest(program)
        self.flow = ConfigFlow(program, self.budget, self.attributes, self.pytest)
        self.names = NameResolver(program, values, self.budget, self.attributes, self.pytest)
        self.tracer = ModelTracer(program, self.budget, self.attributes, self.pytest)
        self._loads_by_function: dict[ast.AST | None, list[Load]] | None = None
        # the component of the last link's model when its name could not be read (see ``Component``)
        self.component: Component | None = None
        # where the last linked config is changed after it is built: ``config.x = ...``, ``setattr(config, ...)``
        self.changes: list[ast.Attribute | ast.Call] = []

    def describe_attribute(self, expr: ast.Attribute) -> str | None:
        return self.names.describe_attribute(expr)

    # ------------------------------------------------------------------------ entry points
    def hint(self, call: ast.Call) -> ModelRef | None:
        return find_hint(self.p, call, self.base_dir)

    def link_config(self, call: ast.Call) -> tuple[Models, str]:
        """The base models a config call is applied to (every call that applies it: a config set
        up once for several tests), or none and why not."""
        self.budget.reset()
        self.component = None
        self.tracer.unreadable = None
        first_failure = ""
        linked: Models = []
        self.changes = []
        for consumer, arg, ctx, route in self.flow.consumers(call):
            if arg.keyword is None and position(self.p, consumer, arg) == 0 and \
                    "builtins.setattr" in self.p.qualified_names(consumer.func):
                self.changes.append(consumer)
                continue
            found = self.flow.consumer(consumer, arg)
            if found is None:
                continue
            model_expr, label, is_trainer = found
            if model_expr is None:
                first_failure = first_failure or f"{label} at line {self.p.line(consumer)} is given no model"
                continue
            self.tracer.route = self.names.route = route
            try:
                refs, traced = self._ref_for_model_expr(model_expr, ctx, consumer, label if is_trainer else None)
            finally:
                self.tracer.route = self.names.route = ()
            if isinstance(refs, list):
                linked.extend(r for r in refs if all(_key(r) != _key(o) for o in linked))
            elif traced and not linked:
                # the model call was found; its name is what cannot be read: do not guess another
                return [], refs
            else:
                first_failure = first_failure or refs
        self.changes.extend(self.flow.attribute_stores)
        if linked:
            return linked, ""
        self._unreadable_component()
        return self._fallback(call, first_failure)

    def link_model_expr(self, owner: ast.Call, model_expr: ast.expr | None) -> tuple[Models, str]:
        """For calls that are configs and take the model themselves (unsloth's get_peft_model)."""
        self.budget.reset()
        self.component = None
        self.tracer.unreadable = None
        self.changes = []
        failure = ""
        if model_expr is not None:
            self.tracer.route = self.names.route = (owner,)
            try:
                refs, traced = self._ref_for_model_expr(model_expr, (), owner, None)
            finally:
                self.tracer.route = self.names.route = ()
            if isinstance(refs, list):
                return refs, ""
            if traced:
                return [], refs
            failure = refs
        self._unreadable_component()
        return self._fallback(owner, failure)

    def _unreadable_component(self) -> None:
        """``cls.from_pretrained(name, subfolder="text_encoder")`` with a class chosen at runtime: the
        folder still says which part of the repository the model is."""
        call = self.tracer.unreadable
        if self.component is not None or call is None:
            return
        sub = self._subfolder(arg_of(self.p, call, None, "subfolder"), "")
        if isinstance(sub, str):
            self.component = Component(sub, None, None)

    def _fallback(self, call: ast.Call, failure: str) -> tuple[Models, str]:
        nearest = self._nearest_load(call)
        if isinstance(nearest, list):
            return nearest, ""
        return [], failure or nearest or NO_MODEL

    # ------------------------------------------------------------------- backward: the model
    def _ref_for_model_expr(self, expr: ast.expr, ctx: Ctx, consumer: ast.Call, trainer: str | None) -> tuple[Models | str, bool]:
        """(model refs or why not, whether the expression was traced to a model-loading call)."""
        via = f"model= of {trainer} at line {self.p.line(consumer)}"
        if trainer is not None:
            v = self.values.value(expr)
            if v.is_str:
                ref = self._model_ref(RefFound(v.value, v.span), via, None)
                ref.model_class = self._trainer_model_class(consumer)
                return [ref], True
        traced = self.tracer.trace(expr, ctx, 0, ())
        if isinstance(traced, list):
            return self._refs_from_loads(traced), True
        if trainer is not None:
            found = self.names.resolve(expr, ctx, 0)
            if isinstance(found, list):
                return [self._model_ref(f, via, None) for f in found], True
        return traced, False

    def _trainer_model_class(self, consumer: ast.Call) -> str | None:
        """The auto class a TRL trainer loads a model id with (None: the config's own architecture)."""
        for qn in self.p.qualified_names(consumer.func):
            if qn.split(".")[0] == "trl":
                return TRL_MODEL_CLASSES.get(qn.rsplit(".", 1)[-1])
        return None

    def _refs_from_loads(self, loads: list[Load]) -> Models | str:
        out: Models = []
        for load in loads:
            refs = self._ref_from_load(load)
            if isinstance(refs, str):
                return refs
            out.extend(r for r in refs if all(_key(r) != _key(o) for o in out))
        return out

    def _ref_from_load(self, load: Load) -> Models | str:
        p = self.p
        call = load.call
        if load.kind == "local":
            how = f"{load.cls}() at line {p.line(call)}"
            return [ModelRef(ref=load.cls, how=how, span=p.span(call), base_dir=self.base_dir, library="local")]
        method = "from_config" if load.kind in ("from_config", "diffusers_from_config") else "from_pretrained"
        via = f"{load.cls}.{method}() at line {p.line(call)}"
        library = "diffusers" if load.kind in ("diffusers", "diffusers_from_config", "pipeline") else "transformers"
        model_class: str | None = load.cls
        subfolder_expr: ast.expr | None = None
        ref_expr: ast.expr | None
        if load.kind == "from_config":
            ref_or_why = self._config_source(arg_of(p, call, 0, "config"))
            if isinstance(ref_or_why, str):
                return ref_or_why
            ref_expr = ref_or_why
        elif load.kind == "diffusers_from_config":
            source = self._diffusers_config_source(arg_of(p, call, 0, "config"))
            if isinstance(source, str):
                return source
            ref_expr, subfolder_expr = source
        elif load.kind == "unsloth":
            ref_expr = arg_of(p, call, 0, "model_name")
        else:
            ref_expr = arg_of(p, call, 0, "pretrained_model_name_or_path")
            subfolder_expr = arg_of(p, call, None, "subfolder")
        if load.kind == "pipeline":
            if load.component is None:
                return (f"{via} loads a whole diffusion pipeline, not one model: give the config to one of its "
                        "components (pipe.unet, pipe.transformer, pipe.text_encoder)")
            via = f"the {load.component} of {load.cls}.from_pretrained() at line {p.line(call)}"
            subfolder: str | None = load.component
            model_class = None  # the component's class is read from its config
        else:
            sub = self._subfolder(subfolder_expr, via)
            if isinstance(sub, tuple):
                return sub[0]
            subfolder = sub
        if library == "diffusers" and model_class == "AutoModel":
            model_class = None  # diffusers' AutoModel reads the class from the config, as peftlint does
        if ref_expr is None:
            return f"{via} names no model"
        found = self.names.resolve(ref_expr, load.ctx, 0)
        if isinstance(found, str):
            if subfolder or library == "diffusers":
                self.component = self.component or Component(subfolder, model_class, library)
            return found
        refs = [self._model_ref(f, via, call, subfolder=subfolder, library=library, model_class=model_class)
                for f in found]
        for r in refs:
            r.class_from_code = load.kind in ("transformers", "from_config") and model_class is not None
        return refs

    def _subfolder(self, expr: ast.expr | None, via: str) -> str | None | tuple[str]:
        """The static ``subfolder=`` of a load (None without one), or (why not,)."""
        if expr is None:
            return None
        v = self.values.value(expr)
        if v.is_str:
            return v.value.strip("/") or None
        if not v.dynamic and v.value is None:
            return None
        return (f"the subfolder= of {via} is only known at runtime: {v.reason or 'computed'}",)

    def _model_ref(self, found: RefFound, default_how: str, call: ast.Call | None,
                   subfolder: str | None = None, library: str = "transformers",
                   model_class: str | None = None) -> ModelRef:
        how = found.how or default_how
        if found.note:
            how = f"{how} ({found.note})"
        revision = None
        trust = False
        if call is not None:
            rev = arg_of(self.p, call, None, "revision")
            if rev is not None:
                v = self.values.value(rev)
                revision = v.value if v.is_str else None
            trc = arg_of(self.p, call, None, "trust_remote_code")
            if trc is not None:
                v = self.values.value(trc)
                trust = (not v.dynamic) and v.value is True
        return ModelRef(
            ref=found.ref,
            how=how,
            span=found.span,
            revision=revision,
            base_dir=self.base_dir,
            model_class=model_class,
            from_default=found.from_default,
            trust_remote_code=trust,
            subfolder=subfolder,
            library=library,
        )

    def _config_source(self, expr: ast.expr | None) -> ast.expr | str:
        """For ``X.from_config(cfg)``: the model name of ``cfg = AutoConfig.from_pretrained(name)``."""
        call = self._config_call(expr, "transformers", "from_pretrained")
        ref = arg_of(self.p, call, 0, "pretrained_model_name_or_path") if call is not None else None
        return ref if ref is not None else NO_CONFIG_SOURCE

    def _diffusers_config_source(self, expr: ast.expr | None) -> tuple[ast.expr, ast.expr | None] | str:
        """For diffusers' ``X.from_config(cfg)``: the model name and subfolder of
        ``cfg = X.load_config(name, subfolder=...)``."""
        call = self._config_call(expr, "diffusers", "load_config")
        ref = arg_of(self.p, call, 0, "pretrained_model_name_or_path") if call is not None else None
        return (ref, arg_of(self.p, call, None, "subfolder")) if call is not None and ref is not None else NO_CONFIG_SOURCE

    def _config_call(self, expr: ast.expr | None, library: str, method: str) -> ast.Call | None:
        """The ``<library>.<Class>.<method>(...)`` call ``expr`` is, or a plain variable holds."""
        p = self.p
        for _ in range(MAX_STEPS):
            if isinstance(expr, ast.Call):
                for qn in p.qualified_names(expr.func):
                    parts = qn.split(".")
                    if parts[0] == library and parts[-1] == method and len(parts) >= 3:
                        return expr
                return None
            if not isinstance(expr, ast.Name):
                return None
            b = p.latest_binding(expr)
            if b is None or not isinstance(b.node, ast.Name) or b.value is None or b.path:
                return None
            expr = b.value
        return None

    def _nearest_load(self, call: ast.Call) -> Models | str:
        """Fallback when no data flow links the config: the only model loaded in the nearest
        enclosing function (then its enclosing functions, then the module)."""
        p = self.p
        if self._loads_by_function is None:
            self._loads_by_function = {}
            for c in p.calls:
                # only ``X.from_pretrained(...)`` / ``X.from_config(...)`` can load a model here
                if not (isinstance(c.func, ast.Attribute) and c.func.attr in ("from_pretrained", "from_config")):
                    continue
                loader = self.tracer.loader(c)
                # a component of a repository (a UNet, a text encoder with subfolder=) is loaded beside
                # the others of its pipeline: being the only one loaded here says nothing
                if loader is not None and loader[0] in ("transformers", "from_config", "unsloth") and \
                        arg_of(p, c, None, "subfolder") is None:
                    self._loads_by_function.setdefault(p.enclosing_function(c), []).append(
                        Load(c, loader[0], loader[1], ())
                    )
        scopes: list[ast.AST | None] = [a for a in p.ancestors(call) if isinstance(a, (ast.FunctionDef, ast.AsyncFunctionDef))]
        scopes.append(None)
        for scope in scopes:
            loads = self._loads_by_function.get(scope)
            if not loads:
                continue
            where = f"{scope.name}()" if isinstance(scope, (ast.FunctionDef, ast.AsyncFunctionDef)) else "this module"
            refs = [self._ref_from_load(load) for load in loads]
            failed = next((r for r in refs if isinstance(r, str)), None)
            if failed is not None:
                return failed
            good = [r for found in refs if isinstance(found, list) for r in found]
            if len(loads) == 1:
                chosen = good  # one loading call, maybe with several candidate names
            elif len({r.ref for r in good}) > 1:
                return f"several models are loaded in {where} and none is visibly given this config"
            else:
                chosen = good[:1]
            for ref in chosen:
                ref.how = f"{ref.how}, the only model loaded in {where}"
            return chosen
        return ""


def _key(ref: ModelRef) -> tuple[str, str, str | None]:
    """Two references name the same model (a pipeline's unet and text_encoder do not)."""
    return ref.ref, ref.library, ref.subfolder
