"""Tiny diffusion pipelines on disk and LoRA files written by diffusers and peft themselves.

A pipeline is a local directory with ``model_index.json`` and one folder per component holding its
``config.json``; the same config builds the real (randomly initialised) CPU model that diffusers
adapts (``add_adapter``) and saves (``save_lora_weights``), so peftlint's inventory and the saved
file always agree.
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path
from typing import Any

# a two-stage UNet2DConditionModel with cross-attention (the SD 1.x layout, tiny)
TINY_UNET = {
    "_class_name": "UNet2DConditionModel", "_diffusers_version": "0.42.1",
    "block_out_channels": [32, 64], "layers_per_block": 1, "sample_size": 8, "in_channels": 4, "out_channels": 4,
    "down_block_types": ["CrossAttnDownBlock2D", "DownBlock2D"], "up_block_types": ["UpBlock2D", "CrossAttnUpBlock2D"],
    "cross_attention_dim": 32, "attention_head_dim": 8, "norm_num_groups": 8,
}
TINY_CLIP = {
    "architectures": ["CLIPTextModel"], "model_type": "clip_text_model", "hidden_size": 32, "intermediate_size": 64,
    "num_attention_heads": 4, "num_hidden_layers": 2, "vocab_size": 100, "max_position_embeddings": 16,
    "projection_dim": 32, "bos_token_id": 0, "eos_token_id": 2, "pad_token_id": 1,
}


def pipeline_dir(root: Path, name: str = "tiny-sd", unet: dict[str, Any] | None = None,
                 text_encoder: dict[str, Any] | None = None) -> Path:
    d = root / name
    (d / "unet").mkdir(parents=True, exist_ok=True)
    (d / "text_encoder").mkdir(parents=True, exist_ok=True)
    (d / "model_index.json").write_text(json.dumps({
        "_class_name": "StableDiffusionPipeline", "_diffusers_version": "0.42.1",
        "unet": ["diffusers", "UNet2DConditionModel"], "text_encoder": ["transformers", "CLIPTextModel"],
        "tokenizer": ["transformers", "CLIPTokenizer"], "scheduler": ["diffusers", "PNDMScheduler"],
        "safety_checker": [None, None],
    }, indent=2), encoding="utf-8")
    (d / "unet" / "config.json").write_text(json.dumps(unet or TINY_UNET, indent=2), encoding="utf-8")
    (d / "text_encoder" / "config.json").write_text(json.dumps(text_encoder or TINY_CLIP, indent=2), encoding="utf-8")
    return d


def real_unet(config: dict[str, Any] | None = None):
    import torch
    from diffusers import UNet2DConditionModel

    torch.manual_seed(0)
    return UNet2DConditionModel.from_config({k: v for k, v in (config or TINY_UNET).items() if not k.startswith("_")})


def real_text_encoder(config: dict[str, Any] | None = None):
    import torch
    import transformers

    torch.manual_seed(0)
    cfg = dict(config or TINY_CLIP)
    cfg.pop("architectures")
    cls = getattr(transformers, (config or TINY_CLIP)["architectures"][0])
    return cls(transformers.AutoConfig.for_model(cfg.pop("model_type"), **cfg))


def save_diffusers_lora(out: Path, unet_targets: Any, *, r: int = 4, text_encoder_targets: Any = None,
                        metadata: bool = True, diffusers_format: bool = False, unet=None) -> Path:
    """``unet.add_adapter`` (+ the text encoder's), then ``StableDiffusionPipeline.save_lora_weights``,
    as diffusers' DreamBooth / text-to-image LoRA scripts do."""
    from diffusers import StableDiffusionPipeline
    from diffusers.utils import convert_state_dict_to_diffusers
    from peft import LoraConfig
    from peft.utils import get_peft_model_state_dict

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        unet = unet if unet is not None else real_unet()
        unet_cfg = LoraConfig(r=r, lora_alpha=r, init_lora_weights="gaussian", target_modules=unet_targets)
        unet.add_adapter(unet_cfg)
        layers = get_peft_model_state_dict(unet)
        kwargs: dict[str, Any] = {}
        if diffusers_format:
            layers = convert_state_dict_to_diffusers(layers)
        if metadata:
            kwargs["unet_lora_adapter_metadata"] = unet.peft_config["default"].to_dict()
        if text_encoder_targets is not None:
            from peft import inject_adapter_in_model

            # what transformers' add_adapter does (it wants a newer peft than the pinned one)
            te = real_text_encoder()
            te_cfg = LoraConfig(r=r, lora_alpha=r, target_modules=text_encoder_targets)
            inject_adapter_in_model(te_cfg, te)
            kwargs["text_encoder_lora_layers"] = get_peft_model_state_dict(te)
            if metadata:
                kwargs["text_encoder_lora_adapter_metadata"] = te_cfg.to_dict()
        StableDiffusionPipeline.save_lora_weights(out, unet_lora_layers=layers, **kwargs)
    return out / "pytorch_lora_weights.safetensors"
