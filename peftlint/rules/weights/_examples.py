"""Tiny saved adapters for the PFT4xx rule examples (written with safetensors' own serializer).

The examples use a 2-layer llama-shaped base model given as a local directory holding only its
``config.json`` (hidden 64, 4 heads, 2 key/value heads: ``v_proj`` is Linear(64 -> 32)). numpy is not
imported: the bytes come from ``safetensors.serialize`` over zero-filled ctypes buffers.
"""

from __future__ import annotations

import ctypes
import json

BASE_DIR = "tiny-llama"
BASE_CONFIG = json.dumps({
    "architectures": ["LlamaForCausalLM"],
    "model_type": "llama",
    "hidden_size": 64,
    "intermediate_size": 128,
    "num_hidden_layers": 2,
    "num_attention_heads": 4,
    "num_key_value_heads": 2,
    "vocab_size": 100,
    "max_position_embeddings": 128,
    "tie_word_embeddings": True,
}, indent=2)
BASE_FILE = (f"{BASE_DIR}/config.json", BASE_CONFIG)

_BYTES = {"F32": 4, "BF16": 2, "F16": 2}
_NAMES = {"F32": "float32", "BF16": "bfloat16", "F16": "float16"}


def safetensors_bytes(shapes: dict[str, tuple[int, ...]], dtype: str = "F32") -> bytes:
    """A valid safetensors file of zero-filled tensors with these names and shapes."""
    from safetensors import TensorSpec, serialize

    buffers, specs = [], {}
    for name, shape in shapes.items():
        n = _BYTES[dtype]
        for d in shape:
            n *= d
        buf = ctypes.create_string_buffer(max(n, 1))
        buffers.append(buf)  # kept alive until serialize returns
        specs[name] = TensorSpec(dtype=_NAMES[dtype], shape=list(shape), data_ptr=ctypes.addressof(buf), data_len=n)
    return bytes(serialize(specs, metadata={"format": "pt"}))


def lora_shapes(r: int = 4, hidden: int = 64, kv: int = 32, layers: int = 2,
                modules: tuple[str, ...] = ("q_proj", "v_proj")) -> dict[str, tuple[int, ...]]:
    out_dim = {"q_proj": hidden, "k_proj": kv, "v_proj": kv, "o_proj": hidden}
    shapes: dict[str, tuple[int, ...]] = {}
    for i in range(layers):
        for m in modules:
            p = f"base_model.model.model.layers.{i}.self_attn.{m}"
            shapes[f"{p}.lora_A.weight"] = (r, hidden)
            shapes[f"{p}.lora_B.weight"] = (out_dim[m], r)
    return shapes


def adapter_config(r: int = 4, base: str = f"./{BASE_DIR}", targets: tuple[str, ...] = ("q_proj", "v_proj"),
                   **extra: object) -> str:
    """An adapter_config.json as PEFT writes it (the fields that matter here, sorted)."""
    cfg: dict[str, object] = {
        "base_model_name_or_path": base,
        "bias": "none",
        "lora_alpha": 2 * r,
        "lora_dropout": 0.0,
        "peft_type": "LORA",
        "r": r,
        "target_modules": list(targets),
        "task_type": "CAUSAL_LM",
    }
    cfg.update(extra)
    return json.dumps(dict(sorted(cfg.items())), indent=2) + "\n"


GOOD_WEIGHTS = safetensors_bytes(lora_shapes())
