"""pytest's ways of passing values to a test: ``@pytest.mark.parametrize`` and fixtures.

A test parameter listed by ``parametrize`` (on the function or on its class, stacked or not;
argnames as ``"a,b"`` or a list; argvalues as a literal list, a module constant, tuples per
argname, ``pytest.param(...)``) takes each listed value in turn. A parameter named after a
fixture of this file takes what the fixture returns or yields; ``request.param`` in a fixture
takes each of its ``params=[...]``.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass

from peftlint.sources.python.linkbase import MAX_STEPS, arg_of
from peftlint.sources.python.program import Function, Program, str_constant
from peftlint.sources.python.scope import FUNCTIONS

_MAX_VALUES = 64


@dataclass(frozen=True)
class Parameters:
    """The values a test parameter takes and the decorator that lists them."""

    values: tuple[ast.expr, ...]
    where: ast.AST  # the parametrize call or the fixture's ``params=``
    source: str  # "@pytest.mark.parametrize" | "fixture params"


class Pytest:
    def __init__(self, program: Program) -> None:
        self.p = program
        self._positions: dict[int, dict[int, int]] = {}  # id(list of the tree) -> id(node) -> index

    def _is(self, node: ast.AST, name: str) -> bool:
        return name in self.p.qualified_names(node)

    def parametrized(self, func: Function, pname: str, rows: dict[ast.Call, int] | None = None) -> Parameters | None | str:
        """The values ``parametrize`` gives to ``pname`` (only the given row of a decorator in
        ``rows``); a reason when they cannot be read."""
        decorators = list(func.decorator_list)
        cls = self.p.parent(func)
        if isinstance(cls, ast.ClassDef):
            decorators += cls.decorator_list
        for d in decorators:
            if not (isinstance(d, ast.Call) and self._is(d.func, "pytest.mark.parametrize")):
                continue
            names = self._argnames(arg_of(self.p, d, 0, "argnames"))
            if names is None or pname not in names:
                continue
            table = self.elements(arg_of(self.p, d, 1, "argvalues"), 0)
            if table is None:
                return f"the values of {pname} in @pytest.mark.parametrize at line {self.p.line(d)} are computed at runtime"
            if rows and d in rows:
                table = table[rows[d]:rows[d] + 1]
            values = []
            for row in table:
                cells: list[ast.expr] | None = [row]
                if isinstance(row, ast.Call) and self._is(row.func, "pytest.param"):
                    cells = [a.value for a in self.p.args(row) if a.keyword is None and not a.star]
                elif len(names) > 1:
                    cells = self.elements(row, 0)
                if cells is None or len(cells) != len(names):
                    return f"a row of @pytest.mark.parametrize at line {self.p.line(d)} is computed at runtime"
                values.append(cells[names.index(pname)])
            return Parameters(tuple(values), d, "@pytest.mark.parametrize")
        return None

    def row_of(self, expr: ast.AST) -> tuple[ast.Call, int, str, list[Function]] | None:
        """For a value written in a row of ``@pytest.mark.parametrize``: the decorator, the row's
        index, the argname it is passed as, and the tests that receive it."""
        p = self.p
        node, parent = expr, p.parent(expr)
        row: list | None = None  # the row's cells, when ``expr`` is one cell of a row
        if isinstance(parent, ast.Call) and self._is(parent.func, "pytest.param"):
            row, node, parent = parent.args, parent, p.parent(parent)
        elif isinstance(parent, (ast.Tuple, ast.List)) and isinstance(p.parent(parent), (ast.Tuple, ast.List)):
            row, node, parent = parent.elts, parent, p.parent(parent)
        if not isinstance(parent, (ast.List, ast.Tuple)):
            return None
        decorator = p.parent(parent)  # tested before any position is looked up: every config of a list of
        # thousands asks, and a search of the list for each would grow with the square of its length
        if not (isinstance(decorator, ast.Call) and self._is(decorator.func, "pytest.mark.parametrize")):
            return None
        if arg_of(p, decorator, 1, "argvalues") is not parent:
            return None
        index, cell = self._position(parent.elts, node), self._position(row, expr) if row is not None else None
        if index is None or (row is not None and cell is None):
            return None
        names = self._argnames(arg_of(p, decorator, 0, "argnames"))
        if not names or (len(names) > 1) != (cell is not None) or (cell or 0) >= len(names):
            return None
        owner = p.parent(decorator)
        if isinstance(owner, ast.ClassDef) and decorator in owner.decorator_list:
            tests = [f for f in owner.body if isinstance(f, FUNCTIONS)]
        elif isinstance(owner, FUNCTIONS) and decorator in owner.decorator_list:
            tests = [owner]
        else:
            return None
        return decorator, index, names[cell or 0], tests

    def _position(self, items: list, node: ast.AST) -> int | None:
        """The index of ``node`` in ``items`` (a list of the tree), from one map per list."""
        positions = self._positions.get(id(items))
        if positions is None:
            positions = self._positions[id(items)] = {id(x): i for i, x in enumerate(items)}
        return positions.get(id(node))

    def _argnames(self, expr: ast.expr | None) -> list[str] | None:
        text = str_constant(expr)
        if text is not None:
            return [n.strip() for n in text.split(",") if n.strip()]
        if isinstance(expr, (ast.List, ast.Tuple)):
            names = [str_constant(e) for e in expr.elts]
            return [n for n in names if n is not None] if all(n is not None for n in names) else None
        return None

    def elements(self, expr: ast.expr | None, depth: int) -> list[ast.expr] | None:
        """The elements of a literal list/tuple, through names bound once and ``+``."""
        if expr is None or depth > MAX_STEPS:
            return None
        if isinstance(expr, (ast.List, ast.Tuple)):
            out: list[ast.expr] = []
            for el in expr.elts:
                if isinstance(el, ast.Starred):
                    inner = self.elements(el.value, depth + 1)
                    if inner is None:
                        return None
                    out.extend(inner)
                else:
                    out.append(el)
            return out[:_MAX_VALUES] if len(out) <= _MAX_VALUES else None
        if isinstance(expr, ast.BinOp) and isinstance(expr.op, ast.Add):
            left, right = self.elements(expr.left, depth + 1), self.elements(expr.right, depth + 1)
            return None if left is None or right is None else left + right
        if isinstance(expr, ast.Name):
            bindings = self.p.scopes.visible(expr)
            if len(bindings) == 1 and bindings[0].kind in ("assign", "annassign") and not bindings[0].path:
                return self.elements(bindings[0].value, depth + 1)
        return None

    # ---------------------------------------------------------------------------- fixtures
    def receives_fixtures(self, func: Function) -> bool:
        """Test functions (``test*``) and fixtures get fixtures by parameter name."""
        return func.name.startswith("test") or self._fixture_name(func) is not None

    def fixture(self, func: Function, pname: str) -> Function | None:
        """The fixture of this file that a test parameter named ``pname`` receives."""
        scopes = [self.p.parent(func)] if isinstance(self.p.parent(func), ast.ClassDef) else []
        scopes.append(self.p.tree)
        for owner in scopes:
            for stmt in getattr(owner, "body", ()):
                if isinstance(stmt, FUNCTIONS) and stmt is not func and self._fixture_name(stmt) == pname:
                    return stmt
        return None

    def _fixture_name(self, func: Function) -> str | None:
        for d in func.decorator_list:
            target = d.func if isinstance(d, ast.Call) else d
            if self._is(target, "pytest.fixture"):
                name = str_constant(arg_of(self.p, d, None, "name")) if isinstance(d, ast.Call) else None
                return name or func.name
        return None

    def fixture_params(self, func: Function) -> Parameters | None | str:
        for d in func.decorator_list:
            if isinstance(d, ast.Call) and self._is(d.func, "pytest.fixture"):
                params = arg_of(self.p, d, None, "params")
                if params is None:
                    return None
                values = self.elements(params, 0)
                if values is None:
                    return f"the params of fixture {func.name}() at line {self.p.line(d)} are computed at runtime"
                rows = []
                for v in values:
                    if isinstance(v, ast.Call) and self._is(v.func, "pytest.param"):
                        first = arg_of(self.p, v, 0, None)
                        if first is None:
                            return f"a param of fixture {func.name}() is computed at runtime"
                        v = first
                    rows.append(v)
                return Parameters(tuple(rows), params, f"the params of fixture {func.name}()")
        return None

    def results(self, func: Function) -> list[ast.expr]:
        """What a fixture returns or yields."""
        out: list[ast.expr] = [r.value for r in self.p.returns_of(func) if r.value is not None]
        stack: list[ast.AST] = list(func.body)
        while stack:
            n = stack.pop()
            if isinstance(n, ast.Yield) and n.value is not None:
                out.append(n.value)
            if isinstance(n, FUNCTIONS + (ast.ClassDef, ast.Lambda)):
                continue
            stack.extend(ast.iter_child_nodes(n))
        return sorted(out, key=self.p.start)

    def request_param(self, expr: ast.Attribute) -> Function | None:
        """The fixture whose ``request.param`` ``expr`` is."""
        if expr.attr != "param" or not isinstance(expr.value, ast.Name):
            return None
        binding = self.p.scopes.latest(expr.value)
        if binding is None or binding.kind != "param" or not isinstance(binding.node, ast.arg):
            return None
        func = self.p.function_of_param(binding.node)
        if func is None or binding.node.arg != "request" or self._fixture_name(func) is None:
            return None
        return func
