"""MoE models in transformers 5: what PEFT really adapts, and what PFT109 / the matching say.

Mixtral (PEFT rewrites w1/w2/w3 into target_parameters), Qwen1.5-MoE (qwen2_moe: no rewrite, only
the shared expert is reached) and a tiny qwen3_moe with a dense layer (rewrite drops dense Linears),
each with the real peft on meta-device models as the oracle.
"""

from __future__ import annotations

import functools
import json
import warnings

import pytest
from support.lintutil import lint, said
from support.oracle import built_inventory, fresh, peft_outcome, wrapped_parameters

from peftlint.semantics.matching import PeftView, compute_targeting

MIXTRAL = "mistralai/Mixtral-8x7B-v0.1"
QWEN2_MOE = "Qwen/Qwen1.5-MoE-A2.7B"

TINY_QWEN3_MOE = {
    "model_type": "qwen3_moe", "architectures": ["Qwen3MoeForCausalLM"], "hidden_size": 32,
    "intermediate_size": 64, "moe_intermediate_size": 16, "num_hidden_layers": 2, "num_attention_heads": 2,
    "num_key_value_heads": 2, "head_dim": 16, "num_experts": 4, "num_experts_per_tok": 2, "vocab_size": 128,
    "mlp_only_layers": [0], "decoder_sparse_step": 1,
}


inventory = functools.lru_cache(maxsize=None)(built_inventory)


def run_peft(model, config):
    from peft import get_peft_model

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        pm = get_peft_model(model, config)
    return pm, [str(w.message) for w in caught]


def ours(ref: str, **kw):
    return compute_targeting(PeftView(method="LORA", **kw), inventory(ref))


def test_mixtral_w123_become_target_parameters():
    from peft import LoraConfig

    targets = ["q_proj", "w1", "w2", "w3"]
    pm, _ = run_peft(fresh(MIXTRAL, "MixtralForCausalLM"), LoraConfig(r=2, target_modules=targets))
    t = ours(MIXTRAL, target_modules=targets)
    assert set(t.targeted) == set(pm.base_model.targeted_module_names)
    assert set(t.parameters_targeted) == wrapped_parameters(pm)
    assert {p.rsplit(".", 1)[-1] for p in t.parameters_targeted} == {"gate_up_proj", "down_proj"}
    assert t.moe.moved == {"w1": "gate_up_proj", "w2": "down_proj", "w3": "gate_up_proj"}
    assert list(t.moe.pattern_keys.items()) == [(k, 2) for k in pm.peft_config["default"].rank_pattern]
    assert pm.peft_config["default"].rank_pattern[r".*\.gate_up_proj"] == 4  # 2 * r


def test_mixtral_all_linear_adapts_the_router_too():
    from peft import LoraConfig

    pm, _ = run_peft(fresh(MIXTRAL, "MixtralForCausalLM"), LoraConfig(r=2, target_modules="all-linear"))
    t = ours(MIXTRAL, target_modules="all-linear")
    assert set(t.targeted) == set(pm.base_model.targeted_module_names)
    assert set(t.parameters_targeted) == wrapped_parameters(pm)
    assert "model.layers.0.mlp.gate.weight" in t.parameters_targeted


def test_mixtral_single_half_raises_with_peft_text():
    from peft import LoraConfig

    t = ours(MIXTRAL, target_modules=["q_proj", "w1"])
    with pytest.raises(ValueError) as exc:
        run_peft(fresh(MIXTRAL, "MixtralForCausalLM"), LoraConfig(r=2, target_modules=["q_proj", "w1"]))
    assert str(exc.value) == t.moe.error
    assert "Cannot convert PEFT target(s) w1 without also targeting w3" in t.moe.error


def test_mixtral_dropout_breaks_the_rewritten_targets(tmp_path):
    from peft import LoraConfig

    with pytest.raises(ValueError, match="ParamWrapper does not work with lora_dropout != 0"):
        run_peft(fresh(MIXTRAL, "MixtralForCausalLM"),
                 LoraConfig(r=2, target_modules=["w1", "w2", "w3"], lora_dropout=0.05))
    (tmp_path / "train.py").write_text(
        f"from peft import LoraConfig\n# peftlint: model={MIXTRAL}\n"
        'c = LoraConfig(target_modules=["w1", "w2", "w3"], lora_dropout=0.05)\n')
    found = [f for f in lint(tmp_path, ".") if f["code"] == "PFT109"]
    assert len(found) == 1 and found[0]["severity"] == "error"
    assert "lora_dropout != 0" in said(found[0]) and "gate_up_proj" in said(found[0])


