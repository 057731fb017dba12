"""Python's scoping rules over an ``ast`` tree, computed lazily per scope.

A scope (module, class, function, lambda, comprehension) lists its bindings only when a name is
first looked up in it: one walk over the scope's own statements, not into nested scopes. Reads
are found through the index of ``Name`` nodes by identifier. Nothing is executed.
"""

from __future__ import annotations

import ast
import bisect
import builtins

from peftlint.sources.python.bindings import COMPREHENSIONS, FUNCTIONS, Binding, Collector, Scope
from peftlint.sources.python.index import ModuleIndex, dotted_name, root_name

_BUILTINS = frozenset(dir(builtins))
# Statements under which an assignment may not run (``with`` bodies always run).
CONDITIONAL: tuple[type[ast.AST], ...] = (ast.If, ast.For, ast.AsyncFor, ast.While, ast.Try, ast.ExceptHandler, ast.Match, ast.match_case)
if hasattr(ast, "TryStar"):
    CONDITIONAL = CONDITIONAL + (ast.TryStar,)
_BODIES = ("body", "orelse", "finalbody", "handlers", "cases")
# Reads examined by ``references`` in one module: each config asks for the reads of the variable it
# is assigned to, so a name bound and read thousands of times costs their product (a 6 KB file of
# 50 ``c = LoraConfig()`` and 3,000 reads of ``c`` took minutes before the searches were bisections).
MAX_STEPS = 1_000_000

__all__ = ["CONDITIONAL", "FUNCTIONS", "Binding", "Scope", "Scopes"]


