"""What the engine says about a finding (the trainer's name of a field, the candidate model it holds
for, the ``pytest.raises`` it is expected under) is kept in ``Diagnostic.notes``, apart from the
rule's ``message``: every format prints the two joined as before, the rule's own text stays
findable in its file, and the result cache gives back both."""

from __future__ import annotations

import json
from pathlib import Path

from support.lintutil import run_cli

from peftlint.config import Settings
from peftlint.diagnostics import Diagnostic, Severity, Span
from peftlint.engine.run import Linter

AXOLOTL = ("base_model: HuggingFaceTB/SmolLM2-135M\nadapter: lora\nlora_target_modules:\n  - q_proj\n"
           "lora_modules_to_save:\n  - embed_token\n")
PARAMETRIZED = '''\
import pytest
from transformers import AutoModelForCausalLM
from peft import LoraConfig, get_peft_model

@pytest.mark.parametrize("model_id", ["facebook/opt-350m", "gpt2"])
def test_lora(model_id):
    model = AutoModelForCausalLM.from_pretrained(model_id)
    config = LoraConfig(target_modules=["q_proj", "v_proj"], r=8)
    get_peft_model(model, config)
'''
RULES = Path(__file__).resolve().parents[2] / "peftlint" / "rules"


def rule_source(code: str) -> str:
    [path] = RULES.glob(f"*/{code.lower()}_*.py")
    return path.read_text(encoding="utf-8")


def test_the_trainer_key_is_a_note(tmp_path: Path) -> None:
    (tmp_path / "axolotl.yml").write_text(AXOLOTL, encoding="utf-8")
    [d] = Linter(Settings(), tmp_path).lint_paths([tmp_path]).diagnostics
    assert d.code == "PFT306"
    assert d.notes == ("(`modules_to_save` is `lora_modules_to_save` in this axolotl config)",)
    assert "lora_modules_to_save" not in d.message and d.text() == f"{d.message} {d.notes[0]}"
    assert d.message.split("`")[0] in rule_source("PFT306")  # the rule's own words, not the engine's


def test_the_candidate_model_is_a_note(tmp_path: Path) -> None:
    (tmp_path / "test_models.py").write_text(PARAMETRIZED, encoding="utf-8")
    found = [d for d in Linter(Settings(), tmp_path).lint_paths([tmp_path]).diagnostics if d.code == "PFT101"]
    assert {d.model for d in found} == {"gpt2"}
    for d in found:
        assert d.notes == ("(with gpt2; the config is also checked against facebook/opt-350m)",)
        assert "(with" not in d.message


def test_the_cache_gives_back_notes_and_every_format_prints_them(tmp_path: Path) -> None:
    cache, tmp_path = tmp_path / "cache", tmp_path / "project"
    tmp_path.mkdir()
    (tmp_path / "axolotl.yml").write_text(AXOLOTL, encoding="utf-8")
    (tmp_path / "test_models.py").write_text(PARAMETRIZED, encoding="utf-8")
    outs = []
    for _ in range(2):  # linted, then from the result cache
        outs.append({fmt: run_cli(["check", "--output-format", fmt, "--cache-dir", str(cache), "-j", "1", "."],
                                  tmp_path)[1] for fmt in ("json", "concise", "github", "sarif")})
    assert outs[0] == outs[1]
    messages = [d["message"] for d in json.loads(outs[0]["json"])]
    assert any(m.endswith("in this axolotl config)") for m in messages)
    assert any(m.endswith("also checked against facebook/opt-350m)") for m in messages)
    for fmt in ("concise", "github", "sarif"):
        assert "in this axolotl config)" in outs[0][fmt] and "also checked against facebook/opt-350m)" in outs[0][fmt]
    stored = [d for f in cache.glob("result-*.json") for d in json.loads(f.read_text())["payload"]["diagnostics"]]
    assert any(d["notes"] and not d["message"].endswith(")") for d in stored)


def test_a_notebook_finding_round_trips() -> None:
    d = Diagnostic("PFT101", "unknown-target", Severity.ERROR, "`vproj` matches no module", "nb.ipynb",
                   Span(30, 5, 30, 12), notes=("(with gpt2; the config is also checked against t5-small)",),
                   cell=(3, 2, 8))
    assert d.text() == ("`vproj` matches no module (with gpt2; the config is also checked against t5-small) "
                        "(cell 3, line 2)")
    assert d.text(cell=False) == "`vproj` matches no module (with gpt2; the config is also checked against t5-small)"
    assert d.to_json()["message"] == d.text() and "notes" not in d.to_json()
    again = Diagnostic.from_json(d.to_json(cache=True))
    assert again == d and again.notes == d.notes and again.cell == d.cell
