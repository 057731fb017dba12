"""One config applied to several models (pytest parameters, test subclasses): checked against each."""

from __future__ import annotations

import textwrap
from pathlib import Path

from support.lintutil import lint, run_cli

HEADER = """\
import unittest
import pytest
from transformers import AutoModelForCausalLM
from peft import LoraConfig, get_peft_model
"""


def write(tmp: Path, body: str, name: str = "test_models.py") -> Path:
    p = tmp / name
    p.write_text(HEADER + textwrap.dedent(body), encoding="utf-8")
    return p


def test_model_id_of_the_enclosing_test_class_is_used_end_to_end(tmp_path: Path) -> None:
    """An unrelated class's ``causal_lm_model_id = "gpt2"`` must not be taken for the model."""
    path = write(tmp_path, """
        class Other:
            causal_lm_model_id = "gpt2"

        class PeftBnbGPUExampleTests(unittest.TestCase):
            def setUp(self):
                self.causal_lm_model_id = "facebook/opt-6.7b"

            def test_causal_lm_training(self):
                model = AutoModelForCausalLM.from_pretrained(self.causal_lm_model_id)
                config = LoraConfig(r=16, lora_alpha=32, target_modules=["q_proj", "v_proj"])
                model = get_peft_model(model, config)
        """)
    before = path.read_text()
    assert lint(tmp_path, ".") == []
    code, out = run_cli(["check", "--fix", "--unsafe-fixes", "."], tmp_path)
    assert code == 0, out
    assert path.read_text() == before


PARAMETRIZED = """
    @pytest.mark.parametrize("model_id", ["facebook/opt-350m", "gpt2"])
    def test_lora(model_id):
        model = AutoModelForCausalLM.from_pretrained(model_id)
        config = LoraConfig(target_modules=["q_proj", "vproj", "q_proj"], r=8)
        get_peft_model(model, config)
    """


def test_findings_that_differ_are_reported_per_model_and_say_so(tmp_path: Path) -> None:
    write(tmp_path, PARAMETRIZED)
    found = lint(tmp_path, ".")
    by_model = {(d["code"], d["subject"], d["model"]) for d in found}
    assert ("PFT101", "q_proj", "gpt2") in by_model
    assert ("PFT101", "q_proj", "facebook/opt-350m") not in by_model  # opt has q_proj
    assert {("PFT101", "vproj", "gpt2"), ("PFT101", "vproj", "facebook/opt-350m")} <= by_model
    per_model = [d for d in found if d["code"] == "PFT101"]
    for d in per_model:
        other = "gpt2" if d["model"] == "facebook/opt-350m" else "facebook/opt-350m"
        assert d["message"].endswith(f"(with {d['model']}; the config is also checked against {other})"), d
        assert d["fix"] is None  # an edit right for one model may be wrong for the other


def test_findings_shared_by_every_model_are_reported_once(tmp_path: Path) -> None:
    write(tmp_path, PARAMETRIZED)
    dupes = [d for d in lint(tmp_path, ".") if d["code"] == "PFT204"]
    assert len(dupes) == 1
    (d,) = dupes
    assert "checked against" not in d["message"] and d["fix"] is not None
    assert d["model"] == "facebook/opt-350m"


def test_a_clean_config_for_every_model_passes(tmp_path: Path) -> None:
    write(tmp_path, """
        class Base(unittest.TestCase):
            def setUp(self):
                self.model = AutoModelForCausalLM.from_pretrained(self.model_id)

            def test_lora(self):
                get_peft_model(self.model, LoraConfig(target_modules=self.targets))

        class TestOpt(Base):
            model_id = "facebook/opt-350m"
            targets = ["q_proj", "v_proj"]

        class TestLlama(Base):
            model_id = "meta-llama/Llama-3.2-1B"
            targets = ["q_proj", "v_proj"]
        """)
    code, out = run_cli(["check", "."], tmp_path)
    assert code == 0, out
    assert "1 config, 1 checked (100 %)" in out


def test_models_that_cannot_be_resolved_give_one_note(tmp_path: Path) -> None:
    write(tmp_path, """
        @pytest.mark.parametrize("model_id", ["gpt2", "acme/not-a-model", "acme/another"])
        def test_lora(model_id):
            get_peft_model(AutoModelForCausalLM.from_pretrained(model_id), LoraConfig(target_modules=["q_proj"]))
        """)
    found = lint(tmp_path, ".")
    notes = [d for d in found if d["code"] == "PFT901"]
    assert len(notes) == 1
    msg = notes[0]["message"]
    assert msg == "base model not resolved for 2 of the 3 models this LoraConfig is applied to; it was checked against gpt2 only"
    assert "'acme/not-a-model'" in notes[0]["detail"] and "'acme/another'" in notes[0]["detail"]
    # gpt2 is still checked, and its finding is not marked per model: it is the only model built
    assert [(d["code"], d["model"]) for d in found if d["code"] == "PFT101"] == [("PFT101", "gpt2")]


def test_no_candidate_resolved_is_one_note_and_model_free_checks_still_run(tmp_path: Path) -> None:
    write(tmp_path, """
        @pytest.mark.parametrize("model_id", ["acme/one", "acme/two"])
        def test_lora(model_id, r):
            get_peft_model(AutoModelForCausalLM.from_pretrained(model_id), LoraConfig(r=r))
        """)
    found = lint(tmp_path, ".")
    notes = [d for d in found if d["code"] == "PFT901"]
    assert len(notes) == 1
    assert notes[0]["message"].startswith("base model not resolved for any of the 2 models this config is applied to")
    assert "'acme/one'" in notes[0]["detail"] and "'acme/two'" in notes[0]["detail"]
    assert any(d["code"] == "PFT904" for d in found)
    code, out = run_cli(["check", "."], tmp_path)
    assert "1 config, 0 checked (0 %)" in out


def test_model_option_overrides_the_candidates(tmp_path: Path) -> None:
    write(tmp_path, PARAMETRIZED)
    found = lint(tmp_path, "--model", "facebook/opt-350m", ".")
    assert {d["model"] for d in found} == {"facebook/opt-350m"}
    assert not any("checked against" in d["message"] for d in found)