def test_pft109_on_mixtral_says_what_is_adapted(tmp_path):
    (tmp_path / "train.py").write_text(
        f"from peft import LoraConfig\n# peftlint: model={MIXTRAL}\n"
        'a = LoraConfig(target_modules=["q_proj", "w1", "w2", "w3"])\n'
        f"# peftlint: model={MIXTRAL}\n"
        'b = LoraConfig(target_modules=["q_proj", "w1"])\n')
    found = {(f["line"], f["code"]): f for f in lint(tmp_path, ".")}
    assert (3, "PFT101") not in found  # w1..w3 are not dead entries: PEFT rewrites them
    msg = said(found[(3, "PFT109")])
    assert "`gate_up_proj`" in msg and "`down_proj`" in msg and "rank x2" in msg
    # nothing dropped, widened or added: the rewrite does what the names say, a note
    assert found[(3, "PFT109")]["severity"] == "info"
    assert found[(5, "PFT109")]["severity"] == "error"
    assert (5, "PFT101") not in found


def test_qwen2_moe_adapts_only_the_shared_expert(tmp_path):
    from peft import LoraConfig

    targets = ["gate_proj", "up_proj", "down_proj"]
    pm, _ = run_peft(fresh(QWEN2_MOE, "Qwen2MoeForCausalLM"), LoraConfig(r=2, target_modules=targets))
    adapted = set(pm.base_model.targeted_module_names)
    assert adapted and all(".mlp.shared_expert." in n for n in adapted)
    assert not wrapped_parameters(pm)
    t = ours(QWEN2_MOE, target_modules=targets)
    assert t.moe is None and set(t.targeted) == adapted

    (tmp_path / "train.py").write_text(
        f"from peft import LoraConfig\n# peftlint: model={QWEN2_MOE}\nc = LoraConfig(target_modules={targets!r})\n")
    found = [f for f in lint(tmp_path, ".") if f["code"] == "PFT109"]
    assert len(found) == 1
    msg = said(found[0])
    assert "shared_expert" in msg and "target_parameters=['mlp.experts.down_proj', 'mlp.experts.gate_up_proj']" in msg

    # the suggestion really reaches every expert tensor
    suggested = ["mlp.experts.gate_up_proj", "mlp.experts.down_proj"]
    pm2, _ = run_peft(fresh(QWEN2_MOE, "Qwen2MoeForCausalLM"),
                      LoraConfig(r=2, target_modules=[], target_parameters=suggested))
    t2 = ours(QWEN2_MOE, target_modules=[], target_parameters=suggested)
    assert wrapped_parameters(pm2) == set(t2.parameters_targeted)
    assert len(t2.parameters_targeted) == 2 * inventory(QWEN2_MOE).num_hidden_layers


@pytest.fixture(scope="module")
def tiny_qwen3_moe(tmp_path_factory):
    d = tmp_path_factory.mktemp("tiny-qwen3-moe")
    (d / "config.json").write_text(json.dumps(TINY_QWEN3_MOE))
    return d


def test_qwen3_moe_rewrite_drops_dense_linears(tiny_qwen3_moe):
    import torch
    import transformers
    from peft import LoraConfig

    inv = inventory(str(tiny_qwen3_moe))
    assert inv.moe.applies
    cfg = transformers.AutoConfig.for_model(**TINY_QWEN3_MOE)
    with torch.device("meta"):
        model = transformers.Qwen3MoeForCausalLM._from_config(cfg)
    dense = [n for n, m in model.named_modules() if n.startswith("model.layers.0.mlp.") and isinstance(m, torch.nn.Linear)]
    assert dense  # layer 0 is a dense MLP
    targets = ["q_proj", "gate_proj", "up_proj", "down_proj"]
    pm, _ = run_peft(model, LoraConfig(r=2, target_modules=targets))
    adapted = set(pm.base_model.targeted_module_names)
    assert not set(dense) & adapted  # silently dropped
    t = compute_targeting(PeftView(method="LORA", target_modules=targets), inv)
    assert set(t.targeted) == adapted and set(t.parameters_targeted) == wrapped_parameters(pm)


def test_pft109_names_the_dropped_dense_linears(tiny_qwen3_moe, tmp_path):
    (tmp_path / "train.py").write_text(
        f"from peft import LoraConfig\n# peftlint: model={tiny_qwen3_moe}\n"
        'c = LoraConfig(target_modules=["q_proj", "gate_proj", "up_proj", "down_proj"])\n')
    found = [f for f in lint(tmp_path, ".") if f["code"] == "PFT109"]
    assert len(found) == 1
    assert "dropped from the adapter silently" in said(found[0]) and "mlp.gate_proj" in said(found[0])


def test_ia3_mixtral_default_loses_w2(tmp_path):
    from peft import IA3Config

    verdict, targeted, _ = peft_outcome(fresh(MIXTRAL, "MixtralForCausalLM"), IA3Config())
    assert verdict == "ok" and {n.rsplit(".", 1)[-1] for n in targeted} == {"k_proj", "v_proj"}
    (tmp_path / "train.py").write_text(f"from peft import IA3Config\n# peftlint: model={MIXTRAL}\nc = IA3Config()\n")
    found = [f for f in lint(tmp_path, ".") if f["code"] == "PFT106"]
    assert len(found) == 1 and "`w2`" in said(found[0]) and found[0]["severity"] == "warning"


