"""One parsed module: parent links and what one walk over the tree collects (positions and source
text: ``text.SourceText``)."""

from __future__ import annotations

import ast
import bisect
import re
from collections.abc import Iterator
from dataclasses import dataclass

from peftlint.sources.python.parse import no_gc
from peftlint.sources.python.text import SourceText

# fields that never hold a child node worth a parent link (names, flags, shared singletons)
_NO_CHILDREN = frozenset({"ctx", "op", "ops", "id", "attr", "arg", "module", "level", "kind", "type_comment",
                          "conversion", "is_async", "name", "asname", "n", "s"})
_FIELDS: dict[type, tuple[str, ...]] = {}


def _child_fields(kind: type) -> tuple[str, ...]:
    found = _FIELDS.get(kind)
    if found is None:
        found = _FIELDS[kind] = tuple(f for f in kind._fields if f not in _NO_CHILDREN)  # type: ignore[attr-defined]
    return found


_LEAF_TYPES = frozenset({"identifier", "string", "constant", "int"})
# per node class, its child fields last-first, each with whether it holds a list
_WALK_FIELDS: dict[type, tuple[tuple[str, bool], ...]] = {}


def _walk_fields(kind: type) -> tuple[tuple[str, bool], ...]:
    """The fields of ``kind`` that hold nodes, read from the class's ASDL signature (its docstring,
    e.g. ``Call(expr func, expr* args, keyword* keywords)``); a class without one falls back to
    ``_child_fields`` with every field treated as either."""
    found: list[tuple[str, bool]] = []
    signature = re.fullmatch(r"\w+\((.*)\)", (kind.__doc__ or "").strip())
    fields = tuple(kind._fields)  # type: ignore[attr-defined]
    if signature is not None and fields:
        declared = {}
        for part in signature.group(1).split(","):
            words = part.split()
            if len(words) == 2:
                declared[words[1]] = words[0]
        if set(declared) == set(fields):
            for name in fields:
                asdl = declared[name]
                if asdl.rstrip("*?") not in _LEAF_TYPES and name not in _NO_CHILDREN:
                    found.append((name, asdl.endswith("*")))
            _WALK_FIELDS[kind] = result = tuple(found[::-1])
            return result
    _WALK_FIELDS[kind] = result = tuple((name, True) for name in _child_fields(kind)[::-1])
    return result


def child_nodes(node: ast.AST) -> list[ast.AST]:
    """The child nodes of ``node`` in field order (faster than ``ast.iter_child_nodes``; skips
    names, flags and the shared ``Load``/``Add``/... singletons)."""
    children: list[ast.AST] = []
    for name in _child_fields(type(node)):
        value = getattr(node, name, None)
        if type(value) is list:
            children.extend(c for c in value if isinstance(c, ast.AST))
        elif isinstance(value, ast.AST):
            children.append(value)
    return children


def dotted_name(node: ast.AST) -> str | None:
    """``a.b.c`` for a Name/Attribute chain, else None."""
    parts: list[str] = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if not isinstance(node, ast.Name):
        return None
    parts.append(node.id)
    return ".".join(reversed(parts))


def root_name(node: ast.AST) -> ast.Name | None:
    while isinstance(node, ast.Attribute):
        node = node.value
    return node if isinstance(node, ast.Name) else None


@dataclass(frozen=True, eq=False)
class Arg:
    """One argument of a call, in source order: ``keyword=value``, ``*value``, ``**value`` or positional."""

    keyword: str | None
    value: ast.expr
    star: str  # "", "*" or "**"
    node: ast.AST  # the ast.keyword, the ast.Starred or the expression itself


