"""Expressions of a statically read ``__init__``: names, attributes, arithmetic on known values.

Nothing is executed: only literal arithmetic and a few pure builtins are computed, everything else
becomes ``Unknown``. Calls are left to ``static_exec.Interpreter``.
"""

from __future__ import annotations

import ast
import operator
from typing import Any, Callable

from peftlint.model.static.static_values import (
    MISSING,
    Builtin,
    ClassInfo,
    Comprehension,
    FileScope,
    Frame,
    FuncRef,
    ImportRef,
    Namespace,
    Node,
    Obj,
    Param,
    Plain,
    Unknown,
    UnknownItems,
)

_BINOPS = {
    ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul, ast.FloorDiv: operator.floordiv,
    ast.Div: operator.truediv, ast.Mod: operator.mod, ast.Pow: operator.pow, ast.LShift: operator.lshift,
    ast.RShift: operator.rshift, ast.BitAnd: operator.and_, ast.BitOr: operator.or_, ast.BitXor: operator.xor,
}
_CMPOPS = {
    ast.Eq: operator.eq, ast.NotEq: operator.ne, ast.Lt: operator.lt, ast.LtE: operator.le, ast.Gt: operator.gt,
    ast.GtE: operator.ge, ast.Is: operator.is_, ast.IsNot: operator.is_not,
    ast.In: lambda a, b: a in b, ast.NotIn: lambda a, b: a not in b,
}
_UNARY: dict[type, Callable[[Any], Any]] = {ast.UAdd: operator.pos, ast.USub: operator.neg, ast.Not: operator.not_, ast.Invert: operator.invert}
STATIC_TYPES = (int, float, bool, str, type(None), bytes)
MAX_ITEMS = 4096  # longest static sequence the reader builds (loops, comprehensions, repetitions)
BUILTINS = frozenset({
    "range", "len", "int", "float", "bool", "str", "abs", "min", "max", "sum", "round", "list", "tuple", "dict",
    "enumerate", "zip", "reversed", "sorted", "isinstance", "print", "super", "getattr", "setattr", "hasattr",
    "any", "all", "divmod", "pow", "set", "frozenset", "delattr", "object", "type",
})


def _too_costly(op: ast.operator, a: Any, b: Any) -> bool:
    """Literal arithmetic that would take long or build something huge (``10 ** 10 ** 10``, ``"a" * 10 ** 9``)."""
    ints = [x for x in (a, b) if isinstance(x, int) and not isinstance(x, bool)]
    if isinstance(op, ast.Mult) and len(ints) == 1:
        seq = b if ints[0] is a else a
        return isinstance(seq, (str, bytes, list, tuple)) and len(seq) * max(ints[0], 0) > MAX_ITEMS * 16
    if isinstance(op, ast.Pow) and isinstance(b, (int, float)) and isinstance(a, (int, float)):
        return abs(b) > 256 and abs(a) > 1
    if isinstance(op, ast.LShift) and isinstance(b, int):
        return b > 4096
    return any(x.bit_length() > 4096 for x in ints)


def is_static(v: Any, depth: int = 0) -> bool:
    if isinstance(v, STATIC_TYPES):
        return True
    if depth < 4 and isinstance(v, (list, tuple, set, frozenset)):
        return all(is_static(x, depth + 1) for x in v)
    if depth < 4 and isinstance(v, dict):
        return all(is_static(k, depth + 1) and is_static(x, depth + 1) for k, x in v.items())
    return False


def describe(e: ast.AST) -> str:
    try:
        text = ast.unparse(e)
    except Exception:  # noqa: BLE001 - unparse of odd trees
        text = type(e).__name__
    return text if len(text) <= 60 else text[:57] + "..."


