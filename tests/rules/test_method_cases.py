"""Silent failure modes of PEFT (docs/peft-behaviour.md#outcomes) added to existing rules, each with real peft as the oracle.

- PFT103: LoRA on ``nn.MultiheadAttention.out_proj`` (reached by "all-linear") is a no-op (docs/peft-behaviour.md#layer-types).
- PFT208: AdaLoRA with ``target_parameters`` crashes (docs/peft-behaviour.md#target-parameters).
- PFT105: an embedding tied under a non-standard name (gpt2 ``wte``) gets no PEFT tie warning (docs/peft-behaviour.md#layer-types).
- PFT303: a regex default mapping (gemma4) bypasses ``layers_to_transform`` (docs/peft-behaviour.md#layer-filter).
"""

from __future__ import annotations

import copy
import functools
import json
import warnings
from pathlib import Path

import pytest
from support.lintutil import lint, said
from support.oracle import fresh, peft_outcome

SMOL = "HuggingFaceTB/SmolLM2-135M"

# SiglipVisionModel's pooling head holds a torch.nn.MultiheadAttention (``head.attention``).
TINY_SIGLIP = {
    "model_type": "siglip_vision_model", "architectures": ["SiglipVisionModel"], "hidden_size": 32,
    "intermediate_size": 64, "num_hidden_layers": 2, "num_attention_heads": 2, "image_size": 32, "patch_size": 16,
}
# gemma4's LoRA default in peft is the regex ``.*language_model\..*\.(q_proj|v_proj)``.
TINY_GEMMA4 = {
    "model_type": "gemma4", "architectures": ["Gemma4ForConditionalGeneration"], "audio_config": None,
    "text_config": {"hidden_size": 32, "num_hidden_layers": 2, "num_attention_heads": 2, "num_key_value_heads": 1,
                    "head_dim": 16, "intermediate_size": 64, "vocab_size": 128},
    "vision_config": {"hidden_size": 32, "num_hidden_layers": 1, "num_attention_heads": 2, "intermediate_size": 64},
}


def _write(tmp: Path, model_dir: str, cfg: dict, body: str) -> None:
    (tmp / model_dir).mkdir(exist_ok=True)
    (tmp / model_dir / "config.json").write_text(json.dumps(cfg))
    (tmp / "train.py").write_text(f"from peft import AdaLoraConfig, LoraConfig\n\n# peftlint: model=./{model_dir}\n{body}\n")


def _codes(findings: list[dict], code: str) -> list[dict]:
    return [f for f in findings if f["code"] == code]


@functools.lru_cache(maxsize=None)
def _meta_from_dict(cfg_json: str, model_class: str):
    import torch
    import transformers

    d = json.loads(cfg_json)
    cfg = transformers.AutoConfig.for_model(d["model_type"], **{k: v for k, v in d.items() if k != "model_type"})
    with torch.device("meta"), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return getattr(transformers, model_class)._from_config(cfg)


def _meta(cfg: dict, model_class: str):
    return copy.deepcopy(_meta_from_dict(json.dumps(cfg, sort_keys=True), model_class))


# -- PFT103: MultiheadAttention.out_proj ---------------------------------------------------------------------

def test_peft_wraps_mha_out_proj_under_all_linear_but_leaves_the_mha_alone():
    import torch
    from peft import LoraConfig, get_peft_model

    pm = get_peft_model(_meta(TINY_SIGLIP, "SiglipVisionModel"), LoraConfig(target_modules="all-linear"))
    assert "head.attention.out_proj" in pm.base_model.targeted_module_names
    base = pm.base_model.model
    assert type(base.head.attention) is torch.nn.MultiheadAttention  # the MHA itself is not wrapped
    assert type(base.head.attention.out_proj).__module__.startswith("peft.tuners.lora")


