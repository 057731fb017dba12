"""One parsed Python module with its metadata, plus static evaluation of expressions to ``Value``s.

``ModuleIndex`` resolves libcst metadata once (positions, scopes) and collects, in a single walk,
what the extractor needs: parents, calls in source order, comments by line, classes, argparse
options. ``ValueResolver`` turns an expression into a ``Value`` without executing anything:
literals, containers, constants bound once in the nearest scope, peft enums, simple
concatenation and f-strings; everything else is dynamic with a reason.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import libcst as cst
from libcst.metadata import (
    Access,
    Assignment,
    BaseAssignment,
    ComprehensionScope,
    ImportAssignment,
    MetadataWrapper,
    PositionProvider,
    QualifiedNameSource,
    Scope,
    ScopeProvider,
)

from peftlint.diagnostics import Span
from peftlint.spec import Value

# Methods that change a list/dict/set in place: a constant touched by one is not a constant.
MUTATING_METHODS = frozenset(
    {
        "append", "extend", "insert", "remove", "pop", "clear", "update", "add", "discard",
        "setdefault", "popitem", "sort", "reverse", "__setitem__", "__delitem__", "__iadd__",
    }
)
# Statements under which an assignment may not run (``with`` bodies always run).
_CONDITIONAL = (
    cst.If, cst.For, cst.While, cst.Try, cst.TryStar, cst.ExceptHandler, cst.ExceptStarHandler,
    cst.Else, cst.Finally, cst.Match, cst.MatchCase,
)
_BLOCKS = (cst.Module, cst.IndentedBlock, cst.SimpleStatementSuite)
_LINE_BREAK = re.compile(r"\r\n|\r|\n")
_MAX_DEPTH = 40
# Names can repeat a list or string inside another (A1 = A0 + A0, A2 = A1 + A1, ...): evaluation
# stops, as dynamic, after this many steps or at a string this long.
_MAX_STEPS = 20_000
_MAX_STR = 100_000
_MAX_FORMAT_WIDTH = 1000


def short_code(code: str, limit: int = 60) -> str:
    """Source text on one line, shortened for messages."""
    code = " ".join(code.split())
    return code if len(code) <= limit else code[: limit - 1] + "…"


@dataclass(frozen=True)
class ArgOption:
    """One ``parser.add_argument(...)`` call."""

    dest: str
    flag: str  # "--model_id", or the dest of a positional argument
    call: cst.Call
    default: cst.BaseExpression | None
    required: bool


@dataclass(frozen=True)
class BoundValue:
    """What a name target is bound to: the statement kind, the assigned expression and, for
    tuple unpacking, the index path of the name inside the target."""

    kind: str  # "assign", "annassign", "augassign", "for", "with", "walrus", "comp", "except", "other"
    statement: cst.CSTNode
    value: cst.BaseExpression | None
    path: tuple[int, ...] = ()


class _Collector(cst.CSTVisitor):
    """One walk over the tree: parents, calls, comments, classes, argparse, star imports."""

    def __init__(self) -> None:
        self.parents: dict[cst.CSTNode, cst.CSTNode] = {}
        self.calls: list[cst.Call] = []
        self.comments: dict[int, list[cst.Comment]] = {}
        self.classes: dict[str, list[cst.ClassDef]] = {}
        self.star_modules: list[str] = []
        self.comments: list[cst.Comment] = []
        self._stack: list[cst.CSTNode] = []

    def on_visit(self, node: cst.CSTNode) -> bool:
        if self._stack:
            self.parents[node] = self._stack[-1]
        self._stack.append(node)
        if isinstance(node, cst.Call):
            self.calls.append(node)
        elif isinstance(node, cst.Comment):
            self.comments.append(node)
        elif isinstance(node, cst.ClassDef):
            self.classes.setdefault(node.name.value, []).append(node)
        elif isinstance(node, cst.ImportFrom) and isinstance(node.names, cst.ImportStar):
            if node.module is not None and not node.relative:
                self.star_modules.append(dotted_name(node.module) or "")
        return True

    def on_leave(self, original_node: cst.CSTNode) -> None:
        self._stack.pop()


def dotted_name(node: cst.CSTNode) -> str | None:
    """``a.b.c`` for a Name/Attribute chain, else None."""
    parts: list[str] = []
    while isinstance(node, cst.Attribute):
        parts.append(node.attr.value)
        node = node.value
    if not isinstance(node, cst.Name):
        return None
    parts.append(node.value)
    return ".".join(reversed(parts))


class ModuleIndex:
    """Metadata and lookups over one parsed module."""

    def __init__(self, module: cst.Module, text: str) -> None:
        self.module = module
        # Python's own line breaks only (str.splitlines also splits at \f, \x1c, \u2028, ...)
        self.lines = _LINE_BREAK.split(text)
        wrapper = MetadataWrapper(module, unsafe_skip_copy=True)
        meta = wrapper.resolve_many([PositionProvider, ScopeProvider])
        self.positions: Mapping[cst.CSTNode, Any] = meta[PositionProvider]
        self.scopes: Mapping[cst.CSTNode, Scope | None] = meta[ScopeProvider]
        collector = _Collector()
        module.visit(collector)
        self.parents = collector.parents
        self.calls = collector.calls
        self.classes = collector.classes
        self.star_modules = collector.star_modules
        self.comments: dict[int, list[str]] = {}
        for comment in collector.comments:
            pos = self.positions.get(comment)
            if pos is not None:
                self.comments.setdefault(pos.start.line, []).append(comment.value)
        self._accesses: dict[cst.CSTNode, Access] = {}
        for scope in {s for s in self.scopes.values() if s is not None}:
            for access in scope.accesses:
                self._accesses[access.node] = access
        self.arg_options = self._collect_arg_options()

    # ----------------------------------------------------------------- positions & text
    def span(self, node: cst.CSTNode) -> Span:
        pos = self.positions.get(node)
        if pos is None:
            return Span(1, 1, 1, 1)
        return Span(pos.start.line, pos.start.column + 1, pos.end.line, pos.end.column + 1)

    def line(self, node: cst.CSTNode) -> int:
        pos = self.positions.get(node)
        return pos.start.line if pos is not None else 1

    def start(self, node: cst.CSTNode) -> tuple[int, int]:
        pos = self.positions.get(node)
        return (pos.start.line, pos.start.column) if pos is not None else (0, 0)

    def code(self, node: cst.CSTNode, limit: int = 60) -> str:
        return short_code(self.module.code_for_node(node), limit)

    # ----------------------------------------------------------------------- tree walking
    def parent(self, node: cst.CSTNode) -> cst.CSTNode | None:
        return self.parents.get(node)

    def ancestors(self, node: cst.CSTNode) -> Iterator[cst.CSTNode]:
        cur = self.parents.get(node)
        while cur is not None:
            yield cur
            cur = self.parents.get(cur)

    def is_ancestor(self, maybe_ancestor: cst.CSTNode, node: cst.CSTNode) -> bool:
        return any(a is maybe_ancestor for a in self.ancestors(node))

    def enclosing_function(self, node: cst.CSTNode) -> cst.FunctionDef | None:
        for a in self.ancestors(node):
            if isinstance(a, cst.FunctionDef):
                return a
        return None

    def enclosing_statement(self, node: cst.CSTNode) -> cst.CSTNode:
        """The statement line (simple or compound) that contains ``node``."""
        for a in self.ancestors(node):
            if isinstance(a, (cst.SimpleStatementLine, cst.BaseCompoundStatement)):
                return a
        return node

    # --------------------------------------------------------------------- names & scopes
    def qualified_names(self, node: cst.CSTNode) -> set[str]:
        """Qualified names of an imported or builtin name/attribute (never local ones)."""
        scope = self.scopes.get(node)
        if scope is None:
            return set()
        try:
            qns = scope.get_qualified_names_for(node)
        except Exception:  # libcst raises on some exotic nodes; they are simply not names
            return set()
        names = {q.name for q in qns if q.source != QualifiedNameSource.LOCAL}
        if not qns and self.star_modules:
            dotted = dotted_name(node)
            if dotted is not None:
                root = dotted.split(".", 1)[0]
                if not scope[root]:
                    names = {f"{m}.{dotted}" for m in self.star_modules}
        return names

    def is_builtin(self, node: cst.CSTNode, name: str) -> bool:
        return f"builtins.{name}" in self.qualified_names(node)

    def access(self, node: cst.CSTNode) -> Access | None:
        return self._accesses.get(node)

    def effective_scope(self, node: cst.CSTNode) -> Scope | None:
        """The scope ``node`` runs in; comprehensions run inline in their parent's scope."""
        scope = self.scopes.get(node)
        while isinstance(scope, ComprehensionScope):
            scope = scope.parent
        return scope

    def visible_assignments(self, name: cst.Name) -> list[BaseAssignment]:
        """Every assignment of the name in the scope the name resolves to (Python's rules)."""
        scope = self.scopes.get(name)
        if scope is None:
            return []
        try:
            found = scope[name.value]
        except Exception:
            return []
        return sorted(found, key=self._assignment_key)

    def latest_binding(self, name: cst.Name) -> BaseAssignment | None:
        """The assignment that most plausibly reaches ``name``: the last one before it in the same
        scope, else the last one in the enclosing scope (flow-insensitive but order-aware)."""
        access = self.access(name)
        referents = list(access.referents) if access is not None else []
        if not referents:
            referents = self.visible_assignments(name)
        if not referents:
            return None
        use = self.start(name)
        scope = self.effective_scope(name)
        same = [a for a in referents if a.scope is scope and self._assignment_key(a) < use]
        if same:
            return max(same, key=self._assignment_key)
        outer = [a for a in referents if a.scope is not scope]
        return max(outer or referents, key=self._assignment_key)

    def _assignment_key(self, a: BaseAssignment) -> tuple[int, int]:
        node = getattr(a, "node", None)
        return self.start(node) if node is not None else (0, 0)

    def assignment_of(self, target: cst.CSTNode) -> Assignment | None:
        """The Assignment object recorded for a binding node (a Name target, FunctionDef, ...)."""
        scope = self.scopes.get(target)
        if isinstance(target, (cst.FunctionDef, cst.ClassDef)):
            name = target.name.value
        elif isinstance(target, cst.Name):
            name = target.value
        elif isinstance(target, cst.Param):
            name = target.name.value
            scope = self.scopes.get(target.name) or scope
        else:
            return None
        while scope is not None:
            for a in scope.assignments[name]:
                if isinstance(a, Assignment) and a.node is target:
                    return a
            if scope.parent is scope:
                break
            scope = scope.parent
        return None

    def references(self, assignment: BaseAssignment) -> list[cst.CSTNode]:
        """Name nodes that read ``assignment``, in source order. A read is dropped when another
        assignment of the same scope certainly runs between the two (straight-line rebinding);
        a rebinding in a branch keeps both candidates."""
        node = getattr(assignment, "node", None)
        own = self.start(node) if node is not None else (0, 0)
        out = []
        for acc in assignment.references:
            read = acc.node
            if not isinstance(read, cst.Name):
                continue
            if acc.scope is assignment.scope and any(
                other is not assignment
                and isinstance(other, Assignment)
                and own < self.start(other.node) < self.start(read)
                and self.dominates(other.node, read)
                for other in acc.referents
            ):
                continue
            out.append(read)
        return sorted(out, key=self.start)

    def dominates(self, binding: cst.CSTNode, use: cst.CSTNode) -> bool:
        """The statement of ``binding`` sits in a block that also contains ``use`` (so when the use
        runs after it, the binding ran)."""
        block = next((b for b in self.ancestors(binding) if isinstance(b, _BLOCKS)), None)
        return block is not None and self.is_ancestor(block, use)

    def bound_value(self, target: cst.Name) -> BoundValue | None:
        """Walk up from a Name target to the statement that binds it."""
        path: list[int] = []
        child: cst.CSTNode = target
        for parent in self.ancestors(target):
            if isinstance(parent, cst.StarredElement):
                return BoundValue("other", parent, None)
            if isinstance(parent, cst.Element):
                child = parent
                continue
            if isinstance(parent, (cst.Tuple, cst.List)):
                idx = next((i for i, e in enumerate(parent.elements) if e is child), None)
                if idx is None:
                    return None
                path.insert(0, idx)
                child = parent
                continue
            if isinstance(parent, cst.AssignTarget):
                stmt = self.parents.get(parent)
                if isinstance(stmt, cst.Assign):
                    return BoundValue("assign", stmt, stmt.value, tuple(path))
                return None
            if isinstance(parent, cst.AnnAssign):
                return BoundValue("annassign", parent, parent.value, tuple(path))
            if isinstance(parent, cst.AugAssign):
                return BoundValue("augassign", parent, None)
            if isinstance(parent, cst.For):
                return BoundValue("for", parent, None)
            if isinstance(parent, cst.CompFor):
                return BoundValue("comp", parent, None)
            if isinstance(parent, cst.NamedExpr):
                return BoundValue("walrus", parent, parent.value)
            if isinstance(parent, cst.AsName):
                stmt = self.parents.get(parent)
                kind = "with" if isinstance(stmt, cst.WithItem) else "except"
                return BoundValue(kind, stmt or parent, None)
            return BoundValue("other", parent, None)
        return None

    # ------------------------------------------------------------------------- functions
    def function_of_param(self, param: cst.Param) -> cst.FunctionDef | None:
        for a in self.ancestors(param):
            if isinstance(a, cst.FunctionDef):
                return a
            if isinstance(a, cst.Lambda):
                return None
        return None

    def local_function(self, func: cst.BaseExpression) -> cst.FunctionDef | None:
        """The FunctionDef in this file that a call's ``func`` (a bare name) refers to."""
        if not isinstance(func, cst.Name):
            return None
        binding = self.latest_binding(func)
        node = getattr(binding, "node", None)
        return node if isinstance(node, cst.FunctionDef) else None

    def call_sites(self, func: cst.FunctionDef) -> list[cst.Call]:
        """Calls ``func(...)`` of a function by its bare name in this file, in source order."""
        assignment = self.assignment_of(func)
        if assignment is None:
            return []
        out = []
        for acc in assignment.references:
            parent = self.parents.get(acc.node)
            if isinstance(parent, cst.Call) and parent.func is acc.node:
                out.append(parent)
        return sorted(out, key=self.start)

    @staticmethod
    def bind_argument(func: cst.FunctionDef, call: cst.Call, param: cst.Param) -> cst.BaseExpression | None:
        """The argument expression ``call`` passes for ``param`` (None when not passed or unknown)."""
        name = param.name.value
        for arg in call.args:
            if arg.keyword is not None and arg.keyword.value == name:
                return arg.value
        positional = list(func.params.posonly_params) + list(func.params.params)
        index = next((i for i, p in enumerate(positional) if p is param), None)
        if index is None:
            return None
        pos_args = []
        for arg in call.args:
            if arg.keyword is not None:
                continue
            if arg.star:
                return None  # *args: position unknown from here on
            pos_args.append(arg.value)
        return pos_args[index] if index < len(pos_args) else None

    @staticmethod
    def param_for_argument(func: cst.FunctionDef, call: cst.Call, arg: cst.Arg) -> cst.Param | None:
        """The parameter of ``func`` that receives ``arg`` at ``call``."""
        params = func.params
        if arg.star:
            return None
        if arg.keyword is not None:
            for p in list(params.posonly_params) + list(params.params) + list(params.kwonly_params):
                if p.name.value == arg.keyword.value:
                    return p
            return None
        index = 0
        for a in call.args:
            if a.star:
                return None
            if a.keyword is not None:
                continue
            if a is arg:
                break
            index += 1
        positional = list(params.posonly_params) + list(params.params)
        return positional[index] if index < len(positional) else None

    # ---------------------------------------------------------------- argparse, dataclasses
    def _collect_arg_options(self) -> dict[str, list[ArgOption]]:
        options: dict[str, list[ArgOption]] = {}
        for call in self.calls:
            func = call.func
            if not (isinstance(func, cst.Attribute) and func.attr.value == "add_argument"):
                continue
            flags = []
            dest = None
            default: cst.BaseExpression | None = None
            required = False
            nargs_optional = False
            for arg in call.args:
                if arg.keyword is None:
                    if isinstance(arg.value, cst.SimpleString) and isinstance(arg.value.evaluated_value, str):
                        flags.append(arg.value.evaluated_value)
                    continue
                key = arg.keyword.value
                if key == "dest" and isinstance(arg.value, cst.SimpleString):
                    d = arg.value.evaluated_value
                    dest = d if isinstance(d, str) else None
                elif key == "default":
                    default = arg.value
                elif key == "required":
                    required = isinstance(arg.value, cst.Name) and arg.value.value == "True"
                elif key == "nargs" and isinstance(arg.value, cst.SimpleString):
                    nargs_optional = arg.value.evaluated_value in ("?", "*")
            if not flags:
                continue
            long_flags = [f for f in flags if f.startswith("--")]
            dashed = [f for f in flags if f.startswith("-")]
            if dest is None:
                if long_flags:
                    dest = long_flags[0][2:].replace("-", "_")
                elif dashed:
                    dest = dashed[0].lstrip("-").replace("-", "_")
                else:
                    dest = flags[0]
            if not dashed:
                required = not (nargs_optional and default is not None)
            flag = (long_flags or dashed or flags)[0]
            options.setdefault(dest, []).append(ArgOption(dest, flag, call, default, required))
        return options

    def class_field(
        self, class_name: str, attr: str, _seen: frozenset[str] = frozenset()
    ) -> tuple[cst.ClassDef, cst.CSTNode, cst.BaseExpression | None] | None:
        """A class-body field ``attr`` (``x: T = v`` or ``x = v``) of a class defined in this file,
        looked up through base classes defined in this file."""
        if class_name in _seen:
            return None
        for cls in self.classes.get(class_name, ()):
            body = cls.body.body if isinstance(cls.body, cst.IndentedBlock) else ()
            for line in body:
                if not isinstance(line, cst.SimpleStatementLine):
                    continue
                for stmt in line.body:
                    target = stmt.target if isinstance(stmt, cst.AnnAssign) else None
                    if isinstance(target, cst.Name) and target.value == attr:
                        return cls, stmt, stmt.value
                    if isinstance(stmt, cst.Assign):
                        for t in stmt.targets:
                            if isinstance(t.target, cst.Name) and t.target.value == attr:
                                return cls, stmt, stmt.value
            for base in cls.bases:
                if isinstance(base.value, cst.Name):
                    found = self.class_field(base.value.value, attr, _seen | {class_name})
                    if found is not None:
                        return found
        return None

    def field_classes(self, attr: str) -> list[str]:
        """Classes of this file with a field called ``attr``."""
        return [name for name in self.classes if self.class_field(name, attr) is not None]


