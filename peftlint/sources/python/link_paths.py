"""Which assignments of a name can be what a call reads, on the path a config takes to that call.

``if kind == "a": model = A(); config = LoraConfig(...)`` / ``else: model = B(); config = ...``
reach the same ``get_peft_model(model, config)``; the first config meets only ``A()``. The config's
route (its call and every expression it flowed through, see ``link_flow``) is the anchor: an
assignment on a branch that excludes a point of the route (the other arm of an ``if``, another
``case`` of a ``match``, another ``except`` handler, a ``try``'s ``else`` against its handlers, the
opposite arm of an ``if`` with the same test), or one always followed by a new value of the
config's variable (an ``except`` handler that builds its own config), cannot be on that path, and an assignment that a later
one always overwrites before a point of the route is not read there. What is left are the
candidates; the linker checks the config against each of them.
"""

from __future__ import annotations

import ast
from collections.abc import Sequence

from peftlint.sources.python.bindings import Binding
from peftlint.sources.python.program import Program


def field_of(parent: ast.AST, child: ast.AST) -> tuple[str, int]:
    """The field of ``parent`` holding ``child`` and its index in that list (0 for a single node)."""
    for name, value in ast.iter_fields(parent):
        if value is child:
            return name, 0
        if isinstance(value, list):
            for i, item in enumerate(value):
                if item is child:
                    return name, i
    return "", 0


def _arms_exclude(node: ast.AST, a: ast.AST, b: ast.AST) -> bool:
    """``a`` and ``b`` are children of ``node`` that never both run in one pass through it."""
    fa, ia = field_of(node, a)
    fb, ib = field_of(node, b)
    if isinstance(node, (ast.If, ast.IfExp)):
        return {fa, fb} == {"body", "orelse"}
    if isinstance(node, ast.Match):
        return fa == fb == "cases" and ia != ib
    if isinstance(node, (ast.Try, getattr(ast, "TryStar", ast.Try))):
        if fa == fb == "handlers":
            return ia != ib
        return {fa, fb} == {"handlers", "orelse"}
    return False


def exclusive(p: Program, a: ast.AST, b: ast.AST) -> bool:
    """``a`` and ``b`` sit on branches of which at most one runs (in one call of their function)."""
    chain_b: dict[int, ast.AST] = {}
    child: ast.AST = b
    for anc in p.ancestors(b):
        chain_b[id(anc)] = child
        child = anc
    child = a
    ifs_a: list[tuple[ast.If, str]] = []
    for anc in p.ancestors(a):
        if id(anc) in chain_b:
            if _arms_exclude(anc, child, chain_b[id(anc)]):
                return True
            break
        if isinstance(anc, ast.If):
            ifs_a.append((anc, field_of(anc, child)[0]))
        child = anc
    return _same_test_other_arm(p, ifs_a, b)


def _same_test_other_arm(p: Program, ifs_a: list[tuple[ast.If, str]], b: ast.AST) -> bool:
    """``if kind == "a": model = A()`` ... ``if kind == "a": config = ...`` else ``...``: the same
    test, read twice, takes the same arm both times (the linked code rarely rebinds it in between)."""
    if not ifs_a:
        return False
    tests = {ast.dump(node.test): arm for node, arm in ifs_a if arm in ("body", "orelse")}
    child = b
    for anc in p.ancestors(b):
        if isinstance(anc, ast.If):
            arm = field_of(anc, child)[0]
            other = tests.get(ast.dump(anc.test))
            if other is not None and arm in ("body", "orelse") and other != arm and \
                    not any(anc is node for node, _ in ifs_a):
                return True
        child = anc
    return False


def bindings_on_route(p: Program, name: ast.Name, route: Sequence[ast.AST]) -> list[Binding]:
    """The assignments of ``name`` in its own scope that may be what it reads on the config's
    route; one (the latest, flow-insensitive) when nothing narrows them, none when unbound."""
    scopes = p.scopes
    latest = scopes.latest(name)
    if latest is None:
        return []
    scope = scopes.effective_scope(name)
    use = p.start(name)
    same = [b for b in scopes.reaching(name) if b.scope is scope and b.pos < use]
    if len(same) <= 1:
        return [latest]
    anchors = [r for r in route if scopes.effective_scope(r) is scope and p.start(r) <= use] + [name]
    rebinds = _route_rebinds(p, route, scope)
    fits = [
        b for b in same
        if not any(exclusive(p, b.statement, r) for r in anchors)
        # the config's variable is assigned anew after this assignment whenever it runs
        and not any(b.pos < o.pos < p.start(r) and scopes.dominates(o.node, b.node) for o, r in rebinds)
    ]

    def overwritten(b: Binding) -> bool:
        return any(
            o is not b and b.pos < o.pos and any(o.pos < p.start(r) and scopes.dominates(o.node, r) for r in anchors)
            for o in fits
        )

    left = [b for b in fits if not overwritten(b)]
    return sorted(left, key=lambda b: b.pos) or [latest]


def _route_rebinds(p: Program, route: Sequence[ast.AST], scope: object) -> list[tuple[Binding, ast.Name]]:
    """Other assignments of the variables the config passes through in ``scope`` (the route reads
    ``config``; ``config = LoraConfig(...)`` elsewhere replaces it), each with the read."""
    out: list[tuple[Binding, ast.Name]] = []
    for prev, r in zip(route, route[1:]):
        if not isinstance(r, ast.Name) or not isinstance(r.ctx, ast.Load) or p.scopes.effective_scope(r) is not scope:
            continue
        for o in p.scopes.reaching(r):
            if o.scope is scope and o.value is not None and o.value is not prev and not p.is_ancestor(o.value, prev):
                out.append((o, r))
    return out