# -- unsloth's get_peft_model on MoE models (semantics/unsloth.py) -------------------------------------
# unsloth adds target_parameters for fused experts when target_modules names gate/up/down_proj, and
# its import patches peft's MoE rewrite to stand aside once target_parameters are set. The oracle
# is peft with that patch (the same few lines as unsloth/import_fixes.py), on the meta model.

UNSLOTH_TARGETS = ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"]


@pytest.fixture()
def peft_as_unsloth_patches_it(monkeypatch):
    from peft.utils import transformers_weight_conversion as twc

    original = twc._convert_peft_config_moe

    def patched(peft_config, *args, **kwargs):
        if getattr(peft_config, "target_parameters", None):
            return None
        return original(peft_config, *args, **kwargs)

    monkeypatch.setattr(twc, "_convert_peft_config_moe", patched)


def ours_unsloth(ref: str, targets: list[str]):
    from peftlint.semantics.unsloth import moe_target_parameters

    sources = moe_target_parameters(targets, inventory(ref))
    view = PeftView(method="LORA", target_modules=targets, target_parameters=list(sources) or None,
                    parameter_sources=sources, unsloth=True)
    return sources, compute_targeting(view, inventory(ref))


@pytest.mark.parametrize(("ref", "cls"), [(QWEN2_MOE, "Qwen2MoeForCausalLM"), (MIXTRAL, "MixtralForCausalLM")])
def test_unsloth_reaches_the_experts_as_peft_does(ref, cls, peft_as_unsloth_patches_it):
    """Qwen1.5-MoE (no peft rewrite) and Mixtral (peft rewrites, but unsloth's target_parameters
    stop it): the experts are wrapped, gate/up/down_proj reach them, nothing is dropped."""
    from peft import LoraConfig

    sources, t = ours_unsloth(ref, UNSLOTH_TARGETS)
    assert sources == {"mlp.experts.gate_up_proj": ["gate_proj", "up_proj"], "mlp.experts.down_proj": ["down_proj"]}
    pm, _ = run_peft(fresh(ref, cls), LoraConfig(r=2, target_modules=UNSLOTH_TARGETS,
                                                  target_parameters=list(sources)))
    assert t.moe is None
    assert set(t.targeted) == set(pm.base_model.targeted_module_names)
    assert set(t.parameters_targeted) == wrapped_parameters(pm) != set()
    assert all(t.entry_hits[e] for e in ("gate_proj", "up_proj", "down_proj"))


def test_unsloth_adds_nothing_without_mlp_names_or_on_dense_models():
    from peftlint.semantics.unsloth import moe_target_parameters

    assert moe_target_parameters(["q_proj", "v_proj"], inventory(QWEN2_MOE)) == {}
    assert moe_target_parameters(["mlp.experts.down_proj", "w2"], inventory(MIXTRAL)) == {}  # dotted / other names
    assert moe_target_parameters(UNSLOTH_TARGETS, inventory("HuggingFaceTB/SmolLM2-135M")) == {}


UNSLOTH_SCRIPT = """\
from unsloth import FastLanguageModel

model, tokenizer = FastLanguageModel.from_pretrained(model_name="{model}", max_seq_length=2048)
model = FastLanguageModel.get_peft_model(
    model, r=16, lora_alpha=16, lora_dropout={dropout},
    target_modules=["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"],
)
"""


@pytest.mark.parametrize("model", [QWEN2_MOE, MIXTRAL])
def test_unsloth_moe_script_gives_no_frozen_or_dropped_experts(tmp_path, model):
    (tmp_path / "train.py").write_text(UNSLOTH_SCRIPT.format(model=model, dropout=0), encoding="utf-8")
    found = [d for d in lint(tmp_path, "train.py") if d["severity"] != "info"]
    assert [d["code"] for d in found if d["code"] in ("PFT101", "PFT107", "PFT109")] == []


def test_unsloth_moe_parameters_with_dropout_raise(tmp_path, peft_as_unsloth_patches_it):
    """With lora_dropout != 0 the ParamWrapper unsloth asked for makes get_peft_model raise."""
    from peft import LoraConfig

    (tmp_path / "train.py").write_text(UNSLOTH_SCRIPT.format(model=QWEN2_MOE, dropout=0.05), encoding="utf-8")
    found = [d for d in lint(tmp_path, "train.py") if d["code"] == "PFT208"]
    assert [(d["severity"], d["line"], d["subject"]) for d in found] == [("error", 5, "lora_dropout")]
    assert "unsloth adds them" in found[0]["message"]
    sources, _ = ours_unsloth(QWEN2_MOE, UNSLOTH_TARGETS)
    with pytest.raises(ValueError, match="lora_dropout"):
        run_peft(fresh(QWEN2_MOE, "Qwen2MoeForCausalLM"),
                 LoraConfig(r=2, lora_dropout=0.05, target_modules=UNSLOTH_TARGETS, target_parameters=list(sources)))
