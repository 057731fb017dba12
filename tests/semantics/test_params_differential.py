"""peftlint's static parameter count against peft's own (the oracle).

Each case builds a shrunk bundled model (or a custom nn.Module) on the meta device, records
peftlint's inventory of it with the real recorder, applies real peft (``get_peft_model``) with a
config, and compares:

- ``get_nb_trainable_parameters()`` (trainable and all) with ``count_parameters``;
- the number of peft ``BaseTunerLayer`` instances with ``adapted_modules``;
- the saved state dict (``get_peft_model_state_dict``) with ``adapter_bytes`` (float32).

Meta tensors have shapes, so numel() counts without weights. Cases peftlint does not reproduce
must answer "not computed" with a reason, never a number.
"""

from __future__ import annotations

import copy
import json
import warnings
from pathlib import Path

import pytest

from peftlint.semantics.param_layers import factorization
from peftlint.semantics.params import SAVE_BYTES, count_parameters

MODELS = Path(__file__).resolve().parents[2] / "peftlint" / "data" / "models"

# bundled configs, shrunk: dimensions kept distinct so that in/out mix-ups show
SHRINK = {"hidden_size": 16, "num_attention_heads": 4, "num_key_value_heads": 2, "num_hidden_layers": 2,
          "intermediate_size": 24, "vocab_size": 40, "head_dim": 4}
BUNDLED = {
    "llama": ("meta-llama--Llama-3.2-1B.json", None, {}),
    "llama2": ("meta-llama--Llama-2-7b-hf.json", None, {}),  # untied embeddings
    "gpt2": ("gpt2.json", None, {"n_embd": 16, "n_head": 4, "n_layer": 2, "n_positions": 32, "n_inner": 24}),
    "t5": ("t5-small.json", None, {"d_model": 16, "d_ff": 24, "d_kv": 4, "num_heads": 4, "num_layers": 2,
                                   "num_decoder_layers": 2, "vocab_size": 40}),
    "falcon": ("tiiuae--falcon-7b.json", None, {"num_kv_heads": 2}),
    "opt": ("facebook--opt-350m.json", None, {"ffn_dim": 24, "word_embed_proj_dim": 12, "max_position_embeddings": 32,
                                              "num_hidden_layers": 2}),
    "bert_cls": ("bert-base-uncased.json", "BertForSequenceClassification",
                 {"max_position_embeddings": 32, "type_vocab_size": 2}),
}

CUSTOM_SOURCE = '''
import torch.nn as nn
from transformers.pytorch_utils import Conv1D

class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.emb = nn.Embedding(30, 12)
        self.proj = nn.Linear(12, 20)
        self.nobias = nn.Linear(20, 12, bias=False)
        self.gconv = Conv1D(18, 12)
        self.conv1 = nn.Conv1d(12, 8, 3)
        self.conv2 = nn.Conv2d(8, 16, (3, 3))
        self.pconv = nn.Conv2d(16, 16, 1, groups=2)
        self.conv3 = nn.Conv3d(4, 8, 1)
        self.norm = nn.LayerNorm(12)
        self.head = nn.Sequential(nn.Linear(12, 12), nn.ReLU(), nn.Linear(12, 3))
'''


def _shrunk(name: str) -> tuple[dict, str | None]:
    filename, cls, extra = BUNDLED[name]
    cfg = json.loads((MODELS / filename).read_text())
    for k, v in {**SHRINK, **extra}.items():
        if k in cfg or k in extra or k in ("head_dim",) and cfg.get("model_type") == "llama":
            cfg[k] = v
    return cfg, cls


