"""Run peftlint the way a user does (the click CLI, in process) and read its JSON findings."""

from __future__ import annotations

import json
import os
from pathlib import Path

from click.testing import CliRunner

from peftlint.cli import main
from peftlint.rules.base import Example

FILENAMES = {"python": "train.py", "json": "adapter_config.json", "yaml": "train.yaml", "notebook": "train.ipynb"}


def run_cli(args: list[str], cwd: Path) -> tuple[int, str]:
    old = os.getcwd()
    os.chdir(cwd)
    try:
        res = CliRunner().invoke(main, args, catch_exceptions=False)
    finally:
        os.chdir(old)
    return res.exit_code, res.output


def lint(cwd: Path, *args: str) -> list[dict]:
    code, out = run_cli(["check", "--format", "json", *args], cwd)
    assert code in (0, 1), out
    return json.loads(out)


def write_example(tmp: Path, ex: Example) -> Path:
    target = tmp / FILENAMES[ex.kind]
    target.write_text(ex.code, encoding="utf-8")
    for name, content in ex.files:
        p = tmp / name
        p.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            p.write_bytes(content)
        else:
            p.write_text(content, encoding="utf-8")
    return target


def lint_example(tmp: Path, ex: Example) -> list[dict]:
    write_example(tmp, ex)
    return lint(tmp, *ex.args, ".")


def said(finding: dict) -> str:
    """What a JSON finding says: its one-line message and its longer explanation (``detail``,
    where peft's own words are quoted)."""
    return f"{finding['message']}\n{finding.get('detail') or ''}"
