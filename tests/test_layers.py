"""The package's layers: imports point one way, and there is no import cycle.

cli, server -> report / fix.apply / stdin -> engine -> rules -> semantics / model / sources / fix.edits -> the base
(spec, diagnostics, textpos, config, store). Every import counts, also those inside functions and
under TYPE_CHECKING: a lazy import is still a dependency.
"""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "peftlint"

# (prefix, tier): the longest matching prefix decides a module's tier.
TIERS = (
    ("peftlint", 0),
    ("peftlint.diagnostics", 0),
    ("peftlint.textpos", 0),
    ("peftlint.store", 0),
    ("peftlint.config", 0),
    ("peftlint.spec", 0),
    ("peftlint.model", 1),
    ("peftlint.semantics", 1),
    ("peftlint.sources", 1),
    ("peftlint.fix.edits", 1),
    ("peftlint.rules", 2),
    ("peftlint.engine", 3),
    ("peftlint.fix", 4),
    ("peftlint.report", 4),
    ("peftlint.stdin", 4),
    ("peftlint.cli", 5),
    ("peftlint.__main__", 5),
    ("peftlint.server", 5),  # the language server: an app beside the command line
)


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _modules() -> dict[str, set[str]]:
    """module -> the peftlint modules it imports."""
    names = {_module_name(p): p for p in PACKAGE.rglob("*.py")}
    graph: dict[str, set[str]] = {}
    for name, path in names.items():
        deps: set[str] = set()
        is_pkg = path.name == "__init__.py"
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                deps |= {a.name for a in node.names if a.name.startswith("peftlint")}
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    anchor = name.split(".") if is_pkg else name.split(".")[:-1]
                    anchor = anchor[: len(anchor) - node.level + 1]
                    base = ".".join(anchor + ([base] if base else []))
                if not base.startswith("peftlint"):
                    continue
                for a in node.names:  # `from peftlint.model import inventory` imports a module
                    deps.add(f"{base}.{a.name}" if f"{base}.{a.name}" in names else base)
        graph[name] = {d for d in deps if d in names and d != name}
    return graph


def tier(module: str) -> int:
    best = max((p for p, _ in TIERS if module == p or module.startswith(p + ".")), key=len)
    return dict(TIERS)[best]


def test_no_module_imports_a_higher_layer() -> None:
    upward = [
        f"{m} (tier {tier(m)}) imports {d} (tier {tier(d)})"
        for m, deps in sorted(_modules().items())
        for d in sorted(deps)
        if tier(d) > tier(m)
    ]
    assert upward == []


def test_no_import_cycles() -> None:
    graph = _modules()
    # a package's __init__ importing its own children is not a cycle through the package
    cycles: list[list[str]] = []
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(m: str) -> None:
        state[m] = 1
        stack.append(m)
        for d in sorted(graph[m]):
            if m.startswith(d + "."):
                continue  # a module importing from its own package's __init__
            if state.get(d) == 1:
                cycles.append(stack[stack.index(d):] + [d])
            elif d not in state:
                visit(d)
        stack.pop()
        state[m] = 2

    for m in sorted(graph):
        if m not in state:
            visit(m)
    assert cycles == []


def test_the_check_sees_imports() -> None:
    """Guard against a graph that is empty by mistake."""
    graph = _modules()
    assert "peftlint.rules.context" in graph["peftlint.engine.run"]
    assert "peftlint.semantics.matching" in graph["peftlint.rules.context"]
    assert tier("peftlint.fix.edits") == 1 and tier("peftlint.fix.apply") == 4