class Scopes:
    def __init__(self, index: ModuleIndex) -> None:
        self.index = index
        self._scopes: dict[ast.AST, Scope] = {}
        self._scope_of: dict[ast.AST, Scope] = {}
        self._blocks: dict[ast.AST, dict[int, list[ast.stmt]]] = {}  # parent -> id(statement) -> its body list
        # reads (and rebindings between) that ``references`` examined in this module; past MAX_STEPS it
        # stops, ``exhausted`` is set, and the reads not examined are not found
        self.steps = 0
        self.exhausted = False
        self.module = self._scope(index.tree)

    # ------------------------------------------------------------------------- scopes
    def _scope(self, node: ast.AST) -> Scope:
        found = self._scopes.get(node)
        if found is None:
            if isinstance(node, ast.Module):
                found = Scope(node, None, "module")
            else:
                kind = ("class" if isinstance(node, ast.ClassDef) else "lambda" if isinstance(node, ast.Lambda)
                        else "comprehension" if isinstance(node, COMPREHENSIONS) else "function")
                found = Scope(node, self.scope_of(node), kind)
            self._scopes[node] = found
        return found

    def scope_of(self, node: ast.AST) -> Scope:
        """The scope ``node`` is evaluated (or, for a target, bound) in."""
        cached = self._scope_of.get(node)
        if cached is not None:
            return cached
        parents = self.index.parents
        below2: ast.AST | None = None
        below = node
        cur = parents.get(node)
        found: ast.AST = self.index.tree
        while cur is not None:
            if isinstance(cur, FUNCTIONS):
                if isinstance(below, ast.stmt) or (below is cur.args and below2 is node and isinstance(node, ast.arg)):
                    found = cur
                    break
            elif isinstance(cur, ast.Lambda):
                if below is cur.body or (below is cur.args and below2 is node and isinstance(node, ast.arg)):
                    found = cur
                    break
            elif isinstance(cur, ast.ClassDef):
                if isinstance(below, ast.stmt):
                    found = cur
                    break
            elif isinstance(cur, COMPREHENSIONS):
                if not (below is cur.generators[0] and below2 is cur.generators[0].iter):
                    found = cur
                    break
            elif isinstance(cur, ast.Module):
                found = cur
                break
            below2, below, cur = below, cur, parents.get(cur)
        scope = self._scope(found)
        self._scope_of[node] = scope
        return scope

    def effective_scope(self, node: ast.AST) -> Scope:
        """The scope ``node`` runs in; comprehensions run inline in their parent's scope."""
        scope = self.scope_of(node)
        while scope.kind == "comprehension" and scope.parent is not None:
            scope = scope.parent
        return scope

    # ----------------------------------------------------------------------- bindings
    def table(self, scope: Scope) -> dict[str, list[Binding]]:
        if scope.table is None:
            module = self.module if scope.kind != "module" else scope
            scope.table = Collector(scope, module, self.index.has_walrus).collect()
            if scope.kind == "module":
                self._add_global_writes(scope)
            elif scope.kind in ("function", "lambda"):
                self._add_nonlocal_writes(scope)
        return scope.table

    def _add_nonlocal_writes(self, scope: Scope) -> None:
        """Names a nested function declares ``nonlocal`` are bound here by that function."""
        assert scope.table is not None
        for decl in self.index.declarations:
            if not isinstance(decl, ast.Nonlocal) or not self.index.is_ancestor(scope.node, decl):
                continue
            inner = self.scope_of(decl)
            if inner is scope:
                continue
            self.table(inner)
            for name in decl.names:
                owner = inner.parent
                while owner is not None and (owner.kind == "class" or name not in self.table(owner)):
                    owner = owner.parent
                if owner is not scope:
                    continue
                for b in inner.exported.get(name, ()):
                    b.scope = scope
                    if b not in scope.table[name]:
                        scope.table[name].append(b)
                scope.table[name].sort(key=lambda b: b.pos)

    def _add_global_writes(self, module: Scope) -> None:
        """Names a function declares ``global`` are bound in the module by that function."""
        assert module.table is not None
        for decl in self.index.declarations:
            if not isinstance(decl, ast.Global):
                continue
            func = self.scope_of(decl)
            if func.kind == "module":
                continue
            self.table(func)
            for name in decl.names:
                for b in func.exported.get(name, ()):
                    if b not in module.table.setdefault(name, []):
                        module.table[name].append(b)
        for bindings in module.table.values():
            bindings.sort(key=lambda b: b.pos)

    def lookup(self, scope: Scope, name: str) -> tuple[Scope | None, list[Binding]]:
        """The scope that binds ``name`` as seen from ``scope`` and all its bindings there."""
        cur: Scope | None = scope
        first = True
        while cur is not None:
            if cur.kind == "class" and not first:
                cur = cur.parent
                continue
            table = self.table(cur)
            if name in cur.declared_global and cur is not self.module:
                cur = self.module
                first = False
                continue
            if name in table and name not in cur.declared_nonlocal:
                return cur, table[name]
            cur = cur.parent
            first = False
        return None, []

    def visible(self, name: ast.Name) -> list[Binding]:
        """Every binding of the name in the scope the name resolves to (Python's rules)."""
        return self.lookup(self.scope_of(name), name.id)[1]

    def reaching(self, name: ast.Name) -> list[Binding]:
        """The bindings a read may see: in its own scope only those before it (when there are
        none, those of the enclosing scopes); bindings of enclosing scopes all count."""
        use_scope = self.scope_of(name)
        bound_in, bindings = self.lookup(use_scope, name.id)
        if bound_in is None:
            return []
        if bound_in is not use_scope:
            return bindings
        before = self._before(bindings, name) if bound_in.kind != "comprehension" else [
            b for b in bindings if self.precedes(b, name)]
        if before or bound_in.parent is None:
            return before
        outer: Scope | None = bound_in.parent
        while outer is not None and outer.kind == "class":
            outer = outer.parent
        return self.lookup(outer, name.id)[1] if outer is not None else []

    def _before(self, bindings: list[Binding], use: ast.AST) -> list[Binding]:
        """``[b for b in bindings if self.precedes(b, use)]`` for a table's list (sorted by position,
        no comprehension targets) without a test of each: the bindings before ``use`` by bisection,
        and ``precedes`` only for those written in a statement whose value holds ``use``
        (``x = f(x)``). A name bound thousands of times and read thousands of times costs no more
        than their sum."""
        idx = self.index
        here = idx.start(use)
        end = bisect.bisect_left(bindings, here, key=_position)
        exact = end
        child, parent = use, idx.parents.get(use)
        while parent is not None:  # a statement (or walrus) whose guarded part holds ``use``
            if getattr(parent, "value", None) is child or getattr(parent, "iter", None) is child:
                exact = min(exact, bisect.bisect_left(bindings, idx.start(parent), key=_position))
            child, parent = parent, idx.parents.get(parent)
        if exact == end:
            return bindings[:end]
        return bindings[:exact] + [b for b in bindings[exact:end] if self.precedes(b, use)]

    def precedes(self, binding: Binding, use: ast.AST) -> bool:
        """The binding is written before ``use`` and not by the statement that evaluates it."""
        if binding.kind != "comp" and binding.pos >= self.index.start(use):
            return False
        stmt = binding.statement
        guarded = getattr(stmt, "iter", None) if binding.kind in ("for", "comp") else getattr(stmt, "value", None)
        if binding.kind in ("assign", "annassign", "augassign", "walrus", "for", "comp") and guarded is not None:
            if guarded is use or self.index.is_ancestor(guarded, use):
                return False
        return True

    def latest(self, name: ast.Name) -> Binding | None:
        """The binding that most plausibly reaches ``name``: the last one before it in the same
        scope, else the last one in the enclosing scope (flow-insensitive but order-aware)."""
        referents = self.reaching(name) or self.visible(name)
        if not referents:
            return None
        use = self.index.start(name)
        scope = self.effective_scope(name)
        same = [b for b in referents if b.scope is scope and b.pos < use]
        if same:
            return max(same, key=lambda b: b.pos)
        outer = [b for b in referents if b.scope is not scope]
        return max(outer or referents, key=lambda b: b.pos)

    def binding_of(self, target: ast.AST) -> Binding | None:
        """The binding recorded for a binding node (a Name target, ast.arg, def or class)."""
        name = getattr(target, "id", None) or getattr(target, "arg", None) or getattr(target, "name", None)
        if not isinstance(name, str):
            return None
        scope: Scope | None = self.scope_of(target)
        while scope is not None:
            for b in self.table(scope).get(name, ()):
                if b.node is target:
                    return b
            scope = scope.parent
        return None

    def references(self, binding: Binding, filtered: bool = True) -> list[ast.Name]:
        """Reads of ``binding``, in source order. Unless ``filtered`` is False, a read is dropped
        when another binding of the same scope certainly runs between the two (straight-line
        rebinding); a rebinding in a branch keeps both candidates."""
        idx = self.index
        own = binding.pos
        region = binding.scope.node
        lo = idx.start(region) if not isinstance(region, ast.Module) else (0, 0)
        hi = (getattr(region, "end_lineno", None) or 10**9, getattr(region, "end_col_offset", None) or 10**9)
        out = []
        # a binding of its scope's own table reaches no read of that scope written before it
        member = binding.scope.table is not None and any(b is binding for b in binding.scope.table.get(binding.name, ()))
        for read in idx.names_between(binding.name, lo[0], hi[0]):
            if not isinstance(read.ctx, ast.Load) or not lo <= idx.start(read) <= hi:
                continue
            here = idx.start(read)
            same = self.scope_of(read) is binding.scope
            if same and member and here <= own and binding.kind != "comp":
                continue
            self.steps += 1
            if self.steps > MAX_STEPS:
                self.exhausted = True
                break
            referents = self.reaching(read)
            at = _index_of(referents, binding)
            if at is None:
                continue
            if filtered and same:
                shadowed = False
                for other in referents[at + 1:]:  # by position: the rebindings between ``own`` and the read
                    if other.pos >= here:
                        break
                    self.steps += 1
                    if other.pos > own and self.dominates(other.node, read):
                        shadowed = True
                        break
                if shadowed:
                    continue
            out.append(read)
        return sorted(out, key=idx.start)

    def dominates(self, binding: ast.AST, use: ast.AST) -> bool:
        """The statement of ``binding`` sits in a block that also contains ``use`` (so when the
        use runs after it, the binding ran)."""
        idx = self.index
        child = binding
        for parent in idx.ancestors(binding):
            if isinstance(child, ast.stmt):
                block = self._block_of(parent, child)
                if block is not None:
                    return self._in_block(block, use)
            child = parent
        return False

    def _block_of(self, parent: ast.AST, stmt: ast.AST) -> list[ast.stmt] | None:
        """The body list of ``parent`` (``body``, ``orelse``, ...) that holds ``stmt``, from one map
        per parent: a test of each statement of a long module body, for every pair of a binding and
        a read, grew with the cube of the file."""
        blocks = self._blocks.get(parent)
        if blocks is None:
            blocks = self._blocks[parent] = {}
            for name in _BODIES:
                body = getattr(parent, name, None)
                if isinstance(body, list):
                    for s in body:
                        blocks[id(s)] = body
        return blocks.get(id(stmt))

    def _in_block(self, block: list[ast.stmt], node: ast.AST) -> bool:
        """Whether ``node`` is (inside) a statement of ``block``."""
        idx = self.index
        child, parent = node, idx.parents.get(node)
        while parent is not None:
            if isinstance(child, ast.stmt) and self._block_of(parent, child) is block:
                return True
            child, parent = parent, idx.parents.get(parent)
        return False

    # --------------------------------------------------------------------- qualified names
    def qualified_names(self, node: ast.AST) -> set[str]:
        """Qualified names of an imported or builtin name/attribute (never local ones)."""
        dotted = dotted_name(node)
        root = root_name(node)
        if dotted is None or root is None:
            return set()
        rest = dotted[len(root.id):]
        bindings = self.reaching(root) if node is root else self.visible(root)
        names = {b.qualified + rest for b in bindings if b.kind == "import"}
        if not bindings:
            if self.lookup(self.scope_of(root), root.id)[0] is None:
                if root.id in _BUILTINS:
                    return {f"builtins.{dotted}"}
                if self.index.star_modules:
                    return {f"{m}.{dotted}" for m in self.index.star_modules}
        return names

    def is_builtin(self, node: ast.AST, name: str) -> bool:
        return f"builtins.{name}" in self.qualified_names(node)


def _position(b: Binding) -> tuple[int, int]:
    return b.pos


def _index_of(bindings: list[Binding], binding: Binding) -> int | None:
    """Where ``binding`` is in ``bindings`` (sorted by position), found by bisection."""
    i = bisect.bisect_left(bindings, binding.pos, key=_position)
    while i < len(bindings) and bindings[i].pos == binding.pos:
        if bindings[i] is binding:
            return i
        i += 1
    return next((i for i, b in enumerate(bindings) if b is binding), None)  # not sorted after all
