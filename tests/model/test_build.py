from __future__ import annotations

import json
from typing import Callable

import pytest

from peftlint.model import inventory as inv
from peftlint.model.build import BuildError, build_inventory
from peftlint.model.classes import pick_model_class
from peftlint.model.hub import bundled_index
from peftlint.model.inventory import AllLinearRewrite, Inventory
from peftlint.model.resolve import Resolved, ResolveOptions, resolve

# one hub id per bundled file (the index also holds legacy/namespaced aliases of some files)
_FILES: dict[str, str] = {}
for _hub_id, _entry in sorted(bundled_index().items()):
    # diffusion models are built by diffusers: tests/model/test_diffusion_models.py, tests/semantics
    if "alias_of" not in _entry and _entry.get("library", "transformers") == "transformers":
        _FILES.setdefault(_entry["file"], _hub_id)
BUNDLED_IDS = sorted(_FILES.values())

Build = Callable[..., Inventory]


@pytest.fixture(scope="module")
def build(tmp_path_factory: pytest.TempPathFactory) -> Build:
    """Builds each (model, class) once per module."""
    empty_cache = str(tmp_path_factory.mktemp("empty-hf"))
    memo: dict[tuple[str, str | None, str | None], Inventory] = {}

    def _build(hub_id: str, code_class: str | None = None, task_type: str | None = None) -> Inventory:
        key = (hub_id, code_class, task_type)
        if key not in memo:
            res = resolve(hub_id, options=ResolveOptions(hf_cache_dir=empty_cache))
            assert isinstance(res, Resolved), res
            memo[key] = build_inventory(res, pick_model_class(res.config, code_class, task_type))
        return memo[key]

    return _build


def _resolved(config: dict, label: str = "test/model") -> Resolved:
    text = json.dumps(config)
    from peftlint.model.resolve import known_model_type

    mt = config.get("model_type")
    return Resolved(
        ref=label,
        label=label,
        config=config,
        config_text=text,
        source="local",
        location="/nonexistent/config.json",
        needs_remote_code=not (isinstance(mt, str) and known_model_type(mt)),
    )


# -- pick_model_class -----------------------------------------------------------------------------


def test_pick_model_class_precedence() -> None:
    llama = {"model_type": "llama", "architectures": ["LlamaForCausalLM"]}
    assert pick_model_class(llama, "AutoModelForSequenceClassification", "CAUSAL_LM") == "AutoModelForSequenceClassification"
    assert pick_model_class(llama, "transformers.LlamaForCausalLM", None) == "LlamaForCausalLM"
    assert pick_model_class(llama, "FastLanguageModel", None) == "AutoModelForCausalLM"
    assert pick_model_class(llama, "AutoPeftModelForCausalLM", None) == "AutoModelForCausalLM"
    assert pick_model_class(llama, None, "SEQ_CLS") == "AutoModelForSequenceClassification"
    assert pick_model_class(llama, None, "TaskType.SEQ_2_SEQ_LM") == "AutoModelForSeq2SeqLM"
    assert pick_model_class(llama, None, "TOKEN_CLS") == "AutoModelForTokenClassification"
    assert pick_model_class(llama, None, "QUESTION_ANS") == "AutoModelForQuestionAnswering"
    assert pick_model_class(llama, None, "FEATURE_EXTRACTION") == "AutoModel"
    assert pick_model_class(llama, None, None) == "LlamaForCausalLM"
    assert pick_model_class(llama, None, "NOT_A_TASK") == "LlamaForCausalLM"
    assert pick_model_class({"model_type": "llama"}, None, None) == "AutoModelForCausalLM"


# -- every bundled config builds ------------------------------------------------------------------