class Evaluator:
    """Evaluates expressions in a ``Frame``; subclasses provide calls and files."""

    def call(self, e: ast.Call, f: Frame) -> Any:  # pragma: no cover - provided by the interpreter
        raise NotImplementedError

    def comprehension(self, e: Comprehension, f: Frame) -> Any:  # pragma: no cover
        raise NotImplementedError

    def load_file(self, path: str) -> FileScope | None:  # pragma: no cover
        raise NotImplementedError

    def getattr(self, base: Any, name: str, e: ast.AST | None = None) -> Any:  # pragma: no cover
        raise NotImplementedError

    # -- names -------------------------------------------------------------------------------
    def name(self, name: str, f: Frame) -> Any:
        v = f.find(name)
        if v is not MISSING:
            return v
        v = f.scope.lookup(name, self.resolve_binding)
        if v is not MISSING:
            return v
        if name in BUILTINS:
            return Builtin(name)
        if name in ("True", "False", "None"):
            return {"True": True, "False": False, "None": None}[name]
        return Unknown(f"`{name}` is not defined in this file")

    def resolve_binding(self, ns: Namespace, name: str, bindings: list) -> Any:
        stmts = [s for s, _ in bindings]
        if all(isinstance(s, (ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)) for s in stmts):
            last = max(stmts, key=lambda s: (s.lineno, s.col_offset))
            if isinstance(last, ast.ClassDef):
                return ClassInfo(last, ns)
            return FuncRef(last, ns)
        if all(isinstance(s, (ast.Import, ast.ImportFrom)) for s in stmts):
            refs = [self.import_ref(s, alias, ns.file) for s, alias in bindings]
            if len({r.parts[-1] for r in refs}) == 1 and (len(refs) == 1 or all(r.level == 0 for r in refs)):
                return refs[0]
            return Unknown(f"`{name}` is imported in more than one way")
        if len(stmts) == 1 and isinstance(stmts[0], (ast.Assign, ast.AnnAssign)) and stmts[0].value is not None:
            return self.ev(stmts[0].value, Frame(ns))
        return Unknown(f"`{name}` is assigned more than once or in a way peftlint does not follow")

    @staticmethod
    def import_ref(stmt: ast.AST, alias: ast.alias, file: FileScope) -> ImportRef:
        if isinstance(stmt, ast.Import):
            parts = tuple(alias.name.split("."))
            if alias.asname is None:
                parts = parts[:1]  # `import torch.nn` binds `torch`
            return ImportRef(parts, len(parts), 0, file)
        assert isinstance(stmt, ast.ImportFrom)  # an import binding comes from one of the two statements
        mod = tuple(stmt.module.split(".")) if stmt.module else ()
        return ImportRef(mod + (alias.name,), len(mod), stmt.level, file)

    # -- expressions -------------------------------------------------------------------------
    def ev(self, e: ast.AST, f: Frame) -> Any:
        method = getattr(self, "ev_" + type(e).__name__, None)
        if method is None:
            return Unknown(f"`{describe(e)}` is not read statically")
        return method(e, f)

    def ev_Constant(self, e: ast.Constant, f: Frame) -> Any:
        return e.value

    def ev_Name(self, e: ast.Name, f: Frame) -> Any:
        return self.name(e.id, f)

    def ev_Attribute(self, e: ast.Attribute, f: Frame) -> Any:
        return self.getattr(self.ev(e.value, f), e.attr, e)

    def ev_Call(self, e: ast.Call, f: Frame) -> Any:
        return self.call(e, f)

    def ev_Lambda(self, e: ast.Lambda, f: Frame) -> Any:
        return Plain("a lambda")

    def ev_JoinedStr(self, e: ast.JoinedStr, f: Frame) -> Any:
        out = []
        for part in e.values:
            if isinstance(part, ast.Constant):
                out.append(str(part.value))
                continue
            assert isinstance(part, ast.FormattedValue)  # an f-string holds constants and {fields} only
            v = self.ev(part.value, f)
            spec = self.ev(part.format_spec, f) if part.format_spec is not None else ""
            if not is_static(v) or not isinstance(spec, str):
                return Plain(f"the f-string `{describe(e)}`")
            if part.conversion == ord("r"):
                v = repr(v)
            elif part.conversion == ord("s"):
                v = str(v)
            if sum(c.isdigit() for c in spec) > 3:  # a width that would build a huge string
                return Plain(f"the f-string `{describe(e)}`")
            try:
                out.append(format(v, spec))
            except (ValueError, TypeError):
                return Unknown(f"the f-string `{describe(e)}` is not static")
        return "".join(out)

    def ev_BinOp(self, e: ast.BinOp, f: Frame) -> Any:
        a: Any = self.ev(e.left, f)  # values of the read code: any Python value, or a Node/Unknown
        b: Any = self.ev(e.right, f)
        op = _BINOPS.get(type(e.op))
        if isinstance(e.op, ast.Mult) and isinstance(a, list) and isinstance(b, int) or \
                isinstance(e.op, ast.Mult) and isinstance(b, list) and isinstance(a, int):
            pair: tuple[Any, Any] = (b, a) if isinstance(b, int) else (a, b)
            n, seq = pair  # the count and the list
            if len(seq) * max(n, 0) <= MAX_ITEMS:
                return seq * n  # `[block] * 3` repeats the same module object, as in Python
        if op is None or not (is_static(a) and is_static(b)):
            if isinstance(e.op, ast.Add) and isinstance(a, (list, tuple)) and type(a) is type(b):
                return operator.add(a, b)
            if isinstance(e.op, (ast.Add, ast.Mult)) and (isinstance(a, Node) or isinstance(b, Node)):
                return Unknown(f"`{describe(e)}` is not static")  # Sequential + Sequential is a module
            return Plain(f"`{describe(e)}`")  # arithmetic: not static, but not a module either
        if _too_costly(e.op, a, b):
            return Plain(f"`{describe(e)}` (too large to compute)")
        try:
            out = op(a, b)
        except Exception:  # noqa: BLE001 - ZeroDivisionError, TypeError, OverflowError...
            return Unknown(f"`{describe(e)}` cannot be computed")
        if isinstance(out, (str, bytes, list, tuple)) and len(out) > MAX_ITEMS * 16:
            return Unknown(f"`{describe(e)}` is too large")
        return out

    def ev_UnaryOp(self, e: ast.UnaryOp, f: Frame) -> Any:
        v = self.ev(e.operand, f)
        if isinstance(e.op, ast.Not):
            t = self.truth(v)
            return Plain(f"`{describe(e)}`") if t is None else not t
        if not is_static(v):
            return Plain(f"`{describe(e)}`")
        try:
            return _UNARY[type(e.op)](v)
        except Exception:  # noqa: BLE001
            return Unknown(f"`{describe(e)}` cannot be computed")

    def ev_BoolOp(self, e: ast.BoolOp, f: Frame) -> Any:
        is_and = isinstance(e.op, ast.And)
        v: Any = None
        for sub in e.values:
            v = self.ev(sub, f)
            t = self.truth(v)
            if t is None:
                return Unknown(f"`{describe(e)}` is not static")
            if t != is_and:
                return v
        return v

    def ev_Compare(self, e: ast.Compare, f: Frame) -> Any:
        left = self.ev(e.left, f)
        for op, right_e in zip(e.ops, e.comparators):
            right = self.ev(right_e, f)
            if isinstance(op, (ast.Is, ast.IsNot)) and (left is None or right is None):
                known = not isinstance(left, (Unknown, Plain)) and not isinstance(right, (Unknown, Plain))
                if not known:
                    return Plain(f"`{describe(e)}`")
            elif not (is_static(left) and is_static(right)):
                return Plain(f"`{describe(e)}`")
            try:
                ok = _CMPOPS[type(op)](left, right)
            except Exception:  # noqa: BLE001
                return Unknown(f"`{describe(e)}` cannot be computed")
            if not ok:
                return False
            left = right
        return True

    def ev_IfExp(self, e: ast.IfExp, f: Frame) -> Any:
        t = self.truth(self.ev(e.test, f))
        if t is None:
            a, b = self.ev(e.body, f), self.ev(e.orelse, f)
            if is_static(a) and is_static(b) and a == b and type(a) is type(b):
                return a
            if not any(isinstance(x, (Node, Param, Unknown)) for x in (a, b)):
                return Plain(f"`{describe(e)}`")  # neither branch is a module
            return Unknown(f"`{describe(e.test)}` (line {e.lineno}) decides `{describe(e)}` and is not static")
        return self.ev(e.body if t else e.orelse, f)

    def ev_NamedExpr(self, e: ast.NamedExpr, f: Frame) -> Any:
        v = self.ev(e.value, f)
        f.locals[e.target.id] = v
        return v

    def _elements(self, elts: list[ast.expr], f: Frame) -> list | Unknown:
        out: list = []
        for el in elts:
            if isinstance(el, ast.Starred):
                v = self.ev(el.value, f)
                seq = self.iterate(v)
                if isinstance(seq, Unknown):
                    return seq
                out.extend(seq)
            else:
                out.append(self.ev(el, f))
        return out

    def ev_List(self, e: ast.List, f: Frame) -> Any:
        return self._elements(e.elts, f)

    def ev_Tuple(self, e: ast.Tuple, f: Frame) -> Any:
        v = self._elements(e.elts, f)
        return v if isinstance(v, Unknown) else tuple(v)

    def ev_Set(self, e: ast.Set, f: Frame) -> Any:
        v = self._elements(e.elts, f)
        if isinstance(v, Unknown) or not is_static(v):
            return Plain("a set")
        return set(v)

    def ev_Dict(self, e: ast.Dict, f: Frame) -> Any:
        out: dict = {}
        for k, v in zip(e.keys, e.values):
            if k is None:
                more = self.ev(v, f)
                if not isinstance(more, dict):
                    return Unknown(f"`**{describe(v)}` is not static")
                out.update(more)
                continue
            key = self.ev(k, f)
            if not is_static(key) or isinstance(key, (list, dict)):
                return Unknown(f"the key `{describe(k)}` is not static")
            out[key] = self.ev(v, f)
        return out

    def ev_ListComp(self, e: ast.ListComp, f: Frame) -> Any:
        return self.comprehension(e, f)

    ev_GeneratorExp = ev_ListComp
    ev_SetComp = ev_ListComp
    ev_DictComp = ev_ListComp

    def ev_Subscript(self, e: ast.Subscript, f: Frame) -> Any:
        base = self.ev(e.value, f)
        if isinstance(e.slice, ast.Slice):
            parts = [self.ev(p, f) if p is not None else None for p in (e.slice.lower, e.slice.upper, e.slice.step)]
            if not all(p is None or isinstance(p, int) for p in parts):
                return Unknown(f"`{describe(e)}` is not static")
            if isinstance(base, (list, tuple, str)):
                return base[slice(*parts)]
            if isinstance(base, Node) and base.cls in ("ModuleList", "Sequential") and not base.opaque:
                # a new container holding the same modules (Sequential keeps the keys, ModuleList renumbers)
                items = [(k, c) for k, c in base.children.items() if c is not None][slice(*parts)]
                out = Node(base.cls, base.kind)
                out.torch_base = base.torch_base
                for i, (k, c) in enumerate(items):
                    out.children[k if base.cls == "Sequential" else str(i)] = c
                return out
            return Unknown(f"`{describe(e)}` is not static")
        key = self.ev(e.slice, f)
        if isinstance(base, Node) and base.torch_base in ("ModuleList", "Sequential", "ModuleDict") and not base.opaque:
            if isinstance(key, int) and not isinstance(key, bool):
                children = [c for c in base.children.values() if c is not None]
                if -len(children) <= key < len(children):
                    return children[key]
            if isinstance(key, str) and base.children.get(key) is not None:
                return base.children[key]
            return Unknown(f"`{describe(e)}` is not static")
        if isinstance(base, (list, tuple, str)) and isinstance(key, int) and not isinstance(key, bool):
            return base[key] if -len(base) <= key < len(base) else Unknown(f"`{describe(e)}` is out of range")
        if isinstance(base, dict) and is_static(key) and not isinstance(key, (list, dict)) and key in base:
            return base[key]
        return Unknown(f"`{describe(e)}` is not static")

    # -- values ------------------------------------------------------------------------------
    @staticmethod
    def truth(v: Any) -> bool | None:
        """Truthiness when certain, else None."""
        if is_static(v) or isinstance(v, (tuple, dict)):
            return bool(v)
        if isinstance(v, list):
            return None if any(isinstance(x, UnknownItems) for x in v) else bool(v)
        if isinstance(v, Node):
            if v.torch_base in ("ModuleList", "Sequential", "ModuleDict", "ParameterList", "ParameterDict"):
                return None if v.opaque else any(c is not None for c in [*v.children.values(), *v.params.values()])
            return True
        if isinstance(v, (Obj, Param, ClassInfo, FuncRef, ImportRef)):
            return True
        return None

    def iterate(self, v: Any) -> list | Unknown:
        """The items a ``for`` over ``v`` sees, when certain."""
        if isinstance(v, list) and any(isinstance(x, UnknownItems) for x in v):
            return Unknown("a list extended with items peftlint cannot read")
        if isinstance(v, (list, tuple, str)):
            return list(v) if len(v) <= MAX_ITEMS else Unknown("a sequence too long to unroll")
        if isinstance(v, range):
            return list(v) if len(v) <= MAX_ITEMS else Unknown("a range too long to unroll")
        if isinstance(v, dict):
            return list(v)
        if isinstance(v, Node) and not v.opaque and v.torch_base in ("ModuleList", "Sequential"):
            return [c for c in v.children.values() if c is not None]
        if isinstance(v, Node) and not v.opaque and v.torch_base == "ModuleDict":
            return [k for k, c in v.children.items() if c is not None]
        return Unknown(f"iterating over {type(v).__name__ if not isinstance(v, Unknown) else v.reason}")
