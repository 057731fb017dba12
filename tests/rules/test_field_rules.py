"""PFT107-PFT110, PFT206-PFT210 and PFT301-PFT311: what each message claims PEFT does, shown with
the real peft on meta-device models (tests/oracle.py), plus the findings peftlint reports."""

from __future__ import annotations

import re
import warnings

import pytest
from support.lintutil import lint, said
from support.oracle import fresh, peft_outcome

from peftlint.semantics.matching import PeftView, compute_targeting, pattern_key

SMOL = "HuggingFaceTB/SmolLM2-135M"
LLAMA = "LlamaForCausalLM"


def smol():
    return fresh(SMOL, LLAMA)


def inventory(ref: str = SMOL):
    from support.oracle import built_inventory as inv

    return inv(ref)


def findings(tmp_path, body: str, model: str = SMOL, imports: str = "LoraConfig") -> list[dict]:
    (tmp_path / "train.py").write_text(f"from peft import {imports}\n\n# peftlint: model={model}\nc = {body}\n")
    return lint(tmp_path, ".")


def codes(found: list[dict]) -> set[str]:
    return {f["code"] for f in found}


def caught(fn):
    with warnings.catch_warnings(record=True) as ws:
        warnings.simplefilter("always")
        result = fn()
    return result, [str(w.message) for w in ws]


# -- PFT107 / PFT110 ------------------------------------------------------------------------------


def test_pft107_indexed_entry_adapts_one_block(tmp_path):
    from peft import LoraConfig

    verdict, targeted, _ = peft_outcome(smol(), LoraConfig(target_modules=["q_proj", "layers.0.mlp.down_proj"]))
    assert verdict == "ok" and [n for n in targeted if "down_proj" in n] == ["model.layers.0.mlp.down_proj"]
    assert "PFT107" in codes(findings(tmp_path, 'LoraConfig(target_modules=["q_proj", "layers.0.mlp.down_proj"])'))


def test_pft107_not_for_t5_encoder_only_names(tmp_path):
    found = findings(tmp_path, 'LoraConfig(target_modules=["q", "v", "EncDecAttention.k"])', "t5-small")
    assert not {"PFT107", "PFT108"} & codes(found)


def test_pft110_all_excluded_raises():
    from peft import LoraConfig, get_peft_model

    cfg = LoraConfig(target_modules=["q_proj", "v_proj"], exclude_modules=["q_proj", "v_proj"])
    with pytest.raises(ValueError, match="No modules were targeted for adaptation"):
        get_peft_model(smol(), cfg)


# -- form rules -------------------------------------------------------------------------------------


@pytest.mark.parametrize("cls", ["LoraConfig", "LoHaConfig", "OFTConfig"])
def test_pft206_follows_peft_when_other_arguments_are_computed(tmp_path, cls):
    """No class list of its own: with a computed argument, PFT206 asks peft about the pair alone."""
    import peft

    try:
        getattr(peft, cls)(target_modules=r".*\.q_proj", layers_to_transform=[0])
        raised = None
    except ValueError as exc:
        raised = str(exc)
    (tmp_path / "train.py").write_text(
        f"import sys\nfrom peft import {cls}\n\n# peftlint: model={SMOL}\n"
        f'c = {cls}(target_modules=r".*\\.q_proj", layers_to_transform=[0], lora_dropout=float(sys.argv[1]))\n')
    [found] = [d for d in lint(tmp_path, ".") if d["code"] == "PFT206"]
    if raised:
        assert found["severity"] == "error" and raised.strip() in said(found)
    else:
        assert found["severity"] == "warning" and "accepts it" in said(found)
    assert not any(d["code"] == "PFT211" for d in lint(tmp_path, "."))  # not built: lora_dropout is computed


def test_pft206_leaves_literal_configs_to_peft(tmp_path):
    found = findings(tmp_path, 'LoraConfig(target_modules=r".*\\.q_proj", layers_to_transform=[0])')
    assert [(d["code"], d["subject"]) for d in found if d["code"] in ("PFT206", "PFT211")] == \
        [("PFT211", "layers_to_transform")]


