"""docs/rules.md and the README's rule table come from the rule classes (scripts/gen_rules_doc.py),
and `peftlint rule` shows the same docs."""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path

from support.lintutil import run_cli

from peftlint.rules import all_rules
from peftlint.rules.docs import END, START

ROOT = Path(__file__).resolve().parents[2]


def _generator():
    spec = importlib.util.spec_from_file_location("gen_rules_doc", ROOT / "scripts" / "gen_rules_doc.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_generated_docs_are_up_to_date() -> None:
    for path, text in _generator().expected(ROOT).items():
        assert path.read_text(encoding="utf-8") == text, f"{path} is stale: run `python scripts/gen_rules_doc.py`"


def test_every_rule_has_a_section_and_table_rows() -> None:
    doc = (ROOT / "docs" / "rules.md").read_text(encoding="utf-8")
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    block = readme[readme.index(START):readme.index(END)]
    for r in all_rules():
        assert f'<a id="{r.code.lower()}"></a>' in doc, r.code
        assert f"| [{r.code}](#{r.code.lower()}) | {r.name} |" in doc, r.code
        assert f"| [{r.code}](docs/rules.md#{r.code.lower()}) | {r.name} |" in block, r.code
    assert len(re.findall(r'<a id="pft\d+"></a>', doc)) == len(all_rules())


def test_readme_is_short() -> None:
    """The README is the PyPI page: set-up, usage and the rule table; the reference lives in docs/."""
    assert len((ROOT / "README.md").read_bytes()) < 20_000


def test_rule_command_prints_docs_and_examples(tmp_path: Path) -> None:
    code, out = run_cli(["rule", "PFT202"], tmp_path)
    assert code == 0
    assert out.startswith("PFT202 shorthand-in-list (error)\n")
    assert "Bad #1 (train.py):\n" in out and "Bad #2 (train.py):\n" in out and "Good (train.py):\n" in out
    assert '    config = LoraConfig(target_modules=["all-linear"])' in out
    assert '    config = LoraConfig(target_modules="all-linear")' in out
    code, out = run_cli(["rule", "shorthand-in-list"], tmp_path)
    assert code == 0 and out.startswith("PFT202")
    code, _ = run_cli(["rule", "PFT000"], tmp_path)
    assert code == 2
