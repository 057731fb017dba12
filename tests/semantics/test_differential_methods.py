"""methods.py's support matrix (PFT103) against the installed peft, one module kind at a time.

For every method row in ``SUPPORTED_KINDS`` (and the methods that never raise), a small custom
model holding one module of each kind is adapted with only that module as target: peft must
raise exactly where ``supported_kinds`` says the kind is not supported.
"""

from __future__ import annotations

import warnings

import pytest

from peftlint.model import inventory as inv
from peftlint.semantics.methods import NEVER_RAISES, SUPPORTED_KINDS, supported_kinds

D = 64

# module name in the test model -> inventory kind
KIND_OF = {
    "lin": inv.LINEAR,
    "emb": inv.EMBEDDING,
    "gconv": inv.CONV1D_GPT2,
    "conv1": inv.CONV1D,
    "conv2": inv.CONV2D,
    "conv3": inv.CONV3D,
    "mha": inv.MHA,
    "norm": inv.NORM,
    "seq": inv.CONTAINER,
}

# Extra arguments some configs need to be constructible for 64-wide layers.
EXTRA_ARGS = {
    "ADALORA": {"total_step": 10},
    "BOFT": {"boft_block_size": 4},
    "OFT": {"r": 0, "oft_block_size": 4},
    "VBLORA": {"vector_length": 4, "num_vectors": 16},
    "FOURIERFT": {"n_frequency": 16},
    "C3A": {"block_size": 4},
    "HRA": {"r": 2},
    "IA3": {"feedforward_modules": []},
    "TRAINABLE_TOKENS": {"token_indices": [0, 1]},
}


