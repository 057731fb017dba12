"""What a statement the static reader does not run may change: ``taint`` walks it without running
it and makes every write target unknown (attributes of modules being built, local variables,
modules passed to unknown calls), so that a name that could live there is never reported missing."""

from __future__ import annotations

import ast
from typing import Any

from peftlint.model.static.static_calls import Calls
from peftlint.model.static.static_eval import describe
from peftlint.model.static.static_values import (
    BoundMethod,
    Frame,
    MethodOf,
    Namespace,
    Node,
    Obj,
    Unknown,
    param_names,
    walk_scope,
)

MUTATORS = frozenset({"append", "extend", "insert", "add_module", "register_module", "register_parameter",
                      "update", "setdefault", "pop", "popitem", "clear", "remove", "__setitem__", "__delitem__",
                      "__setattr__", "__delattr__"})


class Taint(Calls):
    def __init__(self) -> None:
        super().__init__()
        self._tainting: set[int] = set()

    def taint(self, stmts: list[ast.stmt], f: Frame, reason: str) -> None:
        for stmt in stmts:
            for node in walk_scope(stmt):
                if isinstance(node, (ast.Assign, ast.AnnAssign, ast.AugAssign)):
                    targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                    value = node.value if not isinstance(node, ast.AugAssign) else None
                    for t in targets:
                        self.taint_target(t, value, f, reason)
                elif isinstance(node, (ast.For, ast.AsyncFor, ast.comprehension)):
                    self.taint_target(node.target, None, f, reason)
                elif isinstance(node, ast.withitem) and node.optional_vars is not None:
                    self.taint_target(node.optional_vars, None, f, reason)
                elif isinstance(node, ast.NamedExpr):
                    self.taint_target(node.target, None, f, reason)
                elif isinstance(node, ast.Delete):
                    for t in node.targets:
                        self.taint_target(t, None, f, reason)
                elif isinstance(node, (ast.Import, ast.ImportFrom)):
                    for alias in node.names:
                        f.locals[alias.asname or alias.name.split(".")[0]] = Unknown(reason)
                elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) and node is not stmt:
                    f.locals[node.name] = Unknown(reason)
                elif isinstance(node, ast.ExceptHandler) and node.name:
                    f.locals[node.name] = Unknown(reason)
                elif isinstance(node, ast.Call):
                    self.taint_call(node, f, reason)
                elif isinstance(node, ast.Return):
                    f.uncertain = f.uncertain or f"{reason}, and a `return` may end `__init__` early"

    def taint_target(self, t: ast.AST, value: ast.AST | None, f: Frame, reason: str) -> None:
        if isinstance(t, ast.Name):
            f.locals[t.id] = Unknown(reason)
        elif isinstance(t, ast.Attribute):
            obj = self.peek(t.value, f)
            if isinstance(obj, Node):
                if t.attr in obj.children or t.attr in obj.params or value is None or not _never_module(value):
                    obj.params.pop(t.attr, None)
                    obj.attrs.pop(t.attr, None)
                    obj.children[t.attr] = Unknown(reason)
                else:
                    obj.attrs[t.attr] = Unknown(reason)
            elif isinstance(obj, Obj):
                obj.attrs[t.attr] = Unknown(reason)
            elif (value is None or not _never_module(value)) and isinstance(f.self_value, Node):
                f.self_value.make_opaque(reason)
        elif isinstance(t, ast.Subscript):
            self.taint_object(t.value, f, reason)
        elif isinstance(t, (ast.Tuple, ast.List)):
            for el in t.elts:
                self.taint_target(el, None, f, reason)
        elif isinstance(t, ast.Starred):
            self.taint_target(t.value, None, f, reason)

    def taint_object(self, e: ast.AST, f: Frame, reason: str) -> None:
        obj = self.peek(e, f)
        if isinstance(obj, Node):
            obj.make_opaque(reason)
        elif isinstance(e, ast.Name):
            f.locals[e.id] = Unknown(reason)
        elif isinstance(obj, (Obj, Unknown)) or isinstance(e, ast.Attribute):
            self.taint_target(e, None, f, reason)

    def taint_call(self, call: ast.Call, f: Frame, reason: str) -> None:
        func = call.func
        if isinstance(func, ast.Attribute) and func.attr in MUTATORS:
            self.taint_object(func.value, f, reason)
            return
        if isinstance(func, ast.Name) and func.id in ("setattr", "delattr") and call.args:
            self.taint_object(call.args[0], f, reason)
            return
        callee = self.peek(func, f)
        if isinstance(callee, BoundMethod) and isinstance(callee.self_value, (Node, Obj)):
            key = id(callee.func.node)
            if key not in self._tainting:  # the method's own writes, with self bound
                self._tainting.add(key)
                try:
                    inner = Frame(Namespace(callee.func.node.body, callee.func.scope, callee.func.scope.file),
                                  self_value=callee.self_value, klass=callee.func.klass)
                    params = param_names(callee.func.node)
                    if params:
                        inner.locals[params[0]] = callee.self_value
                    self.taint(callee.func.node.body, inner, reason)
                finally:
                    self._tainting.discard(key)
            return
        if self.safe_callee(callee):
            return
        for arg in [*call.args, *(k.value for k in call.keywords)]:
            v = self.peek(arg.value if isinstance(arg, ast.Starred) else arg, f)
            if isinstance(v, Node):
                v.make_opaque(reason)
        if isinstance(callee, MethodOf) and isinstance(callee.owner, Node):
            callee.owner.make_opaque(reason)

    def peek(self, e: ast.AST, f: Frame) -> Any:
        """The value of a name or attribute chain, without running calls."""
        if isinstance(e, ast.Name):
            return self.name(e.id, f)
        if isinstance(e, ast.Attribute):
            return self.getattr(self.peek(e.value, f), e.attr, e)
        if isinstance(e, ast.Subscript):
            base = self.peek(e.value, f)
            return base if isinstance(base, Node) else Unknown("a subscript")
        return Unknown(f"`{describe(e)}`")



def _never_module(e: ast.AST) -> bool:
    """Expressions whose value is never an nn.Module or an nn.Parameter (plain containers included:
    a list of modules assigned to an attribute is not registered)."""
    if isinstance(e, (ast.Constant, ast.JoinedStr, ast.Compare, ast.List, ast.Tuple, ast.Dict, ast.Set,
                      ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp, ast.Lambda)):
        return True
    if isinstance(e, ast.BinOp):
        return not isinstance(e.op, ast.Add)
    if isinstance(e, ast.UnaryOp):
        return True
    return False