def test_lora_on_mha_out_proj_does_not_change_the_output():
    """MultiheadAttention.forward reads out_proj.weight itself, so a non-zero LoRA on out_proj is ignored."""
    import torch
    from peft import LoraConfig, get_peft_model

    class Block(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.attention = torch.nn.MultiheadAttention(8, 2, batch_first=True)

        def forward(self, x):
            return self.attention(x, x, x)[0]

    torch.manual_seed(0)
    block, x = Block().eval(), torch.randn(1, 3, 8)
    before = block(x)
    pm = get_peft_model(block, LoraConfig(target_modules=["out_proj"], init_lora_weights=False))
    lora_out = pm.base_model.model.attention.out_proj
    assert lora_out.lora_B["default"].weight.abs().sum() > 0  # the adapter is not a zero update
    assert torch.equal(pm(x), before)
    assert not torch.equal(lora_out(x), lora_out.base_layer(x))  # it would change out_proj if it were called


def test_pft103_warns_on_mha_out_proj(tmp_path):
    _write(tmp_path, "sig", TINY_SIGLIP, 'config = LoraConfig(target_modules="all-linear")')
    found = _codes(lint(tmp_path, "train.py"), "PFT103")
    assert len(found) == 1 and found[0]["severity"] == "warning"
    assert "head.attention.out_proj" in found[0]["message"] and "no effect" in found[0]["message"]


def test_pft103_silent_when_the_mha_itself_is_targeted(tmp_path):
    from peft import LoraConfig

    verdict, targeted, _ = peft_outcome(_meta(TINY_SIGLIP, "SiglipVisionModel"), LoraConfig(target_modules=["attention"]))
    assert verdict == "ok" and targeted == {"head.attention"}
    _write(tmp_path, "sig", TINY_SIGLIP, 'config = LoraConfig(target_modules=["attention"])')
    assert _codes(lint(tmp_path, "train.py"), "PFT103") == []


# -- PFT208: AdaLoRA with target_parameters ---------------------------------------------------------------

def test_adalora_target_parameters_crashes_in_peft():
    from peft import AdaLoraConfig, get_peft_model

    cfg = AdaLoraConfig(target_modules=["q_proj"], target_parameters=["mlp.down_proj.weight"], total_step=100)
    with pytest.raises(TypeError, match="unexpected keyword argument 'parameter_name'"):
        get_peft_model(fresh(SMOL, "AutoModelForCausalLM"), cfg)


def test_pft208_reports_adalora_target_parameters(tmp_path):
    (tmp_path / "train.py").write_text(
        "from peft import AdaLoraConfig, LoraConfig\n\n"
        f"# peftlint: model={SMOL}\n"
        'bad = AdaLoraConfig(target_modules=["q_proj"], target_parameters=["mlp.down_proj.weight"], total_step=100)\n'
        f"# peftlint: model={SMOL}\n"
        'good = LoraConfig(target_modules=["q_proj"], target_parameters=["mlp.down_proj.weight"])\n')
    found = _codes(lint(tmp_path, "train.py"), "PFT208")
    assert [(f["line"], f["severity"]) for f in found] == [(4, "error")]
    assert "parameter_name" in found[0]["message"]


# -- PFT105: tied embedding under a non-standard name --------------------------------------------------------

def _tie_warnings(texts: list[str]) -> list[str]:
    return [w for w in texts if "tie_word_embeddings" in w]


def test_peft_warns_about_tied_embed_tokens_but_not_tied_wte():
    from peft import LoraConfig

    _, targeted, texts = peft_outcome(fresh("gpt2", "AutoModelForCausalLM"), LoraConfig(target_modules=["c_attn", "wte"]))
    assert "transformer.wte" in targeted and _tie_warnings(texts) == []
    _, targeted, texts = peft_outcome(fresh(SMOL, "AutoModelForCausalLM"),
                                      LoraConfig(target_modules=["q_proj", "embed_tokens"]))
    assert "model.embed_tokens" in targeted and len(_tie_warnings(texts)) == 1


def test_pft105_says_peft_will_not_warn_for_wte(tmp_path):
    (tmp_path / "train.py").write_text(
        "from peft import LoraConfig\n\n"
        "# peftlint: model=gpt2\n"
        'a = LoraConfig(target_modules=["c_attn", "wte"])\n'
        f"# peftlint: model={SMOL}\n"
        'b = LoraConfig(target_modules=["q_proj", "embed_tokens"])\n')
    by_line = {f["line"]: said(f) for f in _codes(lint(tmp_path, "train.py"), "PFT105")}
    assert "lm_head.weight" in by_line[4] and "will NOT warn" in by_line[4]
    assert "will NOT warn" not in by_line[6] and "tied to the output head" in by_line[6]


# -- PFT303: regex default mapping bypasses layers_to_transform -----------------------------------------------

def test_gemma4_default_is_a_regex_that_ignores_layers_to_transform():
    from peft import LoraConfig
    from peft.utils.constants import TRANSFORMERS_MODELS_TO_LORA_TARGET_MODULES_MAPPING as mapping

    assert isinstance(mapping["gemma4"], str)
    verdict, targeted, _ = peft_outcome(_meta(TINY_GEMMA4, "Gemma4ForConditionalGeneration"),
                                        LoraConfig(layers_to_transform=[0]))
    assert verdict == "ok"
    assert {"model.language_model.layers.1.self_attn.q_proj", "model.language_model.layers.1.self_attn.v_proj"} <= targeted


def test_pft303_reports_regex_default_with_layer_filter(tmp_path):
    _write(tmp_path, "g4", TINY_GEMMA4, "config = LoraConfig(layers_to_transform=[0])")
    found = _codes(lint(tmp_path, "train.py"), "PFT303")
    assert len(found) == 1 and found[0]["subject"] == "layers_to_transform"
    assert "model.language_model.layers.1.self_attn.q_proj" in found[0]["message"]


def test_pft303_silent_for_list_default_with_layer_filter(tmp_path):
    """Llama's default is a list (["q_proj", "v_proj"]): PEFT does apply the filter."""
    from peft import LoraConfig

    _, targeted, _ = peft_outcome(fresh(SMOL, "AutoModelForCausalLM"), LoraConfig(layers_to_transform=[0]))
    assert targeted == {"model.layers.0.self_attn.q_proj", "model.layers.0.self_attn.v_proj"}
    (tmp_path / "train.py").write_text(f"from peft import LoraConfig\n\n# peftlint: model={SMOL}\n"
                                       "config = LoraConfig(layers_to_transform=[0])\n")
    assert _codes(lint(tmp_path, "train.py"), "PFT303") == []


# -- PFT109: 3-D parameters that are not fused experts --------------------------------------------------------

def test_pft109_ignores_conv_weights_and_pooling_probes(tmp_path):
    """Whisper's Conv1d weights and SigLIP's [1, 1, hidden] probe are 3-D but are not MoE experts."""
    _write(tmp_path, "sig", TINY_SIGLIP, 'config = LoraConfig(target_modules="all-linear")\n'
                                          "# peftlint: model=openai/whisper-small\n"
                                          'other = LoraConfig(target_modules="all-linear")')
    assert _codes(lint(tmp_path, "train.py"), "PFT109") == []
