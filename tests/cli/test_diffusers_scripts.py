"""`peftlint` on diffusers training scripts: each loading pattern reaches the bundled component and
its configs get the same findings as LLM configs."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest
from support.lintutil import lint

# find_spec, not an import: importing diffusers at collection would import huggingface_hub before
# the test session points its cache at an empty directory
pytestmark = pytest.mark.skipif(importlib.util.find_spec("diffusers") is None, reason="diffusers is not installed")

SD15 = "stable-diffusion-v1-5/stable-diffusion-v1-5"
SD3 = "stabilityai/stable-diffusion-3-medium-diffusers"
FLUX = "black-forest-labs/FLUX.1-dev"
SDXL = "stabilityai/stable-diffusion-xl-base-1.0"
UNET_TARGETS = '["to_k", "to_q", "to_v", "to_out"]'

SCRIPT = f"""\
import argparse

import diffusers
from diffusers import AutoModel, DiffusionPipeline, SD3Transformer2DModel, StableDiffusionPipeline
from diffusers.models import UNet2DConditionModel
from peft import LoraConfig, get_peft_model, inject_adapter_in_model
from transformers import CLIPTextModel

unet = UNet2DConditionModel.from_pretrained("{SD15}", subfolder="unet")
unet.add_adapter(LoraConfig(r=4, target_modules={UNET_TARGETS}))

auto_unet = AutoModel.from_pretrained("{SD15}", subfolder="unet")
auto_unet = get_peft_model(auto_unet, LoraConfig(r=4, target_modules=["to_k", "to_q", "to_v", "to_out.0"]))

pipe = StableDiffusionPipeline.from_pretrained("{SD15}")
pipe.unet.add_adapter(adapter_config=LoraConfig(target_modules={UNET_TARGETS}), adapter_name="subject")
inject_adapter_in_model(LoraConfig(target_modules=["q_proj", "k_proj", "v_proj", "out_proj"]), pipe.text_encoder)

sd3 = SD3Transformer2DModel.from_pretrained("{SD3}", subfolder="transformer")
sd3.add_adapter(LoraConfig(target_modules=["to_q", "attn1.to_k", "proj_in"]))

flux = diffusers.FluxTransformer2DModel.from_pretrained("{FLUX}", subfolder="transformer")
flux.add_adapter(LoraConfig(target_modules=["to_q", "add_q_proj", "ff.net.0.proj", "proj_mlp", "attn2.to_k"]))

text_encoder = CLIPTextModel.from_pretrained("{SD15}", subfolder="text_encoder")
text_encoder.add_adapter(LoraConfig(target_modules=["q_proj", "v_proj", "to_q"]))

xl = DiffusionPipeline.from_pretrained("{SDXL}")
text_encoder_2 = xl.text_encoder_2
get_peft_model(text_encoder_2, LoraConfig(target_modules=["q_proj", "out_proj"]))
"""


def _line(text: str, script: str = SCRIPT) -> int:
    return next(i for i, line in enumerate(script.splitlines(), start=1) if text in line)


def test_every_loading_pattern_reaches_its_component(tmp_path: Path) -> None:
    (tmp_path / "train.py").write_text(SCRIPT, encoding="utf-8")
    found = lint(tmp_path, "--select", "ALL", "train.py")
    errors = sorted((d["line"], d["code"], d["subject"], d["model"]) for d in found if d["severity"] != "info")
    assert errors == [
        (_line("unet.add_adapter(LoraConfig"), "PFT103", "to_out", f"{SD15}:unet"),
        (_line("pipe.unet.add_adapter"), "PFT103", "to_out", f"{SD15}:unet"),
        (_line('"attn1.to_k"'), "PFT101", "attn1.to_k", f"{SD3}:transformer"),
        (_line('"attn1.to_k"'), "PFT101", "proj_in", f"{SD3}:transformer"),
        (_line('"attn2.to_k"'), "PFT101", "attn2.to_k", f"{FLUX}:transformer"),
        (_line('text_encoder.add_adapter'), "PFT101", "to_q", f"{SD15}:text_encoder"),
    ]
    to_out = next(d for d in found if d["code"] == "PFT103")
    assert "target its layers instead: `to_out.0`" in to_out["message"]
    q = next(d for d in found if d["subject"] == "to_q" and d["code"] == "PFT101")
    assert "here it is `q_proj`" in q["message"]
    assert not [d for d in found if d["code"] == "PFT901"]  # every config was checked


DYNAMIC = """\
import argparse

from diffusers import UNet2DConditionModel
from peft import LoraConfig

parser = argparse.ArgumentParser()
parser.add_argument("--pretrained_model_name_or_path", type=str, required=True)
args = parser.parse_args()
unet = UNet2DConditionModel.from_pretrained(args.pretrained_model_name_or_path, subfolder="unet")
{hint}unet.add_adapter(LoraConfig(target_modules=["to_k", "to_q", "to_v", "to_out"]))
"""


def _codes(found: list[dict]) -> list[tuple[str, str, str | None]]:
    return sorted((d["code"], d["subject"], d.get("model")) for d in found)


def test_a_dynamic_model_id_keeps_its_subfolder_for_model_and_comments(tmp_path: Path) -> None:
    script = tmp_path / "train.py"
    script.write_text(DYNAMIC.format(hint=""), encoding="utf-8")
    (unresolved,) = lint(tmp_path, "--select", "ALL", "train.py")
    assert unresolved["code"] == "PFT901" and "--pretrained_model_name_or_path" in unresolved["detail"]
    # --model names the repository; the code says which folder of it is the model
    assert _codes(lint(tmp_path, "--model", SD15, "train.py")) == [("PFT103", "to_out", f"{SD15}:unet")]
    script.write_text(DYNAMIC.format(hint=f"# peftlint: model={SD15}\n"), encoding="utf-8")
    assert _codes(lint(tmp_path, "train.py")) == [("PFT103", "to_out", f"{SD15}:unet")]
    # a comment that names the folder itself wins
    script.write_text(DYNAMIC.format(hint=f"# peftlint: model={SD15}:text_encoder\n"), encoding="utf-8")
    found = lint(tmp_path, "train.py")
    assert {(d["code"], d["model"]) for d in found} == {("PFT101", f"{SD15}:text_encoder")}