def test_pft206_nonraising_config_adapts_every_layer(tmp_path):
    from peft import LoHaConfig

    verdict, targeted, _ = peft_outcome(smol(), LoHaConfig(target_modules=r".*\.q_proj", layers_to_transform=[0]))
    assert verdict == "ok" and len(targeted) == inventory().num_hidden_layers
    found = findings(tmp_path, 'LoHaConfig(target_modules=r".*\\.q_proj", layers_to_transform=[0])', imports="LoHaConfig")
    assert any(f["code"] == "PFT206" and "accepts it" in said(f) and f["severity"] == "warning" for f in found)


def test_pft207_subset_is_exact_strings():
    from peft import IA3Config

    with pytest.raises(ValueError, match="should be a subset of `target_modules`"):
        IA3Config(target_modules=["k_proj", "mlp.down_proj"], feedforward_modules=["down_proj"])
    IA3Config(target_modules=("k_proj", "mlp.down_proj"), feedforward_modules=("down_proj",))  # tuples: unchecked


def test_pft207_tuples_not_reported(tmp_path):
    found = findings(tmp_path, 'IA3Config(target_modules=("k_proj", "mlp.down_proj"), feedforward_modules=("down_proj",))',
                     imports="IA3Config")
    assert "PFT207" not in codes(found)


def test_pft208_parameter_conflicts_raise():
    from peft import LoraConfig
    from support.oracle import fresh as fresh_model

    for kw, text in (({"lora_dropout": 0.1}, "lora_dropout != 0"), ({"use_dora": True}, "use_dora=True"),
                     ({"lora_bias": True}, "lora_bias=True")):
        cfg = LoraConfig(target_modules=["q_proj"], target_parameters=["mlp.experts.down_proj"], **kw)
        with pytest.raises(ValueError, match=re.escape(text)):
            peft_outcome(fresh_model("Qwen/Qwen1.5-MoE-A2.7B", "Qwen2MoeForCausalLM"), cfg)
    with pytest.raises(TypeError, match="must be a list of strings or None"):
        LoraConfig(target_parameters="mlp.experts.down_proj")


