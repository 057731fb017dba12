"""MoE models whose first blocks are dense (DeepSeek-V2/V3 `first_k_dense_replace`, GLM-4.5, Qwen3-MoE
`mlp_only_layers`): PEFT's transformers-5 MoE rewrite turns a bare `gate_proj`/`up_proj`/`down_proj`
into target_parameters, which exist in the MoE blocks only, and drops the Linear modules of that
name (the dense blocks' MLP, the shared experts). PFT109 says so; PFT107 must not also call the
name "partial" and tell the user to use the name they already use (LLaMA-Factory's `lora_target:
all` on DeepSeek-V2-Lite gave three such warnings). An entry that misses blocks holding the same
layer is still PFT107's. Judged by real peft on the meta-device model."""

from __future__ import annotations

import json
import re
import textwrap
import warnings

import pytest
from support.lintutil import lint

DEEPSEEK = {
    "model_type": "deepseek_v3", "architectures": ["DeepseekV3ForCausalLM"], "hidden_size": 32,
    "intermediate_size": 64, "moe_intermediate_size": 16, "num_hidden_layers": 3, "num_attention_heads": 2,
    "num_key_value_heads": 2, "q_lora_rank": 16, "kv_lora_rank": 16, "qk_nope_head_dim": 8,
    "qk_rope_head_dim": 8, "v_head_dim": 8, "n_routed_experts": 4, "n_shared_experts": 1,
    "num_experts_per_tok": 2, "n_group": 1, "topk_group": 1, "first_k_dense_replace": 1, "vocab_size": 128,
}
QWEN3_MOE = {
    "model_type": "qwen3_moe", "architectures": ["Qwen3MoeForCausalLM"], "hidden_size": 32,
    "intermediate_size": 64, "moe_intermediate_size": 16, "num_hidden_layers": 3, "num_attention_heads": 2,
    "num_key_value_heads": 2, "head_dim": 16, "num_experts": 4, "num_experts_per_tok": 2, "vocab_size": 128,
    "mlp_only_layers": [0], "decoder_sparse_step": 1,
}
MODELS = {"deepseek_v3": DEEPSEEK, "qwen3_moe": QWEN3_MOE}
MLP = ["o_proj", "gate_proj", "up_proj", "down_proj"]


@pytest.fixture(scope="module", params=sorted(MODELS))
def model_dir(request, tmp_path_factory):
    d = tmp_path_factory.mktemp(request.param)
    (d / "config.json").write_text(json.dumps(MODELS[request.param]))
    return request.param, d


def _lint(tmp_path, model, targets: list[str]) -> list[dict]:
    (tmp_path / "train.py").write_text(textwrap.dedent(f"""\
        from peft import LoraConfig
        # peftlint: model={model}
        config = LoraConfig(target_modules={targets!r})
        """), encoding="utf-8")
    return [d for d in lint(tmp_path, "train.py") if d["severity"] != "info"]


def _peft(model_type: str, targets: list[str]):
    """(adapted module names, wrapped expert parameters, dense-block Linears of the MLP names)."""
    import torch
    import transformers
    from peft import LoraConfig, get_peft_model

    cfg = dict(MODELS[model_type])
    arch = getattr(transformers, cfg.pop("architectures")[0])
    config = transformers.AutoConfig.for_model(cfg.pop("model_type"), **cfg)
    with torch.device("meta"):
        model = arch(config)
    dense = {n for n, m in model.named_modules()
             if n.startswith("model.layers.0.mlp.") and isinstance(m, torch.nn.Linear)}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        pm = get_peft_model(model, LoraConfig(r=2, target_modules=targets))
    wrapped = {n for n, m in pm.named_modules() if type(m).__name__ == "ParamWrapper" and not n.endswith("base_layer")}
    return set(pm.base_model.targeted_module_names), wrapped, dense


def test_rewritten_bare_names_are_pft109s_not_partial(tmp_path, model_dir):
    model_type, d = model_dir
    found = _lint(tmp_path, d, MLP)
    assert [f["code"] for f in found] == ["PFT109"]
    assert "dropped from the adapter silently" in found[0]["detail"]
    adapted, wrapped, dense = _peft(model_type, MLP)
    # what peft does: the dense block's MLP Linears are dropped, the experts of every MoE block
    # (1 and 2) are reached: no MoE block misses them, so there is nothing partial to fix
    assert dense and not dense & adapted
    assert {re.search(r"\.layers\.(\d+)\.", w).group(1) for w in wrapped} == {"1", "2"}


def test_a_block_index_still_reported(tmp_path, model_dir):
    model_type, d = model_dir
    found = _lint(tmp_path, d, ["layers.1.self_attn.o_proj", "gate_proj", "up_proj", "down_proj"])
    assert [(f["code"], f["subject"]) for f in found if f["code"] == "PFT107"] == [
        ("PFT107", "layers.1.self_attn.o_proj")]
    adapted, _, _ = _peft(model_type, ["layers.1.self_attn.o_proj", "gate_proj", "up_proj", "down_proj"])
    assert {n for n in adapted if n.endswith("o_proj")} == {"model.layers.1.self_attn.o_proj"}
