"""Modules in a statically read ``__init__``: torch layers and containers, local ``nn.Module``
classes (their ``__init__`` and ``super().__init__``), plain local classes and dataclasses."""

from __future__ import annotations

import ast
from typing import Any

from peftlint.model import inventory as inv
from peftlint.model.static import torch_layers as tl
from peftlint.model.static.static_eval import Evaluator, describe
from peftlint.model.static.static_values import (
    BoundMethod,
    ClassInfo,
    Frame,
    FuncRef,
    ImportRef,
    MethodOf,
    Node,
    Obj,
    Param,
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


# nn.Module methods the reader knows what they do (see static_calls.Calls.node_method)
NODE_METHODS = frozenset({
    "add_module", "register_module", "register_parameter", "register_buffer", "append", "extend", "insert",
    "update", "to", "cuda", "cpu", "float", "half", "double", "bfloat16", "train", "eval", "requires_grad_",
    "type", "share_memory", "apply", "zero_grad", "named_modules", "modules", "parameters", "named_parameters",
    "children", "named_children", "buffers", "named_buffers", "state_dict", "keys", "values", "items",
    "reset_parameters", "_reset_parameters", "get_submodule", "forward", "pop",
})


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
        if name in ("register_buffer", "reset_parameters", "_reset_parameters"):
            return None  # a torch layer's own (re)initialisation: a local class's would have been found first
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
        if name in ("append", "extend", "insert", "update") and node.torch_base in tl.CONTAINERS:
            return self.container_method(node, name, args, kwargs, complete)
        if name in ("keys", "values", "items") and node.torch_base == "ModuleDict" and not node.opaque:
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
        elif name == "insert" and len(args) == 2 and isinstance(args[0], int) and node.torch_base == "ModuleList":
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
        if node.torch_base in ("ParameterList", "ParameterDict"):
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
            entries = list(args[0].items()) if len(args) == 1 and isinstance(args[0], dict) else \
                [(str(i), a) for i, a in enumerate(args)]
            for k, v in entries:
                self._add(node, str(k), v)
            return node
        src = args[0] if args else next(iter(kwargs.values()), None)
        if src is None:
            return node
        if t in ("ModuleDict", "ParameterDict"):
            if isinstance(src, Node) and src.torch_base == "ModuleDict":
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
        if t == "Buffer":  # registered as a buffer, not a parameter
            return Tensor(shape_of(args[0] if args else kwargs.get("data")))
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

    # -- attributes -----------------------------------------------------------------------------
    def getattr(self, base: Any, name: str, e: ast.AST | None = None) -> Any:
        what = describe(e) if e is not None else name
        if isinstance(base, ImportRef):
            return base.attr(name)
        if isinstance(base, Node):
            return self.node_attr(base, name, what)
        if isinstance(base, Obj):
            if name in base.attrs:
                return base.attrs[name]
            return self.class_attr(base.klass, name, base, what)
        if isinstance(base, ClassInfo):
            return self.class_attr(base, name, None, what)
        if isinstance(base, (Param, Tensor)):
            if name == "shape" and base.shape is not None and all(d >= 0 for d in base.shape):
                return tuple(base.shape)
            return Tensor(None) if name in ("data", "T") else Unknown(f"`{what}` is not static")
        if isinstance(base, (list, dict, str)) and not name.startswith("_"):
            return MethodOf(base, name)
        return Unknown(f"`{what}` is not static")

    def node_attr(self, node: Node, name: str, what: str) -> Any:
        if name in node.children and node.children[name] is not None:
            return node.children[name]
        if name in node.params and node.params[name] is not None:
            return node.params[name]
        if name in node.attrs:
            return node.attrs[name]
        if name in ("in_features", "out_features") and getattr(node, name) not in (None, -1):
            return getattr(node, name)
        if node.klass is not None:
            got = self.class_attr(node.klass, name, node, what)
            if not isinstance(got, Unknown):
                return got
        if name in NODE_METHODS:
            return MethodOf(node, name)
        return Unknown(f"`{what}` is not static")

    def class_attr(self, klass: ClassInfo, name: str, self_value: Any, what: str, depth: int = 0) -> Any:
        """A method or class attribute of a local class or its local bases."""
        stmt = klass.own(name)
        if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef)):
            decorators = {d.id for d in stmt.decorator_list if isinstance(d, ast.Name)}
            if "property" in decorators or "cached_property" in decorators:
                return Unknown(f"the property `{what}`")
            func = FuncRef(stmt, klass.scope, klass=klass)
            if self_value is None or "staticmethod" in decorators:
                return func
            return BoundMethod(klass if "classmethod" in decorators else self_value, func)
        if isinstance(stmt, (ast.Assign, ast.AnnAssign)) and stmt.value is not None:
            return self.ev(stmt.value, Frame(klass.scope))
        if depth < 8 and klass.node.bases:
            base = self.ev(klass.node.bases[0], Frame(klass.scope))
            if isinstance(base, ClassInfo):
                return self.class_attr(base, name, self_value, what, depth + 1)
        return Unknown(f"`{what}` is not static")