@pytest.mark.parametrize("hub_id", BUNDLED_IDS)
def test_every_bundled_config_builds(hub_id: str, build: Build) -> None:
    inventory = build(hub_id)
    assert inventory.modules and inventory.modules[0].name  # root excluded
    assert len({m.name for m in inventory.modules}) == len(inventory.modules)
    assert inventory.model_id == hub_id
    assert inventory.is_pretrained_model
    assert inventory.versions.keys() == {"torch", "transformers", "peft"}
    assert {m.kind for m in inventory.modules} <= {
        inv.LINEAR, inv.CONV1D_GPT2, inv.CONV1D, inv.CONV2D, inv.CONV3D, inv.EMBEDDING, inv.MHA,
        inv.NORM, inv.DROPOUT, inv.CONTAINER, inv.MODULE_LIST, inv.OTHER,
    }  # fmt: skip
    by_name = {m.name for m in inventory.modules} | set(inventory.module_aliases)
    for m in inventory.modules:  # every child is listed (possibly under its first name)
        assert all(f"{m.name}.{c}" in by_name for c in m.children)
    data = inventory.to_json()
    assert Inventory.from_json(json.loads(json.dumps(data))).to_json() == data


def test_module_counts_match_index(build: Build) -> None:
    # INDEX.md counts named_modules() including the root
    for hub_id, count in (
        ("meta-llama/Llama-2-7b-hf", 423),
        ("mistralai/Mixtral-8x7B-v0.1", 391),
        ("gpt2", 164),
        ("t5-small", 279),
        ("openai/whisper-small", 350),
        ("google/vit-base-patch16-224", 165),
    ):
        assert len(build(hub_id).modules) == count - 1, hub_id


def test_deterministic(build: Build, tmp_path_factory: pytest.TempPathFactory) -> None:
    res = resolve("gpt2", options=ResolveOptions(hf_cache_dir=str(tmp_path_factory.mktemp("x"))))
    assert isinstance(res, Resolved)
    again = build_inventory(res, pick_model_class(res.config, None, None))
    assert json.dumps(again.to_json()) == json.dumps(build("gpt2").to_json())


# -- spot checks from INDEX.md --------------------------------------------------------------------


def test_gpt2_conv1d(build: Build) -> None:
    gpt2 = build("gpt2")
    c_attn = gpt2.module("transformer.h.0.attn.c_attn")
    assert c_attn is not None
    assert (c_attn.kind, c_attn.cls, c_attn.in_features, c_attn.out_features) == (inv.CONV1D_GPT2, "Conv1D", 768, 2304)
    assert c_attn.bias and c_attn.params == {"weight": [768, 2304], "bias": [2304]}
    assert gpt2.output_embedding == "lm_head" and gpt2.input_embedding == "transformer.wte"
    assert gpt2.tie_word_embeddings
    assert ["transformer.wte.weight", "lm_head.weight"] in gpt2.tied_weights
    assert gpt2.default_targets["LORA"] == ["c_attn"]
    assert gpt2.module("transformer.h.0.attn.attn_dropout").kind == inv.DROPOUT
    assert gpt2.module("transformer.h").kind == inv.MODULE_LIST
    assert gpt2.layer_lists == {"transformer.h": 12}


def test_llama(build: Build) -> None:
    llama = build("meta-llama/Llama-2-7b-hf")
    assert llama.model_class == "LlamaForCausalLM" and llama.model_type == "llama"
    norm = llama.module("model.layers.0.input_layernorm")
    assert norm is not None and norm.kind == inv.NORM and norm.cls == "LlamaRMSNorm"
    q = llama.module("model.layers.0.self_attn.q_proj")
    assert (q.kind, q.in_features, q.out_features, q.bias) == (inv.LINEAR, 4096, 4096, False)
    mlp = llama.module("model.layers.0.mlp")
    assert mlp.kind == inv.CONTAINER and mlp.children == ["gate_proj", "up_proj", "down_proj", "act_fn"]
    assert llama.module("model.layers.0.mlp.act_fn").kind == inv.OTHER
    assert llama.module("model.embed_tokens").kind == inv.EMBEDDING
    assert llama.module("model.embed_tokens").in_features == 32000
    assert llama.output_embedding == "lm_head" and llama.input_embedding == "model.embed_tokens"
    assert not llama.tie_word_embeddings and llama.tied_weights == []
    assert llama.num_hidden_layers == 32
    assert llama.seq_cls_head is None
    assert llama.towers == {}
    assert llama.default_targets["LORA"] == ["q_proj", "v_proj"]
    assert llama.default_targets["IA3"] == ["k_proj", "v_proj", "down_proj"]
    assert llama.ia3_default_feedforward == ["down_proj"]
    assert llama.default_targets["LN_TUNING"] == ["input_layernorm", "post_attention_layernorm", "norm"]
    assert llama.default_targets["TRAINABLE_TOKENS"] == "model.embed_tokens"
    assert "ADAPTION_PROMPT" not in llama.default_targets and "PROMPT_TUNING" not in llama.default_targets
    assert llama.moe.applies is False