class ModuleIndex(SourceText):
    """Lookups over one parsed module. Built by one iterative walk (no recursion)."""

    def __init__(self, tree: ast.Module, text: str) -> None:
        super().__init__(tree, text)
        self.calls: list[ast.Call] = []
        self.classes: dict[str, list[ast.ClassDef]] = {}
        self.names: dict[str, list[ast.Name]] = {}
        self.attributes: dict[str, list[ast.Attribute]] = {}
        self.star_modules: list[str] = []
        self.imported: set[str] = set()  # names imported by ``from x import name [as alias]``: "name"/"alias"
        self.declarations: list[ast.Global | ast.Nonlocal] = []
        self.has_walrus = False
        self._args: dict[ast.Call, list[Arg]] = {}
        self._sorted_names: dict[str, list[ast.Name]] = {}
        self._name_lines: dict[str, list[int]] = {}
        with no_gc():
            self._walk()

    def _walk(self) -> None:
        # The hottest loop of a lint run (every node of every linted file): child fields are read
        # inline, the kinds tested by identity, and lists appended through bound methods.
        parents = self.parents
        order: dict[ast.AST, int] = {}
        calls, names, attributes, classes = self.calls, self.names, self.attributes, self.classes
        fields_of = _WALK_FIELDS
        Call, Name, Attribute = ast.Call, ast.Name, ast.Attribute
        stack: list[ast.AST] = [self.tree]
        pop, push = stack.pop, stack.append
        n = 0
        while stack:
            node = pop()
            n += 1
            kind = type(node)
            if kind is Name:
                found = names.get(node.id)  # type: ignore[attr-defined]
                if found is None:
                    names[node.id] = [node]  # type: ignore[attr-defined,list-item]
                else:
                    found.append(node)  # type: ignore[arg-type]
            elif kind is Attribute:
                found_attr = attributes.get(node.attr)  # type: ignore[attr-defined]
                if found_attr is None:
                    attributes[node.attr] = [node]  # type: ignore[attr-defined,list-item]
                else:
                    found_attr.append(node)  # type: ignore[arg-type]
            elif kind is Call:
                calls.append(node)  # type: ignore[arg-type]
                order[node] = n
            elif kind is ast.ClassDef:
                classes.setdefault(node.name, []).append(node)  # type: ignore[attr-defined, arg-type]
            elif kind is ast.ImportFrom:
                for a in node.names:  # type: ignore[attr-defined]
                    if a.name == "*":
                        if node.level == 0:  # type: ignore[attr-defined]
                            self.star_modules.append(node.module or "")  # type: ignore[attr-defined]
                    elif a.asname:
                        self.imported.add(f"{a.name}/{a.asname}")
            elif kind is ast.Global or kind is ast.Nonlocal:
                self.declarations.append(node)  # type: ignore[arg-type]
            elif kind is ast.NamedExpr:
                self.has_walrus = True
            fields = fields_of.get(kind)
            if fields is None:
                fields = _walk_fields(kind)
            # children are pushed last-first (fields and list items reversed), so that nodes are met
            # in source order; lists of nodes may hold None (dict keys of ``**x``, absent kw defaults)
            for name, many in fields:
                value = getattr(node, name, None)
                if value is None:
                    continue
                if many:
                    for child in reversed(value):
                        if child is not None:
                            parents[child] = node
                            push(child)
                else:
                    parents[value] = node
                    push(value)
        # source order; a call before the calls nested in it
        calls.sort(key=lambda c: (c.lineno, c.col_offset, order[c]))

    # ----------------------------------------------------------------------- tree walking
    def parent(self, node: ast.AST) -> ast.AST | None:
        return self.parents.get(node)

    def ancestors(self, node: ast.AST) -> Iterator[ast.AST]:
        cur = self.parents.get(node)
        while cur is not None:
            yield cur
            cur = self.parents.get(cur)

    def is_ancestor(self, maybe_ancestor: ast.AST, node: ast.AST) -> bool:
        return any(a is maybe_ancestor for a in self.ancestors(node))

    def enclosing_function(self, node: ast.AST) -> ast.FunctionDef | ast.AsyncFunctionDef | None:
        for a in self.ancestors(node):
            if isinstance(a, (ast.FunctionDef, ast.AsyncFunctionDef)):
                return a
        return None

    def enclosing_statement(self, node: ast.AST) -> ast.AST:
        """The statement (simple or compound) that contains ``node``."""
        for a in self.ancestors(node):
            if isinstance(a, ast.stmt):
                return a
        return node

    def names_between(self, ident: str, first_line: int, last_line: int) -> list[ast.Name]:
        """``Name`` nodes of ``ident`` that start on lines ``first_line``..``last_line``."""
        found = self._sorted_names.get(ident)
        if found is None:
            found = self._sorted_names[ident] = sorted(self.names.get(ident, ()), key=lambda n: (n.lineno, n.col_offset))
            self._name_lines[ident] = [n.lineno for n in found]
        lines = self._name_lines[ident]
        return found[bisect.bisect_left(lines, first_line):bisect.bisect_right(lines, last_line)]

    # ---------------------------------------------------------------------------- calls
    def args(self, call: ast.Call) -> list[Arg]:
        """The arguments of ``call`` in source order."""
        found = self._args.get(call)
        if found is None:
            found = []
            for a in call.args:
                if isinstance(a, ast.Starred):
                    found.append(Arg(None, a.value, "*", a))
                else:
                    found.append(Arg(None, a, "", a))
            for kw in call.keywords:
                found.append(Arg(kw.arg, kw.value, "" if kw.arg is not None else "**", kw))
            found.sort(key=lambda a: self.start(a.node))
            self._args[call] = found
        return found
