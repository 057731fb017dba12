"""The one table of codes (peftlint/codes.py) and the rules agree: one entry per rule, same code,
same name; readers and the engine emit codes only through the table."""

from __future__ import annotations

import re
from pathlib import Path

from peftlint.codes import Code
from peftlint.rules import all_rules
from peftlint.sources import Problem

PACKAGE = Path(__file__).resolve().parents[2] / "peftlint"


def test_every_rule_is_in_the_table_under_its_own_name() -> None:
    rules = {r.code: r.name for r in all_rules()}
    table = {c.value: c.rule_name for c in Code}
    missing = {code: name for code, name in rules.items() if table.get(code) != name}
    assert missing == {}, "add `NAME = \"PFTnnn\"` for each to peftlint/codes.py"
    assert sorted(set(table) - set(rules)) == []  # no code without its rule (and docs)


def test_every_rule_file_is_named_by_the_table() -> None:
    """The registry finds rule files through the table, so a rule file outside it would never run."""
    from peftlint.rules import FAMILIES, rule_module

    files = {(p.parent.name, p.stem) for family in FAMILIES for p in (PACKAGE / "rules" / family).glob("pft*.py")}
    assert files == {rule_module(c) for c in Code}


def test_a_rule_code_is_the_table_entry() -> None:
    for rule in all_rules():
        assert Code(rule.code) is Code[rule.name.upper().replace("-", "_")]


def test_codes_behave_as_their_text() -> None:
    """What the JSON output and `--select` see is the plain code."""
    import json

    p = Problem(Code.INVALID_ADAPTER_CONFIG, "x")
    assert p.code == "PFT401" and f"{p.code}" == "PFT401" and str(p.code) == "PFT401"
    assert json.dumps({"code": p.code}) == '{"code": "PFT401"}'


def test_no_code_literal_outside_the_rules() -> None:
    """Readers and the engine name codes through the table, so a grep for the rule finds them."""
    found = []
    for path in PACKAGE.rglob("*.py"):
        if path.parts[len(PACKAGE.parts)] == "rules" or path.name == "codes.py":
            continue
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if re.search(r"""["']PFT\d{3}["']""", line) and not line.lstrip().startswith("#"):
                found.append(f"{path.relative_to(PACKAGE)}:{n}")
    assert found == []