def test_llama_3_2_tied(build: Build) -> None:
    small = build("meta-llama/Llama-3.2-1B")
    assert small.tie_word_embeddings
    assert ["model.embed_tokens.weight", "lm_head.weight"] in small.tied_weights


def test_mixtral_fused_experts(build: Build) -> None:
    mixtral = build("mistralai/Mixtral-8x7B-v0.1")
    experts = mixtral.module("model.layers.0.mlp.experts")
    assert experts is not None and experts.cls == "MixtralExperts"
    assert experts.params == {"gate_up_proj": [8, 28672, 4096], "down_proj": [8, 4096, 14336]}
    assert experts.children == ["act_fn"] and experts.kind == inv.CONTAINER
    assert experts.is_transposed is False
    gate = mixtral.module("model.layers.0.mlp.gate")
    assert gate.kind == inv.OTHER and gate.params == {"weight": [8, 4096]}
    assert not any(m.leaf in ("w1", "w2", "w3") for m in mixtral.modules)
    assert mixtral.default_targets["LORA"] == ["q_proj", "v_proj"]


def test_mixtral_moe_conversion(build: Build) -> None:
    moe = build("mistralai/Mixtral-8x7B-v0.1").moe
    assert moe.applies is True and moe.available is True
    assert moe.base_model_type == "mixtral" and moe.has_checkpoint_conversion
    assert moe.target_map == {"w1": "gate_up_proj", "w3": "gate_up_proj", "w2": "down_proj", "gate": "gate.weight"}
    assert moe.fused == {"gate_up_proj": ["w1", "w3"]}
    assert moe.rank_multiplier == {"gate_up_proj": 2}
    assert moe.pattern_keys == {"gate_up_proj": r".*\.gate_up_proj"}
    assert moe.none_targets_become_empty is True  # docs/peft-behaviour.md#defaults: the q/v default is lost
    assert moe.all_linear == AllLinearRewrite(
        target_modules=["k_proj", "o_proj", "q_proj", "v_proj"],
        target_parameters=["down_proj", "gate.weight", "gate_up_proj"],
    )


def test_qwen2_moe(build: Build) -> None:
    qwen = build("Qwen/Qwen1.5-MoE-A2.7B")
    assert "LORA" not in qwen.default_targets
    assert qwen.module("model.layers.0.mlp.shared_expert.gate_proj").kind == inv.LINEAR
    assert set(qwen.module("model.layers.0.mlp.experts").params) == {"gate_up_proj", "down_proj"}
    moe = qwen.moe
    # docs/peft-behaviour.md#moe: transformers converts qwen2_moe checkpoints, PEFT does not rewrite configs
    assert moe.applies is False and moe.base_model_type is None
    assert moe.target_map == {} and moe.none_targets_become_empty is False


def test_falcon(build: Build) -> None:
    falcon = build("tiiuae/falcon-7b")
    qkv = falcon.module("transformer.h.0.self_attention.query_key_value")
    assert qkv.kind == inv.LINEAR and qkv.cls == "FalconLinear"
    assert (qkv.in_features, qkv.out_features) == (4544, 4672)
    assert falcon.default_targets["LORA"] == ["query_key_value"]


