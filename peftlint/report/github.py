"""``--format github``: GitHub Actions workflow commands, one annotation per finding.

``::error file=train.py,line=3,col=5,endLine=3,endColumn=12,title=peftlint (PFT101)::message``
(``file`` relative to the git work tree, which is the Actions workspace);
severity error → ``::error``, warning → ``::warning``, info → ``::notice``. Escaping follows the
Actions toolkit (``command.ts``): data ``%``→``%25``, ``\\r``→``%0D``, ``\\n``→``%0A``; property
values additionally ``:``→``%3A`` and ``,``→``%2C``.
"""

from __future__ import annotations

from pathlib import Path

from peftlint.diagnostics import Diagnostic
from peftlint.engine.results import RunResult
from peftlint.report.sarif import repo_root

_COMMAND = {"error": "error", "warning": "warning", "info": "notice"}


def escape_data(s: str) -> str:
    return s.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(s: str) -> str:
    return escape_data(s).replace(":", "%3A").replace(",", "%2C")


def workspace_path(path: str, cwd: Path, root: Path) -> str:
    """Annotations are matched against files relative to the repository (the Actions workspace)."""
    try:
        return (cwd / path).resolve().relative_to(root).as_posix()
    except ValueError:
        return path


def annotation(d: Diagnostic, path: str | None = None) -> str:
    s = d.span
    props = {
        "file": path if path is not None else d.path,
        "line": str(s.line),
        "col": str(s.column),
        "endLine": str(max(s.end_line, s.line)),
        "endColumn": str(s.end_column),
        "title": f"peftlint ({d.code})",
    }
    joined = ",".join(f"{k}={escape_property(v)}" for k, v in props.items())
    return f"::{_COMMAND[d.severity.value]} {joined}::{escape_data(d.text())}"


def render(result: RunResult, options: dict) -> str:
    cwd = Path.cwd()
    root = repo_root(cwd)
    return "".join(annotation(d, workspace_path(d.path, cwd, root)) + "\n" for d in result.diagnostics)
