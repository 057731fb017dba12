"""The module tree of an ``nn.Module`` class defined in the linted code, read without running it.

``static_inventory`` finds the class (in the file, or imported from a sibling module beside it),
reads its ``__init__`` — and those of the classes it builds — with ``static_exec.Interpreter`` and
records the result as the same :class:`Inventory` that meta-device builds produce, with
``is_pretrained_model=False``. What cannot be read statically is listed in ``Inventory.unknown``
(subtrees that may hold any name); when nothing is known, there is no inventory and a reason.
"""

from __future__ import annotations

import ast
import os
from dataclasses import dataclass, field
from typing import Any, Callable

from peftlint.model.inventory import Inventory
from peftlint.model.static.static_exec import Interpreter, OutOfBudget
from peftlint.model.static.static_values import (
    MISSING,
    BoundMethod,
    ClassInfo,
    FileScope,
    Frame,
    ImportRef,
    Namespace,
    Node,
    Pretrained,
    Unknown,
    param_names,
)
from peftlint.model.static.tree_record import PretrainedResolver, describe_unknown, record
from peftlint.reading import NotReadable, decode_text, read_limited
from peftlint.sources.python.parse import parse_python


@dataclass
class StaticTree:
    inventory: Inventory | None
    reason: str = ""  # why there is no inventory, or what is unknown in a partial one
    files: list[str] = field(default_factory=list)  # the files read (the linted one first)
    unknown_reasons: dict[str, str] = field(default_factory=dict)  # unknown name -> why
    pretrained: dict[str, Pretrained] = field(default_factory=dict)  # unknown name -> transformers model there
    grafted: dict[str, str] = field(default_factory=dict)  # module name -> pretrained model whose tree is there


def static_inventory(tree: ast.Module, class_name: str, *, path: str, line: int | None = None,
                     sibling: Callable[[str], ast.Module | None] | None = None, display: str = "",
                     pretrained: PretrainedResolver | None = None, memo: dict | None = None) -> StaticTree:
    """The module tree of ``class_name(...)`` as created in ``tree`` (the file at ``path``).

    ``line`` is where the model is created or referred to (it picks the class visible there and
    the call whose arguments to use); ``sibling`` parses another file by absolute path (imports of
    sibling modules), never importing it; ``pretrained`` gives the inventory of a transformers
    model created in an ``__init__`` (``AutoModel.from_pretrained("gpt2")``), grafted in place.
    ``memo`` lets several calls share what was read of each file.
    """
    interp = Interpreter()
    interp.reader = sibling or _parse_file
    if memo is not None:
        interp.files = memo.setdefault("files", {})
    root_file = interp.files.get(os.path.normpath(path))
    if root_file is None or root_file.tree is not tree:
        root_file = FileScope(os.path.normpath(path), tree)
        interp.files[root_file.path] = root_file
    interp.read[root_file.path] = None
    try:
        value, why = _build(interp, root_file, class_name, line)
        if value is None:
            return StaticTree(None, why, [root_file.path])
        if isinstance(value, Node):
            embeddings = {m: _call_method(interp, value, m) for m in ("get_input_embeddings", "get_output_embeddings")}
    except OutOfBudget as exc:
        why = f": {exc}" if str(exc) else ""
        return StaticTree(None, f"{class_name} is too complex to read statically{why}", _files(interp))
    except RecursionError:
        return StaticTree(None, f"{class_name} is nested too deeply to read statically", _files(interp))
    if isinstance(value, Unknown):
        return StaticTree(None, value.reason, _files(interp))
    if not isinstance(value, Node):
        return StaticTree(None, f"{class_name}(...) is not an nn.Module", _files(interp))
    if value.opaque:
        return StaticTree(None, value.opaque, _files(interp))
    source = value.klass.scope.file if value.klass is not None else root_file
    label = display or os.path.basename(source.path)
    if source is not root_file and display:
        label = os.path.join(os.path.dirname(display), os.path.relpath(source.path, root_file.directory))
    inventory, rec = record(interp, value, label, embeddings, pretrained)
    return StaticTree(inventory, describe_unknown(rec.unknown), _files(interp), rec.unknown, rec.pretrained,
                      rec.grafted)


def local_tree(abspath: str, text: str, class_name: str, *, line: int | None = None,
               memo: dict | None = None, display: str = "", pretrained: PretrainedResolver | None = None) -> StaticTree:
    memo = {} if memo is None else memo
    key = ("tree", abspath, class_name, line)
    if key in memo:
        return memo[key]
    parsed = memo.get(("ast", abspath))
    if parsed is None:
        outcome = parse_python(text)  # with the fallback for syntax of a newer Python
        if outcome.tree is None:
            memo[key] = StaticTree(None, f"{os.path.basename(abspath)} cannot be parsed ({outcome.message})")
            return memo[key]
        parsed = outcome.tree
        memo[("ast", abspath)] = parsed

    def sibling(path: str) -> ast.Module | None:
        if ("ast", path) not in memo:
            memo[("ast", path)] = _parse_file(path)
        return memo[("ast", path)]

    memo[key] = static_inventory(parsed, class_name, path=abspath, line=line, sibling=sibling, display=display,
                                 pretrained=pretrained, memo=memo)
    return memo[key]


