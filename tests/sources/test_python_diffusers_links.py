"""extract_python: configs for diffusion models are linked to the component they are applied to —
diffusers model classes, diffusers' AutoModel, a pipeline's attributes, text encoders loaded with
``subfolder=`` — and a dynamic model id keeps the component for ``--model`` and comments."""

from __future__ import annotations

import textwrap

import pytest

from peftlint.sources.python import extract_python
from peftlint.spec import AdapterSpec

CLASSES = frozenset({"LoraConfig"})
SD15 = "stable-diffusion-v1-5/stable-diffusion-v1-5"
HEADER = """\
import argparse
import diffusers
from diffusers import AutoModel, DiffusionPipeline, StableDiffusionPipeline, UNet2DConditionModel
from diffusers.models import FluxTransformer2DModel
from transformers import CLIPTextModel, CLIPTokenizer
from peft import LoraConfig, get_peft_model, inject_adapter_in_model
"""


def one(body: str) -> AdapterSpec:
    result = extract_python(HEADER + textwrap.dedent(body), "train.py", "/proj/train.py", CLASSES)
    assert result.problems == []
    (spec,) = result.specs
    return spec


def component(spec: AdapterSpec) -> tuple:
    m = spec.model
    assert m is not None, spec.facts.model_unresolved
    return m.ref, m.library, m.model_class, m.subfolder


@pytest.mark.parametrize("load, cls", [
    (f'UNet2DConditionModel.from_pretrained("{SD15}", subfolder="unet")', "UNet2DConditionModel"),
    (f'diffusers.UNet2DConditionModel.from_pretrained("{SD15}", subfolder="unet")', "UNet2DConditionModel"),
    (f'diffusers.models.UNet2DConditionModel.from_pretrained("{SD15}", subfolder="unet/")', "UNet2DConditionModel"),
    (f'AutoModel.from_pretrained("{SD15}", subfolder="unet")', None),
    (f'UNet2DConditionModel.from_config(UNet2DConditionModel.load_config("{SD15}", subfolder="unet"))',
     "UNet2DConditionModel"),
])
def test_diffusers_model_classes(load: str, cls: str | None) -> None:
    spec = one(f"""
        unet = {load}
        unet.add_adapter(LoraConfig(target_modules=["to_q"]))
    """)
    assert component(spec) == (SD15, "diffusers", cls, "unet")


def test_a_diffusers_class_imported_from_a_submodule() -> None:
    spec = one("""
        transformer = FluxTransformer2DModel.from_pretrained("black-forest-labs/FLUX.1-dev", subfolder="transformer")
        transformer = get_peft_model(transformer, LoraConfig(target_modules=["to_q"]))
    """)
    assert component(spec) == ("black-forest-labs/FLUX.1-dev", "diffusers", "FluxTransformer2DModel", "transformer")
    assert spec.model.how == "FluxTransformer2DModel.from_pretrained() at line 8"


def test_text_encoder_loaded_with_transformers_keeps_its_subfolder() -> None:
    spec = one(f"""
        text_encoder = CLIPTextModel.from_pretrained("{SD15}", subfolder="text_encoder", revision="main")
        text_encoder.add_adapter(LoraConfig(target_modules=["q_proj"]))
    """)
    assert component(spec) == (SD15, "transformers", "CLIPTextModel", "text_encoder")
    assert spec.model.revision == "main"


@pytest.mark.parametrize("use", [
    "pipe.unet.add_adapter(config)",
    "unet = pipe.unet\nunet.add_adapter(config)",
    "get_peft_model(pipe.unet, config)",
    "inject_adapter_in_model(config, pipe.unet)",
    "pipe.unet.add_adapter(adapter_config=config, adapter_name='subject')",
])
def test_pipeline_components(use: str) -> None:
    spec = one(f"""
pipe = StableDiffusionPipeline.from_pretrained("{SD15}").to("cuda")
config = LoraConfig(target_modules=["to_q"])
""" + use + "\n")
    assert component(spec) == (SD15, "diffusers", None, "unet")
    assert spec.model.how == "the unet of StableDiffusionPipeline.from_pretrained() at line 8"


def test_each_component_of_one_pipeline_is_its_own_model() -> None:
    spec = one("""
        pipe = DiffusionPipeline.from_pretrained("stabilityai/stable-diffusion-xl-base-1.0")
        config = LoraConfig(target_modules=["q_proj"])
        for encoder in (pipe.text_encoder, pipe.text_encoder_2):
            pass
        pipe.text_encoder.add_adapter(config)
        pipe.text_encoder_2.add_adapter(config)
    """)
    models = [spec.model, *spec.other_models]
    assert [(m.ref, m.subfolder) for m in models] == [
        ("stabilityai/stable-diffusion-xl-base-1.0", "text_encoder"),
        ("stabilityai/stable-diffusion-xl-base-1.0", "text_encoder_2"),
    ]


