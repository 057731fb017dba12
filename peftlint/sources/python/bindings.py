"""Bindings of one scope, collected by a walk over the scope's own statements (not nested scopes)."""

from __future__ import annotations

import ast
from dataclasses import dataclass, field
from typing import Any

from peftlint.sources.python.index import child_nodes

FUNCTIONS = (ast.FunctionDef, ast.AsyncFunctionDef)
COMPREHENSIONS = (ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp)
_BODIES = ("body", "orelse", "finalbody", "handlers", "cases")


@dataclass(eq=False)
class Binding:
    """One place that binds a name: ``x = ...``, ``for x in``, ``import x``, ``def x``, a parameter..."""

    name: str
    scope: Scope
    node: ast.AST  # the target Name, the ast.arg, the def/class, the import statement, ...
    # "assign", "annassign", "augassign", "for", "comp", "with", "walrus", "except", "import",
    # "def", "class", "param", "other"
    kind: str
    statement: ast.AST
    value: ast.expr | None = None  # the assigned expression
    path: tuple[int, ...] = ()  # position of the name inside a tuple target
    qualified: str = ""  # imports: the imported name ("peft.LoraConfig")

    @property
    def pos(self) -> tuple[int, int]:
        return (getattr(self.node, "lineno", 0), getattr(self.node, "col_offset", 0))


@dataclass(eq=False)
class Scope:
    node: ast.AST
    parent: Scope | None
    kind: str  # "module" | "class" | "function" | "lambda" | "comprehension"
    table: dict[str, list[Binding]] | None = None
    declared_global: set[str] = field(default_factory=set)
    declared_nonlocal: set[str] = field(default_factory=set)
    exported: dict[str, list[Binding]] = field(default_factory=dict)  # writes to names declared global/nonlocal