def _parse_file(path: str) -> ast.Module | None:
    try:  # a sibling module named by an import: read with the file rules (regular, bounded)
        return parse_python(decode_text(read_limited(path), python=True)).tree
    except (OSError, NotReadable, SyntaxError, ValueError, UnicodeDecodeError, RecursionError, MemoryError):
        return None


def _files(interp: Interpreter) -> list[str]:
    return list(interp.read)


# -- which class, which call ------------------------------------------------------------------------
def _scope_of(node: ast.AST, file: FileScope) -> Namespace:
    """The namespace a statement inside functions sees (class bodies are not scopes of their methods)."""
    ns = file.namespace
    for fn in file.index.functions_around(node):
        ns = Namespace(fn.body, ns, file, params=param_names(fn))
    return ns


def _contains(node: ast.stmt | ast.expr, line: int) -> bool:
    return node.lineno <= line <= (node.end_lineno or node.lineno)


def _build(interp: Interpreter, file: FileScope, class_name: str, line: int | None) -> tuple[Any, str]:
    """The model ``class_name(...)`` builds: the call at ``line`` when there is one (evaluated where
    it stands, so it also works for ``models.MLP(...)`` or ``nn.Sequential(...)``), else the class
    with the arguments of its only call site, or its defaults."""
    leaf = class_name.rsplit(".", 1)[-1]
    if line is not None:
        call = next((c for c in file.index.calls.get(leaf, []) if _contains(c, line)), None)
        if call is not None:
            return interp.ev(call, Frame(_scope_of(call, file))), ""
    klass, why = _find_class(interp, file, leaf, line)
    if klass is None:
        return None, why
    args, kwargs, complete = _call_site(interp, file, leaf, line)
    return interp.instantiate(klass, args, kwargs, complete), ""


def _find_class(interp: Interpreter, file: FileScope, name: str, line: int | None) -> tuple[ClassInfo | None, str]:
    around = file.index.functions_around
    candidates = file.index.classes.get(name, [])
    if candidates:
        def depth(c: ast.ClassDef) -> int:
            return len(around(c))

        if line is not None:
            visible = [c for c in candidates if all(_contains(fn, line) for fn in around(c))]
            if visible:
                deepest = max(depth(c) for c in visible)
                same = [c for c in visible if depth(c) == deepest]
                before = [c for c in same if c.lineno <= line]
                chosen = (before or same)[-1]
                return ClassInfo(chosen, _scope_of(chosen, file)), ""
        top = [c for c in candidates if depth(c) == 0]
        if top or len(candidates) == 1:
            chosen = (top or candidates)[-1]
            return ClassInfo(chosen, _scope_of(chosen, file)), ""
        lines = ", ".join(str(c.lineno) for c in candidates)
        return None, f"several classes are named {name} (lines {lines}) and peftlint cannot tell which one is meant"
    value = file.namespace.lookup(name, interp.resolve_binding)
    if value is MISSING:  # `models.Net()`: the class is reached through a module
        for call in file.index.calls.get(name, []):
            if isinstance(call.func, ast.Attribute):
                value = interp.ev(call.func, Frame(_scope_of(call, file)))
                if isinstance(interp.deref(value), ClassInfo):
                    break
    value = interp.deref(value) if value is not MISSING else value
    if isinstance(value, ClassInfo):
        return value, ""
    if isinstance(value, ImportRef):
        return None, f"{name} comes from {value.qual}, which is not a file beside {os.path.basename(file.path)}"
    if isinstance(value, Unknown):
        return None, value.reason
    return None, f"no class {name} is defined in {os.path.basename(file.path)} or imported from a module beside it"


def _call_site(interp: Interpreter, file: FileScope, name: str, line: int | None) -> tuple[list, dict, bool]:
    """The arguments ``name`` is created with: the call at ``line``, else the file's only call (or
    all calls with the same arguments), else none (defaults); different calls leave them unknown."""
    calls = file.index.calls.get(name, [])
    chosen = None
    if line is not None:
        chosen = next((c for c in calls if _contains(c, line)), None)
    # calls inside classes build sub-modules of other models, not the model itself
    calls = [c for c in calls if not file.index.inside_class(c)] if chosen is None else calls
    if chosen is None and calls:
        shapes = {ast.dump(ast.Call(func=ast.Name(id="f"), args=c.args, keywords=c.keywords)) for c in calls}
        if len(shapes) > 1:
            return [], {}, False
        chosen = calls[0]
    if chosen is None:
        return [], {}, True
    f = Frame(_scope_of(chosen, file))
    return interp.arguments(chosen, f)


def _call_method(interp: Interpreter, node: Node, name: str) -> Any:
    """What a method of the model returns (``get_input_embeddings``), MISSING when it has none."""
    if node.klass is None:
        return MISSING
    got = interp.class_attr(node.klass, name, node, name)
    if not isinstance(got, BoundMethod):
        return MISSING
    return interp.call_function(got.func, [node], {}, True)
