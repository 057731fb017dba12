"""A tower class loaded from a composite repository (``CLIPVisionModel.from_pretrained`` on a CLIP
repo, as LLaVA and xtuner's LLaVA configs do): transformers builds the tower from the sub-config
(``vision_config``), so peftlint must too. It built the whole CLIPModel through an auto class
instead, which failed on the meta device: the config was not checked. Judged by transformers'
own ``config_class.from_pretrained`` on the same folder."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from support.lintutil import lint

from peftlint.model.build import build_inventory
from peftlint.model.resolve import Resolved

VISION = {"hidden_size": 16, "intermediate_size": 32, "num_hidden_layers": 2, "num_attention_heads": 2,
          "image_size": 28, "patch_size": 14}
TEXT = {"hidden_size": 16, "intermediate_size": 32, "num_hidden_layers": 2, "num_attention_heads": 2,
        "vocab_size": 64}
REPOS = {
    "CLIPVisionModel": {"model_type": "clip", "architectures": ["CLIPModel"], "projection_dim": 8,
                        "vision_config": VISION, "text_config": TEXT},
    "CLIPTextModel": {"model_type": "clip", "architectures": ["CLIPModel"], "projection_dim": 8,
                      "vision_config": VISION, "text_config": TEXT},
    "SiglipVisionModel": {"model_type": "siglip", "architectures": ["SiglipModel"], "vision_config": VISION,
                          "text_config": TEXT},
}


@pytest.mark.parametrize("cls_name", sorted(REPOS))
def test_tower_inventory_is_what_transformers_builds(tmp_path: Path, cls_name: str) -> None:
    import torch
    import transformers

    config = REPOS[cls_name]
    (tmp_path / "config.json").write_text(json.dumps(config))
    cls = getattr(transformers, cls_name)
    with torch.device("meta"):
        model = cls._from_config(cls.config_class.from_pretrained(str(tmp_path)))
    resolved = Resolved(ref="acme/tiny", label="acme/tiny", config=config, config_text=json.dumps(config),
                        source="local", location=str(tmp_path / "config.json"))
    inventory = build_inventory(resolved, cls_name)
    assert {m.name for m in inventory.modules} == {n for n, _ in model.named_modules() if n}


def test_llava_vision_tower_config_is_checked(tmp_path: Path) -> None:
    (tmp_path / "clip").mkdir()
    (tmp_path / "clip" / "config.json").write_text(json.dumps(REPOS["CLIPVisionModel"]))
    (tmp_path / "train.py").write_text(
        "from peft import LoraConfig, get_peft_model\nfrom transformers import CLIPVisionModel\n\n"
        "tower = CLIPVisionModel.from_pretrained('./clip')\n"
        "tower = get_peft_model(tower, LoraConfig(target_modules=['q_proj', 'qkv']))\n")
    got = [(d["code"], d["line"], d["subject"]) for d in lint(tmp_path, "train.py") if d["severity"] != "info"]
    assert got == [("PFT101", 5, "qkv")]
