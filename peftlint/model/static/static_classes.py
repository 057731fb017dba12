"""Local classes in a statically read ``__init__``: ``nn.Module`` subclasses (their ``__init__``,
``super().__init__`` chains, torch base classes), plain classes and dataclasses (configs)."""

from __future__ import annotations

import ast
from typing import Any

from peftlint.model.static import torch_layers as tl
from peftlint.model.static.static_eval import describe
from peftlint.model.static.static_modules import Modules, SuperMethod, torch_name
from peftlint.model.static.static_values import (
    Builtin,
    ClassInfo,
    Frame,
    FuncRef,
    ImportRef,
    Node,
    Obj,
    Raised,
    Unknown,
)


class Classes(Modules):
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

