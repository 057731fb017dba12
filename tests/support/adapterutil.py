"""Real saved adapters for the weight tests: tiny CPU models, real peft ``save_pretrained``.

A base model is a local directory holding only ``config.json``; peftlint builds its inventory from
that config, and the same config builds the real (randomly initialised) CPU model that peft adapts
and saves, so the two always agree.
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path
from typing import Any

LLAMA = {
    "architectures": ["LlamaForCausalLM"], "model_type": "llama", "hidden_size": 64,
    "intermediate_size": 128, "num_hidden_layers": 2, "num_attention_heads": 4, "num_key_value_heads": 2,
    "vocab_size": 100, "max_position_embeddings": 128, "tie_word_embeddings": False,
}
GPT2 = {
    "architectures": ["GPT2LMHeadModel"], "model_type": "gpt2", "n_embd": 64, "n_layer": 2, "n_head": 4,
    "vocab_size": 100, "n_positions": 128,
}
T5 = {
    "architectures": ["T5ForConditionalGeneration"], "model_type": "t5", "d_model": 64, "d_ff": 128, "d_kv": 16,
    "num_heads": 4, "num_layers": 2, "num_decoder_layers": 2, "vocab_size": 100, "decoder_start_token_id": 0,
}
MIXTRAL = {
    "architectures": ["MixtralForCausalLM"], "model_type": "mixtral", "hidden_size": 32, "intermediate_size": 48,
    "num_hidden_layers": 2, "num_attention_heads": 4, "num_key_value_heads": 2, "num_local_experts": 4,
    "num_experts_per_tok": 2, "vocab_size": 100, "max_position_embeddings": 128,
}


def model_dir(root: Path, name: str, config: dict[str, Any], **overrides: Any) -> Path:
    d = root / name
    d.mkdir(parents=True, exist_ok=True)
    (d / "config.json").write_text(json.dumps({**config, **overrides}, indent=2), encoding="utf-8")
    return d


def build_model(base_dir: Path, auto_class: str | None = None, **config_kwargs: Any) -> Any:
    """The real CPU model for a config directory (random weights, fixed seed)."""
    import torch
    import transformers
    from transformers import AutoConfig

    cfg = AutoConfig.from_pretrained(base_dir, **config_kwargs)
    torch.manual_seed(0)
    if auto_class is None:
        auto_class = "AutoModelForSeq2SeqLM" if cfg.model_type == "t5" else "AutoModelForCausalLM"
    model = getattr(transformers, auto_class).from_config(cfg)
    model.name_or_path = str(base_dir)  # save_pretrained writes it as base_model_name_or_path
    return model


def save_adapter(base_dir: Path, out: Path, adapter_name: str = "default", safe: bool = True,
                 extra_adapters: dict[str, Any] | None = None, config_class: str = "LoraConfig",
                 auto_class: str | None = None, config_kwargs: dict[str, Any] | None = None, **lora: Any) -> Path:
    """Train nothing, save an adapter for the model in ``base_dir`` with peft's own save_pretrained."""
    import peft
    from peft import LoraConfig, get_peft_model

    model = build_model(base_dir, auto_class, **(config_kwargs or {}))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        peft_model = get_peft_model(model, getattr(peft, config_class)(**lora), adapter_name=adapter_name)
        for name, cfg in (extra_adapters or {}).items():
            peft_model.add_adapter(name, LoraConfig(**cfg))
        peft_model.save_pretrained(out, safe_serialization=safe)
    return out


def load_onto(base_dir: Path, adapter: Path, auto_class: str | None = None, **config_kwargs: Any) -> list[str]:
    """Load a saved adapter with ``PeftModel.from_pretrained``; the warnings it gave (raises on failure)."""
    from peft import PeftModel

    model = build_model(base_dir, auto_class, **config_kwargs)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        PeftModel.from_pretrained(model, adapter)
    return [str(w.message) for w in caught]


def edit_config(adapter: Path, **changes: Any) -> None:
    p = adapter / "adapter_config.json"
    data = json.loads(p.read_text(encoding="utf-8"))
    data.update(changes)
    p.write_text(json.dumps(data, indent=2, sort_keys=True), encoding="utf-8")


def header(path: Path) -> tuple[int, dict]:
    raw = path.read_bytes()
    n = int.from_bytes(raw[:8], "little")
    return n, json.loads(raw[8:8 + n])


def write_with_header(src: Path, dst: Path, head: dict) -> None:
    """Copy a safetensors file with a rewritten JSON header (same data bytes)."""
    n, _ = header(src)
    data = src.read_bytes()[8 + n:]
    text = json.dumps(head).encode("utf-8")
    text += b" " * (-len(text) % 8)
    dst.write_bytes(len(text).to_bytes(8, "little") + text + data)