@pytest.fixture(scope="module")
def models(tmp_path_factory):
    """name -> (pristine meta model, peftlint inventory recorded from that config)."""
    import torch
    import transformers

    from peftlint.model.build import build_inventory
    from peftlint.model.resolve import ResolveOptions, resolve

    out = {}
    for name in BUNDLED:
        cfg, cls = _shrunk(name)
        folder = tmp_path_factory.mktemp(name)
        (folder / "config.json").write_text(json.dumps(cfg))
        res = resolve(str(folder), options=ResolveOptions())
        inventory = build_inventory(res, cls or cfg["architectures"][0])
        config = transformers.AutoConfig.for_model(cfg["model_type"],
                                                   **{k: v for k, v in cfg.items() if k != "model_type"})
        with torch.device("meta"):
            model = getattr(transformers, inventory.model_class)._from_config(config)
        out[name] = (model, inventory)
    out["custom"] = _custom()
    return out


def _custom():
    from support.custom_models import real_model

    from peftlint.model.inventory import Inventory
    from peftlint.model.record import _module_info, _tied_groups

    model = real_model(CUSTOM_SOURCE, "Net()")
    inventory = Inventory(model_id="custom", model_type="", model_class="Net", config_hash="",
                          modules=[_module_info(n, m) for n, m in model.named_modules() if n],
                          tied_weights=_tied_groups(model), is_pretrained_model=False, peft_model_type=False,
                          total_parameters=sum(p.numel() for p in model.parameters()))
    return model, inventory


def _config(method: str, kwargs: dict):
    from peft.mapping import PEFT_TYPE_TO_CONFIG_MAPPING

    cls = next(c for t, c in PEFT_TYPE_TO_CONFIG_MAPPING.items() if str(getattr(t, "value", t)) == method)
    return cls(**copy.deepcopy(kwargs))


def _peft(model, config) -> tuple[int, int, int, int]:
    """(trainable, all, wrapped layers, saved numel) as peft reports them."""
    from peft import get_peft_model, get_peft_model_state_dict
    from peft.tuners.tuners_utils import BaseTunerLayer

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        pm = get_peft_model(copy.deepcopy(model), config)
        trainable, total = pm.get_nb_trainable_parameters()
        wrapped = sum(isinstance(m, BaseTunerLayer) for m in pm.modules())
        saved = sum(t.numel() for t in get_peft_model_state_dict(pm).values())
    return trainable, total, wrapped, saved


def _peftlint(inventory, method: str, kwargs: dict):
    import dataclasses

    from peft.mapping import PEFT_TYPE_TO_CONFIG_MAPPING

    from peftlint.semantics.matching import PeftView, compute_targeting
    from peftlint.semantics.peft_facts import _default

    cls = next(c for t, c in PEFT_TYPE_TO_CONFIG_MAPPING.items() if str(getattr(t, "value", t)) == method)
    values = {f.name: _default(f) for f in dataclasses.fields(cls)} | kwargs
    view = PeftView(method=method, target_modules=kwargs.get("target_modules"),
                    exclude_modules=kwargs.get("exclude_modules"), modules_to_save=kwargs.get("modules_to_save"),
                    layers_to_transform=kwargs.get("layers_to_transform"), task_type=kwargs.get("task_type"))
    return count_parameters(inventory, method, values, compute_targeting(view, inventory), kwargs.get("task_type"))