def test_a_whole_pipeline_is_not_one_model() -> None:
    spec = one(f"""
        pipe = StableDiffusionPipeline.from_pretrained("{SD15}")
        get_peft_model(pipe, LoraConfig(target_modules=["to_q"]))
    """)
    assert spec.model is None
    assert spec.facts.model_unresolved.startswith(
        "StableDiffusionPipeline.from_pretrained() at line 8 loads a whole diffusion pipeline, not one model")


def test_a_pipeline_is_not_the_only_model_loaded() -> None:
    """Without data flow, the only model loaded nearby is used; a pipeline is not a model."""
    spec = one(f"""
        pipe = StableDiffusionPipeline.from_pretrained("{SD15}")
        config = LoraConfig(target_modules=["to_q"])
    """)
    assert spec.model is None
    assert spec.facts.subfolder is None


def test_dynamic_id_keeps_the_component() -> None:
    spec = one("""
        parser = argparse.ArgumentParser()
        parser.add_argument("--pretrained_model_name_or_path", type=str, required=True)
        args = parser.parse_args()
        unet = UNet2DConditionModel.from_pretrained(args.pretrained_model_name_or_path, subfolder="unet")
        unet.add_adapter(LoraConfig(target_modules=["to_q"]))
    """)
    assert spec.model is None
    assert "--pretrained_model_name_or_path" in spec.facts.model_unresolved
    assert (spec.facts.subfolder, spec.facts.model_class, spec.facts.library) == (
        "unet", "UNet2DConditionModel", "diffusers")


def test_dynamic_pipeline_keeps_the_component() -> None:
    spec = one("""
        def main(model_id):
            pipe = DiffusionPipeline.from_pretrained(model_id)
            get_peft_model(pipe.transformer, LoraConfig(target_modules=["to_q"]))
    """)
    assert spec.model is None
    assert (spec.facts.subfolder, spec.facts.model_class, spec.facts.library) == ("transformer", None, "diffusers")


def test_a_comment_names_the_repository_of_the_component() -> None:
    spec = one("""
        def main(model_id):
            unet = UNet2DConditionModel.from_pretrained(model_id, subfolder="unet")
            # peftlint: model=acme/sd
            unet.add_adapter(LoraConfig(target_modules=["to_q"]))
    """)
    assert spec.model is not None and spec.model.ref == "acme/sd" and spec.model.subfolder is None
    assert (spec.facts.subfolder, spec.facts.model_class, spec.facts.library) == (
        "unet", "UNet2DConditionModel", "diffusers")


def test_a_transformers_load_without_subfolder_records_no_component() -> None:
    spec = one("""
        def main(model_id):
            model = CLIPTextModel.from_pretrained(model_id)
            get_peft_model(model, LoraConfig(target_modules=["q_proj"]))
    """)
    assert spec.model is None
    assert (spec.facts.subfolder, spec.facts.model_class, spec.facts.library) == (None, None, None)


def test_a_runtime_subfolder_is_not_guessed() -> None:
    spec = one(f"""
        def main(sub):
            unet = UNet2DConditionModel.from_pretrained("{SD15}", subfolder=sub)
            unet.add_adapter(LoraConfig(target_modules=["to_q"]))
    """)
    assert spec.model is None
    assert spec.facts.model_unresolved.startswith(
        "the subfolder= of UNet2DConditionModel.from_pretrained() at line 9 is only known at runtime")


@pytest.mark.parametrize("load", [
    f'diffusers.DDPMScheduler.from_pretrained("{SD15}", subfolder="scheduler")',
    f'CLIPTokenizer.from_pretrained("{SD15}", subfolder="tokenizer")',
    f'diffusers.training_utils.EMAModel.from_pretrained("{SD15}", UNet2DConditionModel)',
])
def test_what_is_not_a_model(load: str) -> None:
    spec = one(f"""
        thing = {load}
        get_peft_model(thing, LoraConfig(target_modules=["to_q"]))
    """)
    assert spec.model is None


def test_a_text_encoder_class_chosen_at_runtime_keeps_its_subfolder() -> None:
    """diffusers' scripts pick the text encoder class from the model's config at runtime."""
    spec = one(f"""
        def main():
            text_encoder_cls = import_model_class_from_model_name_or_path("{SD15}")
            text_encoder = text_encoder_cls.from_pretrained("{SD15}", subfolder="text_encoder")
            unet = UNet2DConditionModel.from_pretrained("{SD15}", subfolder="unet")
            text_encoder.add_adapter(LoraConfig(target_modules=["q_proj"]))
    """)
    # not the UNet, the only model loaded visibly in main(): it is one component among others
    assert spec.model is None
    assert "text_encoder_cls.from_pretrained(" in spec.facts.model_unresolved
    assert (spec.facts.subfolder, spec.facts.model_class, spec.facts.library) == ("text_encoder", None, None)
