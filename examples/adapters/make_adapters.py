"""Regenerate the saved adapters in this folder with real peft ``save_pretrained`` (CPU, no download).

    python examples/adapters/make_adapters.py

- ``smollm2-lora/``: a LoRA (r=4 on q_proj/v_proj) for HuggingFaceTB/SmolLM2-135M, built from the
  config bundled with peftlint (random init, nothing trained). ``peftlint`` says it fits.
- ``wrong-base-lora/``: a LoRA (r=4 on v_proj) trained on a Qwen2.5-0.5B-shaped model
  (``base-configs/``) whose ``adapter_config.json`` names SmolLM2-135M as its base (the model id
  came from the other run's script). ``peftlint`` reports PFT402: ``PeftModel.from_pretrained`` on SmolLM2 fails with
  ``size mismatch``.

Adapters are saved in bfloat16 (``autocast_adapter_dtype=False`` on a bfloat16 model) to keep the
files small.
"""

from __future__ import annotations

import json
from pathlib import Path

HERE = Path(__file__).resolve().parent
SMOL = "HuggingFaceTB/SmolLM2-135M"


def _bundled_config(model_id: str) -> dict:
    from peftlint.model.resolve import ResolveOptions, resolve

    return dict(resolve(model_id, options=ResolveOptions()).config)


def _save(config_dict: dict, name_or_path: str, out: Path, lora: object) -> None:
    import torch
    from peft import get_peft_model
    from transformers import AutoConfig, AutoModelForCausalLM

    cfg = AutoConfig.for_model(**config_dict)
    torch.manual_seed(0)
    model = AutoModelForCausalLM.from_config(cfg, dtype=torch.bfloat16)
    model.name_or_path = name_or_path  # what save_pretrained writes as base_model_name_or_path
    peft_model = get_peft_model(model, lora, autocast_adapter_dtype=False)
    peft_model.save_pretrained(out)


def main() -> None:
    from peft import LoraConfig

    # peftlint: model=HuggingFaceTB/SmolLM2-135M
    smol_lora = LoraConfig(r=4, lora_alpha=8, target_modules=["q_proj", "v_proj"], task_type="CAUSAL_LM")
    _save(_bundled_config(SMOL), SMOL, HERE / "smollm2-lora", smol_lora)

    # peftlint: model=base-configs/qwen2.5-0.5b
    qwen_lora = LoraConfig(r=4, lora_alpha=8, target_modules=["v_proj"], task_type="CAUSAL_LM")
    qwen = json.loads((HERE / "base-configs" / "qwen2.5-0.5b" / "config.json").read_text())
    # trained on Qwen2.5-0.5B, but saved with SmolLM2-135M as its base model name
    _save(qwen, SMOL, HERE / "wrong-base-lora", qwen_lora)


if __name__ == "__main__":
    main()
