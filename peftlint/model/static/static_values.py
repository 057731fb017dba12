"""What the static reader of ``__init__`` methods computes with: values and name scopes.

Plain Python values (int, float, bool, str, None, list, tuple, dict) stand for themselves; the
classes here stand for what the code builds (a module being built, a parameter, a tensor) or for
what cannot be known (``Unknown``, with the reason shown to users).
"""

from __future__ import annotations

import ast
import functools
import os
from dataclasses import dataclass, field
from typing import Any, Callable, Iterator

Function = ast.FunctionDef | ast.AsyncFunctionDef
Comprehension = ast.ListComp | ast.SetComp | ast.GeneratorExp | ast.DictComp


@dataclass(frozen=True)
class Pretrained:
    """A transformers model created inside ``__init__`` (``AutoModel.from_pretrained("gpt2")``)."""

    ref: str | None  # the model id or path as written, when static
    model_class: str  # the transformers class named in the code ("AutoModel", "GPT2Model")
    how: str  # the call, for messages


class Unknown:
    """A value the reader cannot know (it may be a module, a parameter or anything else)."""

    __slots__ = ("reason", "pretrained")

    def __init__(self, reason: str, pretrained: Pretrained | None = None) -> None:
        self.reason = reason
        self.pretrained = pretrained

    def __repr__(self) -> str:
        return f"Unknown({self.reason!r})"


class Param:
    """An ``nn.Parameter``; identity matters (tied weights share one)."""

    __slots__ = ("shape",)

    def __init__(self, shape: list[int]) -> None:
        self.shape = shape


class Tensor:
    """A tensor that is not a parameter (``torch.zeros(3, 4)``); ``shape`` is None when unknown."""

    __slots__ = ("shape",)

    def __init__(self, shape: list[int] | None) -> None:
        self.shape = shape


class Plain:
    """A value that is certainly neither a module nor a parameter (a dtype, a lambda, a function)."""

    __slots__ = ("what",)

    def __init__(self, what: str) -> None:
        self.what = what


class Node:
    """An ``nn.Module`` instance being built: its registered children, own parameters, attributes."""

    def __init__(self, cls: str, kind: str | None = None, klass: "ClassInfo | None" = None) -> None:
        self.cls = cls
        self.kind = kind  # set for torch layers and subclasses of them; None: decided when flattened
        self.klass = klass  # the local class, for method lookups
        self.in_features: int | None = None
        self.out_features: int | None = None
        self.kernel_size: list[int] | None = None
        self.groups: int | None = None
        # registration order, as nn.Module keeps it; None is a removed child (the slot stays)
        self.children: dict[str, Node | Unknown | None] = {}
        self.params: dict[str, Param | None] = {}
        self.attrs: dict[str, Any] = {}
        self.opaque = ""  # why this node's subtree cannot be known ("" when it can)
        self.torch_base: str | None = None  # the torch.nn container class it is or derives from

    def make_opaque(self, reason: str) -> None:
        if not self.opaque:
            self.opaque = reason

    def __repr__(self) -> str:
        return f"Node({self.cls}, {list(self.children)})"


@dataclass
class Obj:
    """An instance of a local class that is not an ``nn.Module`` (a config dataclass, ...)."""

    klass: "ClassInfo"
    attrs: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class ImportRef:
    """A name imported from another module: ``parts`` is the dotted path, ``module_len`` how many
    of them name the module in the import statement, ``level`` the relative-import level."""

    parts: tuple[str, ...]
    module_len: int
    level: int
    file: "FileScope"

    @property
    def qual(self) -> str:
        return "." * self.level + ".".join(self.parts)

    def attr(self, name: str) -> "ImportRef":
        return ImportRef(self.parts + (name,), self.module_len, self.level, self.file)


@dataclass(eq=False)
class ClassInfo:
    node: ast.ClassDef
    scope: "Namespace"  # where the class statement is

    @property
    def name(self) -> str:
        return self.node.name

    def own(self, name: str) -> ast.AST | None:
        """The last statement of the class body that binds ``name`` (method or class attribute)."""
        found: ast.AST | None = None
        for stmt in self.node.body:
            if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef)) and stmt.name == name:
                found = stmt
            elif isinstance(stmt, ast.Assign) and any(isinstance(t, ast.Name) and t.id == name for t in stmt.targets):
                found = stmt
            elif isinstance(stmt, ast.AnnAssign) and isinstance(stmt.target, ast.Name) and stmt.target.id == name:
                found = stmt
        return found

    def decorators(self) -> list[str]:
        out = []
        for d in self.node.decorator_list:
            d = d.func if isinstance(d, ast.Call) else d
            out.append(d.attr if isinstance(d, ast.Attribute) else d.id if isinstance(d, ast.Name) else "")
        return out


