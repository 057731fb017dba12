"""Modules in a statically read ``__init__``: torch layers and containers, local ``nn.Module``
classes (their ``__init__`` and ``super().__init__``), plain local classes and dataclasses."""

from __future__ import annotations

import ast
from typing import Any

from peftlint.model import inventory as inv
from peftlint.sources.python import torch_layers as tl
from peftlint.sources.python.static_eval import Evaluator, describe
from peftlint.sources.python.static_values import (
    Builtin,
    ClassInfo,
    Frame,
    FuncRef,
    ImportRef,
    Node,
    Obj,
    Param,
    Raised,
    SuperRef,
    Tensor,
    Unknown,
)

SAME_MODULE = frozenset({"to", "cuda", "cpu", "float", "half", "double", "bfloat16", "train", "eval",
                         "requires_grad_", "type", "share_memory", "apply", "zero_grad"})
# nn.Module methods that read the module without changing what it holds
READ_ONLY = frozenset({"named_modules", "modules", "parameters", "named_parameters", "children", "named_children",
                       "buffers", "named_buffers", "state_dict", "forward", "get_submodule", "keys", "values",
                       "items", "register_buffer", "extra_repr"})


class SuperMethod:
    def __init__(self, sup: SuperRef, name: str) -> None:
        self.sup = sup
        self.name = name


def torch_name(ref: Any) -> str | None:
    """The torch.nn class an import names ("Linear", "Module", ...), transformers' Conv1D, or None."""
    if not isinstance(ref, ImportRef) or ref.level:
        return None
    p = ref.parts
    if p[:2] == ("torch", "nn"):
        rest = p[2:]
        if len(rest) == 3 and rest[0] == "modules":
            rest = rest[2:]
        elif len(rest) == 2 and rest[0] == "parameter":
            rest = rest[1:]
        if len(rest) == 1:
            return rest[0]
    if p[0] == "transformers" and p[-1] == "Conv1D" and len(p) <= 3:
        return tl.GPT2_CONV1D
    return None


def shape_of(v: Any) -> list[int] | None:
    return list(v.shape) if isinstance(v, (Tensor, Param)) and v.shape is not None else None