LLAMA_ATTN = ["q_proj", "k_proj", "v_proj", "o_proj"]
CASES = [
    # LoRA and its options
    ("llama", "LORA", {"target_modules": LLAMA_ATTN, "r": 4}),
    ("llama", "LORA", {"target_modules": "all-linear", "r": 2}),
    ("llama", "LORA", {}),  # peft's default targets for llama
    ("llama", "LORA", {"target_modules": ["q_proj", "v_proj"], "use_dora": True}),
    ("llama", "LORA", {"target_modules": ["q_proj", "down_proj"], "rank_pattern": {"down_proj": 2}, "r": 6}),
    ("llama", "LORA", {"target_modules": ["q_proj", "v_proj"], "layers_to_transform": [1], "r": 3}),
    ("llama", "LORA", {"target_modules": ["q_proj", "v_proj"], "modules_to_save": ["lm_head"]}),
    ("llama", "LORA", {"target_modules": ["embed_tokens", "q_proj"], "r": 4, "use_dora": True}),
    ("llama", "LORA", {"target_modules": ["gate_proj"], "bias": "all", "r": 2}),
    ("llama", "LORA", {"target_modules": r".*\.(q_proj|up_proj)", "r": 2}),
    ("llama", "LORA", {"target_modules": r".*(q_proj|embed_tokens)", "r": 2}),  # embeddings saved whole: no size
    ("llama", "LORA", {"target_modules": "all-linear", "exclude_modules": ["down_proj"], "r": 2,
                       "alpha_pattern": {"q_proj": 4}, "use_rslora": True, "init_lora_weights": False}),
    ("gpt2", "LORA", {"target_modules": ["c_attn", "c_proj"], "r": 4, "fan_in_fan_out": True}),
    ("gpt2", "LORA", {"target_modules": ["c_attn"], "modules_to_save": ["lm_head"], "fan_in_fan_out": True}),
    ("t5", "LORA", {"target_modules": ["q"], "modules_to_save": ["embed_tokens"]}),  # aliases of `shared`
    ("gpt2", "LORA", {"target_modules": ["c_attn"], "use_dora": True, "fan_in_fan_out": True}),
    ("gpt2", "LORA", {"target_modules": ["c_fc"], "lora_bias": True, "bias": "lora_only", "fan_in_fan_out": True}),
    ("gpt2", "LORA", {"target_modules": ["c_attn"], "bias": "all", "fan_in_fan_out": True}),
    ("t5", "LORA", {"target_modules": ["q", "v"], "r": 4}),
    ("t5", "LORA", {"target_modules": ["wi", "wo"], "modules_to_save": ["lm_head"], "r": 2}),
    ("falcon", "LORA", {"target_modules": ["query_key_value", "dense_4h_to_h"], "r": 4}),
    ("opt", "LORA", {"target_modules": ["q_proj", "fc1", "project_in"], "r": 4, "lora_bias": True}),
    ("bert_cls", "LORA", {"target_modules": ["query", "value"], "task_type": "SEQ_CLS", "r": 4}),
    ("bert_cls", "LORA", {"target_modules": ["query", "dense"], "task_type": "SEQ_CLS", "bias": "lora_only"}),
    ("custom", "LORA", {"target_modules": ["proj", "nobias", "gconv", "emb"], "r": 4}),
    ("custom", "LORA", {"target_modules": ["conv1", "conv2", "conv3"], "r": 4, "lora_bias": True}),
    ("custom", "LORA", {"target_modules": ["pconv", "conv2"], "r": 4, "use_dora": True}),
    ("custom", "LORA", {"target_modules": ["proj"], "modules_to_save": ["head"], "bias": "all"}),
    # inference_mode freezes the adapter and the copies, not the biases bias= names
    ("custom", "LORA", {"target_modules": ["proj"], "modules_to_save": ["head"], "inference_mode": True}),
    ("custom", "LORA", {"target_modules": ["proj"], "modules_to_save": ["head"], "bias": "all",
                        "inference_mode": True}),
    ("gpt2", "LORA", {"target_modules": ["c_fc"], "bias": "lora_only", "inference_mode": True, "fan_in_fan_out": True}),
    ("llama", "IA3", {"target_modules": ["k_proj"], "feedforward_modules": [], "inference_mode": True}),
    ("llama2", "LORA", {"target_modules": ["q_proj"], "trainable_token_indices": [0, 3, 7]}),
    ("bert_cls", "LORA", {"target_modules": ["query"], "task_type": "SEQ_CLS", "trainable_token_indices": [5]}),
    # IA3
    ("llama", "IA3", {}),
    ("llama", "IA3", {"target_modules": ["k_proj", "down_proj"], "feedforward_modules": ["down_proj"]}),
    ("llama", "IA3", {"target_modules": ["k_proj", "down_proj"]}),  # feedforward from peft's table
    ("gpt2", "IA3", {"target_modules": ["c_attn", "c_fc"], "feedforward_modules": ["c_fc"], "fan_in_fan_out": True}),
    ("t5", "IA3", {}),
    ("llama", "IA3", {"target_modules": r".*\.(v_proj|up_proj)", "feedforward_modules": r".*up_proj"}),
    ("custom", "IA3", {"target_modules": ["proj", "conv2", "conv3"], "feedforward_modules": ["conv2"]}),
    # LoHa / LoKr
    ("llama", "LOHA", {"target_modules": LLAMA_ATTN, "r": 4}),
    ("llama", "LOHA", {"target_modules": ["q_proj", "up_proj"], "rank_pattern": {"up_proj": 2}}),
    ("custom", "LOHA", {"target_modules": ["proj", "conv1", "conv2", "pconv"], "r": 2}),
    ("custom", "LOHA", {"target_modules": ["conv1", "conv2"], "r": 2, "use_effective_conv2d": True}),
    ("llama", "LOKR", {"target_modules": LLAMA_ATTN + ["down_proj"], "r": 4}),
    ("llama", "LOKR", {"target_modules": ["q_proj", "up_proj"], "r": 2, "decompose_both": True}),
    ("llama", "LOKR", {"target_modules": ["q_proj", "gate_proj"], "r": 20, "decompose_factor": 4}),
    ("custom", "LOKR", {"target_modules": ["proj", "conv1", "conv2", "pconv"], "r": 2}),
    ("custom", "LOKR", {"target_modules": ["conv1", "conv2"], "r": 1, "use_effective_conv2d": True}),
    # OFT / BOFT
    ("llama", "OFT", {"target_modules": LLAMA_ATTN, "r": 0, "oft_block_size": 4}),
    ("llama", "OFT", {"target_modules": ["q_proj", "down_proj"], "r": 4, "oft_block_size": 0}),
    ("llama", "OFT", {"target_modules": ["down_proj"], "r": 0, "oft_block_size": 5, "block_share": True}),
    ("custom", "OFT", {"target_modules": ["conv2"], "r": 0, "oft_block_size": 8}),
    ("llama", "BOFT", {"target_modules": ["q_proj", "v_proj"], "boft_block_size": 4}),
    ("llama", "BOFT", {"target_modules": ["down_proj"], "boft_block_size": 0, "boft_block_num": 4, "bias": "boft_only"}),
    # VeRA
    ("llama", "VERA", {"target_modules": ["q_proj", "v_proj"], "r": 8}),
    ("gpt2", "VERA", {"target_modules": ["c_attn", "c_fc"], "r": 4, "fan_in_fan_out": True}),
    ("llama", "VERA", {"target_modules": ["gate_proj", "down_proj"], "r": 4, "save_projection": False}),
    # AdaLoRA
    ("llama", "ADALORA", {"target_modules": LLAMA_ATTN, "init_r": 6, "total_step": 10}),
    ("gpt2", "ADALORA", {"target_modules": ["c_attn"], "total_step": 10, "fan_in_fan_out": True}),
    ("custom", "ADALORA", {"target_modules": ["proj", "conv2"], "init_r": 3, "total_step": 10}),
    # HRA / FourierFT
    ("llama", "HRA", {"target_modules": LLAMA_ATTN, "r": 4}),
    ("custom", "HRA", {"target_modules": ["proj", "conv2"], "r": 2, "apply_GS": True, "bias": "hra_only"}),
    ("llama", "FOURIERFT", {"target_modules": ["q_proj", "down_proj"], "n_frequency": 30}),
    ("gpt2", "FOURIERFT", {"target_modules": ["c_attn"], "n_frequency": 50, "fan_in_fan_out": True, "bias": "all"}),
    # TrainableTokens
    ("llama", "TRAINABLE_TOKENS", {"target_modules": ["embed_tokens"], "token_indices": [1, 2, 3]}),
    ("gpt2", "TRAINABLE_TOKENS", {"target_modules": ["wte"], "token_indices": [0, 5]}),
    ("t5", "TRAINABLE_TOKENS", {"target_modules": ["shared"], "token_indices": [4]}),
]


