"""The rule registry: lookups by code and name, and families that declare the sources they see."""

from __future__ import annotations

import importlib
from pathlib import Path

import pytest
from support.lintutil import lint, write_example

from peftlint import rules
from peftlint.rules import FAMILIES, all_rules, rule_by_code, rules_for


def test_lookup_by_code_and_name() -> None:
    assert rule_by_code("pft101") is rule_by_code("PFT101") is next(r for r in all_rules() if r.code == "PFT101")
    assert rule_by_code("unmatched-target") is rule_by_code("PFT101")
    assert rule_by_code("PFT000") is None and rule_by_code("no-such-rule") is None


def test_a_family_with_sources_is_left_out_elsewhere() -> None:
    weights = {r.code for r in all_rules() if r.__module__.startswith("peftlint.rules.weights.")}
    assert weights and all(c.startswith("PFT4") for c in weights)
    assert set(rules_for("adapter_config")) == set(all_rules())
    assert {r.code for r in rules_for("python")} == {r.code for r in all_rules()} - weights
    assert [f for f in FAMILIES if getattr(importlib.import_module(f"peftlint.rules.{f}"), "SOURCES", None)] == [
        "weights"]


EXAMPLES = [(r.code, i, ex) for r in all_rules() for i, ex in enumerate(r.bad) if ex.kind != "json"]


@pytest.mark.parametrize(("code", "i", "example"), EXAMPLES, ids=[f"{c}-{i}" for c, i, _ in EXAMPLES])
def test_leaving_a_family_out_changes_no_finding(code: str, i: int, example, tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    """Every bad example that is not a saved adapter gives the same findings when every rule runs on it."""
    write_example(tmp_path, example)
    found = lint(tmp_path, "--no-result-cache", *example.args, ".")
    monkeypatch.setattr(rules, "rules_for", lambda source: all_rules())
    assert lint(tmp_path, "--no-result-cache", *example.args, ".") == found