@dataclass(eq=False)
class FuncRef:
    node: ast.FunctionDef | ast.AsyncFunctionDef
    scope: "Namespace"
    closure: "Frame | None" = None
    klass: ClassInfo | None = None  # the class whose body defines it (for super())


@dataclass(eq=False)
class BoundMethod:
    self_value: Any
    func: FuncRef


@dataclass(eq=False)
class Builtin:
    name: str


@dataclass(eq=False)
class MethodOf:
    """A method of a built-in value or of a module being built (``layers.append``)."""

    owner: Any
    name: str


class SuperRef:
    """``super()`` inside a method of ``klass``."""

    def __init__(self, self_value: Any, klass: ClassInfo | None) -> None:
        self.self_value = self_value
        self.klass = klass


MISSING = object()


@dataclass(eq=False)
class FileScope:
    """One parsed file: its path (for sibling imports) and its module namespace."""

    path: str
    tree: ast.Module
    namespace: "Namespace" = field(init=False)

    def __post_init__(self) -> None:
        self.namespace = Namespace(self.tree.body, None, self)

    @property
    def directory(self) -> str:
        return os.path.dirname(self.path)

    @functools.cached_property
    def index(self) -> "FileIndex":
        return FileIndex(self.tree)


class FileIndex:
    """One walk over a file: class statements and calls by name, each with the functions around it."""

    def __init__(self, tree: ast.Module) -> None:
        self.classes: dict[str, list[ast.ClassDef]] = {}
        self.calls: dict[str, list[ast.Call]] = {}
        # node id -> (enclosing functions, outermost first; whether a class body encloses it)
        self.context: dict[int, tuple[tuple[Function, ...], bool]] = {}
        stack: list[tuple[ast.AST, tuple[Function, ...], bool]] = [(tree, (), False)]
        while stack:
            node, funcs, in_class = stack.pop()
            if isinstance(node, ast.ClassDef):
                self.classes.setdefault(node.name, []).append(node)
                self.context[id(node)] = (funcs, in_class)
                in_class = True
            elif isinstance(node, ast.Call):
                f = node.func
                name = f.id if isinstance(f, ast.Name) else f.attr if isinstance(f, ast.Attribute) else None
                if name is not None:
                    self.calls.setdefault(name, []).append(node)
                    self.context[id(node)] = (funcs, in_class)
            elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                funcs = funcs + (node,)
            for field_name in node._fields:
                value = getattr(node, field_name, None)
                if isinstance(value, list):
                    stack.extend((v, funcs, in_class) for v in value if isinstance(v, ast.AST))
                elif isinstance(value, ast.AST):
                    stack.append((value, funcs, in_class))
        groups: list[list[ast.Call] | list[ast.ClassDef]] = [*self.calls.values(), *self.classes.values()]
        for nodes in groups:
            nodes.sort(key=lambda n: (n.lineno, n.col_offset))

    def functions_around(self, node: ast.AST) -> tuple[Function, ...]:
        return self.context.get(id(node), ((), False))[0]

    def inside_class(self, node: ast.AST) -> bool:
        return self.context.get(id(node), ((), False))[1]


