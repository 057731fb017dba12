"""``self.x`` / ``cls.x`` read through the class that encloses the method, never another class.

A read of ``self.x`` in a method of class C may run on an instance of C or of any subclass of C
defined in this file. For each such runtime class K the value is looked up along K's method
resolution order (classes of this file only): an assignment in a class body, or ``self.x = ...``
in a setup method (``setUp``, ``setup_method``, ``setUpClass``, ``setup_class``, ``__init__``, a
pytest fixture). Every runtime class with a value gives one candidate; none is picked silently.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass

from peftlint.sources.python.program import Function, Program, class_body_field
from peftlint.sources.python.scope import FUNCTIONS

SETUP_METHODS = frozenset({"setUp", "setup_method", "setUpClass", "setup_class", "__init__", "asyncSetUp"})


@dataclass(frozen=True, eq=False)
class AttrValue:
    """One value ``self.x`` may hold: the assigned expression, where, and for which classes."""

    value: ast.expr | None
    statement: ast.AST
    cls: ast.ClassDef  # the class whose body or setup assigns it
    receivers: tuple[ast.ClassDef, ...]  # the runtime classes of ``self`` that see this value


class ClassAttributes:
    def __init__(self, program: Program) -> None:
        self.p = program
        self._subclasses: dict[ast.ClassDef, list[ast.ClassDef]] | None = None
        self._mro: dict[ast.ClassDef, list[ast.ClassDef]] = {}
        self._assigned: dict[tuple[ast.ClassDef, str], list[tuple[ast.AST, ast.expr | None]]] = {}

    # ---------------------------------------------------------------------------- classes
    def method_class(self, func: ast.AST) -> ast.ClassDef | None:
        """The class a function is defined in as a method (directly in the class body)."""
        parent = self.p.parent(func)
        return parent if isinstance(parent, ast.ClassDef) and isinstance(func, FUNCTIONS) else None

    def owner(self, expr: ast.AST) -> tuple[ast.ClassDef, Function] | None:
        """For ``self``/``cls`` (the first parameter of a method, also read from a closure inside
        it): the method's class and the method."""
        if not isinstance(expr, ast.Name):
            return None
        binding = self.p.scopes.latest(expr)
        if binding is None or binding.kind != "param" or not isinstance(binding.node, ast.arg):
            return None
        func = self.p.function_of_param(binding.node)
        if func is None:
            return None
        cls = self.method_class(func)
        params = self.p.positional_params(func)
        if cls is None or not params or params[0] is not binding.node:
            return None
        if any(isinstance(d, ast.Name) and d.id == "staticmethod" for d in func.decorator_list):
            return None
        return cls, func

    def bases(self, cls: ast.ClassDef) -> list[ast.ClassDef]:
        out = []
        for base in cls.bases:
            found = self.p.local_class(base) if isinstance(base, ast.Name) else None
            if found is not None and found is not cls:
                out.append(found)
        return out

    def subclasses(self, cls: ast.ClassDef) -> list[ast.ClassDef]:
        """Classes of this file that derive from ``cls``, directly or not, in source order."""
        if self._subclasses is None:
            self._subclasses = {}
            for defs in self.p.classes.values():
                for c in defs:
                    for b in self.bases(c):
                        self._subclasses.setdefault(b, []).append(c)
        out: list[ast.ClassDef] = []
        todo = list(self._subclasses.get(cls, ()))
        while todo:
            c = todo.pop(0)
            if c in out or c is cls:
                continue
            out.append(c)
            todo.extend(self._subclasses.get(c, ()))
        return sorted(out, key=self.p.start)

    def mro(self, cls: ast.ClassDef) -> list[ast.ClassDef]:
        """C3 linearisation over the classes of this file (other bases are left out)."""
        if cls in self._mro:
            return self._mro[cls]
        self._mro[cls] = [cls]  # cycles (invalid code) end here
        seqs = [list(self.mro(b)) for b in self.bases(cls)] + [self.bases(cls)]
        out = [cls]
        while any(seqs):
            seqs = [s for s in seqs if s]
            head = next((s[0] for s in seqs if not any(s[0] in t[1:] for t in seqs)), None)
            if head is None:  # no consistent order: depth first
                for s in seqs:
                    out.extend(c for c in s if c not in out)
                break
            out.append(head)
            seqs = [s[1:] if s[0] is head else s for s in seqs]
        self._mro[cls] = out
        return out

    def methods(self, func: ast.AST, receivers: tuple[ast.ClassDef, ...] = ()) -> list[tuple[Function, tuple[ast.ClassDef, ...], int]]:
        """For ``self.name`` called as a method: each definition it may run (one per override),
        the runtime classes that run it, and how many parameters ``self`` binds (0 or 1)."""
        if not isinstance(func, ast.Attribute):
            return []
        owner = self.owner(func.value)
        if owner is None:
            return []
        cls = owner[0]
        runtime = list(receivers) or [cls] + self.subclasses(cls)
        found: dict[int, tuple[Function, tuple[ast.ClassDef, ...], int]] = {}
        for k in runtime:
            for c in self.mro(k):
                method = next((s for s in c.body if isinstance(s, FUNCTIONS) and s.name == func.attr), None)
                if method is None:
                    continue
                static = any(isinstance(d, ast.Name) and d.id == "staticmethod" for d in method.decorator_list)
                prev = found.get(id(method))
                found[id(method)] = (method, (prev[1] if prev else ()) + (k,), 0 if static else 1)
                break
        return sorted(found.values(), key=lambda m: self.p.start(m[0]))

    def called_methods(self, func: ast.AST, ctx: tuple) -> list[tuple[Function, tuple[ast.ClassDef, ...], int]]:
        """``self.helper`` called from a method (``ctx``: the linker's call frames, whose last
        may narrow the runtime classes): the definitions it may run."""
        owner = self.owner(func.value) if isinstance(func, ast.Attribute) else None
        if owner is None:
            return []
        receivers = ctx[-1].receivers if ctx and ctx[-1].func is owner[1] else ()
        return self.methods(func, receivers)

    # --------------------------------------------------------------------- assignments
    def is_setup(self, func: Function) -> bool:
        if func.name in SETUP_METHODS:
            return True
        for d in func.decorator_list:
            target = d.func if isinstance(d, ast.Call) else d
            if "pytest.fixture" in self.p.qualified_names(target):
                return True
        return False

    def assigned(self, cls: ast.ClassDef, attr: str) -> list[tuple[ast.AST, ast.expr | None]]:
        """Where ``cls`` itself sets ``attr``: its body, or ``self.attr = ...`` in a setup method
        (the setup's values come first: they replace the class attribute on the instance)."""
        key = (cls, attr)
        if key in self._assigned:
            return self._assigned[key]
        found: list[tuple[ast.AST, ast.expr | None]] = []
        for stmt in cls.body:
            if isinstance(stmt, FUNCTIONS) and self.is_setup(stmt):
                found.extend(self._self_assignments(stmt, attr))
        body = class_body_field(cls, attr)
        if body is not None:
            found.append(body)
        self._assigned[key] = found
        return found

    def _self_assignments(self, func: Function, attr: str) -> list[tuple[ast.AST, ast.expr | None]]:
        out: list[tuple[ast.AST, ast.expr | None]] = []
        for node in self.p.attributes.get(attr, ()):
            if isinstance(node.ctx, ast.Load) or self.p.enclosing_function(node) is not func:
                continue
            owner = self.owner(node.value)
            if owner is None or owner[1] is not func:
                continue
            stmt = self.p.parent(node)
            if isinstance(stmt, ast.Assign) and any(t is node for t in stmt.targets):
                out.append((stmt, stmt.value))
            elif isinstance(stmt, ast.AnnAssign) and stmt.target is node:
                out.append((stmt, stmt.value))
            else:
                out.append((stmt or node, None))
        return sorted(out, key=lambda pair: self.p.start(pair[0]))

    def values(self, read: ast.Attribute, receivers: tuple[ast.ClassDef, ...] = ()) -> list[AttrValue] | None:
        """What ``self.attr`` may hold at ``read``; None when ``read`` is not an attribute of
        ``self``/``cls``. ``receivers`` narrows the runtime classes (when the read was reached
        from a method of a subclass)."""
        owner = self.owner(read.value)
        if owner is None:
            return None
        cls, func = owner
        local, maybe = self._assigned_before(read, func)
        if local is not None:
            return [AttrValue(local[1], local[0], cls, receivers or (cls,))]
        runtime = list(receivers) or [cls] + self.subclasses(cls)
        out: dict[int, AttrValue] = {}
        for stmt, value in maybe:  # set earlier in this method, but not on every path
            out[id(stmt)] = AttrValue(value, stmt, cls, tuple(runtime))
        for k in runtime:
            for c in self.mro(k):
                found = self.assigned(c, read.attr)
                if not found:
                    continue
                for stmt, value in found:
                    prev = out.get(id(stmt))
                    out[id(stmt)] = AttrValue(value, stmt, c, (prev.receivers if prev else ()) + (k,))
                break
        return sorted(out.values(), key=lambda v: self.p.start(v.statement))

    def _assigned_before(self, read: ast.Attribute, func: Function) -> tuple[tuple[ast.AST, ast.expr | None] | None, list]:
        """``self.attr = v`` earlier in the same method: the last one in a block that also holds the
        read (when no other follows it), else the ones that may have run."""
        before = [(stmt, value) for stmt, value in self._self_assignments(func, read.attr)
                  if self.p.start(stmt) < self.p.start(read)]
        if before and self.p.scopes.dominates(before[-1][0], read):
            return before[-1], []
        return None, before

    def reads(self, target: ast.Attribute) -> list[ast.Attribute]:
        """Reads of ``self.attr`` that may see the value assigned to ``target``."""
        owner = self.owner(target.value)
        stmt = self.p.parent(target)
        if owner is None or stmt is None:
            return []
        cls, func = owner
        classes = {id(c) for c in [cls] + self.subclasses(cls)}
        out = []
        for node in self.p.attributes.get(target.attr, ()):
            if not isinstance(node.ctx, ast.Load) or node is target:
                continue
            o = self.owner(node.value)
            if o is None or id(o[0]) not in classes:
                continue
            seen = self.values(node)
            if seen and any(v.statement is stmt for v in seen):
                out.append(node)
        return sorted(out, key=self.p.start)


def not_none(values: list[AttrValue]) -> list[AttrValue]:
    """``x = None`` placeholders (a class attribute filled in later) are not candidates when a
    real value is assigned somewhere."""
    real = [v for v in values if not (isinstance(v.value, ast.Constant) and v.value.value is None)]
    return real or values
