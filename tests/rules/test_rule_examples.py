"""Every rule's documented examples are linted as real files (Fixit style): a bad example produces
exactly the findings it pins (line, column, a part of the message, and the fixed text of a fixable
one), a good example produces none of the rule's findings."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pytest
from support.lintutil import FILENAMES, lint_example, run_cli, write_example

from peftlint.rules import all_rules
from peftlint.rules.base import Example, Rule

CASES = [(r, "bad", i) for r in all_rules() for i in range(len(r.bad))] + [
    (r, "good", i) for r in all_rules() for i in range(len(r.good))
]


def _fixed_text(tmp: Path, ex: Example, unsafe: bool) -> str:
    work = tmp / "fix"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir()
    target = write_example(work, ex)
    run_cli(["check", "--fix", *(["--unsafe-fixes"] if unsafe else []), *ex.args, "."], work)
    return target.read_text(encoding="utf-8")


@pytest.mark.parametrize("rule,which,i", CASES, ids=[f"{r.code}-{w}{i}" for r, w, i in CASES])
def test_example(rule: type[Rule], which: str, i: int, tmp_path: Path) -> None:
    ex = getattr(rule, which)[i]
    if rule.code == "PFT908" and sys.version_info >= (3, 14):
        pytest.skip("the example's template string is valid syntax on this Python")
    found = lint_example(tmp_path, ex)
    mine = sorted((d for d in found if d["code"] == rule.code), key=lambda d: (d["line"], d["column"]))
    if which == "good":
        assert mine == [], f"{rule.code} fired on its good example"
        return
    assert mine, f"{rule.code} did not fire on its bad example; got {sorted({d['code'] for d in found})}"
    if not ex.expect:
        return  # the pins are checked to exist by test_bad_examples_pin_their_findings
    got = [(d["line"], d["column"]) for d in mine]
    assert got == [(e.line, e.column) for e in ex.expect], f"{rule.code}: findings at {got}"
    for d, e in zip(mine, ex.expect):
        assert e.message in d["message"], f"{rule.code}: {d['message']!r} does not contain {e.message!r}"
        if e.detail is not None:
            assert e.detail in (d["detail"] or ""), f"{rule.code}: {d['detail']!r} does not contain {e.detail!r}"
        if e.fixed is not None:
            assert d["fix"] is not None, f"{rule.code}: the finding at {e.line}:{e.column} offers no fix"
            unsafe = d["fix"]["applicability"] == "unsafe"
            assert _fixed_text(tmp_path, ex, unsafe) == e.fixed


def test_codes_are_unique_and_documented() -> None:
    codes = [r.code for r in all_rules()]
    assert len(codes) == len(set(codes))
    for r in all_rules():
        assert r.summary and r.name and r.severity
        if r.code != "PFT999":
            assert r.bad and r.good, f"{r.code} needs a bad and a good example"
        for ex in (*r.bad, *r.good):
            assert ex.kind in FILENAMES, f"{r.code}: unknown example kind {ex.kind!r}"


def test_bad_examples_pin_their_findings() -> None:
    unpinned = [f"{r.code} bad #{i}" for r in all_rules() for i, ex in enumerate(r.bad) if not ex.expect]
    assert unpinned == []