@pytest.mark.parametrize("kw,expected", [
    ({"r": 0}, "`r` should be a positive integer value but the value passed is 0"),
    ({"bias": "lora"}, "Requested bias: lora, is not implemented."),
    ({"init_lora_weights": "pisa"}, "Unknown initialization init_lora_weights='pisa'"),
])
def test_pft210_claims(kw, expected, tmp_path):
    import torch.nn as nn
    from peft import LoraConfig, get_peft_model

    class Net(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.lin = nn.Linear(8, 8)

    with pytest.raises((ValueError, NotImplementedError), match=re.escape(expected)):
        get_peft_model(Net(), LoraConfig(target_modules=["lin"], **kw))
    args = ", ".join(f"{k}={v!r}" for k, v in kw.items())
    found = [f for f in findings(tmp_path, f'LoraConfig(target_modules=["q_proj"], {args})') if f["code"] == "PFT210"]
    assert len(found) == 1 and expected.split(" but")[0].split(",")[0] in found[0]["message"]


def test_pft210_task_type_and_types(tmp_path):
    from peft import LoraConfig

    with pytest.raises(ValueError, match="Invalid task type"):
        LoraConfig(task_type="causal_lm")
    found = findings(tmp_path, 'LoraConfig(target_modules=["q_proj"], task_type="causal_lm", r=8.0, '
                               'lora_alpha=16.0, fan_in_fan_out=0, lora_dropout="0.1")')
    # peft rejects task_type when the config is built (PFT211, its own message); r and lora_dropout
    # fail later, in get_peft_model (PFT210); lora_alpha=16.0 and fan_in_fan_out=0 work
    assert [(f["subject"], f["severity"]) for f in found if f["code"] == "PFT211"] == [("task_type", "error")]
    assert "Invalid task type: 'causal_lm'" in next(f["message"] for f in found if f["code"] == "PFT211")
    subjects = sorted(f["subject"] for f in found if f["code"] == "PFT210")
    assert subjects == ["lora_dropout", "r"]
    for kw in ({"r": 8.0}, {"lora_dropout": "0.1"}):
        import torch.nn as nn
        from peft import get_peft_model

        with pytest.raises(TypeError):
            get_peft_model(nn.Sequential(nn.Linear(8, 8)), LoraConfig(target_modules=["0"], **kw))


# -- PFT301-PFT303: the layer filter ---------------------------------------------------------------


def test_pft301_out_of_range(tmp_path):
    from peft import LoraConfig, get_peft_model

    verdict, targeted, _ = peft_outcome(smol(), LoraConfig(target_modules=["q_proj"], layers_to_transform=[28, 29, 30]))
    assert verdict == "ok" and len(targeted) == 2
    with pytest.raises(ValueError, match="Note: You specified 'layers_to_transform'"):
        get_peft_model(smol(), LoraConfig(target_modules=["q_proj"], layers_to_transform=[30]))
    found = [f for f in findings(tmp_path, 'LoraConfig(target_modules=["q_proj"], layers_to_transform=[30])')
             if f["code"] == "PFT301"]
    assert len(found) == 1 and "raises" in found[0]["message"]


def test_pft302_pattern_not_found(tmp_path):
    from peft import LoraConfig, get_peft_model

    with pytest.raises(ValueError, match="You also specified 'layers_pattern'"):
        get_peft_model(smol(), LoraConfig(target_modules=["q_proj"], layers_to_transform=[0], layers_pattern="h"))
    found = findings(tmp_path, 'LoraConfig(target_modules=["q_proj"], layers_to_transform=[0], layers_pattern="h")')
    assert "PFT302" in codes(found) and "PFT303" not in codes(found)


def test_pft303_full_name_and_unindexed(tmp_path):
    from peft import LoraConfig

    cfg = LoraConfig(target_modules=["q_proj", "lm_head", "embed_tokens"], layers_to_transform=[0])
    verdict, targeted, _ = peft_outcome(smol(), cfg)
    assert verdict == "ok" and "lm_head" in targeted and "model.embed_tokens" not in targeted
    found = [f for f in findings(tmp_path, 'LoraConfig(target_modules=["q_proj", "lm_head", "embed_tokens"], '
                                           'layers_to_transform=[0])') if f["code"] == "PFT303"]
    assert sorted(f["subject"] for f in found) == ["embed_tokens", "lm_head"]


# -- PFT304/PFT305: rank_pattern ---------------------------------------------------------------------


def test_pft304_unmatched_key_warns_in_peft(tmp_path):
    from peft import LoraConfig

    _, _, texts = peft_outcome(smol(), LoraConfig(target_modules=["q_proj"], rank_pattern={"self_attn": 16}))
    assert any("rank_pattern keys did not match any targeted module" in t for t in texts)
    found = findings(tmp_path, 'LoraConfig(target_modules=["q_proj"], rank_pattern={"q_proj": 4, "self_attn": 16})')
    assert [f["subject"] for f in found if f["code"] == "PFT304"] == ["self_attn"]


def test_pft304_parameter_keys_are_not_unmatched(tmp_path):
    # PEFT's own warning is a false positive for keys aimed at target_parameters (docs/peft-behaviour.md#patterns); ours is not
    found = findings(tmp_path, 'LoraConfig(target_modules=[], target_parameters=["mlp.experts.down_proj"], '
                               'rank_pattern={"down_proj": 4})', "Qwen/Qwen1.5-MoE-A2.7B")
    assert "PFT304" not in codes(found)


def test_pft305_first_match_wins_and_sorting_flips_it(tmp_path):
    from peft import LoraConfig

    name = "model.layers.0.self_attn.q_proj"
    for pattern, rank in (({"q_proj": 4, "layers.0.self_attn.q_proj": 16}, 4),
                          ({"layers.0.self_attn.q_proj": 16, "q_proj": 4}, 16)):
        from peft import get_peft_model

        pm = get_peft_model(smol(), LoraConfig(target_modules=["q_proj"], rank_pattern=pattern))
        assert pm.base_model.model.get_submodule(name).r["default"] == rank
        assert pattern[pattern_key(list(pattern), name)] == rank
    found = findings(tmp_path, 'LoraConfig(target_modules=["q_proj"], rank_pattern={"q_proj": 4, '
                               '"layers.0.self_attn.q_proj": 16})')
    msg = next(said(f) for f in found if f["code"] == "PFT305")
    assert "sorts the keys" in msg and "size mismatch" in msg


# -- PFT306-PFT308: modules_to_save / exclude_modules ------------------------------------------------


def _wrapped(pm) -> set[str]:
    return {n.removesuffix(".modules_to_save.default") for n, _ in pm.base_model.model.named_modules()
            if n.endswith(".modules_to_save.default")}


def test_pft306_nonexistent_entry_is_silent(tmp_path):
    from peft import LoraConfig, get_peft_model

    pm, texts = caught(lambda: get_peft_model(smol(), LoraConfig(target_modules=["q_proj"], modules_to_save=["classifier"])))
    assert not _wrapped(pm) and not [t for t in texts if "classifier" in t]
    assert "PFT306" in codes(findings(tmp_path, 'LoraConfig(target_modules=["q_proj"], modules_to_save=["classifier"])'))


def test_pft307_plain_suffix_wraps_lm_head(tmp_path):
    from peft import LoraConfig, get_peft_model

    pm = get_peft_model(smol(), LoraConfig(target_modules=["q_proj"], modules_to_save=["head"]))
    assert _wrapped(pm) == {"lm_head"}
    found = [f for f in findings(tmp_path, 'LoraConfig(target_modules=["q_proj"], modules_to_save=["head"])')
             if f["code"] == "PFT307"]
    assert len(found) == 1 and "`lm_head`" in found[0]["message"]


def test_pft307_suffix_on_adapted_layer_raises(tmp_path):
    from peft import LoraConfig

    with pytest.raises(TypeError, match="modules_to_save cannot be applied to modules of type"):
        peft_outcome(smol(), LoraConfig(target_modules=["q_proj"], modules_to_save=["_proj"]))
    found = [f for f in findings(tmp_path, 'LoraConfig(target_modules=["q_proj"], modules_to_save=["_proj"])')
             if f["code"] == "PFT307"]
    assert any(f["severity"] == "error" and "cannot be applied" in f["message"] for f in found)


def test_pft307_target_and_saved(tmp_path):
    from peft import LoraConfig, get_peft_model

    pm = get_peft_model(smol(), LoraConfig(target_modules=["q_proj", "lm_head"], modules_to_save=["lm_head"]))
    assert "lm_head" not in pm.base_model.targeted_module_names and _wrapped(pm) == {"lm_head"}
    t = compute_targeting(PeftView(target_modules=["q_proj", "lm_head"], modules_to_save=["lm_head"]), inventory())
    assert t.excluded == {"lm_head": "modules_to_save"}


def test_pft308_container_exclude_keeps_children(tmp_path):
    from peft import LoraConfig

    verdict, targeted, texts = peft_outcome(smol(), LoraConfig(target_modules="all-linear", exclude_modules=["mlp"]))
    assert verdict == "ok" and "model.layers.0.mlp.down_proj" in targeted
    found = findings(tmp_path, 'LoraConfig(target_modules="all-linear", exclude_modules=["mlp", "mlpp"])')
    assert sorted(f["subject"] for f in found if f["code"] == "PFT308") == ["mlp", "mlpp"]


def test_pft308_plain_word_string(tmp_path):
    from peft import LoraConfig

    _, targeted, texts = peft_outcome(smol(), LoraConfig(target_modules=["q_proj", "v_proj"], exclude_modules="v_proj"))
    assert "model.layers.0.self_attn.v_proj" in targeted and any("no modules were excluded" in t for t in texts)
    assert "PFT308" in codes(findings(tmp_path, 'LoraConfig(target_modules=["q_proj", "v_proj"], exclude_modules="v_proj")'))


# -- PFT309-PFT311 ----------------------------------------------------------------------------------


def test_pft309_fan_in_fan_out_is_flipped(tmp_path):
    from peft import LoraConfig

    _, _, texts = peft_outcome(smol(), LoraConfig(target_modules=["q_proj"], fan_in_fan_out=True))
    assert any("fan_in_fan_out is set to True but the target module is `torch.nn.Linear`" in t for t in texts)
    found = findings(tmp_path, 'LoraConfig(target_modules=["c_attn"], fan_in_fan_out=True)', "gpt2")
    assert "PFT309" not in codes(found)


def test_pft310_classifier_without_task_type(tmp_path):
    from peft import LoraConfig

    verdict, targeted, _ = peft_outcome(fresh("roberta-base", "RobertaForSequenceClassification"),
                                        LoraConfig(target_modules="all-linear"))
    assert verdict == "ok" and {"classifier.dense", "classifier.out_proj"} <= targeted
    t = compute_targeting(PeftView(target_modules="all-linear"), _seq_cls_inventory())
    assert {"classifier.dense", "classifier.out_proj"} <= set(t.targeted)


def _seq_cls_inventory():
    from peftlint.model.build import build_inventory
    from peftlint.model.resolve import ResolveOptions, resolve

    return build_inventory(resolve("roberta-base", options=ResolveOptions()), "AutoModelForSequenceClassification")


def test_pft310_seq_cls_on_causal_lm(tmp_path):
    from peft import LoraConfig, get_peft_model

    pm = get_peft_model(smol(), LoraConfig(target_modules=["q_proj"], task_type="SEQ_CLS"))
    assert not _wrapped(pm)  # 'classifier'/'score' match nothing
    (tmp_path / "train.py").write_text(
        "from transformers import AutoModelForCausalLM\nfrom peft import LoraConfig, get_peft_model\n\n"
        f'model = AutoModelForCausalLM.from_pretrained("{SMOL}")\n'
        'config = LoraConfig(target_modules=["q_proj"], task_type="SEQ_CLS")\n'
        "model = get_peft_model(model, config)\n")
    found = [f for f in lint(tmp_path, ".") if f["code"] == "PFT310"]
    assert len(found) == 1 and "CAUSAL_LM" in found[0]["message"]


def test_pft311_module_name_is_not_a_parameter(tmp_path):
    from peft import LoraConfig

    _, _, texts = peft_outcome(fresh("Qwen/Qwen1.5-MoE-A2.7B", "Qwen2MoeForCausalLM"),
                               LoraConfig(target_modules=["q_proj"], target_parameters=["mlp.experts"]))
    assert any("were set but no parameter was matched" in t for t in texts)
    found = [f for f in findings(tmp_path, 'LoraConfig(target_modules=["q_proj"], target_parameters=["mlp.experts"])',
                                 "Qwen/Qwen1.5-MoE-A2.7B") if f["code"] == "PFT311"]
    assert len(found) == 1 and "mlp.experts.gate_up_proj" in found[0]["message"]


def test_invalid_regex_keys_raise_in_peft():
    from peft import LoraConfig, get_peft_model

    for kw in ({"rank_pattern": {"(": 2}}, {"exclude_modules": "("}):
        with pytest.raises(re.error):
            get_peft_model(smol(), LoraConfig(target_modules=["q_proj"], **kw))


SAVED = [
    ("roberta-base", "RobertaForSequenceClassification", {"target_modules": "all-linear", "task_type": "SEQ_CLS"}),
    ("mistralai/Mixtral-8x7B-v0.1", "MixtralForCausalLM", {"target_modules": ["q_proj", "w1", "w2", "w3"]}),
    (SMOL, LLAMA, {"target_modules": ["q_proj", "v_proj"], "rank_pattern": {"v_proj": 2},
                   "modules_to_save": ["lm_head"], "task_type": "CAUSAL_LM"}),
    ("bert-base-uncased", "BertForQuestionAnswering", {"target_modules": ["query", "value"], "task_type": "QUESTION_ANS"}),
]


@pytest.mark.parametrize("hub_id,cls,kwargs", SAVED, ids=[s[0] for s in SAVED])
def test_configs_saved_by_peft_are_clean(hub_id, cls, kwargs, tmp_path):
    """What peft itself writes (expanded all-linear, MoE rewrite, appended task heads) is not a finding."""
    from peft import LoraConfig, get_peft_model

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        pm = get_peft_model(fresh(hub_id, cls), LoraConfig(**kwargs))
    cfg = pm.peft_config["default"]
    cfg.base_model_name_or_path = hub_id
    cfg.save_pretrained(str(tmp_path / "adapter"))
    found = [f for f in lint(tmp_path, ".") if f["code"] < "PFT400"]
    assert not found, found


def test_parameters_ignore_layer_filter_and_exclude(tmp_path):
    from peft import LoraConfig, get_peft_model
    from support.oracle import wrapped_parameters

    qwen = "Qwen/Qwen1.5-MoE-A2.7B"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        pm = get_peft_model(fresh(qwen, "Qwen2MoeForCausalLM"),
                            LoraConfig(target_modules=["q_proj"], target_parameters=["mlp.experts.down_proj"],
                                       layers_to_transform=[0], exclude_modules=["experts"]))
    assert len(wrapped_parameters(pm)) == inventory(qwen).num_hidden_layers
    found = findings(tmp_path, 'LoraConfig(target_modules=["q_proj"], target_parameters=["mlp.experts.down_proj"], '
                               'layers_to_transform=[0], exclude_modules=["experts"])', qwen)
    assert {"PFT303", "PFT308"} <= codes(found)
