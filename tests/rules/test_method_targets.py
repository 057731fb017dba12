"""Methods that take no target_modules (prompt learning), whose targets mean something else
(AdaptionPrompt) or whose purpose is the embedding (TrainableTokens): peft builds each of them on
the model, and peftlint reports no missing default targets and no adapted embedding."""

from __future__ import annotations

import warnings

import pytest
from support.adapterutil import LLAMA, model_dir, save_adapter
from support.lintutil import lint, run_cli
from support.oracle import fresh

SMOL = "HuggingFaceTB/SmolLM2-135M"
TARGET_CODES = ("PFT101", "PFT102", "PFT103", "PFT104", "PFT105", "PFT106", "PFT107")

CONFIGS = [
    ("PrefixTuningConfig", {"task_type": "CAUSAL_LM", "num_virtual_tokens": 8}),
    ("PromptTuningConfig", {"task_type": "CAUSAL_LM", "num_virtual_tokens": 8}),
    ("PromptEncoderConfig", {"task_type": "CAUSAL_LM", "num_virtual_tokens": 8, "encoder_hidden_size": 32}),
    ("AdaptionPromptConfig", {"task_type": "CAUSAL_LM", "adapter_len": 4, "adapter_layers": 2}),
    ("TrainableTokensConfig", {"token_indices": [0, 1, 2]}),
    ("TrainableTokensConfig", {"token_indices": [0, 1, 2], "target_modules": ["embed_tokens"]}),
]


@pytest.mark.parametrize("cls,kwargs", CONFIGS)
def test_peft_builds_it_on_the_meta_model(cls, kwargs):
    import peft

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        pm = peft.get_peft_model(fresh(SMOL, "LlamaForCausalLM"), getattr(peft, cls)(**kwargs))
    assert pm.peft_config["default"].peft_type.value == getattr(peft, cls)(**kwargs).peft_type.value


@pytest.mark.parametrize("cls,kwargs", CONFIGS[3:])  # the Python reader reads the classes with target_modules
def test_python_config_gives_no_target_findings(tmp_path, cls, kwargs):
    args = ", ".join(f"{k}={v!r}" for k, v in kwargs.items())
    (tmp_path / "train.py").write_text(f"from peft import {cls}\n\n# peftlint: model={SMOL}\nconfig = {cls}({args})\n")
    code, out = run_cli(["check", "."], tmp_path)
    assert "1 config, 1 checked (100 %)" in out
    assert [d for d in lint(tmp_path, ".") if d["code"] in TARGET_CODES] == []


@pytest.mark.parametrize("cls,kwargs", CONFIGS)
def test_saved_adapter_gives_no_target_findings(tmp_path, cls, kwargs):
    base = model_dir(tmp_path, "llama", LLAMA)
    out = save_adapter(base, tmp_path / "adapter", config_class=cls, **kwargs)
    found = lint(tmp_path, str(out))
    assert [d for d in found if d["code"] in TARGET_CODES] == []