@pytest.mark.parametrize("name,method,kwargs", CASES, ids=[f"{n}-{m}-{i}" for i, (n, m, _) in enumerate(CASES)])
def test_count_equals_peft(models, name, method, kwargs):
    model, inventory = models[name]
    got = _peftlint(inventory, method, kwargs)
    trainable, total, wrapped, saved = _peft(model, _config(method, kwargs))
    assert got.reason == "" or got.adapter_bytes is None, got.reason
    assert (got.trainable, got.all_parameters, got.adapted_modules) == (trainable, total, wrapped)
    if got.adapter_bytes is not None:
        assert got.adapter_bytes == saved * SAVE_BYTES


# options peftlint does not reproduce: no number, a reason (peft itself builds them fine)
NOT_COUNTED = [
    ("llama", "LORA", {"target_modules": ["q_proj"], "layer_replication": [[0, 2]]}, "layer_replication"),
    ("llama", "LORA", {"target_modules": ["q_proj"], "trainable_token_indices": [1, 2]}, "tied"),
    ("llama", "BOFT", {"target_modules": ["q_proj"], "boft_block_size": 2, "boft_n_butterfly_factor": 2},
     "CUDA extension"),
    ("llama", "LOKR", {"target_modules": ["q_proj"], "rank_pattern": {}, "r": 0}, "rank"),
]


