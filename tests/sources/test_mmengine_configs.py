"""mmengine-style configs (xtuner's 447 config files): ``lora=dict(type=LoraConfig, ...)`` beside
``llm=dict(type=AutoModelForCausalLM.from_pretrained, pretrained_model_name_or_path=...)`` in the
``model=dict(...)``. They were not read at all (a silent miss: xtuner's Mixtral configs target the
experts' `w1`/`w2`/`w3` with lora_dropout=0.1, and peft raises on transformers 5). With no
``target_modules`` xtuner passes its own list of the model's linear layers; peftlint's copy of
that rule is judged against xtuner's code run on the meta-device model."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest
from support.lintutil import lint

from peftlint.model.build import build_inventory
from peftlint.model.resolve import Resolved
from peftlint.semantics.trainer_targets import trainer_linear_names
from peftlint.sources.python import extract_python

TINY = {"hidden_size": 16, "intermediate_size": 32, "num_attention_heads": 2, "num_key_value_heads": 2,
        "vocab_size": 64, "num_hidden_layers": 2, "pad_token_id": 0}
MODELS = {
    "llama": {"model_type": "llama", "architectures": ["LlamaForCausalLM"], **TINY},
    "mixtral": {"model_type": "mixtral", "architectures": ["MixtralForCausalLM"], "num_local_experts": 4,
                "num_experts_per_tok": 2, **TINY},
    "gpt2": {"model_type": "gpt2", "architectures": ["GPT2LMHeadModel"], "n_embd": 16, "n_layer": 2, "n_head": 2,
             "vocab_size": 64},
    "phi3": {"model_type": "phi3", "architectures": ["Phi3ForCausalLM"], **TINY},
}

CONFIG = '''\
from peft import LoraConfig
from transformers import AutoModelForCausalLM

pretrained_model_name_or_path = "{model}"
model = dict(
    type=SupervisedFinetune,
    llm=dict(
        type=AutoModelForCausalLM.from_pretrained,
        pretrained_model_name_or_path=pretrained_model_name_or_path,
        trust_remote_code=True,
    ),
    lora=dict(
        type=LoraConfig,
        r=4,
        lora_alpha=16,
        lora_dropout=0.1,{targets}
        task_type="CAUSAL_LM",
    ),
)
'''


def _write(tmp: Path, name: str, targets: str = "") -> str:
    d = tmp / name
    d.mkdir(exist_ok=True)
    (d / "config.json").write_text(json.dumps(MODELS[name]))
    return CONFIG.format(model=f"./{name}", targets=targets)


def test_a_dict_config_is_read_with_its_model(tmp_path: Path) -> None:
    text = _write(tmp_path, "llama", '\n        target_modules=["q_proj", "v_proj"],')
    [spec] = extract_python(text, "cfg.py", str(tmp_path / "cfg.py"), {"LoraConfig"}).specs
    assert spec.config_class == "LoraConfig" and "type" not in spec.fields
    assert spec.static("r") == 4 and spec.static("target_modules") == ["q_proj", "v_proj"]
    assert spec.fields["r"].span.line == 14 and spec.facts.tool == "xtuner"
    assert spec.model is not None and spec.model.ref == "./llama" and spec.model.trust_remote_code
    assert spec.model.model_class == "AutoModelForCausalLM" and "llm=dict(...)" in spec.model.how
    assert spec.facts.target_rule is None  # the config lists its own names


def test_without_target_modules_xtuner_lists_the_linear_layers(tmp_path: Path) -> None:
    text = _write(tmp_path, "llama")
    [spec] = extract_python(text, "cfg.py", str(tmp_path / "cfg.py"), {"LoraConfig"}).specs
    assert spec.facts.target_rule is not None and spec.facts.target_rule.trainer == "xtuner"
    (tmp_path / "cfg.py").write_text(text)
    assert [d for d in lint(tmp_path, "cfg.py") if d["severity"] != "info"] == []
    # a config dict not beside a model is still read, its model unknown (a note)
    (tmp_path / "cfg.py").write_text("from peft import LoraConfig\nlora = dict(type=LoraConfig, r=8)\n")
    [note] = lint(tmp_path, "cfg.py")
    assert note["severity"] == "info" and "not an argument of a model dict" in note["message"]


def test_xtuner_mixtral_expert_names_with_dropout(tmp_path: Path) -> None:
    import torch
    import transformers
    from peft import LoraConfig, get_peft_model

    targets = '\n        target_modules=["q_proj", "k_proj", "v_proj", "o_proj", "w1", "w2", "w3"],'
    (tmp_path / "cfg.py").write_text(_write(tmp_path, "mixtral", targets))
    got = [(d["code"], d["line"]) for d in lint(tmp_path, "cfg.py") if d["severity"] != "info"]
    assert got == [("PFT109", 17)]
    cfg = dict(MODELS["mixtral"])
    config = transformers.AutoConfig.for_model(cfg.pop("model_type"), **{k: v for k, v in cfg.items()
                                                                         if k != "architectures"})
    with torch.device("meta"):
        model = transformers.AutoModelForCausalLM.from_config(config)
    with pytest.raises(ValueError, match="lora_dropout"):
        get_peft_model(model, LoraConfig(r=4, lora_alpha=16, lora_dropout=0.1, task_type="CAUSAL_LM",
                                         target_modules=["q_proj", "k_proj", "v_proj", "o_proj", "w1", "w2", "w3"]))


def _xtuner_find_all_linear_names(model) -> list[str]:
    """xtuner/model/utils.py find_all_linear_names, verbatim but for the return order."""
    import torch.nn as nn

    lora_module_names = set()
    for name, module in model.named_modules():
        if isinstance(module, nn.Linear):
            names = name.split(".")
            lora_module_names.add(names[0] if len(names) == 1 else names[-1])
    lora_module_names.discard("lm_head")
    lora_module_names.discard("output_layer")
    return sorted(lora_module_names)


@pytest.mark.parametrize("name", sorted(MODELS))
def test_xtuner_rule_matches_xtuner_on_the_model(name: str) -> None:
    import torch
    import transformers

    cfg = dict(MODELS[name])
    text = json.dumps(cfg)
    resolved = Resolved(ref="acme/tiny", label="acme/tiny", config=cfg, config_text=text, source="local",
                        location="/x/config.json")
    inventory = build_inventory(resolved, "AutoModelForCausalLM")
    config = transformers.AutoConfig.for_model(cfg.pop("model_type"), **{k: v for k, v in cfg.items()
                                                                         if k != "architectures"})
    with torch.device("meta"):
        model = transformers.AutoModelForCausalLM.from_config(config)
    names, how = trainer_linear_names("xtuner", inventory)
    assert names == _xtuner_find_all_linear_names(model) and "xtuner" in how


def test_rule_text_stays_short() -> None:
    assert len(textwrap.shorten(trainer_linear_names.__doc__ or "", 200)) <= 200
