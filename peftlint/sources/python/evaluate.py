"""Static evaluation of expressions to ``Value``s, without executing anything.

Literals, containers, constants bound once in the nearest scope, peft enums, simple concatenation
and f-strings; everything else is dynamic with a reason.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Callable, Iterable
from typing import Any

from peftlint.diagnostics import Span
from peftlint.sources.python.parse import NEWER_SYNTAX_ATTR
from peftlint.sources.python.program import Program, is_main_guard
from peftlint.sources.python.scope import CONDITIONAL, FUNCTIONS, Binding
from peftlint.spec import Value

# Methods that change a list/dict/set in place: a constant touched by one is not a constant.
MUTATING_METHODS = frozenset(
    {
        "append", "extend", "insert", "remove", "pop", "clear", "update", "add", "discard",
        "setdefault", "popitem", "sort", "reverse", "__setitem__", "__delitem__", "__iadd__",
    }
)
_MAX_DEPTH = 40
# Names can repeat a list or string inside another (A1 = A0 + A0, A2 = A1 + A1, ...): evaluation
# stops, as dynamic, after this many steps or at a string this long.
_MAX_STEPS = 20_000
_MAX_STR = 100_000
_MAX_FORMAT_WIDTH = 1000
# an int beyond CPython's int<->str conversion limit (4300 digits) cannot even be printed
_MAX_INT_BITS = 14_000


def dynamic(span: Span, reason: str) -> Value:
    return Value(value=None, span=span, dynamic=True, kind="dynamic", reason=reason)


def _set_origin(value: Value, origin: str) -> Value:
    if not value.origin:
        value.origin = origin
    for item in value.items or ():
        _set_origin(item, origin)
    for key in (value.keys or {}).values():
        _set_origin(key, origin)
    for member in (value.members or {}).values():
        _set_origin(member, origin)
    return value


def _str_value(text: str, span: Span) -> Value:
    if len(text) > _MAX_STR:
        return dynamic(span, "the string is too long to evaluate statically")
    return Value(text, span, kind="str")


def _dict_value(plain: dict[Any, Any], span: Span, keys: dict[str, Value], members: dict[str, Value]) -> Value:
    """A dict Value. When a member is not static the whole dict is dynamic (its plain value would
    hold a None that is not in the source), but ``keys`` and ``members`` stay readable."""
    bad = next((k for k, m in members.items() if not fully_static(m)), None)
    if bad is not None:
        reason = members[bad].reason or "computed at runtime"
        return Value(None, span, dynamic=True, kind="dynamic", keys=keys, members=members,
                     reason=f"the value of {bad!r} is not static: {reason}")
    return Value(plain, span, kind="dict", keys=keys, members=members)


def _piece_starts(text: str, pieces: list[str], sep: str | None) -> list[int] | None:
    """Where each piece of ``text.split(sep)`` starts in ``text``."""
    starts: list[int] = []
    pos = 0
    for piece in pieces:
        if sep is None:
            while pos < len(text) and text[pos].isspace():
                pos += 1
        if text[pos:pos + len(piece)] != piece:
            return None
        starts.append(pos)
        pos += len(piece) + (len(sep) if sep is not None else 0)
    return starts


def fully_static(v: Value) -> bool:
    """``Value.fully_static`` that also looks into dict members."""
    if not v.fully_static:
        return False
    return all(fully_static(m) for m in (v.members or {}).values()) and all(fully_static(i) for i in v.items or ())


class ValueResolver:
    """Static evaluation of expressions of one module. Never executes the linted code."""

    def __init__(self, program: Program) -> None:
        self.p = program
        # optional callback(attribute node) -> reason, e.g. "set at runtime by --lora_r (argparse)"
        self.describe_attribute: Callable[[ast.Attribute], str | None] | None = None
        self._steps = 0
        self._mutations: dict[int, str] = {}

    def value(self, expr: ast.expr) -> Value:
        self._steps = 0
        return self._eval(expr, 0, frozenset())

    # ------------------------------------------------------------------------------ core
    def _eval(self, expr: ast.expr, depth: int, seen: frozenset[int]) -> Value:
        p = self.p
        span = p.span(expr)
        self._steps += 1
        if depth > _MAX_DEPTH:
            return dynamic(span, "the expression is nested too deeply to evaluate")
        if self._steps > _MAX_STEPS:
            return dynamic(span, "the value is too large to evaluate statically")
        if isinstance(expr, ast.Constant):
            return self._constant(expr, span)
        if isinstance(expr, ast.JoinedStr):
            out: list[str] = []
            ok, reason = self._fstring_parts(expr.values, out, depth, seen)
            return _str_value("".join(out), span) if ok else dynamic(span, reason)
        if isinstance(expr, ast.Name):
            return self._name(expr, span, depth, seen)
        if isinstance(expr, ast.UnaryOp):
            inner = self._eval(expr.operand, depth + 1, seen)
            if not inner.dynamic and isinstance(inner.value, (int, float)) and not isinstance(inner.value, bool):
                if isinstance(expr.op, ast.USub):
                    return Value(-inner.value, span, kind=inner.kind)
                if isinstance(expr.op, ast.UAdd):
                    return Value(inner.value, span, kind=inner.kind)
            if inner.dynamic and inner.reason:
                return dynamic(span, inner.reason)
            return dynamic(span, f"computed by {p.code(expr)} at runtime")
        if isinstance(expr, (ast.List, ast.Tuple, ast.Set)):
            kind = {ast.List: "list", ast.Tuple: "tuple", ast.Set: "set"}[type(expr)]
            return self._sequence(expr.elts, kind, span, depth, seen)
        if isinstance(expr, ast.Dict):
            return self._dict(expr, span, depth, seen)
        if isinstance(expr, ast.Attribute):
            return self._attribute(expr, span)
        if isinstance(expr, ast.BinOp):
            return self._binary(expr, span, depth, seen)
        if isinstance(expr, ast.Call):
            return self._call(expr, span, depth, seen)
        if isinstance(expr, ast.Subscript):
            return self._subscript(expr, span, depth, seen)
        if isinstance(expr, ast.IfExp):
            return dynamic(span, f"chosen at runtime by the condition {p.code(expr.test, 40)}")
        return dynamic(span, f"{p.code(expr)} is only known at runtime")

    def _constant(self, expr: ast.Constant, span: Span) -> Value:
        v = expr.value
        newer = getattr(expr, NEWER_SYNTAX_ATTR, None)
        if newer:
            return dynamic(span, f"{newer}, which this Python cannot read (PFT908)")
        if isinstance(v, str):
            return Value(v, span, kind="str")
        if isinstance(v, bool):
            return Value(v, span, kind="bool")
        if v is None:
            return Value(None, span, kind="none")
        if isinstance(v, int):
            if v.bit_length() > _MAX_INT_BITS:
                return dynamic(span, "the number is too large to evaluate statically")
            return Value(v, span, kind="int")
        if isinstance(v, float):
            return Value(v, span, kind="float")
        if isinstance(v, bytes):
            return dynamic(span, f"{self.p.code(expr)} is a bytes literal, not a string")
        if isinstance(v, complex):
            return dynamic(span, f"{self.p.code(expr)} is a complex number")
        return dynamic(span, f"{self.p.code(expr)} is only known at runtime")

    def _sequence(self, elements: Iterable[ast.expr], kind: str, span: Span, depth: int, seen: frozenset[int]) -> Value:
        items: list[Value] = []
        for el in elements:
            if isinstance(el, ast.Starred):
                inner = self._eval(el.value, depth + 1, seen)
                if inner.is_sequence:
                    items.extend(inner.items or [])
                else:
                    reason = inner.reason if inner.dynamic else f"{self.p.code(el.value)} is not a sequence"
                    items.append(dynamic(self.p.span(el), f"unpacked at runtime: {reason}"))
                continue
            items.append(self._eval(el, depth + 1, seen))
        self._steps += len(items)
        return Value([i.value for i in items], span, kind=kind, items=items)

    def _dict(self, expr: ast.Dict, span: Span, depth: int, seen: frozenset[int]) -> Value:
        plain: dict[Any, Any] = {}
        keys: dict[str, Value] = {}
        members: dict[str, Value] = {}
        for key, member in zip(expr.keys, expr.values):
            if key is None:  # **other
                inner = self._eval(member, depth + 1, seen)
                if inner.dynamic or not isinstance(inner.value, dict):
                    return dynamic(span, f"unpacks {self.p.code(member)} at runtime")
                plain.update(inner.value)
                keys.update(inner.keys or {})
                members.update(inner.members or {})
                continue
            k = self._eval(key, depth + 1, seen)
            if k.dynamic:
                return dynamic(span, f"the key {self.p.code(key)} is computed at runtime")
            v = self._eval(member, depth + 1, seen)
            try:
                plain[k.value] = v.value
            except TypeError:  # an unhashable key such as a list
                return dynamic(span, f"the key {self.p.code(key)} cannot be a dict key")
            keys[str(k.value)] = k
            members[str(k.value)] = v
        return _dict_value(plain, span, keys, members)

    def _fstring_parts(self, parts: Iterable[ast.expr], out: list[str], depth: int, seen: frozenset[int]) -> tuple[bool, str]:
        for part in parts:
            if isinstance(part, ast.Constant):
                out.append(str(part.value))
                continue
            if not isinstance(part, ast.FormattedValue):
                return False, f"{self.p.code(part)} is only known at runtime"
            v = self._eval(part.value, depth + 1, seen)
            if v.dynamic or not v.fully_static:
                return False, v.reason or f"{self.p.code(part.value)} is only known at runtime"
            value: Any = v.value
            conv = chr(part.conversion) if part.conversion > 0 else ""
            if conv == "r":
                value = repr(value)
            elif conv == "s":
                value = str(value)
            elif conv == "a":
                value = ascii(value)
            spec_parts: list[str] = []
            if part.format_spec is not None:
                inner = part.format_spec.values if isinstance(part.format_spec, ast.JoinedStr) else [part.format_spec]
                ok, reason = self._fstring_parts(inner, spec_parts, depth + 1, seen)
                if not ok:
                    return False, reason
            spec = "".join(spec_parts)
            if any(len(n.lstrip("0")) > 4 or int(n) > _MAX_FORMAT_WIDTH for n in re.findall(r"\d+", spec)):
                return False, "the f-string format is too wide to evaluate"
            try:
                out.append(format(value, spec))
            except Exception:
                return False, f"the f-string format {spec!r} fails"
        return True, ""

    def _attribute(self, expr: ast.Attribute, span: Span) -> Value:
        for qn in self.p.qualified_names(expr):
            parts = qn.split(".")
            if parts[0] == "peft" and len(parts) >= 3 and parts[-2] in ("TaskType", "PeftType"):
                return Value(parts[-1], span, kind="str")
        if self.describe_attribute is not None:
            reason = self.describe_attribute(expr)
            if reason:
                return dynamic(span, reason)
        return dynamic(span, f"{self.p.code(expr)} is only known at runtime")

    def _binary(self, expr: ast.BinOp, span: Span, depth: int, seen: frozenset[int]) -> Value:
        if isinstance(expr.op, ast.Add):
            left = self._eval(expr.left, depth + 1, seen)
            right = self._eval(expr.right, depth + 1, seen)
            if left.is_str and right.is_str:
                return _str_value(left.value + right.value, span)
            if left.is_sequence and right.is_sequence and left.kind == right.kind and left.kind in ("list", "tuple"):
                items = list(left.items or []) + list(right.items or [])
                self._steps += len(items)
                if self._steps > _MAX_STEPS:
                    return dynamic(span, "the value is too large to evaluate statically")
                return Value([i.value for i in items], span, kind=left.kind, items=items)
            bad = left if left.dynamic else right if right.dynamic else None
            if bad is not None and bad.reason:
                return dynamic(span, bad.reason)
        return dynamic(span, f"computed by {self.p.code(expr)} at runtime")

    def _call(self, expr: ast.Call, span: Span, depth: int, seen: frozenset[int]) -> Value:
        p = self.p
        func = expr.func
        args = p.args(expr)
        for kind in ("list", "tuple", "set"):
            if isinstance(func, ast.Name) and func.id == kind and p.is_builtin(func, kind):
                if not args:
                    return Value([], span, kind=kind, items=[])
                if len(args) == 1 and not args[0].keyword and not args[0].star:
                    inner = self._eval(args[0].value, depth + 1, seen)
                    if inner.is_sequence:
                        items = list(inner.items or [])
                        return Value([i.value for i in items], span, kind=kind, items=items)
                    if inner.kind == "dict" and inner.keys is not None:
                        items = list(inner.keys.values())
                        return Value([i.value for i in items], span, kind=kind, items=items)
                break
        if isinstance(func, ast.Name) and func.id == "dict" and p.is_builtin(func, "dict"):
            if all(a.keyword is not None for a in args):
                plain: dict[str, Any] = {}
                keys: dict[str, Value] = {}
                members: dict[str, Value] = {}
                for a in args:
                    assert a.keyword is not None and isinstance(a.node, ast.keyword)
                    name = a.keyword
                    members[name] = self._eval(a.value, depth + 1, seen)
                    plain[name] = members[name].value
                    keys[name] = Value(name, p.keyword_span(a.node), kind="str")
                return _dict_value(plain, span, keys, members)
        if isinstance(func, ast.Attribute) and func.attr == "split":
            got = self._split(expr, func, span, depth, seen)
            if got is not None:
                return got
        return dynamic(span, f"computed by {p.code(expr)} at runtime")

    def _split(self, expr: ast.Call, func: ast.Attribute, span: Span, depth: int, seen: frozenset[int]) -> Value | None:
        """``"q_proj,v_proj".split(",")`` on a static string (``str.split`` with a static separator and
        maxsplit): a list of its pieces, each at its place in the string literal when the literal is
        written plainly, else at the literal. None when it is not such a call."""
        recv = self._eval(func.value, depth + 1, seen)
        if not recv.is_str:
            return None
        opts: dict[str, Value] = {}
        for i, a in enumerate(self.p.args(expr)):
            name = a.keyword if a.keyword is not None else ("sep", "maxsplit")[i] if i < 2 and not a.star else None
            if name not in ("sep", "maxsplit") or name in opts:
                return None
            opts[name] = self._eval(a.value, depth + 1, seen)
        sep_v, max_v = opts.get("sep"), opts.get("maxsplit")
        sep = None if sep_v is None else sep_v.value
        maxsplit = -1 if max_v is None else max_v.value
        if (sep_v is not None and (sep_v.dynamic or not (sep is None or (isinstance(sep, str) and sep)))) or \
                (max_v is not None and (max_v.dynamic or not isinstance(maxsplit, int) or isinstance(maxsplit, bool))):
            return None
        text: str = recv.value
        pieces = text.split(sep, maxsplit)
        self._steps += len(pieces)
        if self._steps > _MAX_STEPS:
            return dynamic(span, "the value is too large to evaluate statically")
        starts = _piece_starts(text, pieces, sep) if self._plain_literal(recv) else None
        # the list is not written as a list: an origin keeps fixes away from the call
        origin = recv.origin or f"{self.p.code(expr, 40)} (line {self.p.line(expr)})"
        items = []
        for k, piece in enumerate(pieces):
            at = recv.span
            if starts is not None:
                col = recv.span.column + 1 + starts[k]
                at = Span(recv.span.line, col, recv.span.line, col + len(piece))
            items.append(Value(piece, at, kind="str", origin=origin))
        return Value(pieces, span, kind="list", items=items, origin=origin)

    def _plain_literal(self, v: Value) -> bool:
        """``v``'s span holds the string as a one-line quoted literal without prefix or escapes."""
        sp = self.p
        if v.span.line != v.span.end_line:
            return False
        start = sp.offset(v.span.line, v.span.column - 1)
        end = sp.offset(v.span.end_line, v.span.end_column - 1)
        return sp.text[start:end] in (f'"{v.value}"', f"'{v.value}'")

    def _subscript(self, expr: ast.Subscript, span: Span, depth: int, seen: frozenset[int]) -> Value:
        index = expr.slice
        if not isinstance(index, (ast.Slice, ast.Tuple)):
            container = self._eval(expr.value, depth + 1, seen)
            key = self._eval(index, depth + 1, seen)
            if not container.dynamic and not key.dynamic:
                if container.items is not None and isinstance(key.value, int) and not isinstance(key.value, bool):
                    if -len(container.items) <= key.value < len(container.items):
                        return container.items[key.value]
                elif container.members is not None and str(key.value) in container.members:
                    return container.members[str(key.value)]
        return dynamic(span, f"{self.p.code(expr)} is only known at runtime")

    # ----------------------------------------------------------------------------- names
    def _name(self, name: ast.Name, span: Span, depth: int, seen: frozenset[int]) -> Value:
        p = self.p
        ident = name.id
        bindings = p.scopes.visible(name)
        if not bindings:
            if p.is_builtin(name, ident):
                return dynamic(span, f"{ident} is a Python builtin, not a value")
            return dynamic(span, f"{ident} is not defined in this file")
        if len(bindings) > 1:
            lines = sorted({p.line(b.statement if b.kind == "import" else b.node) for b in bindings})
            where = ", ".join(str(n) for n in lines)
            return dynamic(span, f"{ident} is assigned more than once (lines {where})")
        b = bindings[0]
        node = b.node
        line = p.line(b.statement if b.kind == "import" else node)
        if b.kind == "import":
            return dynamic(span, f"{ident} is imported (line {line})")
        if b.kind == "param":
            assert isinstance(node, ast.arg)
            return dynamic(span, self.param_reason(node))
        if b.kind == "def":
            return dynamic(span, f"{ident} is a function")
        if b.kind == "class":
            return dynamic(span, f"{ident} is a class")
        if b.kind in ("except", "other"):
            return dynamic(span, f"{ident} is only known at runtime (bound at line {line})")
        if not isinstance(node, ast.Name):
            return dynamic(span, f"{ident} is only known at runtime")
        if id(b) in seen:
            return dynamic(span, f"{ident} refers to itself")
        if b.kind in ("for", "comp"):
            return dynamic(span, f"{ident} is a loop variable (line {line})")
        if b.kind in ("with", "except", "other", "augassign") or b.value is None:
            return dynamic(span, f"{ident} is only known at runtime (bound at line {line})")
        not_reaching = self._not_reaching(b, name, ident)
        if not_reaching:
            return dynamic(span, not_reaching)
        if id(b) not in self._mutations:
            self._mutations[id(b)] = self._mutation(b)
        mutation = self._mutations[id(b)]
        if mutation:
            return dynamic(span, f"{ident} is modified at runtime ({mutation})")
        value_expr: ast.expr = b.value
        for i in b.path:
            elements = value_expr.elts if isinstance(value_expr, (ast.Tuple, ast.List)) else []
            if i < len(elements) and not isinstance(elements[i], ast.Starred) and not any(
                isinstance(e, ast.Starred) for e in elements[:i]
            ):
                value_expr = elements[i]
            else:
                return dynamic(span, f"{ident} is unpacked from {p.code(b.value)} at runtime")
        v = self._eval(value_expr, depth + 1, seen | {id(b)})
        if v.dynamic and v.items is None and v.keys is None:
            # a dynamic value points at the expression the config actually reads
            return dynamic(span, v.reason)
        return _set_origin(v, f"{ident} (line {line})")

    def param_reason(self, param: ast.arg) -> str:
        p = self.p
        func = p.function_of_param(param)
        fname = f"{func.name}()" if func is not None else "a lambda"
        pname = param.arg
        owner = func if func is not None else p.parents.get(p.parents.get(param) or param)
        default = p.param_default(owner, param) if isinstance(owner, FUNCTIONS + (ast.Lambda,)) else None
        if default is not None:
            return f"argument '{pname}' of {fname} is set by the caller (default {p.code(default, 40)})"
        sites = p.call_sites(func) if func is not None else []
        if sites:
            return f"argument '{pname}' of {fname} is set by the caller (line {p.line(sites[0])})"
        return f"argument '{pname}' of {fname} has no default"

    def _not_reaching(self, b: Binding, use: ast.AST, ident: str) -> str:
        """Why the (single) binding may not have run when ``use`` reads the name, or ""."""
        p = self.p
        statement = b.statement
        line = p.line(statement)
        use_scope = p.scopes.effective_scope(use)
        if b.scope is use_scope:
            if p.start(statement) >= p.start(use):
                return f"{ident} is assigned after it is read (line {line})"
            if not p.scopes.dominates(b.node, use):
                return f"{ident} is assigned conditionally (line {line})"
            return ""
        # read from a nested function: the assignment must run whenever its scope runs
        child: ast.AST = statement
        for a in p.ancestors(statement):
            if isinstance(a, FUNCTIONS + (ast.ClassDef, ast.Module, ast.Lambda)):
                return ""
            if isinstance(a, ast.If) and is_main_guard(a) and any(s is child for s in a.body):
                child = a
                continue
            if isinstance(a, CONDITIONAL):
                return f"{ident} is assigned conditionally (line {line})"
            child = a
        return ""

    def _mutation(self, b: Binding) -> str:
        p = self.p
        for node in p.scopes.references(b, filtered=False):
            parent = p.parent(node)
            if isinstance(parent, ast.Attribute) and parent.value is node:
                grand = p.parent(parent)
                if isinstance(grand, ast.Call) and grand.func is parent and parent.attr in MUTATING_METHODS:
                    return f"{p.code(grand, 40)} at line {p.line(grand)}"
            if isinstance(parent, ast.Subscript) and parent.value is node and not isinstance(parent.ctx, ast.Load):
                return f"item assignment at line {p.line(parent)}"
        return ""
