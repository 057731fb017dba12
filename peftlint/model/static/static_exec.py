"""Statements and calls of a statically read ``__init__``: what ``nn.Module.__setattr__`` registers.

A statement the reader cannot follow does not stop it: what the statement may have changed
(assigned attributes, mutated modules) becomes unknown, so that a name that could live there is
never reported missing. ``taint`` is that conservative path: it walks the statement without
running it and marks every write target.
"""

from __future__ import annotations

import ast
from typing import Any

from peftlint.model.static.static_eval import MAX_ITEMS, describe
from peftlint.model.static.static_taint import Taint
from peftlint.model.static.static_values import (
    ClassInfo,
    Comprehension,
    Frame,
    FuncRef,
    ImportRef,
    Namespace,
    Node,
    Obj,
    Param,
    Raised,
    Unknown,
    is_module_like,
    param_names,
    walk_scope,
)

MAX_STEPS = 200_000
MAX_DEPTH = 40


class _Return(Exception):
    def __init__(self, value: Any) -> None:
        self.value = value


class _Raise(Exception):
    pass


class _Break(Exception):
    pass


class _Continue(Exception):
    pass


class OutOfBudget(Exception):
    pass


class Interpreter(Taint):
    def __init__(self) -> None:
        super().__init__()
        self.steps = 0
        self.depth = 0

    # -- functions -----------------------------------------------------------------------------
    def call_function(self, func: FuncRef, args: list, kwargs: dict, complete: bool) -> Any:
        node = func.node
        if isinstance(node, ast.AsyncFunctionDef) or any(
                isinstance(n, (ast.Yield, ast.YieldFrom)) for n in walk_scope(node) if n is not node):
            return Unknown(f"`{node.name}` is a generator or coroutine")
        if self.depth >= MAX_DEPTH:
            raise OutOfBudget(f"calls nested too deeply at `{node.name}`")
        f = Frame(Namespace(node.body, func.scope, func.scope.file, params=param_names(node)),
                  outer=func.closure, klass=func.klass)
        self.bind(node, f, args, kwargs, complete)
        if func.klass is not None and args:
            f.self_value = args[0]
        self.depth += 1
        try:
            self.exec_body(node.body, f)
        except _Return as r:
            return r.value
        except _Raise:
            return Raised(f"`{node.name}` raises")
        finally:
            self.depth -= 1
        return None

    def bind(self, node: ast.FunctionDef, f: Frame, args: list, kwargs: dict, complete: bool) -> None:
        a = node.args
        positional = [*a.posonlyargs, *a.args]
        defaults = dict(zip([p.arg for p in positional[len(positional) - len(a.defaults):]], a.defaults))
        defaults.update({p.arg: d for p, d in zip(a.kwonlyargs, a.kw_defaults) if d is not None})
        missing = Unknown("an argument not given at the call site") if complete else \
            Unknown("an argument passed through *args or **kwargs")
        kwargs = dict(kwargs)
        for i, p in enumerate(positional):
            if i < len(args):
                f.locals[p.arg] = args[i]
            elif p.arg in kwargs:
                f.locals[p.arg] = kwargs.pop(p.arg)
            elif p.arg in defaults:
                f.locals[p.arg] = missing if not complete else self.ev(defaults[p.arg], Frame(f.scope.parent or f.scope))
            else:
                f.locals[p.arg] = missing
        for p in a.kwonlyargs:
            if p.arg in kwargs:
                f.locals[p.arg] = kwargs.pop(p.arg)
            elif p.arg in defaults and complete:
                f.locals[p.arg] = self.ev(defaults[p.arg], Frame(f.scope.parent or f.scope))
            else:
                f.locals[p.arg] = missing
        if a.vararg is not None:
            f.locals[a.vararg.arg] = tuple(args[len(positional):]) if complete else missing
        if a.kwarg is not None:
            f.locals[a.kwarg.arg] = kwargs if complete else missing

    # -- statements ----------------------------------------------------------------------------
    def exec_body(self, body: list[ast.stmt], f: Frame) -> None:
        for stmt in body:
            self.steps += 1
            if self.steps > MAX_STEPS:
                raise OutOfBudget()
            if f.uncertain:
                self.taint([stmt], f, f.uncertain)
                continue
            method = getattr(self, "st_" + type(stmt).__name__, None)
            if method is None:
                self.taint([stmt], f, f"`{describe(stmt)}` (line {stmt.lineno}) is not read statically")
            else:
                method(stmt, f)

    def st_Expr(self, s: ast.Expr, f: Frame) -> None:
        if not isinstance(s.value, ast.Constant):
            self.ev(s.value, f)

    def st_Pass(self, s: ast.stmt, f: Frame) -> None:
        pass

    st_Assert = st_Global = st_Nonlocal = st_Pass

    def st_Assign(self, s: ast.Assign, f: Frame) -> None:
        value = self.ev(s.value, f)
        for t in s.targets:
            self.assign(t, value, f)

    def st_AnnAssign(self, s: ast.AnnAssign, f: Frame) -> None:
        if s.value is not None:
            self.assign(s.target, self.ev(s.value, f), f)

    def st_AugAssign(self, s: ast.AugAssign, f: Frame) -> None:
        load = _as_load(s.target)
        current = self.ev(load, f)
        if isinstance(current, Node) and current.torch_base in ("ModuleList", "Sequential") and isinstance(s.op, ast.Add):
            self.container_method(current, "extend", [self.ev(s.value, f)], {}, True)
            return
        value = self.ev(ast.BinOp(left=load, op=s.op, right=s.value), f)
        self.assign(s.target, value, f)

    def st_If(self, s: ast.If, f: Frame) -> None:
        t = self.truth(self.ev(s.test, f))
        if t is None:
            self.taint([s], f, f"the condition `{describe(s.test)}` (line {s.lineno}) is not static")
        else:
            self.exec_body(s.body if t else s.orelse, f)

    def st_For(self, s: ast.For, f: Frame) -> None:
        items = self.iterate(self.ev(s.iter, f))
        if isinstance(items, Unknown):
            self.taint([s], f, f"the loop over `{describe(s.iter)}` (line {s.lineno}) is not static")
            return
        for item in items:
            self.assign(s.target, item, f)
            try:
                self.exec_body(s.body, f)
            except _Break:
                return
            except _Continue:
                continue
        self.exec_body(s.orelse, f)

    def st_With(self, s: ast.With, f: Frame) -> None:
        for item in s.items:
            self.ev(item.context_expr, f)
            if item.optional_vars is not None:
                self.assign(item.optional_vars, Unknown("a context manager's value"), f)
        self.exec_body(s.body, f)

    def st_Return(self, s: ast.Return, f: Frame) -> None:
        raise _Return(self.ev(s.value, f) if s.value is not None else None)

    def st_Raise(self, s: ast.Raise, f: Frame) -> None:
        raise _Raise()

    def st_Break(self, s: ast.Break, f: Frame) -> None:
        raise _Break()

    def st_Continue(self, s: ast.Continue, f: Frame) -> None:
        raise _Continue()

    def st_Import(self, s: ast.Import | ast.ImportFrom, f: Frame) -> None:
        for alias in s.names:
            if alias.name != "*":
                f.locals[alias.asname or alias.name.split(".")[0]] = self.import_ref(s, alias, f.scope.file)

    st_ImportFrom = st_Import

    def st_FunctionDef(self, s: ast.FunctionDef, f: Frame) -> None:
        f.locals[s.name] = FuncRef(s, f.scope, closure=f)

    def st_ClassDef(self, s: ast.ClassDef, f: Frame) -> None:
        f.locals[s.name] = ClassInfo(s, f.scope)

    def st_Delete(self, s: ast.Delete, f: Frame) -> None:
        for t in s.targets:
            base = self.ev(t.value, f) if isinstance(t, ast.Attribute) else None
            if isinstance(base, Node):
                assert isinstance(t, ast.Attribute)  # base is read from an attribute only
                base.children.pop(t.attr, None)
                base.params.pop(t.attr, None)
                base.attrs.pop(t.attr, None)
            elif isinstance(t, ast.Name):
                f.locals.pop(t.id, None)
            else:
                self.taint([s], f, f"`{describe(s)}` (line {s.lineno}) is not read statically")

    # -- assignment ----------------------------------------------------------------------------
    def assign(self, t: ast.AST, value: Any, f: Frame) -> None:
        if isinstance(t, ast.Name):
            f.locals[t.id] = value
        elif isinstance(t, ast.Attribute):
            self.set_attr(self.ev(t.value, f), t.attr, value, f)
        elif isinstance(t, ast.Subscript):
            self.set_item(self.ev(t.value, f), self.ev(t.slice, f), value, f)
        elif isinstance(t, (ast.Tuple, ast.List)):
            items = self.iterate(value) if not isinstance(value, str) else Unknown("unpacking a string")
            if isinstance(items, Unknown) or len(items) != len(t.elts) or any(isinstance(e, ast.Starred) for e in t.elts):
                items = [Unknown(f"unpacking `{describe(t)}`")] * len(t.elts)
            for el, item in zip(t.elts, items):
                self.assign(el.value if isinstance(el, ast.Starred) else el, item, f)
        else:
            self.taint_target(t, None, f, f"`{describe(t)}` is not read statically")

    def set_attr(self, obj: Any, name: str, value: Any, f: Frame) -> None:
        if isinstance(obj, Node):
            self.node_setattr(obj, name, value)
        elif isinstance(obj, Obj):
            obj.attrs[name] = value
        elif is_module_like(value) and isinstance(f.self_value, Node):
            f.self_value.make_opaque(f"a module is attached to an object peftlint cannot follow ({name})")

    def set_item(self, obj: Any, key: Any, value: Any, f: Frame) -> None:
        if isinstance(obj, list) and isinstance(key, int) and -len(obj) <= key < len(obj):
            obj[key] = value
        elif isinstance(obj, dict) and isinstance(key, (str, int, float, bool, tuple)):
            obj[key] = value
        elif isinstance(obj, Node) and obj.torch_base in ("ModuleList", "Sequential", "ModuleDict"):
            if isinstance(key, int) and obj.torch_base != "ModuleDict":
                keys = [k for k, c in obj.children.items() if c is not None]
                if -len(keys) <= key < len(keys):
                    self.node_setattr(obj, keys[key], value)
                    return
            if isinstance(key, str) and obj.torch_base == "ModuleDict":
                self.node_setattr(obj, key, value)
                return
            obj.make_opaque("an item assignment peftlint cannot follow")
        elif isinstance(obj, Node):
            obj.make_opaque("an item assignment peftlint cannot follow")
        elif is_module_like(value) and isinstance(f.self_value, Node):
            f.self_value.make_opaque("a module is stored in a container peftlint cannot follow")

    def node_setattr(self, node: Node, name: str, value: Any) -> None:
        """What ``nn.Module.__setattr__`` does with ``value``."""
        value = self.as_attribute(value)
        if isinstance(value, Param):
            node.children.pop(name, None)
            node.attrs.pop(name, None)
            node.params[name] = value
        elif isinstance(value, (Node, Unknown)):
            node.params.pop(name, None)
            node.attrs.pop(name, None)
            node.children[name] = value
        elif value is None and (name in node.params or name in node.children):
            if name in node.params:
                node.params[name] = None
            else:
                node.children[name] = None
        elif node.params.get(name) is not None or node.children.get(name) is not None:
            node.make_opaque(f"`{name}` is assigned a value torch rejects")
        else:
            node.attrs[name] = value

    def as_attribute(self, value: Any) -> Any:
        """Values that might be module instances from other libraries become Unknown."""
        if isinstance(value, ImportRef):
            resolved = self.deref(value)
            if resolved is not value:
                return resolved
            if value.level or value.parts[0] != "torch":
                return Unknown(f"`{value.qual}` may be a module")
        return value

    # -- comprehensions --------------------------------------------------------------------------
    def comprehension(self, e: Comprehension, f: Frame) -> Any:
        inner = Frame(f.scope, outer=f, self_value=f.self_value, klass=f.klass)
        out: list = []
        failed = self._generate(e, e.generators, 0, inner, out)
        if failed is not None:
            return failed
        if isinstance(e, ast.DictComp):
            return dict(out)
        if isinstance(e, ast.SetComp):
            return set(out) if all(isinstance(x, (int, str, float, bool)) for x in out) else Unknown("a set")
        return out

    def _generate(self, e: Comprehension, gens: list, i: int, f: Frame, out: list) -> Unknown | None:
        if i == len(gens):
            if len(out) >= MAX_ITEMS:
                return Unknown("a comprehension too long to unroll")
            if isinstance(e, ast.DictComp):
                out.append((self.ev(e.key, f), self.ev(e.value, f)))
            else:
                out.append(self.ev(e.elt, f))
            return None
        gen = gens[i]
        items = self.iterate(self.ev(gen.iter, f))
        if isinstance(items, Unknown):
            return Unknown(f"the comprehension over `{describe(gen.iter)}` is not static")
        for item in items:
            self.assign(gen.target, item, f)
            keep = True
            for cond in gen.ifs:
                t = self.truth(self.ev(cond, f))
                if t is None:
                    return Unknown(f"the condition `{describe(cond)}` is not static")
                keep = keep and t
            if keep:
                failed = self._generate(e, gens, i + 1, f, out)
                if failed is not None:
                    return failed
        return None


def _as_load(t: ast.expr) -> ast.expr:
    if isinstance(t, ast.Name):
        return ast.Name(id=t.id, ctx=ast.Load())
    if isinstance(t, ast.Attribute):
        return ast.Attribute(value=t.value, attr=t.attr, ctx=ast.Load())
    if isinstance(t, ast.Subscript):
        return ast.Subscript(value=t.value, slice=t.slice, ctx=ast.Load())
    return t