def is_main_guard(node: cst.If) -> bool:
    """``if __name__ == "__main__":``"""
    test = node.test
    if not isinstance(test, cst.Comparison) or len(test.comparisons) != 1:
        return False
    target = test.comparisons[0]
    if not isinstance(target.operator, cst.Equal):
        return False
    sides = [test.left, target.comparator]
    names = [s for s in sides if isinstance(s, cst.Name) and s.value == "__name__"]
    strings = [s for s in sides if isinstance(s, cst.SimpleString) and s.evaluated_value == "__main__"]
    return len(names) == 1 and len(strings) == 1


# ============================================================================ static values
def _dynamic(span: Span, reason: str) -> Value:
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
        return _dynamic(span, "the string is too long to evaluate statically")
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


def fully_static(v: Value) -> bool:
    """``Value.fully_static`` that also looks into dict members."""
    if not v.fully_static:
        return False
    return all(fully_static(m) for m in (v.members or {}).values()) and all(fully_static(i) for i in v.items or ())


class ValueResolver:
    """Static evaluation of expressions of one module. Never executes the linted code."""

    def __init__(self, index: ModuleIndex) -> None:
        self.index = index
        # optional callback(attribute node) -> reason, e.g. "set at runtime by --lora_r (argparse)"
        self.describe_attribute: Callable[[cst.Attribute], str | None] | None = None
        self._steps = 0
        self._mutations: dict[int, str] = {}

    def value(self, expr: cst.BaseExpression) -> Value:
        self._steps = 0
        return self._eval(expr, 0, frozenset())

    # ------------------------------------------------------------------------------ core
    def _eval(self, expr: cst.BaseExpression, depth: int, seen: frozenset[int]) -> Value:
        idx = self.index
        span = idx.span(expr)
        self._steps += 1
        if depth > _MAX_DEPTH:
            return _dynamic(span, "the expression is nested too deeply to evaluate")
        if self._steps > _MAX_STEPS:
            return _dynamic(span, "the value is too large to evaluate statically")
        if isinstance(expr, cst.SimpleString):
            try:
                v = expr.evaluated_value
            except Exception:
                return _dynamic(span, f"cannot read the string {idx.code(expr)}")
            if isinstance(v, bytes):
                return _dynamic(span, f"{idx.code(expr)} is a bytes literal, not a string")
            return Value(v, span, kind="str")
        if isinstance(expr, cst.ConcatenatedString):
            left = self._eval(expr.left, depth + 1, seen)
            right = self._eval(expr.right, depth + 1, seen)
            if left.is_str and right.is_str:
                return _str_value(left.value + right.value, span)
            return _dynamic(span, (left if left.dynamic else right).reason or "string computed at runtime")
        if isinstance(expr, cst.FormattedString):
            return self._fstring(expr, span, depth, seen)
        if isinstance(expr, cst.Integer):
            return Value(expr.evaluated_value, span, kind="int")
        if isinstance(expr, cst.Float):
            return Value(expr.evaluated_value, span, kind="float")
        if isinstance(expr, cst.Imaginary):
            return _dynamic(span, f"{idx.code(expr)} is a complex number")
        if isinstance(expr, cst.Name):
            if expr.value == "True":
                return Value(True, span, kind="bool")
            if expr.value == "False":
                return Value(False, span, kind="bool")
            if expr.value == "None":
                return Value(None, span, kind="none")
            return self._name(expr, span, depth, seen)
        if isinstance(expr, cst.UnaryOperation):
            inner = self._eval(expr.expression, depth + 1, seen)
            if not inner.dynamic and isinstance(inner.value, (int, float)) and not isinstance(inner.value, bool):
                if isinstance(expr.operator, cst.Minus):
                    return Value(-inner.value, span, kind=inner.kind)
                if isinstance(expr.operator, cst.Plus):
                    return Value(inner.value, span, kind=inner.kind)
            if inner.dynamic and inner.reason:
                return _dynamic(span, inner.reason)
            return _dynamic(span, f"computed by {idx.code(expr)} at runtime")
        if isinstance(expr, (cst.List, cst.Tuple, cst.Set)):
            kind = {cst.List: "list", cst.Tuple: "tuple", cst.Set: "set"}[type(expr)]
            return self._sequence(expr.elements, kind, span, depth, seen)
        if isinstance(expr, cst.Dict):
            return self._dict(expr, span, depth, seen)
        if isinstance(expr, cst.Attribute):
            return self._attribute(expr, span)
        if isinstance(expr, cst.BinaryOperation):
            return self._binary(expr, span, depth, seen)
        if isinstance(expr, cst.Call):
            return self._call(expr, span, depth, seen)
        if isinstance(expr, cst.Subscript):
            return self._subscript(expr, span, depth, seen)
        if isinstance(expr, cst.IfExp):
            return _dynamic(span, f"chosen at runtime by the condition {idx.code(expr.test, 40)}")
        return _dynamic(span, f"{idx.code(expr)} is only known at runtime")

    def _sequence(
        self, elements: Iterable[cst.BaseElement], kind: str, span: Span, depth: int, seen: frozenset[int]
    ) -> Value:
        items: list[Value] = []
        for el in elements:
            if isinstance(el, cst.StarredElement):
                inner = self._eval(el.value, depth + 1, seen)
                if inner.is_sequence:
                    items.extend(inner.items or [])
                else:
                    reason = inner.reason if inner.dynamic else f"{self.index.code(el.value)} is not a sequence"
                    items.append(_dynamic(self.index.span(el), f"unpacked at runtime: {reason}"))
                continue
            items.append(self._eval(el.value, depth + 1, seen))
        self._steps += len(items)
        return Value([i.value for i in items], span, kind=kind, items=items)

    def _dict(self, expr: cst.Dict, span: Span, depth: int, seen: frozenset[int]) -> Value:
        plain: dict[Any, Any] = {}
        keys: dict[str, Value] = {}
        members: dict[str, Value] = {}
        for el in expr.elements:
            if isinstance(el, cst.StarredDictElement):
                inner = self._eval(el.value, depth + 1, seen)
                if inner.dynamic or not isinstance(inner.value, dict):
                    return _dynamic(span, f"unpacks {self.index.code(el.value)} at runtime")
                plain.update(inner.value)
                keys.update(inner.keys or {})
                members.update(inner.members or {})
                continue
            k = self._eval(el.key, depth + 1, seen)
            if k.dynamic:
                return _dynamic(span, f"the key {self.index.code(el.key)} is computed at runtime")
            v = self._eval(el.value, depth + 1, seen)
            plain[k.value] = v.value
            keys[str(k.value)] = k
            members[str(k.value)] = v
        return _dict_value(plain, span, keys, members)

    def _fstring(self, expr: cst.FormattedString, span: Span, depth: int, seen: frozenset[int]) -> Value:
        raw = "r" in expr.prefix.lower()
        quote = expr.quote
        out: list[str] = []
        ok, reason = self._fstring_parts(expr.parts, raw, quote, out, depth, seen)
        if not ok:
            return _dynamic(span, reason)
        return _str_value("".join(out), span)

    def _fstring_parts(
        self,
        parts: Iterable[cst.BaseFormattedStringContent],
        raw: bool,
        quote: str,
        out: list[str],
        depth: int,
        seen: frozenset[int],
    ) -> tuple[bool, str]:
        for part in parts:
            if isinstance(part, cst.FormattedStringText):
                text = part.value.replace("{{", "{").replace("}}", "}")
                if not raw and "\\" in text:
                    try:
                        text = ast.literal_eval(quote + text + quote)
                    except Exception:
                        return False, "the f-string has escapes that cannot be read"
                out.append(text)
                continue
            assert isinstance(part, cst.FormattedStringExpression)
            if part.equal is not None:
                return False, "the f-string uses {x=} debugging output"
            v = self._eval(part.expression, depth + 1, seen)
            if v.dynamic or not v.fully_static:
                return False, v.reason or f"{self.index.code(part.expression)} is only known at runtime"
            value: Any = v.value
            conv = part.conversion
            if conv == "r":
                value = repr(value)
            elif conv == "s":
                value = str(value)
            elif conv == "a":
                value = ascii(value)
            spec_parts: list[str] = []
            if part.format_spec:
                ok, reason = self._fstring_parts(part.format_spec, raw, quote, spec_parts, depth + 1, seen)
                if not ok:
                    return False, reason
            spec = "".join(spec_parts)
            if any(int(n) > _MAX_FORMAT_WIDTH for n in re.findall(r"\d+", spec)):
                return False, "the f-string format is too wide to evaluate"
            try:
                out.append(format(value, spec))
            except Exception:
                return False, f"the f-string format {spec!r} fails"
        return True, ""

    def _attribute(self, expr: cst.Attribute, span: Span) -> Value:
        for qn in self.index.qualified_names(expr):
            parts = qn.split(".")
            if parts[0] == "peft" and len(parts) >= 3 and parts[-2] in ("TaskType", "PeftType"):
                return Value(parts[-1], span, kind="str")
        if self.describe_attribute is not None:
            reason = self.describe_attribute(expr)
            if reason:
                return _dynamic(span, reason)
        return _dynamic(span, f"{self.index.code(expr)} is only known at runtime")

    def _binary(self, expr: cst.BinaryOperation, span: Span, depth: int, seen: frozenset[int]) -> Value:
        if isinstance(expr.operator, cst.Add):
            left = self._eval(expr.left, depth + 1, seen)
            right = self._eval(expr.right, depth + 1, seen)
            if left.is_str and right.is_str:
                return _str_value(left.value + right.value, span)
            if left.is_sequence and right.is_sequence and left.kind == right.kind and left.kind in ("list", "tuple"):
                items = list(left.items or []) + list(right.items or [])
                self._steps += len(items)
                if self._steps > _MAX_STEPS:
                    return _dynamic(span, "the value is too large to evaluate statically")
                return Value([i.value for i in items], span, kind=left.kind, items=items)
            bad = left if left.dynamic else right if right.dynamic else None
            if bad is not None and bad.reason:
                return _dynamic(span, bad.reason)
        return _dynamic(span, f"computed by {self.index.code(expr)} at runtime")

    def _call(self, expr: cst.Call, span: Span, depth: int, seen: frozenset[int]) -> Value:
        func = expr.func
        for kind in ("list", "tuple", "set"):
            if isinstance(func, cst.Name) and func.value == kind and self.index.is_builtin(func, kind):
                if not expr.args:
                    return Value([], span, kind=kind, items=[])
                if len(expr.args) == 1 and not expr.args[0].keyword and not expr.args[0].star:
                    inner = self._eval(expr.args[0].value, depth + 1, seen)
                    if inner.is_sequence:
                        items = list(inner.items or [])
                        return Value([i.value for i in items], span, kind=kind, items=items)
                    if inner.kind == "dict" and inner.keys is not None:
                        items = list(inner.keys.values())
                        return Value([i.value for i in items], span, kind=kind, items=items)
                break
        if isinstance(func, cst.Name) and func.value == "dict" and self.index.is_builtin(func, "dict"):
            if all(a.keyword is not None and not a.star for a in expr.args):
                plain: dict[str, Any] = {}
                keys: dict[str, Value] = {}
                members: dict[str, Value] = {}
                for a in expr.args:
                    assert a.keyword is not None
                    name = a.keyword.value
                    members[name] = self._eval(a.value, depth + 1, seen)
                    plain[name] = members[name].value
                    keys[name] = Value(name, self.index.span(a.keyword), kind="str")
                return _dict_value(plain, span, keys, members)
        return _dynamic(span, f"computed by {self.index.code(expr)} at runtime")

    def _subscript(self, expr: cst.Subscript, span: Span, depth: int, seen: frozenset[int]) -> Value:
        if len(expr.slice) == 1 and isinstance(expr.slice[0].slice, cst.Index):
            container = self._eval(expr.value, depth + 1, seen)
            key = self._eval(expr.slice[0].slice.value, depth + 1, seen)
            if not container.dynamic and not key.dynamic:
                if container.items is not None and isinstance(key.value, int) and not isinstance(key.value, bool):
                    if -len(container.items) <= key.value < len(container.items):
                        return container.items[key.value]
                elif container.members is not None and str(key.value) in container.members:
                    return container.members[str(key.value)]
        return _dynamic(span, f"{self.index.code(expr)} is only known at runtime")

    # ----------------------------------------------------------------------------- names
    def _name(self, name: cst.Name, span: Span, depth: int, seen: frozenset[int]) -> Value:
        idx = self.index
        ident = name.value
        assignments = idx.visible_assignments(name)
        if not assignments:
            if idx.is_builtin(name, ident):
                return _dynamic(span, f"{ident} is a Python builtin, not a value")
            return _dynamic(span, f"{ident} is not defined in this file")
        if len(assignments) > 1:
            lines = sorted({idx.line(a.node) for a in assignments if isinstance(a, Assignment)})
            where = ", ".join(str(n) for n in lines)
            return _dynamic(span, f"{ident} is assigned more than once (lines {where})")
        a = assignments[0]
        if not isinstance(a, Assignment):
            return _dynamic(span, f"{ident} is a Python builtin, not a value")
        node = a.node
        line = idx.line(node)
        if isinstance(a, ImportAssignment):
            return _dynamic(span, f"{ident} is imported (line {line})")
        if isinstance(node, cst.Param):
            return _dynamic(span, self.param_reason(node))
        if isinstance(node, cst.FunctionDef):
            return _dynamic(span, f"{ident} is a function")
        if isinstance(node, cst.ClassDef):
            return _dynamic(span, f"{ident} is a class")
        if not isinstance(node, cst.Name):
            return _dynamic(span, f"{ident} is only known at runtime")
        if id(a) in seen:
            return _dynamic(span, f"{ident} refers to itself")
        bound = idx.bound_value(node)
        if bound is None:
            return _dynamic(span, f"{ident} is only known at runtime")
        if bound.kind in ("for", "comp"):
            return _dynamic(span, f"{ident} is a loop variable (line {line})")
        if bound.kind in ("with", "except", "other", "augassign") or bound.value is None:
            return _dynamic(span, f"{ident} is only known at runtime (bound at line {line})")
        not_reaching = self._not_reaching(bound.statement, a, name, ident)
        if not_reaching:
            return _dynamic(span, not_reaching)
        if id(a) not in self._mutations:
            self._mutations[id(a)] = self._mutation(a)
        mutation = self._mutations[id(a)]
        if mutation:
            return _dynamic(span, f"{ident} is modified at runtime ({mutation})")
        value_expr: cst.BaseExpression | None = bound.value
        for i in bound.path:
            elements = value_expr.elements if isinstance(value_expr, (cst.Tuple, cst.List)) else ()
            if i < len(elements) and isinstance(elements[i], cst.Element):
                value_expr = elements[i].value
            else:
                return _dynamic(span, f"{ident} is unpacked from {idx.code(bound.value)} at runtime")
        assert value_expr is not None
        v = self._eval(value_expr, depth + 1, seen | {id(a)})
        if v.dynamic and v.items is None and v.keys is None:
            # a dynamic value points at the expression the config actually reads
            return _dynamic(span, v.reason)
        return _set_origin(v, f"{ident} (line {line})")

    def param_reason(self, param: cst.Param) -> str:
        func = self.index.function_of_param(param)
        fname = f"{func.name.value}()" if func is not None else "a lambda"
        pname = param.name.value
        if param.default is not None:
            return f"argument '{pname}' of {fname} is set by the caller (default {self.index.code(param.default, 40)})"
        sites = self.index.call_sites(func) if func is not None else []
        if sites:
            return f"argument '{pname}' of {fname} is set by the caller (line {self.index.line(sites[0])})"
        return f"argument '{pname}' of {fname} has no default"

    def _not_reaching(self, statement: cst.CSTNode, assignment: Assignment, use: cst.CSTNode, ident: str) -> str:
        """Why the (single) assignment may not have run when ``use`` reads the name, or ""."""
        idx = self.index
        line = idx.line(statement)
        use_scope = idx.effective_scope(use)
        if assignment.scope is use_scope:
            if idx.start(statement) >= idx.start(use):
                return f"{ident} is assigned after it is read (line {line})"
            if not idx.dominates(statement, use):
                return f"{ident} is assigned conditionally (line {line})"
            return ""
        # read from a nested function: the assignment must run whenever its scope runs
        child: cst.CSTNode = statement
        for a in idx.ancestors(statement):
            if isinstance(a, (cst.FunctionDef, cst.ClassDef, cst.Module, cst.Lambda)):
                return ""
            if isinstance(a, cst.If) and is_main_guard(a) and child is a.body:
                child = a
                continue
            if isinstance(a, _CONDITIONAL):
                return f"{ident} is assigned conditionally (line {line})"
            child = a
        return ""

    def _mutation(self, assignment: Assignment) -> str:
        idx = self.index
        for acc in assignment.references:
            node = acc.node
            parent = idx.parent(node)
            if isinstance(parent, cst.Attribute) and parent.value is node:
                grand = idx.parent(parent)
                if isinstance(grand, cst.Call) and grand.func is parent and parent.attr.value in MUTATING_METHODS:
                    return f"{idx.code(grand, 40)} at line {idx.line(grand)}"
            if isinstance(parent, cst.Subscript) and parent.value is node:
                grand = idx.parent(parent)
                if isinstance(grand, (cst.AssignTarget, cst.AugAssign, cst.Del)) or (
                    isinstance(grand, cst.Element) and isinstance(idx.parent(idx.parent(grand) or grand), cst.Del)
                ):
                    return f"item assignment at line {idx.line(parent)}"
        return ""
