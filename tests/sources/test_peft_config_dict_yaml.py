"""A YAML ``peft_config: {peft_type: ..., ...}`` mapping (GLM-4 / ChatGLM / CogVLM finetune demos) is the
dict peft's ``get_peft_config`` turns into ``PEFT_TYPE_TO_CONFIG_MAPPING[peft_type](**config_dict)``: read
as that config class with every key an argument, checked like a ``LoraConfig(...)`` call. Differential
against peft itself: the class and arguments peftlint reads are the ones peft builds, and a key peft
rejects with TypeError is reported."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from support.lintutil import lint

from peftlint.codes import Code
from peftlint.sources.trainer_yaml import extract_trainer_yaml

MODEL = "HuggingFaceTB/SmolLM2-135M"
PEFT_TYPES = {"LORA": "LoraConfig", "LOHA": "LoHaConfig", "IA3": "IA3Config", "ADALORA": "AdaLoraConfig"}

GLM4 = """data_config:
  train_file: train.jsonl
training_args:
  output_dir: ./output
  learning_rate: 5e-4

peft_config:
  peft_type: {ptype}
  task_type: CAUSAL_LM
{body}
"""
BODIES = {
    "LORA": "  r: 8\n  lora_alpha: 32\n  lora_dropout: 0.1\n  target_modules: [\"q_proj\", \"k_proj\", \"v_proj\"]",
    "LOHA": "  r: 4\n  alpha: 8\n  target_modules: [q_proj, v_proj]",
    "IA3": "  target_modules: [k_proj, v_proj, down_proj]\n  feedforward_modules: [down_proj]",
    "ADALORA": "  init_r: 12\n  target_r: 8\n  total_step: 100\n  target_modules: [q_proj]",
}


@pytest.mark.parametrize("ptype", sorted(BODIES))
def test_read_as_get_peft_config_builds_it(ptype: str) -> None:
    from peft import get_peft_config

    text = GLM4.format(ptype=ptype, body=BODIES[ptype])
    res = extract_trainer_yaml(text, "lora.yaml", "/tmp/lora.yaml", PEFT_TYPES)
    assert not res.problems
    [spec] = res.specs
    want = yaml.safe_load(text)["peft_config"]
    built = get_peft_config(dict(want))
    assert spec.config_class == type(built).__name__ and spec.method == ptype
    assert {k: spec.static(k) for k in spec.fields} == want
    assert spec.task_type == "CAUSAL_LM" and spec.model is None and spec.facts.model_unresolved
    assert spec.fields["r" if "r" in want else "target_modules"].span.line >= 10


def test_llama_factory_v1_and_unknown_peft_types_are_not_this_kind() -> None:
    v1 = "peft_config:\n  name: lora\n  r: 8\n"
    [spec] = extract_trainer_yaml(v1, "c.yaml", "/tmp/c.yaml", PEFT_TYPES).specs
    assert spec.facts.tool == "llama-factory"
    assert not extract_trainer_yaml("peft_config:\n  peft_type: NOPE\n  r: 8\n", "c.yaml", "/tmp/c.yaml", PEFT_TYPES).specs


def test_a_key_peft_rejects_is_an_error_where_it_is_written(tmp_path: Path) -> None:
    from peft import get_peft_config

    body = "  r: 8\n  lora_dropuot: 0.1\n  target_modules: [q_proj, v_proj]"
    text = GLM4.format(ptype="LORA", body=body)
    with pytest.raises(TypeError, match="lora_dropuot"):
        get_peft_config(yaml.safe_load(text)["peft_config"])
    (tmp_path / "lora.yaml").write_text(text)
    found = [f for f in lint(tmp_path, ".") if f["severity"] != "info"]
    assert [(f["code"], f["line"], f["column"]) for f in found] == [(Code.UNKNOWN_ARGUMENT, 11, 3)]
    assert "did you mean `lora_dropout`" in found[0]["message"]


def test_with_a_model_the_targets_are_checked(tmp_path: Path) -> None:
    body = "  r: 8\n  target_modules: [q_proj, query_key_value]"
    text = GLM4.format(ptype="LORA", body=body)
    (tmp_path / "lora.yaml").write_text(text)
    found = [f for f in lint(tmp_path, "--model", MODEL, ".") if f["severity"] != "info"]
    assert [(f["code"], f["line"], f["column"], f["subject"]) for f in found] == [
        (Code.UNMATCHED_TARGET, 11, 28, "query_key_value")]
