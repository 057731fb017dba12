"""The static print_trainable_parameters(): the line under each checked config of `--show-configs`,
the JSON fields, and `peftlint modules MODEL --adapter-config PATH`; the numbers are peft's own
(get_peft_model on the same bundled model, built on the meta device)."""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import pytest
from support.lintutil import run_cli

SMOL = "HuggingFaceTB/SmolLM2-135M"
CODE = f'''from peft import LoraConfig, get_peft_model
from transformers import AutoModelForCausalLM

model = AutoModelForCausalLM.from_pretrained("{SMOL}")
config = LoraConfig(r=4, target_modules=["q_proj", "v_proj"], use_dora=True)
other = LoraConfig(target_modules=["q_proj"], layer_replication=[[0, 2]])
'''


@pytest.fixture(scope="module")
def peft_count() -> tuple[int, int]:
    """(trainable, all) of the first config on SmolLM2-135M, as peft counts them."""
    import torch
    import transformers
    from peft import LoraConfig, get_peft_model
    from support.helpers_hf import bundled_config

    cfg = bundled_config("HuggingFaceTB--SmolLM2-135M.json")
    config = transformers.AutoConfig.for_model(cfg["model_type"], **{k: v for k, v in cfg.items() if k != "model_type"})
    with torch.device("meta"), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = transformers.LlamaForCausalLM._from_config(config)
        pm = get_peft_model(model, LoraConfig(r=4, target_modules=["q_proj", "v_proj"], use_dora=True))
    return pm.get_nb_trainable_parameters()


def test_show_configs_prints_peft_line_for_each_checked_config(tmp_path: Path, peft_count):
    (tmp_path / "train.py").write_text(CODE, encoding="utf-8")
    trainable, total = peft_count
    for _ in range(2):  # the second run replays the result cache: the counts are kept
        code, out = run_cli(["check", "--show-configs", "."], tmp_path)
        lines = out.splitlines()
        assert code == 0
        assert lines[0].startswith(f"train.py:5:10: LoraConfig: checked against {SMOL}")
        assert lines[1].startswith(f"    trainable params: {trainable:,d} || all params: {total:,d} || "
                                   f"trainable%: {100 * trainable / total:.4f} (60 modules adapted, adapter file ~")
        assert lines[2].startswith("train.py:6:9: LoraConfig: checked against")
        assert lines[3] == "    trainable params: not computed (LoRA with layer_replication is not counted)"


def test_show_configs_json_carries_integer_fields(tmp_path: Path, peft_count):
    (tmp_path / "train.py").write_text(CODE, encoding="utf-8")
    code, out = run_cli(["check", "--show-configs", "--output-format", "json", "."], tmp_path)
    first, second = json.loads(out)
    trainable, total = peft_count
    assert first["trainable_parameters"] == trainable and first["all_parameters"] == total
    assert first["adapted_modules"] == 60  # q_proj and v_proj of 30 layers
    assert first["adapter_bytes"] == 4 * trainable  # float32, nothing else saved
    assert first["trainable_percent"] == round(100 * trainable / total, 4) and first["parameters_note"] is None
    assert second["trainable_parameters"] is None and second["adapted_modules"] is None
    assert second["parameters_note"] == "LoRA with layer_replication is not counted"


def test_unchecked_config_has_no_count(tmp_path: Path):
    (tmp_path / "c.py").write_text("from peft import LoraConfig\nc = LoraConfig(target_modules=['q_proj'])\n")
    code, out = run_cli(["check", "--show-configs", "--output-format", "json", "."], tmp_path)
    (site,) = json.loads(out)
    assert not site["checked"] and site["trainable_parameters"] is None and site["parameters_note"] is None


def test_modules_with_adapter_config(tmp_path: Path):
    (tmp_path / "adapter").mkdir()
    (tmp_path / "adapter" / "adapter_config.json").write_text(json.dumps({
        "peft_type": "LORA", "r": 8, "target_modules": ["c_attn", "c_proj"], "fan_in_fan_out": True,
        "base_model_name_or_path": "gpt2", "inference_mode": True}))  # as save_pretrained writes it
    code, out = run_cli(["modules", "gpt2", "--adapter-config", "adapter"], tmp_path)
    # counted as loaded for training (is_trainable=True), not as the frozen inference_mode it was saved with
    # r * (in + out) over 12 x (c_attn 768->2304, attn c_proj 768->768, mlp c_proj 3072->768)
    assert code == 0 and out.splitlines()[-2:] == [
        "adapter (LoRA):",
        "  trainable params: 811,008 || all params: 125,250,816 || trainable%: 0.6475 "
        "(36 modules adapted, adapter file ~3.1 MB (float32))"]
    code, out = run_cli(["modules", "gpt2", "--adapter-config", "adapter", "--format", "json"], tmp_path)
    adapter = json.loads(out)["adapter"]
    assert (adapter["trainable_parameters"], adapter["adapted_modules"], adapter["adapter_bytes"]) == \
        (811008, 36, 811008 * 4)


def test_modules_with_a_file_that_is_not_an_adapter_config(tmp_path: Path):
    (tmp_path / "x.json").write_text("[1, 2]")
    code, out = run_cli(["modules", "gpt2", "--adapter-config", "x.json"], tmp_path)
    assert code == 2 and "an adapter config must be a JSON object" in out
