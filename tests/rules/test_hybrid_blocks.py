"""Hybrid models (Qwen3.5, Nemotron-H, Granite 4.0-H, LFM2): every block is of one class, but only
some hold attention; the others hold a linear-attention, Mamba or convolution mixer instead. A
`q_proj` that reaches only the attention blocks reaches every `q_proj` there is, so PFT107 (which
already says nothing for a UNet's blocks of another class) says nothing; an entry that misses
blocks holding the same layer is still reported. Judged by real peft on the meta-device model."""

from __future__ import annotations

import json
import textwrap

import pytest
from support.helpers_hf import add_to_hf_cache
from support.lintutil import lint

HYBRID = "tiny-org/qwen35-hybrid"
CONFIG = {
    "model_type": "qwen3_5_text", "architectures": ["Qwen3_5ForCausalLM"], "hidden_size": 32,
    "num_hidden_layers": 4, "num_attention_heads": 2, "num_key_value_heads": 1, "head_dim": 16,
    "intermediate_size": 64, "vocab_size": 128, "linear_num_key_heads": 2, "linear_num_value_heads": 2,
    "linear_key_head_dim": 8, "linear_value_head_dim": 8,
    "layer_types": ["linear_attention", "linear_attention", "linear_attention", "full_attention"],
}


def _hf_cache(tmp_path_factory, monkeypatch, repo: str, config: dict, commit: str):
    """A Hugging Face cache holding ``repo``'s config.json, the one huggingface_hub reads."""
    from huggingface_hub import constants

    hf = tmp_path_factory.mktemp("hf")
    add_to_hf_cache(hf, repo, {"config.json": json.dumps(config)}, commit=commit * 40)
    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(hf))
    return hf


@pytest.fixture()
def hybrid_cache(tmp_path_factory, monkeypatch):
    return _hf_cache(tmp_path_factory, monkeypatch, HYBRID, CONFIG, "2")


def _lint(tmp_path, targets: list[str]) -> list[dict]:
    (tmp_path / "train.py").write_text(textwrap.dedent(f"""\
        from peft import LoraConfig, get_peft_model
        from transformers import AutoModelForCausalLM

        model = AutoModelForCausalLM.from_pretrained("{HYBRID}")
        config = LoraConfig(target_modules={targets!r})
        model = get_peft_model(model, config)
        """), encoding="utf-8")
    return [d for d in lint(tmp_path, "train.py") if d["severity"] != "info"]


def _peft_targets(targets: list[str]) -> set[str]:
    import torch
    import transformers
    from peft import LoraConfig, get_peft_model

    cfg = dict(CONFIG)
    config = transformers.AutoConfig.for_model(cfg.pop("model_type"), **cfg)
    with torch.device("meta"):
        model = transformers.Qwen3_5ForCausalLM(config)
    names = {n for n, _ in model.named_modules()}
    pm = get_peft_model(model, LoraConfig(target_modules=targets))
    return set(pm.base_model.targeted_module_names), names


def test_attention_names_reaching_only_attention_blocks_are_complete(tmp_path, hybrid_cache):
    targets = ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"]
    assert _lint(tmp_path, targets) == []
    adapted, names = _peft_targets(targets)
    # peft adapts q_proj in block 3 only, and no other block has a q_proj to adapt
    assert {n for n in adapted if n.endswith(".q_proj")} == {"model.layers.3.self_attn.q_proj"}
    assert {n for n in names if n.endswith(".q_proj")} == {"model.layers.3.self_attn.q_proj"}


def test_a_block_index_that_misses_the_same_layer_elsewhere_is_still_reported(tmp_path, hybrid_cache):
    found = _lint(tmp_path, ["q_proj", "layers.0.mlp.down_proj"])
    assert [(d["code"], d["subject"]) for d in found] == [("PFT107", "layers.0.mlp.down_proj")]
    assert "reaches only block 0 of the 4 blocks" in found[0]["message"]
    adapted, _ = _peft_targets(["q_proj", "layers.0.mlp.down_proj"])
    assert {n for n in adapted if n.endswith("down_proj")} == {"model.layers.0.mlp.down_proj"}


# -- Mamba-based models: peft refuses out_proj / conv1d for LoRA-like methods -----------------------

NEMOTRON_H = "tiny-org/nemotron-h"
NEMOTRON_CONFIG = {
    "model_type": "nemotron_h", "architectures": ["NemotronHForCausalLM"], "hidden_size": 32,
    "num_hidden_layers": 4, "hybrid_override_pattern": "M*-E", "num_attention_heads": 2, "num_key_value_heads": 1,
    "head_dim": 16, "intermediate_size": 64, "vocab_size": 128, "mamba_num_heads": 4, "mamba_head_dim": 8,
    "ssm_state_size": 8, "n_groups": 1, "n_routed_experts": 4, "num_experts_per_tok": 2,
    "moe_intermediate_size": 16, "moe_shared_expert_intermediate_size": 16,
}


@pytest.fixture()
def nemotron_cache(tmp_path_factory, monkeypatch):
    return _hf_cache(tmp_path_factory, monkeypatch, NEMOTRON_H, NEMOTRON_CONFIG, "3")


def _peft_on_nemotron(target_modules) -> str:
    import torch
    import transformers
    from peft import LoraConfig, get_peft_model

    cfg = dict(NEMOTRON_CONFIG)
    config = transformers.AutoConfig.for_model(cfg.pop("model_type"), **cfg)
    with torch.device("meta"):
        model = transformers.NemotronHForCausalLM(config)
    try:
        get_peft_model(model, LoraConfig(target_modules=target_modules))
    except ValueError as exc:
        return str(exc)
    return "ok"


@pytest.mark.parametrize(("targets", "column"), [(["q_proj", "in_proj", "out_proj"], 58), ("all-linear", 36)])
def test_mamba_out_proj_raises(tmp_path, nemotron_cache, targets, column):
    (tmp_path / "train.py").write_text(textwrap.dedent(f"""\
        from peft import LoraConfig, get_peft_model
        from transformers import AutoModelForCausalLM

        model = AutoModelForCausalLM.from_pretrained("{NEMOTRON_H}")
        config = LoraConfig(target_modules={targets!r})
        model = get_peft_model(model, config)
        """), encoding="utf-8")
    found = [d for d in lint(tmp_path, "train.py") if d["code"] == "PFT103"]
    assert [(d["severity"], d["line"], d["column"]) for d in found] == [("error", 5, column)]
    assert "incompatible with Mamba-based models (model_type='nemotron_h'): get_peft_model raises" in found[0]["message"]
    assert "Module 'out_proj' is incompatible with Mamba-based models (model_type='nemotron_h')" in _peft_on_nemotron(targets)


def test_mamba_in_proj_is_fine(tmp_path, nemotron_cache):
    (tmp_path / "train.py").write_text(textwrap.dedent(f"""\
        from peft import LoraConfig, get_peft_model
        from transformers import AutoModelForCausalLM

        model = AutoModelForCausalLM.from_pretrained("{NEMOTRON_H}")
        config = LoraConfig(target_modules=["q_proj", "in_proj"])
        model = get_peft_model(model, config)
        """), encoding="utf-8")
    assert [d for d in lint(tmp_path, "train.py") if d["severity"] != "info"] == []
    assert _peft_on_nemotron(["q_proj", "in_proj"]) == "ok"