def test_t5(build: Build) -> None:
    t5 = build("t5-small")
    assert t5.model_class == "T5ForConditionalGeneration"
    assert t5.default_targets["LORA"] == ["q", "v"]
    assert t5.towers == {}  # encoder and decoder are one model
    assert t5.output_embedding == "lm_head" and t5.input_embedding == "shared"
    # transformers 5 gives the stacks their own Embedding modules that share the weight (tied)
    assert t5.module("encoder.embed_tokens").kind == inv.EMBEDDING
    assert [
        "shared.weight", "encoder.embed_tokens.weight", "decoder.embed_tokens.weight", "lm_head.weight",
    ] in t5.tied_weights  # fmt: skip
    assert t5.tie_word_embeddings
    assert t5.module("encoder.block.0.layer.0.layer_norm").kind == inv.NORM  # T5LayerNorm
    assert t5.layer_lists["encoder.block"] == 6


def test_whisper(build: Build) -> None:
    whisper = build("openai/whisper-small")
    assert whisper.output_embedding == "proj_out"
    conv = whisper.module("model.encoder.conv1")
    assert (conv.kind, conv.in_features, conv.out_features, conv.kernel_size, conv.groups) == (
        inv.CONV1D, 80, 768, [3], 1,
    )  # fmt: skip
    assert "LORA" not in whisper.default_targets
    assert whisper.towers == {}


def test_vit(build: Build) -> None:
    vit = build("google/vit-base-patch16-224")
    assert vit.output_embedding is None
    assert vit.seq_cls_head == "classifier"
    proj = vit.module("vit.embeddings.patch_embeddings.projection")
    assert proj.kind == inv.CONV2D and proj.kernel_size == [16, 16]
    embeddings = vit.module("vit.embeddings")
    assert set(embeddings.params) == {"cls_token", "position_embeddings"}


def test_bert_head(build: Build) -> None:
    bert = build("bert-base-uncased")
    assert bert.output_embedding == "cls.predictions.decoder"
    assert bert.module("cls.predictions").params == {"bias": [30522]}
    assert bert.module("bert.embeddings.LayerNorm").kind == inv.NORM


# -- classes and heads ----------------------------------------------------------------------------


def test_seq_cls_heads(build: Build) -> None:
    llama = build("meta-llama/Llama-2-7b-hf", "AutoModelForSequenceClassification")
    assert llama.model_class == "LlamaForSequenceClassification"
    assert llama.seq_cls_head == "score" and llama.output_embedding is None
    assert llama.requested_class == "AutoModelForSequenceClassification"
    roberta = build("roberta-base", None, "SEQ_CLS")
    assert roberta.model_class == "RobertaForSequenceClassification"
    assert roberta.seq_cls_head == "classifier"
    assert roberta.module("classifier").kind == inv.CONTAINER


def test_concrete_class_from_code(build: Build) -> None:
    base = build("meta-llama/Llama-3.2-1B", "LlamaModel")
    assert base.model_class == "LlamaModel"
    assert base.module("layers.0.self_attn.q_proj") is not None
    assert base.output_embedding is None


def test_auto_class_fallback(build: Build) -> None:
    t5 = build("t5-small", "AutoModelForCausalLM")
    assert t5.model_class == "T5ForConditionalGeneration"
    assert "AutoModelForCausalLM cannot build this config" in t5.class_note
    deberta = build("microsoft/deberta-v3-base")  # no architectures in this config
    assert deberta.requested_class == "AutoModelForCausalLM"
    assert deberta.model_class == "DebertaV2ForMaskedLM"


def test_unknown_class_name_falls_back(build: Build) -> None:
    inventory = build("gpt2", "SomethingThatIsNotInTransformers")
    assert inventory.model_class == "GPT2LMHeadModel"
    assert "not a transformers class" in inventory.class_note


def test_remote_code_model_is_not_built() -> None:
    res = _resolved({"model_type": "my_fancy_lm", "auto_map": {"AutoModelForCausalLM": "modeling_fancy.Fancy"}})
    with pytest.raises(BuildError, match="trust-remote-code"):
        build_inventory(res, "AutoModelForCausalLM")


def test_bad_config_is_a_build_error() -> None:
    res = _resolved({"model_type": "llama", "hidden_size": 64, "num_attention_heads": 5})
    with pytest.raises(BuildError) as err:
        build_inventory(res, "AutoModelForCausalLM")
    assert "test/model" in str(err.value)