class Namespace:
    """The names bound by one body (a module or a function) without entering nested scopes."""

    def __init__(self, body: list[ast.stmt], parent: "Namespace | None", file: FileScope,
                 params: list[str] | tuple[str, ...] = ()) -> None:
        self.parent = parent
        self.file = file
        self.bindings: dict[str, list[tuple[ast.AST | None, Any]]] = {}  # None: bound, value unknown
        self.cache: dict[str, Any] = {}
        for name in params:  # a function's parameters shadow outer names; their values are not known here
            self._bind(name, None)
        for stmt in body:
            self._collect(stmt)

    def _bind(self, name: str, stmt: ast.AST | None, extra: Any = None) -> None:
        self.bindings.setdefault(name, []).append((stmt, extra))

    def _collect(self, stmt: ast.AST) -> None:
        if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            self._bind(stmt.name, stmt)
        elif isinstance(stmt, (ast.Import, ast.ImportFrom)):
            for alias in stmt.names:
                if alias.name == "*":
                    continue
                name = alias.asname or alias.name.split(".")[0]
                self._bind(name, stmt, alias)
        elif isinstance(stmt, ast.Assign):
            for t in stmt.targets:
                for name in _target_names(t):
                    self._bind(name, stmt if isinstance(t, ast.Name) else None)
        elif isinstance(stmt, ast.AnnAssign):
            if stmt.value is not None:
                for name in _target_names(stmt.target):
                    self._bind(name, stmt)
        else:
            for node in _walk_scope(stmt):
                if isinstance(node, ast.Name) and isinstance(node.ctx, (ast.Store, ast.Del)):
                    self._bind(node.id, None)
                elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) and node is not stmt:
                    self._bind(node.name, node)
                elif isinstance(node, (ast.Import, ast.ImportFrom)):
                    for alias in node.names:
                        if alias.name != "*":
                            self._bind(alias.asname or alias.name.split(".")[0], node, alias)
                elif isinstance(node, ast.ExceptHandler) and node.name:
                    self._bind(node.name, None)

    def lookup(self, name: str, resolve: Callable[["Namespace", str, list], Any]) -> Any:
        """The value of ``name`` here or in an enclosing namespace, else MISSING."""
        ns: Namespace | None = self
        while ns is not None:
            if name in ns.bindings:
                if name not in ns.cache:
                    ns.cache[name] = Unknown(f"`{name}` refers to itself")  # recursion guard
                    ns.cache[name] = resolve(ns, name, ns.bindings[name])
                return ns.cache[name]
            ns = ns.parent
        return MISSING


def _target_names(t: ast.AST) -> Iterator[str]:
    for node in ast.walk(t):
        if isinstance(node, ast.Name):
            yield node.id


def _walk_scope(node: ast.AST) -> Iterator[ast.AST]:
    """``ast.walk`` that does not enter nested functions, classes, lambdas and comprehensions."""
    todo = [node]
    while todo:
        n = todo.pop()
        yield n
        for child in ast.iter_child_nodes(n):
            if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                yield child
                continue
            if isinstance(child, (ast.Lambda, ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp)):
                continue
            todo.append(child)


walk_scope = _walk_scope


class Frame:
    """Local variables of one executing function body."""

    def __init__(self, scope: Namespace, *, outer: "Frame | None" = None, self_value: Any = None,
                 klass: ClassInfo | None = None) -> None:
        self.scope = scope
        self.outer = outer
        self.locals: dict[str, Any] = {}
        self.self_value = self_value
        self.klass = klass
        self.uncertain = ""  # set after a statement that may have left the body early (a dynamic return)

    def find(self, name: str) -> Any:
        f: Frame | None = self
        while f is not None:
            if name in f.locals:
                return f.locals[name]
            f = f.outer
        return MISSING


def is_module_like(v: Any) -> bool:
    """Whether a value may be an ``nn.Module`` or an ``nn.Parameter`` (what changes the tree)."""
    return isinstance(v, (Node, Param, Unknown))


def nodes_in(v: Any, depth: int = 0) -> Iterator[Node]:
    """The modules being built that ``v`` holds (itself, or inside lists, tuples and dicts)."""
    if isinstance(v, Node):
        yield v
    elif depth < 3 and isinstance(v, (list, tuple)):
        for x in v:
            yield from nodes_in(x, depth + 1)
    elif depth < 3 and isinstance(v, dict):
        for x in v.values():
            yield from nodes_in(x, depth + 1)


class UnknownItems(Unknown):
    """Put in a list that was extended by something unknown: its length is no longer known."""

    __slots__ = ()


class Raised(Unknown):
    """What a call returns when the code raises (an ``__init__`` that raises builds no model)."""

    __slots__ = ()


def param_names(node: ast.FunctionDef | ast.AsyncFunctionDef) -> list[str]:
    a = node.args
    names = [p.arg for p in (*a.posonlyargs, *a.args, *a.kwonlyargs)]
    names += [p.arg for p in (a.vararg, a.kwarg) if p is not None]
    return names
