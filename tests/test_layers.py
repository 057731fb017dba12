"""The package's layers: imports point one way, and there is no import cycle.

The layers are the import-linter ``layers`` contract in pyproject.toml ([tool.importlinter]),
described in docs/architecture.md: cli -> report | fix.apply -> engine -> rules -> semantics ->
model -> sources -> config -> store -> the base (fix.edits, reading, typedjson, spec, textpos,
diagnostics). Every import counts, also those inside functions and under TYPE_CHECKING: a lazy
import is still a dependency. ``lint-imports`` (what these tests run) prints which import breaks it.
"""

from __future__ import annotations

import ast
import copy
import functools
import sys
from pathlib import Path

import grimp
import pytest
from importlinter.api import read_configuration
from importlinter.cli import lint_imports
from importlinter.contracts.layers import LayersContract

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "peftlint"


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


@functools.lru_cache(maxsize=1)
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


def test_lint_imports_keeps_the_layers_contract(monkeypatch: pytest.MonkeyPatch) -> None:
    """What CI's ``lint-imports`` says: 0 when no module imports one of a higher layer."""
    monkeypatch.chdir(ROOT)
    monkeypatch.setattr(sys, "path", list(sys.path))  # lint_imports prepends the cwd
    assert lint_imports(config_filename=str(ROOT / "pyproject.toml"), no_cache=True, no_logo=True) == 0


@pytest.fixture(scope="module")
def contract() -> LayersContract:
    config = read_configuration(str(ROOT / "pyproject.toml"))
    (options,) = [c for c in config["contracts_options"] if c["type"] == "layers"]
    return LayersContract(name=options["name"], session_options=config["session_options"], contract_options=options)


@pytest.fixture(scope="module")
def package_graph() -> grimp.ImportGraph:
    return grimp.build_graph("peftlint", cache_dir=None)


@pytest.mark.parametrize("importer, imported, kept", [
    ("peftlint.spec", "peftlint.engine.run", False),  # the base reaching up to the engine
    ("peftlint.sources.adapter_json", "peftlint.model.classes", False),  # a reader importing the model layer
    ("peftlint.report.text", "peftlint.fix.apply", False),  # two independent siblings
    ("peftlint.semantics.matching", "peftlint.fix.edits", True),  # downward: allowed
])
def test_the_contract_catches_an_upward_import(contract: LayersContract, package_graph: grimp.ImportGraph,
                                               importer: str, imported: str, kept: bool) -> None:
    """Guard against a contract that passes by mistake (a layer missing, an ignore too wide)."""
    assert contract.check(copy.deepcopy(package_graph), verbose=False).kept  # checking edits the graph
    graph = copy.deepcopy(package_graph)
    graph.add_import(importer=importer, imported=imported, line_number=1, line_contents="import")
    assert contract.check(graph, verbose=False).kept is kept


def test_every_module_is_in_a_layer() -> None:
    """A new top-level module or package must be given its place in the contract."""
    config = read_configuration(str(ROOT / "pyproject.toml"))
    (options,) = [c for c in config["contracts_options"] if c["type"] == "layers"]
    layered = {name.strip() for line in options["layers"] for name in line.split("|")}
    # a package (peftlint, peftlint.fix) whose modules sit in different layers is covered through them
    covered = [m for m in _modules() if any(m == n or m.startswith(n + ".") or n.startswith(m + ".") for n in layered)]
    assert sorted(set(_modules()) - set(covered)) == []


def test_no_import_is_excused() -> None:
    """The contract lists no ``ignore_imports``: an upward import is fixed by moving code, not by
    excusing it (the last excuses went with the moves in docs/architecture.md)."""
    if sys.version_info >= (3, 11):
        import tomllib
    else:
        import tomli as tomllib
    contracts = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]["contracts"]
    assert contracts and all(not c.get("ignore_imports") for c in contracts)