def _model():
    import torch.nn as nn
    from transformers.pytorch_utils import Conv1D

    class Net(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.lin = nn.Linear(D, D)
            self.emb = nn.Embedding(D, D)
            self.gconv = Conv1D(D, D)
            self.conv1 = nn.Conv1d(D, D, 1)
            self.conv2 = nn.Conv2d(D, D, 1)
            self.conv3 = nn.Conv3d(D, D, 1)
            self.mha = nn.MultiheadAttention(D, 4)
            self.norm = nn.LayerNorm(D)
            self.seq = nn.Sequential(nn.Linear(D, D))

    return Net()


def _config(method: str, target: str):
    from peft.mapping import PEFT_TYPE_TO_CONFIG_MAPPING

    cls = next(c for t, c in PEFT_TYPE_TO_CONFIG_MAPPING.items() if str(getattr(t, "value", t)) == method)
    kwargs = {"target_modules": [target], **EXTRA_ARGS.get(method, {})}
    return cls(**kwargs)


def _accepts(method: str, target: str) -> tuple[bool, str]:
    from peft import get_peft_model

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            cfg = _config(method, target)
        except ImportError as exc:  # optional dependency of the method (AdaMSS needs scikit-learn)
            pytest.skip(f"{method}: {exc}")
        try:
            get_peft_model(_model(), cfg)
        except Exception as exc:  # noqa: BLE001 - any refusal counts; the text is reported on mismatch
            return False, f"{type(exc).__name__}: {str(exc).splitlines()[0][:120]}"
    return True, ""


METHODS = sorted(SUPPORTED_KINDS)


@pytest.mark.parametrize("method", METHODS)
def test_support_matrix_matches_peft(method):
    kinds = supported_kinds(method)
    ok, why = _accepts(method, "lin" if inv.LINEAR in kinds else "emb")
    assert ok, f"{method} cannot even adapt its first supported kind: {why}"
    wrong = []
    for name, kind in KIND_OF.items():
        accepted, why = _accepts(method, name)
        if accepted != (kind in kinds):
            wrong.append(f"{kind}: peft {'accepts' if accepted else 'rejects (' + why + ')'}, "
                         f"methods.py says {'supported' if kind in kinds else 'unsupported'}")
    assert not wrong, f"{method}:\n" + "\n".join(wrong)


@pytest.mark.parametrize("method", ["LN_TUNING", "OSF"])
def test_methods_that_never_raise(method):
    from peft import get_peft_model
    from peft.tuners.tuners_utils import BaseTunerLayer

    from peftlint.semantics.methods import SILENT_KINDS

    assert method in NEVER_RAISES and supported_kinds(method) is None
    for name, kind in KIND_OF.items():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            pm = get_peft_model(_model(), _config(method, name))
        layers = {n for n, m in pm.base_model.model.named_modules() if isinstance(m, BaseTunerLayer)}
        assert name in pm.base_model.targeted_module_names  # reported as targeted either way
        if method == "OSF":  # an adapter only on the kinds it supports; the rest is skipped silently
            assert (name in layers) == (kind in SILENT_KINDS[method]), f"OSF on {kind}"
        else:  # LN-Tuning wraps (a full trainable copy of) anything
            assert name in layers, f"LN-Tuning on {kind}"


def test_dora_rejects_mha_only():
    from peft import LoraConfig, get_peft_model

    kinds = supported_kinds("LORA", use_dora=True)
    for name, kind in KIND_OF.items():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                get_peft_model(_model(), LoraConfig(target_modules=[name], use_dora=True))
                accepted = True
            except Exception:  # noqa: BLE001
                accepted = False
        assert accepted == (kind in kinds), f"DoRA on {kind}: peft {'accepts' if accepted else 'rejects'}"


# -- the other targeting fields, against peft on bundled meta models -------------------------------

FIELD_CASES = [
    ("HuggingFaceTB/SmolLM2-135M", "LlamaForCausalLM", [
        {"target_modules": ["q_proj", "v_proj"], "exclude_modules": ["layers.0.self_attn.q_proj"]},
        {"target_modules": "all-linear", "exclude_modules": r".*\.mlp\..*"},
        {"target_modules": "all-linear", "exclude_modules": ["mlp", "o_proj"]},
        {"target_modules": ["q_proj", "lm_head"], "modules_to_save": ["lm_head"]},
        {"target_modules": "all-linear", "modules_to_save": ["mlp"]},
        {"target_modules": ["q_proj"], "modules_to_save": ["head", "nothing"]},
        {"target_modules": ["q_proj", "v_proj"], "layers_to_transform": [0, 29, 30]},
        {"target_modules": ["q_proj", "v_proj"], "layers_to_transform": 3, "layers_pattern": "layers"},
        {"target_modules": ["model.layers.0.self_attn.q_proj", "v_proj", "embed_tokens"], "layers_to_transform": [1]},
        {"target_modules": ["q_proj"], "task_type": "SEQ_CLS"},
    ]),
    ("gpt2", "GPT2LMHeadModel", [
        {"target_modules": ["c_attn", "c_proj"], "layers_to_transform": [0, 1], "layers_pattern": "h"},
        {"target_modules": ["c_attn"], "exclude_modules": ["h.0.attn.c_attn"], "modules_to_save": ["ln_f"]},
    ]),
    ("t5-small", "T5ForConditionalGeneration", [
        {"target_modules": ["q", "v"], "layers_to_transform": [0]},
        {"target_modules": ["q", "v"], "exclude_modules": ["EncDecAttention.q"]},
    ]),
    ("Qwen/Qwen1.5-MoE-A2.7B", "Qwen2MoeForCausalLM", [
        {"target_modules": ["q_proj"], "target_parameters": ["mlp.experts.down_proj", "0.mlp.experts.gate_up_proj"]},
        {"target_modules": [], "target_parameters": ["gate.weight"], "exclude_modules": ["experts"]},
    ]),
]


def _wrapped(pm) -> set[str]:
    return {n.removesuffix(".modules_to_save.default") for n, _ in pm.base_model.model.named_modules()
            if n.endswith(".modules_to_save.default")}


@pytest.mark.parametrize("hub_id,cls,cases", FIELD_CASES, ids=[c[0] for c in FIELD_CASES])
def test_fields_agree_with_peft(hub_id, cls, cases):
    from peft import LoraConfig, get_peft_model
    from support.oracle import built_inventory as inventory
    from support.oracle import fresh, wrapped_parameters

    from peftlint.semantics.matching import PeftView, compute_targeting, wrapper_matches

    inv_ = inventory(hub_id)
    failures = []
    for kw in cases:
        t = compute_targeting(PeftView(method="LORA", **kw), inv_)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                pm = get_peft_model(fresh(hub_id, cls), LoraConfig(r=2, **kw))
            except ValueError as exc:
                if t.targeted or t.parameters_targeted:
                    failures.append(f"{kw}: peft raised {exc}, peftlint targets {len(t.targeted)} modules")
                continue
        if set(t.targeted) != set(pm.base_model.targeted_module_names):
            failures.append(f"{kw}: targeted differ {sorted(set(t.targeted) ^ set(pm.base_model.targeted_module_names))[:4]}")
        if set(t.parameters_targeted) != wrapped_parameters(pm):
            failures.append(f"{kw}: parameters differ")
        expected_wrapped = {n for n in inv_.names() if any(wrapper_matches(m, n) for m in t.modules_to_save)}
        if expected_wrapped != _wrapped(pm):
            failures.append(f"{kw}: wrapped {sorted(_wrapped(pm))[:4]} vs ours {sorted(expected_wrapped)[:4]}")
    assert not failures, "\n".join(failures)
