"""mypy over the package, as configured in pyproject.toml ([tool.mypy]): no errors, and no module of
the package excused from the check (``ignore_errors``; docs/architecture.md). The first run
takes about 20 s on two cores; later runs reuse ``.mypy_cache``.
"""

from __future__ import annotations

import ast
import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_mypy_finds_no_errors() -> None:
    got = subprocess.run([sys.executable, "-m", "mypy"], cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert got.returncode == 0, got.stdout + got.stderr
    assert "Success: no issues found" in got.stdout


def test_no_module_of_the_package_is_excused() -> None:
    if sys.version_info >= (3, 11):
        import tomllib
    else:
        import tomli as tomllib
    mypy = tomllib.loads((Path(__file__).resolve().parents[1] / "pyproject.toml").read_text())["tool"]["mypy"]
    excused = [o["module"] for o in mypy.get("overrides", []) if o.get("ignore_errors")]
    assert not [m for m in excused for m in ([m] if isinstance(m, str) else m) if m.startswith("peftlint")], excused


def test_mypy_would_report_an_error_in_a_checked_module(tmp_path: Path) -> None:
    """Guard against a configuration that checks nothing: the same settings flag a wrong type."""
    bad = tmp_path / "bad.py"
    bad.write_text("from peftlint.codes import Code\n\nx: Code = 'PFT101'\n")
    got = subprocess.run([sys.executable, "-m", "mypy", "--config-file", str(ROOT / "pyproject.toml"), str(bad)],
                         cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert got.returncode == 1 and 'Incompatible types in assignment (expression has type "str"' in got.stdout


# Packages whose signatures and class fields must name real types (issue 20): JSON documents are
# dict[str, object], user values object, and payloads dataclasses.
TYPED_PACKAGES = ("engine", "rules", "report")


def _names_any(annotation: ast.expr | None) -> bool:
    if annotation is None:
        return False
    for node in ast.walk(annotation):
        if isinstance(node, ast.Constant) and isinstance(node.value, str):  # a quoted annotation
            try:
                if _names_any(ast.parse(node.value, mode="eval").body):
                    return True
            except SyntaxError:
                continue
        if isinstance(node, ast.Name) and node.id == "Any" or isinstance(node, ast.Attribute) and node.attr == "Any":
            return True
    return False


def any_in_signatures(source: str, filename: str) -> list[str]:
    """``file:line: name`` of every function argument or return, and every class-level field, annotated
    with ``Any`` (also inside ``dict[str, Any]``, ``"Any | None"``)."""
    found = []
    for node in ast.walk(ast.parse(source, filename)):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            a = node.args
            args = [*a.posonlyargs, *a.args, *a.kwonlyargs, *(x for x in (a.vararg, a.kwarg) if x is not None)]
            if _names_any(node.returns) or any(_names_any(arg.annotation) for arg in args):
                found.append(f"{filename}:{node.lineno}: {node.name}()")
        elif isinstance(node, ast.ClassDef):
            for stmt in node.body:
                if isinstance(stmt, ast.AnnAssign) and _names_any(stmt.annotation):
                    found.append(f"{filename}:{stmt.lineno}: {node.name}.{ast.unparse(stmt.target)}")
    return found


def test_no_any_in_engine_rules_and_report_signatures() -> None:
    found = []
    for package in TYPED_PACKAGES:
        for path in sorted((ROOT / "peftlint" / package).rglob("*.py")):
            found += any_in_signatures(path.read_text(encoding="utf-8"), str(path.relative_to(ROOT)))
    assert found == []


def test_the_any_check_sees_any_where_it_hides() -> None:
    source = textwrap.dedent('''
        import typing
        from typing import Any

        def ok(x: int, *rest: str) -> dict[str, object]: ...
        def ret() -> dict[str, Any]: ...
        def arg(x: "Any | None") -> None: ...
        async def star(**kw: typing.Any) -> None: ...

        class Payload:
            fine: list[str]
            data: list[Any]
    ''')
    assert [f.split(": ", 1)[1] for f in any_in_signatures(source, "x.py")] == [
        "ret()", "arg()", "star()", "Payload.data"]


def test_ruff_finds_nothing() -> None:
    """The lint rules the project chose in pyproject ([tool.ruff]: pyflakes and import order) hold over
    the package, the tests, the scripts and the benchmarks."""
    import shutil

    root = Path(__file__).resolve().parents[1]
    ruff = shutil.which("ruff") or str(Path(sys.executable).parent / "ruff")
    out = subprocess.run([ruff, "check", "--no-cache", "peftlint", "tests", "scripts", "benchmarks"], cwd=root,
                         capture_output=True, text=True)
    assert out.returncode == 0, out.stdout[-3000:]
