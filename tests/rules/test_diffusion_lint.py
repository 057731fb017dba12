"""Diffusion models through the whole linter: configs for UNets and diffusion transformers get the
same checks as LLM configs (unmatched names with suggestions across families, containers, no
default targets), saved LoRAs (PEFT adapters and diffusers' pytorch_lora_weights.safetensors) are
checked against the component they were trained on, and ``peftlint modules`` lists them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

pytest.importorskip("diffusers")

from support.claims import said_by  # noqa: E402
from support.diffusersutil import pipeline_dir, real_unet, save_diffusers_lora  # noqa: E402
from support.lintutil import lint, run_cli, said  # noqa: E402

from peftlint.config import Settings  # noqa: E402
from peftlint.diagnostics import Span  # noqa: E402
from peftlint.engine.run import Linter, SpecOutcome  # noqa: E402
from peftlint.semantics import roles  # noqa: E402
from peftlint.spec import AdapterSpec, ModelRef, Value  # noqa: E402

SD15 = "stable-diffusion-v1-5/stable-diffusion-v1-5"
FLUX = "black-forest-labs/FLUX.1-dev"
SD3 = "stabilityai/stable-diffusion-3-medium-diffusers"


def _spec(targets: list[str] | None, model: ModelRef, path: str = "train.py") -> AdapterSpec:
    span = Span(1, 1, 1, 10)
    fields = {}
    if targets is not None:
        fields["target_modules"] = Value(targets, span, kind="list", items=[Value(t, span, kind="str") for t in targets])
    return AdapterSpec(path=path, source="python", config_class="LoraConfig", method="LORA", span=span,
                       fields=fields, model=model)


def _lint_spec(spec: AdapterSpec, tmp_path: Path) -> list:
    linter = Linter(Settings(), cwd=tmp_path)
    return linter.lint_spec(spec, "", SpecOutcome(spec))


def test_model_ref_with_library_and_subfolder(tmp_path: Path) -> None:
    """What the Python reader will hand over for `UNet2DConditionModel.from_pretrained(id, subfolder="unet")`."""
    pipe = pipeline_dir(tmp_path)
    ref = ModelRef(str(pipe), "from_pretrained(...) at line 3", library="diffusers",
                   model_class="UNet2DConditionModel", subfolder="unet")
    found = _lint_spec(_spec(["to_k", "to_q", "to_v", "to_out", "proj_typo", "q_proj"], ref), tmp_path)
    by_code = {(d.code, d.subject): d for d in found}
    assert set(by_code) == {("PFT103", "to_out"), ("PFT101", "proj_typo"), ("PFT101", "q_proj")}, found
    assert "target its layers instead: `to_out.0`" in by_code["PFT103", "to_out"].message
    assert "here it is `to_q`" in by_code["PFT101", "q_proj"].message
    assert all(d.model == f"{pipe}:unet" for d in found)
    clean = _lint_spec(_spec(["to_k", "to_q", "to_v", "to_out.0"], ref), tmp_path)
    assert clean == []
    # the text encoder of the same pipeline is a transformers model; a diffusers class named for it is ignored
    te = ModelRef(str(pipe), "pipe.text_encoder", library="diffusers", model_class="UNet2DConditionModel",
                  subfolder="text_encoder")
    found = _lint_spec(_spec(["to_q", "v_proj"], te), tmp_path)
    assert [(d.code, d.subject) for d in found] == [("PFT101", "to_q")]
    assert "here it is `q_proj`" in found[0].message


def test_no_default_targets_on_a_unet(tmp_path: Path) -> None:
    ref = ModelRef(f"{SD15}:unet", "hint")
    (d,) = _lint_spec(_spec(None, ref), tmp_path)
    assert d.code == "PFT106" and "KeyError: 'model_type'" in said_by(d) and "to_q" in d.message


def test_flux_and_sd3_suggest_their_own_names(tmp_path: Path) -> None:
    found = _lint_spec(_spec(["to_q", "to_k", "to_v", "to_out.0", "attn1.to_q", "proj_in"],
                             ModelRef(f"{FLUX}:transformer", "hint")), tmp_path)
    assert {(d.code, d.subject) for d in found} == {("PFT101", "attn1.to_q"), ("PFT101", "proj_in")}
    found = _lint_spec(_spec(["to_q", "q_proj", "out_proj", "fc1"], ModelRef(f"{SD3}:transformer", "hint")), tmp_path)
    msgs = {d.subject: d.message for d in found}
    assert "here it is `to_q`, `add_q_proj`" in msgs["q_proj"]
    assert "here it is `to_out.0`, `to_add_out`" in msgs["out_proj"]
    assert "here it is `net.0.proj`" in msgs["fc1"]


def test_no_false_partial_coverage_or_head_findings(tmp_path: Path) -> None:
    """A UNet's first down block has no attention: `to_q` reaching the others is complete (no PFT107);
    a UNet has no LM head or input embedding (no PFT104/PFT105)."""
    found = _lint_spec(_spec(["to_k", "to_q", "to_v", "to_out.0", "conv1", "proj_out", "conv_out"],
                             ModelRef("stabilityai/stable-diffusion-xl-base-1.0:unet", "hint")), tmp_path)
    assert found == []


@pytest.mark.parametrize("model, expected", [
    (f"{SD15}:unet", {"q": ["to_q"], "k": ["to_k"], "v": ["to_v"], "o": ["to_out.0"], "gate_up": ["net.0.proj"],
                      "down": ["net.2"]}),
    (f"{SD3}:transformer", {"q": ["to_q", "add_q_proj"], "k": ["to_k", "add_k_proj"], "v": ["to_v", "add_v_proj"],
                            "o": ["to_out.0", "to_add_out"], "up": ["net.0.proj"], "down": ["net.2"]}),
    (f"{FLUX}:transformer", {"q": ["to_q", "add_q_proj"], "k": ["to_k", "add_k_proj"], "v": ["to_v", "add_v_proj"],
                             "o": ["to_out.0", "to_add_out"], "up": ["net.0.proj", "proj_mlp"], "down": ["net.2"]}),
])
def test_structural_roles_of_diffusion_blocks(model: str, expected: dict) -> None:
    from peftlint.model.load import load_inventory
    from peftlint.store import default_cache_dir

    inv = load_inventory(model, Settings(), default_cache_dir()).inventory
    assert roles.role_targets(inv) == expected
    for e in roles.derive_roles(inv):  # the name table agrees with the structure
        assert roles.role_of_name(e.pattern) in (None, e.role), e
    # Flux's single blocks: proj_out reads [attention output, proj_mlp's activation] and writes hidden
    if model.startswith(FLUX):
        single = {e.pattern: e.role for e in roles.derive_roles(inv) if e.pattern.startswith("single_")}
        assert single["single_transformer_blocks.*.proj_out"] == roles.DOWN
        assert single["single_transformer_blocks.*.proj_mlp"] == roles.UP
        assert roles.O not in single.values()  # to_q/k/v only, no output projection of its own


def test_hint_comment_and_unsafe_fix(tmp_path: Path) -> None:
    src = tmp_path / "train.py"
    src.write_text('from peft import LoraConfig\n\n'
                   f'# peftlint: model={SD15}:unet\n'
                   'config = LoraConfig(r=4, target_modules=["to_k", "to_q", "to_v", "to_out"])\n', encoding="utf-8")
    (f,) = lint(tmp_path, ".")
    assert f["code"] == "PFT103" and f["fix"]["applicability"] == "unsafe"
    code, _ = run_cli(["check", "--fix", "--unsafe-fixes", "."], tmp_path)
    assert '["to_k", "to_q", "to_v", "to_out.0"]' in src.read_text()
    assert lint(tmp_path, ".") == []


def test_peft_saved_unet_adapter(tmp_path: Path) -> None:
    """get_peft_model(unet).save_pretrained: PEFT writes base_model_name_or_path null for a diffusers
    model; the pipeline named there (or by --model) needs its component."""
    import warnings

    from peft import LoraConfig, get_peft_model

    pipe = pipeline_dir(tmp_path)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        pm = get_peft_model(real_unet(), LoraConfig(r=4, target_modules=["to_q", "to_v"]))
        pm.save_pretrained(tmp_path / "adapter")
    cfg_path = tmp_path / "adapter" / "adapter_config.json"
    assert json.loads(cfg_path.read_text())["base_model_name_or_path"] is None
    (note,) = lint(tmp_path, "adapter")
    assert note["code"] == "PFT901"
    cfg = json.loads(cfg_path.read_text())
    cfg["base_model_name_or_path"] = str(pipe)
    cfg_path.write_text(json.dumps(cfg))
    (note,) = lint(tmp_path, "adapter")
    assert note["code"] == "PFT901" and f"`{pipe}:unet`" in note["detail"]
    assert lint(tmp_path, "--model", f"{pipe}:unet", "adapter") == []
    code, out = run_cli(["check", "--output-format", "full", "--model", f"{pipe}:unet", "adapter"], tmp_path)
    assert code == 0 and f"fits {pipe}:unet: yes" in out
    wrong = lint(tmp_path, "--model", f"{SD15}:unet", "adapter")
    assert "PFT402" in {f["code"] for f in wrong}


@pytest.mark.parametrize("diffusers_format", [False, True])
def test_diffusers_lora_file(tmp_path: Path, diffusers_format: bool) -> None:
    """StableDiffusionPipeline.save_lora_weights, with the LoraConfigs in the header (PEFT key format, as
    the Flux/SD3 scripts save) or converted by convert_state_dict_to_diffusers (SD/SDXL scripts)."""
    pipe = pipeline_dir(tmp_path)
    save_diffusers_lora(tmp_path / "lora", ["to_k", "to_q", "to_v", "to_out.0"], text_encoder_targets=["q_proj"],
                        diffusers_format=diffusers_format)
    notes = lint(tmp_path, "lora")
    assert [f["code"] for f in notes] == ["PFT901", "PFT901"]  # no base model named: one note per component
    assert {"unet", "text_encoder"} == {f["message"].split("`")[1] for f in notes}
    code, out = run_cli(["check", "--output-format", "full", "--model", str(pipe), "lora"], tmp_path)
    assert code == 0, out
    assert "(unet): fits " + f"{pipe}:unet: yes" in out and "(text_encoder): fits " + f"{pipe}:text_encoder: yes" in out
    wrong = lint(tmp_path, "--model", SD15, "lora")
    assert {f["code"] for f in wrong} >= {"PFT402"}
    assert all(f["path"] == "lora/pytorch_lora_weights.safetensors" for f in wrong)
    assert any("pytorch_lora_weights.safetensors: `unet." in said(f) for f in wrong)


def test_diffusers_lora_without_config_is_a_note(tmp_path: Path) -> None:
    save_diffusers_lora(tmp_path / "lora", ["to_q", "to_v"], metadata=False, diffusers_format=True)
    for target in ("lora", "lora/pytorch_lora_weights.safetensors"):
        (f,) = lint(tmp_path, target)
        assert f["code"] == "PFT901" and f["severity"] == "info"
        assert "not their LoraConfig" in f["message"] and "unet_lora_adapter_metadata" in f["message"]


def test_diffusers_lora_with_a_bad_config(tmp_path: Path) -> None:
    """The metadata is checked like any config: a typo saved with the weights is reported."""
    save_diffusers_lora(tmp_path / "lora", ["to_q", "to_v", "proj_typo"])
    pipe = pipeline_dir(tmp_path)
    found = lint(tmp_path, "--model", str(pipe), "lora")
    assert [(f["code"], f["subject"]) for f in found] == [("PFT101", "proj_typo")]


def test_modules_command(tmp_path: Path) -> None:
    pipe = pipeline_dir(tmp_path)
    code, out = run_cli(["modules", f"{pipe}:unet"], tmp_path)
    assert code == 0, out
    assert "(diffusers, UNet2DConditionModel)" in out
    assert 'attention only:   target_modules=["to_q", "to_k", "to_v", "to_out.0"]' in out
    assert "KeyError: 'model_type'" in out and "not the Conv layers" in out
    code, js = run_cli(["modules", str(pipe), "--subfolder", "unet", "--format", "json"], tmp_path)
    report = json.loads(js)
    assert report["library"] == "diffusers" and report["default_targets"] is None
    entries = {g["entry"]: g for g in report["groups"]}
    assert entries["to_out.0"]["role"] == "o" and entries["to_out.0"]["all_linear"] == "all"
    assert entries["conv1"]["kind"] == "Conv2d" and entries["conv1"]["all_linear"] == "no"
    code, out = run_cli(["modules", str(pipe)], tmp_path)
    assert code == 2 and "diffusers pipeline" in out