class Collector:
    """The bindings of one scope: a walk over its own region, not into nested scopes."""

    def __init__(self, scope: Scope, module: Scope, expressions: bool = True) -> None:
        self.module = module
        self.scope = scope
        # only ``:=`` binds inside an expression: a module without one needs no look into them
        self.expressions = expressions
        self.table: dict[str, list[Binding]] = {}
        self.exported: dict[str, list[Binding]] = {}

    def collect(self) -> dict[str, list[Binding]]:
        node = self.scope.node
        if isinstance(node, (ast.Module, ast.ClassDef)):
            roots: list[ast.AST] = list(node.body)
        elif isinstance(node, FUNCTIONS):
            self._params(node.args, node)
            roots = list(node.body)
        elif isinstance(node, ast.Lambda):
            self._params(node.args, node)
            roots = [node.body]
        else:  # a comprehension: its targets, then everything but the first iterable
            assert isinstance(node, COMPREHENSIONS)
            for gen in node.generators:
                self._targets(gen.target, "comp", gen, None, ())
            roots = [n for n in ast.iter_child_nodes(node) if not isinstance(n, ast.comprehension)]
            for i, gen in enumerate(node.generators):
                roots += ([] if i == 0 else [gen.iter]) + list(gen.ifs)
        # global / nonlocal first: they decide where the scope's writes go
        self._declarations(roots)
        self._walk(roots)
        for bindings in self.table.values():
            bindings.sort(key=lambda b: b.pos)
        self.scope.exported = self.exported
        return self.table

    def _declarations(self, roots: list[ast.AST]) -> None:
        if self.scope.kind == "module":
            return  # ``global x`` at module level changes nothing
        stack = list(roots)
        while stack:
            n = stack.pop()
            if isinstance(n, ast.Global):
                self.scope.declared_global.update(n.names)
            elif isinstance(n, ast.Nonlocal):
                self.scope.declared_nonlocal.update(n.names)
            elif isinstance(n, ast.stmt) and not isinstance(n, FUNCTIONS + (ast.ClassDef,)):
                for name in _BODIES:
                    for child in getattr(n, name, ()) or ():
                        stack.extend(child.body if isinstance(child, (ast.ExceptHandler, ast.match_case)) else [child])

    def _add(self, name: str, node: ast.AST, kind: str, statement: ast.AST, value: ast.expr | None = None,
             path: tuple[int, ...] = (), qualified: str = "", scope: Scope | None = None) -> None:
        owner = scope or self.scope
        b = Binding(name, owner, node, kind, statement, value, path, qualified)
        if owner is self.scope and name in self.scope.declared_global:
            b.scope = self.module
            self.exported.setdefault(name, []).append(b)
            return
        if owner is self.scope and name in self.scope.declared_nonlocal:
            self.exported.setdefault(name, []).append(b)
            return
        self.table.setdefault(name, []).append(b)

    def _params(self, args: ast.arguments, owner: ast.AST) -> None:
        for a in args.posonlyargs + args.args + args.kwonlyargs + [x for x in (args.vararg, args.kwarg) if x]:
            self._add(a.arg, a, "param", owner)

    def _targets(self, target: ast.AST, kind: str, statement: ast.AST, value: ast.expr | None,
                 path: tuple[int, ...]) -> None:
        if isinstance(target, ast.Name):
            self._add(target.id, target, kind, statement, value, path)
        elif isinstance(target, (ast.Tuple, ast.List)):
            for i, el in enumerate(target.elts):
                self._targets(el, kind, statement, value, path + (i,))
        elif isinstance(target, ast.Starred):
            self._targets(target.value, "other", statement, None, ())

    def _walk(self, roots: list[ast.AST]) -> None:
        stack = list(reversed(roots))
        skip_expressions = not self.expressions
        while stack:
            n = stack.pop()
            if skip_expressions and isinstance(n, ast.expr):
                continue
            # dispatched on type(n), faster than isinstance chains on large files, which mypy cannot
            # narrow: each branch reads the fields of the node class it tested
            node: Any = n
            t = type(n)
            children: list[ast.AST] | None = None
            if t is ast.Assign:
                for target in node.targets:
                    self._targets(target, "assign", node, node.value, ())
            elif t is ast.AnnAssign:
                if isinstance(node.target, ast.Name):
                    self._add(node.target.id, node.target, "annassign", node, node.value)
            elif t is ast.AugAssign:
                if isinstance(node.target, ast.Name):
                    self._add(node.target.id, node.target, "augassign", node)
            elif t is ast.For or t is ast.AsyncFor:
                self._targets(node.target, "for", node, None, ())
            elif t is ast.With or t is ast.AsyncWith:
                for item in node.items:
                    if item.optional_vars is not None:
                        self._targets(item.optional_vars, "with", node, None, ())
            elif t is ast.NamedExpr:
                if self.scope.kind != "comprehension" and isinstance(node.target, ast.Name):
                    self._add(node.target.id, node.target, "walrus", node, node.value)
            elif t is ast.ExceptHandler:
                if node.name:
                    self._add(node.name, node, "except", node)
            elif t is ast.Import:
                for alias in node.names:
                    if alias.asname:
                        self._add(alias.asname, alias, "import", node, qualified=alias.name)
                    else:
                        first = alias.name.split(".", 1)[0]
                        self._add(first, alias, "import", node, qualified=first)
            elif t is ast.ImportFrom:
                base = "." * node.level + (node.module or "")
                for alias in node.names:
                    if alias.name == "*":
                        continue
                    sep = "" if base.endswith(".") or not base else "."
                    self._add(alias.asname or alias.name, alias, "import", node, qualified=f"{base}{sep}{alias.name}")
            elif t in FUNCTIONS or t is ast.ClassDef:
                self._add(node.name, node, "class" if t is ast.ClassDef else "def", node)
                children = list(node.decorator_list)
                if t is ast.ClassDef:
                    children += list(node.bases) + [k.value for k in node.keywords]
                else:
                    children += _outer_parts(node.args) + ([node.returns] if node.returns else [])
            elif t is ast.Lambda:
                children = _outer_parts(node.args)
            elif t in COMPREHENSIONS:
                children = [node.generators[0].iter]
                self._walrus_in(node)
            elif t is ast.MatchAs or t is ast.MatchStar:
                if node.name:
                    self._add(node.name, node, "other", node)
            elif t is ast.MatchMapping:
                if node.rest:
                    self._add(node.rest, node, "other", node)
            elif t is ast.Global or t is ast.Nonlocal:
                continue
            if children is None:
                children = child_nodes(n)
            stack.extend(reversed(children))

    def _walrus_in(self, comp: ast.AST) -> None:
        """``:=`` inside a comprehension binds in the enclosing function or module."""
        if self.scope.kind in ("class", "comprehension"):
            return
        first = comp.generators[0].iter  # type: ignore[attr-defined]
        stack = [c for c in ast.iter_child_nodes(comp)]
        while stack:
            n = stack.pop()
            if n is first:
                continue
            if isinstance(n, ast.NamedExpr) and isinstance(n.target, ast.Name):
                self._add(n.target.id, n.target, "walrus", n, n.value)
            if isinstance(n, FUNCTIONS + (ast.Lambda, ast.ClassDef)):
                continue
            stack.extend(ast.iter_child_nodes(n))


def _outer_parts(args: ast.arguments) -> list[ast.AST]:
    """Parts of a signature evaluated where the function is defined: defaults and annotations."""
    out: list[ast.AST] = [*args.defaults, *(d for d in args.kw_defaults if d is not None)]
    for a in args.posonlyargs + args.args + args.kwonlyargs + [x for x in (args.vararg, args.kwarg) if x]:
        if a.annotation is not None:
            out.append(a.annotation)
    return out