def test_missing_model_type_guessed_from_name() -> None:
    res = _resolved({"n_layer": 2, "n_embd": 64, "n_head": 2, "vocab_size": 100}, label="someone/gpt2-tiny")
    res.needs_remote_code = False
    assert build_inventory(res, "AutoModelForCausalLM").model_type == "gpt2"
    nameless = _resolved({"hidden_size": 8}, label="acme/mystery")
    nameless.needs_remote_code = False
    with pytest.raises(BuildError, match="no model_type"):
        build_inventory(nameless, "AutoModelForCausalLM")


# -- composite models -----------------------------------------------------------------------------


def test_towers_of_a_composite_model() -> None:
    tiny = {"hidden_size": 32, "intermediate_size": 64, "num_attention_heads": 4, "num_hidden_layers": 1}
    config = {
        "model_type": "llava",
        "architectures": ["LlavaForConditionalGeneration"],
        "text_config": {**tiny, "model_type": "llama", "vocab_size": 128, "num_key_value_heads": 4},
        "vision_config": {**tiny, "model_type": "clip_vision_model", "image_size": 32, "patch_size": 8},
    }
    llava = build_inventory(_resolved(config), pick_model_class(config, None, None))
    assert llava.model_class == "LlavaForConditionalGeneration"
    assert llava.towers == {
        "model.vision_tower": "vision_tower",
        "model.multi_modal_projector": "multi_modal_projector",
        "model.language_model": "language_model",
    }
    assert llava.num_hidden_layers == 1  # of the text model
    assert "LORA" not in llava.default_targets  # the key is the top-level model_type "llava"


# -- remote code (only with trust_remote_code) ----------------------------------------------------


def test_remote_code_only_when_trusted(tmp_path) -> None:
    import os
    import subprocess
    import sys

    from support.helpers_hf import REPO_ROOT
    from support.remote_model import write_remote_code_model

    write_remote_code_model(tmp_path / "fancy")
    script = (
        "import json, sys\n"
        "from peftlint.model.resolve import resolve, ResolveOptions\n"
        "from peftlint.model.build import build_inventory, BuildError\n"
        "from peftlint.model.classes import pick_model_class\n"
        "r = resolve('fancy', base_dirs=[sys.argv[1]], options=ResolveOptions())\n"
        "try:\n"
        "    build_inventory(r, 'AutoModelForCausalLM')\n"
        "    refused = ''\n"
        "except BuildError as exc:\n"
        "    refused = str(exc)\n"
        "inv = build_inventory(r, pick_model_class(r.config, None, None), trust_remote_code=True)\n"
        "print(json.dumps({'needs': r.needs_remote_code, 'refused': refused, 'class': inv.model_class,\n"
        "                  'modules': [[m.name, m.kind] for m in inv.modules], 'out': inv.output_embedding}))\n"
    )
    # transformers copies remote code into HF_HOME/modules: keep it in the temp dir
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT), "HF_HOME": str(tmp_path / "hf-home")}
    env.pop("HF_MODULES_CACHE", None)
    out = subprocess.run([sys.executable, "-c", script, str(tmp_path)], env=env, capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    result = json.loads(out.stdout)
    assert result["needs"] is True
    assert "--trust-remote-code" in result["refused"]
    assert result["class"] == "FancyForCausalLM"
    assert result["modules"] == [["embed", "embedding"], ["fancy_proj", "linear"], ["lm_head", "linear"]]
    assert result["out"] == "lm_head"


def test_trusting_a_native_model_with_auto_map(build: Build, tmp_path_factory: pytest.TempPathFactory) -> None:
    """Phi-3's config names remote classes, but a bundled config has no code beside it: the
    native class is built even with trust_remote_code."""
    res = resolve("microsoft/Phi-3-mini-4k-instruct", options=ResolveOptions(hf_cache_dir=str(tmp_path_factory.mktemp("h"))))
    assert isinstance(res, Resolved) and res.has_auto_map and not res.runs_remote_code(True)
    trusted = build_inventory(res, "AutoModelForCausalLM", trust_remote_code=True)
    assert trusted.model_class == "Phi3ForCausalLM"
    assert trusted.names() == build("microsoft/Phi-3-mini-4k-instruct").names()
