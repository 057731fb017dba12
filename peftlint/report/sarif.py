"""``--format sarif``: SARIF 2.1.0 as GitHub code scanning accepts it.

One run, one tool (``peftlint``) whose ``rules`` are every rule peftlint knows (ids are the stable
codes, so alerts keep their identity across runs); one result per finding, with the level, the
message, a repository-relative artifact URI and a region (columns 1-based, ``endColumn`` just after
the region, as peftlint's spans already are). Safe and unsafe fixes become SARIF ``fixes``.
"""

from __future__ import annotations

import json
import textwrap
from pathlib import Path
from urllib.parse import quote

from peftlint import __version__
from peftlint.diagnostics import Diagnostic, Edit, Span
from peftlint.engine.results import RunResult
from peftlint.report.printable import printable
from peftlint.rules import Rule, all_rules
from peftlint.rules.docs import explain

SCHEMA_URI = "https://json.schemastore.org/sarif-2.1.0.json"
INFORMATION_URI = "https://pypi.org/project/peftlint/"
SRCROOT = "%SRCROOT%"

_LEVEL = {"error": "error", "warning": "warning", "info": "note"}
_PROBLEM_SEVERITY = {"error": "error", "warning": "warning", "info": "recommendation"}


def render(result: RunResult, options: dict) -> str:
    return json.dumps(sarif_log(result, Path.cwd()), indent=2) + "\n"


def sarif_log(result: RunResult, cwd: Path) -> dict[str, object]:
    rules = sorted(all_rules(), key=lambda r: r.code)
    index = {r.code: i for i, r in enumerate(rules)}
    root = repo_root(cwd)
    run: dict[str, object] = {
        "tool": {"driver": {
            "name": "peftlint",
            "version": __version__,
            "semanticVersion": __version__,
            "informationUri": INFORMATION_URI,
            "rules": [_rule(r) for r in rules],
        }},
        "originalUriBaseIds": {SRCROOT: {"uri": root.as_uri() + "/"}},
        "results": [_result(d, index, cwd, root) for d in result.diagnostics],
        "columnKind": "unicodeCodePoints",
    }
    return {"$schema": SCHEMA_URI, "version": "2.1.0", "runs": [run]}


def repo_root(cwd: Path) -> Path:
    """The git work tree containing ``cwd`` (paths in SARIF are relative to it), else ``cwd``."""
    cwd = cwd.resolve()
    for d in (cwd, *cwd.parents):
        if (d / ".git").exists():
            return d
    return cwd


def _rule(r: type[Rule]) -> dict[str, object]:
    docs = textwrap.dedent(r.docs).strip()
    full = docs.split("\n\n")[0].replace("\n", " ") if docs else r.summary
    sev = r.severity.value
    return {
        "id": r.code,
        "name": r.name,
        "shortDescription": {"text": _cap(r.summary.strip())},
        "fullDescription": {"text": _cap(full)},
        "help": {"text": explain(r), "markdown": explain(r)},
        "defaultConfiguration": {"level": _LEVEL[sev]},
        "properties": {"tags": ["peft", r.name], "precision": "very-high",
                       "problem.severity": _PROBLEM_SEVERITY[sev]},
    }


def _cap(text: str, limit: int = 1024) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _result(d: Diagnostic, index: dict[str, int], cwd: Path, root: Path) -> dict[str, object]:
    res: dict[str, object] = {
        "ruleId": d.code,
        "level": _LEVEL[d.severity.value],
        "message": {"text": printable(d.text())},
        "locations": [{"physicalLocation": {"artifactLocation": artifact(d.path, cwd, root),
                                            "region": region(d.span)}}],
    }
    if d.code in index:
        res["ruleIndex"] = index[d.code]
    props: dict[str, object] = {}
    if d.subject is not None:
        props["subject"] = d.subject
    if d.model is not None:
        props["model"] = d.model
    if d.model_source is not None:
        props["model_source"] = d.model_source
    if d.detail:
        props["detail"] = d.detail
    if props:
        res["properties"] = props
    if d.fix is not None and d.fix.edits:
        res["fixes"] = [_fix(d, cwd, root)]
    return res


def artifact(path: str, cwd: Path, root: Path) -> dict[str, object]:
    """A repository-relative URI (with ``uriBaseId``) when the file is inside the work tree."""
    p = (cwd / path).resolve()
    try:
        rel = p.relative_to(root).as_posix()
    except ValueError:
        return {"uri": p.as_uri()}
    # a file name that is not UTF-8 (its bytes kept as surrogate escapes) is percent-encoded byte by byte
    return {"uri": quote(rel.encode("utf-8", "surrogateescape"), safe="/"), "uriBaseId": SRCROOT}


def region(span: Span) -> dict[str, int]:
    end_col = span.end_column
    if span.end_line == span.line and end_col <= span.column:
        end_col = span.column + 1  # a point finding still highlights one character
    return {"startLine": span.line, "startColumn": span.column, "endLine": max(span.end_line, span.line),
            "endColumn": max(end_col, 1)}


def _fix(d: Diagnostic, cwd: Path, root: Path) -> dict[str, object]:
    fix = d.fix
    assert fix is not None  # called for findings with a fix only
    by_path: dict[str, list[Edit]] = {}
    for e in fix.edits:
        by_path.setdefault(e.path, []).append(e)
    changes = []
    for path, edits in by_path.items():
        changes.append({
            "artifactLocation": artifact(path, cwd, root),
            "replacements": [{"deletedRegion": {"startLine": e.span.line, "startColumn": e.span.column,
                                                "endLine": e.span.end_line, "endColumn": e.span.end_column},
                              "insertedContent": {"text": e.content}} for e in edits],
        })
    desc = fix.description or f"{fix.applicability} fix for {d.code}"
    return {"description": {"text": desc}, "artifactChanges": changes}