@pytest.mark.parametrize("name,method,kwargs,why", NOT_COUNTED, ids=[c[3] for c in NOT_COUNTED])
def test_not_counted_says_why(models, name, method, kwargs, why):
    got = _peftlint(models[name][1], method, kwargs)
    assert got.trainable is None and got.adapted_modules is None and got.all_parameters is None
    assert why in got.reason


def test_lokr_factorization_matches_peft():
    from peft.tuners.lokr.layer import factorization as peft_factorization

    for dim in (*range(1, 100), 768, 1000, 4096):
        for factor in (-1, 1, 2, 3, 4, 8, 16, 64):
            assert factorization(dim, factor) == peft_factorization(dim, factor), (dim, factor)


def test_rank_at_the_smaller_dimension_trains_more_than_the_weight(models):
    """What PFT312 claims: with r >= min(in, out), peft's LoRA layer has more trainable parameters
    than the weight it adapts (proj is 12 -> 20: 240 weights)."""
    model, inventory = models["custom"]
    trainable, _, _, _ = _peft(model, _config("LORA", {"target_modules": ["proj"], "r": 12}))
    assert trainable == 12 * (12 + 20) > 12 * 20
    assert _peftlint(inventory, "LORA", {"target_modules": ["proj"], "r": 12}).trainable == trainable


ODD = [
    ("LORA", {"target_modules": ["proj"], "r": "8"}),
    ("LORA", {"target_modules": ["proj"], "r": True}),
    ("LORA", {"target_modules": ["proj"], "r": 0}),
    ("LORA", {"target_modules": ["proj"], "bias": "some"}),
    ("OFT", {"target_modules": ["proj"], "r": "4", "oft_block_size": 0}),
    ("OFT", {"target_modules": ["proj"], "r": 4, "oft_block_size": 4}),
    ("TRAINABLE_TOKENS", {"target_modules": ["emb"], "token_indices": []}),
    ("FOURIERFT", {"target_modules": ["proj"], "n_frequency": 10 ** 6}),
    ("LORA", {"target_modules": ["nothing_here"]}),
    ("VBLORA", {"target_modules": ["proj"]}),
]


@pytest.mark.parametrize("method,kwargs", ODD, ids=[f"{m}-{i}" for i, (m, _) in enumerate(ODD)])
def test_values_peft_rejects_give_no_number(models, method, kwargs):
    """Values peft refuses (or a method not reproduced): a reason, no number and no exception."""
    got = _peftlint(models["custom"][1], method, kwargs)
    assert got.trainable is None and got.all_parameters is None and got.reason