class Modules(Evaluator):
    def call_function(self, func: FuncRef, args: list, kwargs: dict, complete: bool) -> Any:  # pragma: no cover
        raise NotImplementedError

    def deref(self, v: Any) -> Any:  # pragma: no cover
        raise NotImplementedError

    def poison(self, args: list, kwargs: dict, reason: str) -> None:  # pragma: no cover
        raise NotImplementedError

    def apply(self, fv: Any, args: list, kwargs: dict, complete: bool, f: Frame, e: ast.Call) -> Any:  # pragma: no cover
        raise NotImplementedError

    # -- modules of torch.nn ---------------------------------------------------------------------
    def node_method(self, node: Node, name: str, args: list, kwargs: dict, complete: bool) -> Any:
        if name in SAME_MODULE:
            return node
        if name == "register_buffer" or name in ("reset_parameters", "_reset_parameters") and node.klass is None:
            return None
        if not complete:
            node.make_opaque(f"`{node.cls}.{name}()` gets arguments peftlint cannot read")
            return Unknown(f"`{node.cls}.{name}()`")
        if name in ("add_module", "register_module", "register_parameter"):
            key = args[0] if args else kwargs.get("name")
            value = args[1] if len(args) > 1 else kwargs.get("module", kwargs.get("param"))
            if not isinstance(key, str):
                node.make_opaque(f"`{name}` with a name that is not static")
            elif name == "register_parameter":
                if isinstance(value, (Param, type(None))):
                    node.params[key] = value
                else:
                    node.make_opaque(f"register_parameter({key!r}, ...) with a value peftlint cannot read")
            elif isinstance(value, (Node, Unknown, type(None))):
                node.attrs.pop(key, None)
                node.children[key] = value
            else:
                node.make_opaque(f"add_module({key!r}, ...) with a value that is not a module")
            return None
        if name in ("append", "extend", "insert", "update") and node.cls in tl.CONTAINERS:
            return self.container_method(node, name, args, kwargs, complete)
        if name in ("keys", "values", "items") and node.cls == "ModuleDict" and not node.opaque:
            pairs = [(k, c) for k, c in node.children.items() if c is not None]
            return [p[0] for p in pairs] if name == "keys" else [p[1] for p in pairs] if name == "values" else pairs
        if name in READ_ONLY:
            return Unknown(f"`{node.cls}.{name}()` is not read statically")
        node.make_opaque(f"`{node.cls}.{name}()` is not read statically")
        return Unknown(f"`{node.cls}.{name}()`")

    def container_method(self, node: Node, name: str, args: list, kwargs: dict, complete: bool) -> Any:
        if name == "append" and len(args) == 1:
            self._add(node, str(len(node.children) + len(node.params)), args[0])
        elif name == "extend" and len(args) == 1:
            items = self.iterate(args[0]) if not isinstance(args[0], dict) else Unknown("a dict")
            if isinstance(items, Unknown):
                node.make_opaque(f"{node.cls}.extend() of {items.reason}")
            for item in items if not isinstance(items, Unknown) else ():
                self._add(node, str(len(node.children) + len(node.params)), item)
        elif name == "insert" and len(args) == 2 and isinstance(args[0], int) and node.cls == "ModuleList":
            values = list(node.children.values())
            if not 0 <= args[0] <= len(values):
                node.make_opaque("ModuleList.insert() at an index peftlint does not follow")
                return None
            values.insert(args[0], args[1])
            node.children = {}
            for i, v in enumerate(values):
                self._add(node, str(i), v)
        elif name == "update" and len(args) == 1 and isinstance(args[0], dict):
            for k, v in args[0].items():
                self._add(node, str(k), v)
        else:
            node.make_opaque(f"{node.cls}.{name}() is not read statically")
        return None

    def _add(self, node: Node, key: str, value: Any) -> None:
        if node.cls in ("ParameterList", "ParameterDict"):
            if isinstance(value, Tensor):
                value = Param(value.shape or [])
            if isinstance(value, Param):
                node.params[key] = value
                return
        if isinstance(value, (Node, Unknown, type(None))):
            node.children[key] = value
        else:
            node.make_opaque(f"{node.cls} gets an item that is not a module ({type(value).__name__})")

    def container(self, t: str, args: list, kwargs: dict, complete: bool) -> Node:
        node = Node(t, kind=inv.MODULE_LIST if t in ("ModuleList", "ModuleDict", "ParameterList", "ParameterDict")
                    else None)
        node.torch_base = t
        if not complete:
            node.make_opaque(f"nn.{t}(...) gets items peftlint cannot read")
            return node
        if t == "Module":
            return node
        if t == "Sequential":
            items = list(args[0].items()) if len(args) == 1 and isinstance(args[0], dict) else \
                [(str(i), a) for i, a in enumerate(args)]
            for k, v in items:
                self._add(node, str(k), v)
            return node
        src = args[0] if args else next(iter(kwargs.values()), None)
        if src is None:
            return node
        if t in ("ModuleDict", "ParameterDict"):
            if isinstance(src, Node) and src.cls == "ModuleDict":
                src = {k: c for k, c in src.children.items() if c is not None}
            if not isinstance(src, dict):
                items = self.iterate(src)
                if isinstance(items, Unknown) or not all(isinstance(p, tuple) and len(p) == 2 for p in items):
                    node.make_opaque(f"nn.{t}(...) of a value peftlint cannot read")
                    return node
                src = dict(items)
            for k, v in src.items():
                self._add(node, str(k), v)
            return node
        items = self.iterate(src)
        if isinstance(items, Unknown):
            node.make_opaque(f"nn.{t}(...) of {items.reason}")
            return node
        for i, v in enumerate(items):
            self._add(node, str(i), v)
        return node

    def layer_node(self, layer: tl.Layer) -> Node:
        node = Node(layer.cls, kind=layer.kind)
        self.fill(node, layer)
        return node

    def fill(self, node: Node, layer: tl.Layer) -> None:
        node.kind = layer.kind
        node.in_features, node.out_features = layer.in_features, layer.out_features
        node.kernel_size, node.groups = layer.kernel_size, layer.groups
        for k, shape in layer.params.items():
            node.params[k] = Param(shape)
        for k, child in layer.children:
            node.children[k] = self.layer_node(child)

    def torch_call(self, t: str, args: list, kwargs: dict, complete: bool, e: ast.Call) -> Any:
        if t == "Parameter":
            data = args[0] if args else kwargs.get("data")
            return Param(shape_of(data) or [])
        if t in tl.CONTAINERS:
            return self.container(t, args, kwargs, complete)
        if tl.is_layer(t):
            if t in tl.PARAM_FREE:
                return Node(t, kind=inv.OTHER)
            if not complete:
                return Unknown(f"`{describe(e)}` gets arguments peftlint cannot read")
            try:
                return self.layer_node(tl.build_layer(t, args, kwargs))
            except tl.NotStatic as exc:
                return Unknown(f"`{describe(e)}` (line {e.lineno}): {exc} is not static")
        self.poison(args, kwargs, f"`{describe(e)}` (line {e.lineno}) is not read statically")
        return Unknown(f"torch.nn.{t} is not read statically (line {e.lineno})")

    def clone(self, v: Any, memo: dict) -> Any:
        if id(v) in memo:
            return memo[id(v)]
        if isinstance(v, Param):
            out: Any = Param(list(v.shape))
        elif isinstance(v, Node):
            out = Node(v.cls, v.kind, v.klass)
            memo[id(v)] = out
            out.in_features, out.out_features, out.kernel_size, out.groups = \
                v.in_features, v.out_features, v.kernel_size, v.groups
            out.opaque = v.opaque
            out.children = {k: self.clone(c, memo) for k, c in v.children.items()}
            out.params = {k: self.clone(p, memo) for k, p in v.params.items()}
            out.attrs = {k: self.clone(a, memo) for k, a in v.attrs.items()}
        elif isinstance(v, list):
            out = [self.clone(x, memo) for x in v]
        elif isinstance(v, dict):
            out = {k: self.clone(x, memo) for k, x in v.items()}
        elif isinstance(v, tuple):
            out = tuple(self.clone(x, memo) for x in v)
        else:
            return v
        memo[id(v)] = out
        return out

    # -- local classes ---------------------------------------------------------------------------
    def base_value(self, klass: ClassInfo) -> Any:
        if not klass.node.bases:
            return Builtin("object")
        return self.deref(self.ev(klass.node.bases[0], Frame(klass.scope)))

    def class_kind(self, klass: ClassInfo, depth: int = 0) -> str | Unknown:
        """"module" for nn.Module subclasses, "object" for plain classes, else Unknown (why)."""
        if depth > 12:
            return Unknown(f"the bases of {klass.name} are nested too deeply")
        base = self.base_value(klass)
        if isinstance(base, ClassInfo):
            return self.class_kind(base, depth + 1)
        if isinstance(base, Builtin) and base.name == "object":
            return "object"
        t = torch_name(base)
        if t is not None and (t == "Module" or t in tl.CONTAINERS or tl.is_layer(t)):
            return "module"
        what = base.qual if isinstance(base, ImportRef) else describe(klass.node.bases[0])
        return Unknown(f"{klass.name} derives from {what}, which peftlint does not read statically")

    def instantiate(self, klass: ClassInfo, args: list, kwargs: dict, complete: bool) -> Any:
        kind = self.class_kind(klass)
        if isinstance(kind, Unknown):
            self.poison(args, kwargs, kind.reason)
            return kind
        if kind == "object":
            obj = Obj(klass)
            if "dataclass" in klass.decorators():
                self.dataclass_init(klass, obj, args, kwargs, complete)
            elif isinstance(self.init_class(klass, obj, args, kwargs, complete), Raised):
                return Unknown(f"{klass.name}(...) raises")
            return obj
        node = Node(klass.name, klass=klass)
        if isinstance(self.init_class(klass, node, args, kwargs, complete), Raised):
            return Unknown(f"{klass.name}(...) raises")
        return node

    def init_class(self, cls_value: Any, self_value: Any, args: list, kwargs: dict, complete: bool) -> Any:
        """Run the ``__init__`` that ``cls_value(...)`` (or a ``super().__init__``) runs on ``self_value``."""
        v = self.deref(cls_value)
        if isinstance(v, ClassInfo):
            stmt = v.own("__init__")
            if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef)):
                return self.call_function(FuncRef(stmt, v.scope, klass=v), [self_value, *args], kwargs, complete)
            if stmt is None:
                return self.init_class(self.base_value(v), self_value, args, kwargs, complete)
        elif isinstance(v, Builtin) and v.name == "object":
            return None
        t = torch_name(v)
        if t is not None and isinstance(self_value, Node):
            if t in tl.CONTAINERS:
                built = self.container(t, args, kwargs, complete)
                self_value.kind = self_value.kind or built.kind
                self_value.torch_base = t
                self_value.children.update(built.children)
                self_value.params.update(built.params)
                if built.opaque:
                    self_value.make_opaque(built.opaque)
                return None
            if tl.is_layer(t):
                try:
                    if not complete:
                        raise tl.NotStatic("the arguments")
                    self.fill(self_value, tl.build_layer(t, args, kwargs))
                except tl.NotStatic as exc:
                    self_value.kind = tl.kind_of(t)
                    self_value.make_opaque(f"nn.{t}.__init__: {exc} is not static")
                return None
        what = v.qual if isinstance(v, ImportRef) else type(v).__name__
        if isinstance(self_value, Node):
            self_value.make_opaque(f"`super().__init__()` runs {what}, which peftlint does not read statically")
        return None

    def super_call(self, sm: SuperMethod, args: list, kwargs: dict, complete: bool) -> Any:
        klass = sm.sup.klass
        base = self.base_value(klass) if klass is not None else Unknown("super() outside a method")
        if sm.name == "__init__":
            return self.init_class(base, sm.sup.self_value, args, kwargs, complete)
        if isinstance(base, ClassInfo):
            got = self.class_attr(base, sm.name, sm.sup.self_value, sm.name)
            return self.apply(got, args, kwargs, complete, Frame(base.scope), ast.Call(
                func=ast.Name(id=sm.name, ctx=ast.Load()), args=[], keywords=[], lineno=0))
        if isinstance(sm.sup.self_value, Node):
            sm.sup.self_value.make_opaque(f"`super().{sm.name}()` is not read statically")
        return Unknown(f"super().{sm.name}()")

    def dataclass_init(self, klass: ClassInfo, obj: Obj, args: list, kwargs: dict, complete: bool) -> None:
        chain = [klass]
        while isinstance(b := self.base_value(chain[-1]), ClassInfo) and len(chain) < 12:
            chain.append(b)
        fields: dict[str, ast.AST | None] = {}
        for k in reversed(chain):
            for stmt in k.node.body:
                if isinstance(stmt, ast.AnnAssign) and isinstance(stmt.target, ast.Name) and \
                        "ClassVar" not in ast.unparse(stmt.annotation):
                    fields[stmt.target.id] = stmt.value
        missing = Unknown("a dataclass field not given" if complete else "a field passed through **kwargs")
        for i, (name, default) in enumerate(fields.items()):
            if i < len(args):
                obj.attrs[name] = args[i]
            elif name in kwargs:
                obj.attrs[name] = kwargs[name]
            elif default is not None and complete:
                obj.attrs[name] = self._field_default(default, klass)
            else:
                obj.attrs[name] = missing
        post = klass.own("__post_init__")
        if isinstance(post, ast.FunctionDef):
            self.call_function(FuncRef(post, klass.scope, klass=klass), [obj], {}, True)

    def _field_default(self, default: ast.AST, klass: ClassInfo) -> Any:
        if isinstance(default, ast.Call) and describe(default.func).split(".")[-1] == "field":
            for kw in default.keywords:
                if kw.arg == "default":
                    return self.ev(kw.value, Frame(klass.scope))
                if kw.arg == "default_factory":
                    factory = self.ev(kw.value, Frame(klass.scope))
                    if isinstance(factory, Builtin) and factory.name in ("list", "dict"):
                        return [] if factory.name == "list" else {}
                    return Unknown("a default_factory")
            return Unknown("a dataclass field without a default")
        return self.ev(default, Frame(klass.scope))
