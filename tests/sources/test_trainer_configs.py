"""Trainer configs (axolotl, LLaMA-Factory, TRL; shell command lines) map onto the same spec and
rules as a LoraConfig call, with positions from PyYAML's node tree."""

from __future__ import annotations

from pathlib import Path

from support.lintutil import lint

from peftlint.sources.trainer_shell import extract_trainer_shell
from peftlint.sources.trainer_yaml import extract_trainer_yaml

MODEL = "HuggingFaceTB/SmolLM2-135M"


def _spec(text: str):
    res = extract_trainer_yaml(text, "c.yaml", "/tmp/c.yaml")
    assert not res.problems, res.problems
    return res.specs


def _at(text: str, f: dict) -> str:
    line = text.splitlines()[f["line"] - 1]
    return line[f["column"] - 1:f["end_column"] - 1]


def test_axolotl_keys_map_to_lora_config_fields():
    [spec] = _spec(f"""base_model: {MODEL}
adapter: qlora
lora_r: 16
lora_alpha: 32
lora_dropout: 0.05
lora_target_modules:
  - q_proj
  - v_proj
lora_modules_to_save: [embed_tokens]
peft_layers_to_transform: [0, 1]
peft_layers_pattern: layers
peft_use_dora: true
""")
    assert spec.facts.tool == "axolotl" and spec.config_class == "LoraConfig"
    assert spec.model.ref == MODEL and spec.model.model_class == "AutoModelForCausalLM"
    assert spec.static("target_modules") == ["q_proj", "v_proj"]
    assert spec.static("r") == 16 and spec.static("lora_alpha") == 32 and spec.static("lora_dropout") == 0.05
    assert spec.static("modules_to_save") == ["embed_tokens"]
    assert spec.static("layers_to_transform") == [0, 1] and spec.static("layers_pattern") == "layers"
    assert spec.static("use_dora") is True
    items = spec.get("target_modules").items
    assert (items[1].span.line, items[1].span.column, items[1].span.end_column) == (8, 5, 11)


def _rule_items(spec):
    """(the names written beside the trainer's rule, the rule's placeholder item)."""
    v = spec.get("target_modules")
    return [i.value for i in v.items if not i.dynamic], [i for i in v.items if i.dynamic]


def test_axolotl_lora_target_linear_is_axolotls_rule_not_all_linear():
    [spec] = _spec(f"base_model: {MODEL}\nadapter: lora\nlora_target_linear: true\n")
    rule = spec.facts.target_rule
    assert (rule.trainer, rule.written, (rule.span.line, rule.span.column)) == ("axolotl", "lora_target_linear: true",
                                                                                (3, 21))
    own, [ph] = _rule_items(spec)
    assert own == [] and "axolotl lists the model's linear layers itself" in ph.reason
    assert spec.static("target_modules") is None  # known only once the model is
    assert _spec(f"base_model: {MODEL}\nadapter:\nlora_target_linear: true\n") == []  # full fine-tune
    # axolotl adds its names to lora_target_modules: the list is kept, entry by entry
    [spec] = _spec(f"base_model: {MODEL}\nadapter: lora\nlora_target_linear: true\nlora_target_modules: [q_proj]\n")
    assert _rule_items(spec)[0] == ["q_proj"]
    # ... and a string beside it becomes one literal entry of that list, not a regex
    [spec] = _spec(f"base_model: {MODEL}\nadapter: lora\nlora_target_linear: true\nlora_target_modules: 'q_.*'\n")
    assert _rule_items(spec)[0] == ["q_.*"]
    # neither key: axolotl passes target_modules=[] (PEFT raises), never PEFT's defaults
    [spec] = _spec(f"base_model: {MODEL}\nadapter: lora\n")
    assert spec.static("target_modules") == []


def test_llama_factory_comma_lists_and_all():
    [spec] = _spec(f"model_name_or_path: {MODEL}\nfinetuning_type: lora\nlora_target: q_proj, v_proj\n"
                   "additional_target: embed_tokens\nlora_rank: 8\n")
    assert spec.facts.tool == "llama-factory" and spec.facts.target_rule is None
    v = spec.get("target_modules")
    assert v.value == ["q_proj", "v_proj"]
    assert [(i.span.column, i.span.end_column) for i in v.items] == [(14, 20), (22, 28)]
    assert spec.static("modules_to_save") == ["embed_tokens"] and spec.static("r") == 8
    [spec] = _spec(f"model_name_or_path: {MODEL}\nfinetuning_type: lora\nlora_target: all\n")
    assert spec.facts.target_rule.written == "lora_target: all" and _rule_items(spec)[0] == []
    [spec] = _spec(f"model_name_or_path: {MODEL}\nfinetuning_type: lora\n")  # LLaMA-Factory's default is all
    assert spec.facts.target_rule.written == "lora_target: all (its default)"
    [spec] = _spec(f"model_name_or_path: {MODEL}\nfinetuning_type: lora\nlora_target: ALL\n")
    assert spec.static("target_modules") == ["ALL"]  # LLaMA-Factory compares with "all" exactly
    assert _spec(f"model_name_or_path: {MODEL}\nfinetuning_type: full\n") == []


def test_trl_model_config():
    [spec] = _spec(f"model_name_or_path: {MODEL}\nuse_peft: true\nlora_r: 4\nlora_target_modules: [q_proj]\n"
                   "lora_task_type: SEQ_CLS\nmodel_revision: main\n")
    assert spec.facts.tool == "trl" and spec.task_type == "SEQ_CLS"
    assert spec.model.model_class == "AutoModelForSequenceClassification" and spec.model.revision == "main"
    assert _spec(f"model_name_or_path: {MODEL}\nuse_peft: false\nlora_target_modules: [q_proj]\n") == []


def test_other_yaml_is_ignored_silently(tmp_path: Path):
    (tmp_path / "workflow.yml").write_text("on: push\njobs:\n  lint:\n    runs-on: ubuntu-latest  # target\n")
    (tmp_path / "broken.yaml").write_text("adapters: [a, b\ntarget: x: y\n")  # not a trainer config
    assert lint(tmp_path, ".") == []


def test_broken_trainer_yaml_is_a_syntax_error(tmp_path: Path):
    (tmp_path / "axolotl.yaml").write_text(f"base_model: {MODEL}\nadapter: lora\nlora_target_modules: [q_proj\n")
    [f] = lint(tmp_path, ".")
    assert f["code"] == "PFT902" and f["path"] == "axolotl.yaml" and f["line"] >= 3


def test_rules_fire_with_positions(tmp_path: Path):
    text = f"""base_model: {MODEL}
adapter: lora
lora_target_modules:
  - q_proj
  - "q_.*"
  - vproj
  - q_proj
"""
    (tmp_path / "axolotl.yml").write_text(text)
    got = {f["code"]: f for f in lint(tmp_path, ".")}
    assert set(got) == {"PFT101", "PFT201", "PFT204"}
    assert _at(text, got["PFT101"]) == "vproj"
    assert _at(text, got["PFT201"]) == '"q_.*"'
    assert got["PFT204"]["line"] == 7


def test_llama_factory_item_positions_in_findings(tmp_path: Path):
    text = f"model_name_or_path: {MODEL}\nfinetuning_type: lora\nlora_target: 'q_proj,vproj'\n"
    (tmp_path / "lf.yaml").write_text(text)
    [f] = lint(tmp_path, ".")
    assert f["code"] == "PFT101" and _at(text, f) == "vproj"


def test_template_variables_are_dynamic(tmp_path: Path):
    (tmp_path / "ax.yaml").write_text(f"base_model: {MODEL}\nadapter: lora\nlora_r: ${{LORA_R}}\n"
                                      "lora_target_modules: [q_proj]\n")
    codes = [f["code"] for f in lint(tmp_path, ".")]
    assert codes == ["PFT904"]


def test_model_unresolved_is_a_note(tmp_path: Path):
    (tmp_path / "ax.yaml").write_text("adapter: lora\nlora_target_modules: [q_proj]\n")
    [f] = lint(tmp_path, ".")
    assert f["code"] == "PFT901" and "base_model" in f["message"]


def test_shell_scripts():
    text = f"""#!/bin/bash
# --lora_target_modules in a comment is ignored
accelerate launch sft.py \\
    --model_name_or_path {MODEL} \\
    --use_peft \\
    --lora_r 16 \\
    --lora_target_modules q_proj "v_proj" $EXTRA
llamafactory-cli train --model_name_or_path {MODEL} --finetuning_type lora --lora_target q_proj,vproj
"""
    res = extract_trainer_shell(text, "run.sh", "/tmp/run.sh")
    trl, lf = res.specs
    assert trl.facts.tool == "trl" and trl.model.ref == MODEL and trl.static("r") == 16
    v = trl.get("target_modules")
    assert [i.value for i in v.items[:2]] == ["q_proj", "v_proj"] and v.items[2].dynamic
    assert (v.items[0].span.line, v.items[0].span.column) == (7, 27)
    assert lf.facts.tool == "llama-factory" and lf.static("target_modules") == ["q_proj", "vproj"]
    item = lf.get("target_modules").items[1]
    assert text.splitlines()[7][item.span.column - 1:item.span.end_column - 1] == "vproj"


def test_noqa_in_yaml(tmp_path: Path):
    (tmp_path / "trl.yaml").write_text(f"model_name_or_path: {MODEL}\nuse_peft: true\n"
                                       "lora_target_modules: [q_proj, vproj]  # noqa: PFT101\n")
    assert lint(tmp_path, ".") == []


def test_fix_in_yaml_keeps_the_file_valid(tmp_path: Path):
    from support.lintutil import run_cli

    ax = tmp_path / "axolotl.yaml"
    ax.write_text(f"base_model: {MODEL}\nadapter: lora\nlora_target_modules:\n  - all-linear\nlora_r: 8\n")
    trl = tmp_path / "trl.yaml"
    trl.write_text(f"model_name_or_path: {MODEL}\nuse_peft: true\nlora_target_modules: [q_proj, k_proj, q_proj]\n")
    run_cli(["check", "--fix", "."], tmp_path)
    assert ax.read_text() == f"base_model: {MODEL}\nadapter: lora\nlora_target_modules:\n  \"all-linear\"\nlora_r: 8\n"
    assert trl.read_text().endswith("lora_target_modules: [q_proj, k_proj]\n")
    assert lint(tmp_path, ".") == []


def test_messages_name_the_trainer_key(tmp_path):
    (tmp_path / "axolotl.yml").write_text(
        "base_model: HuggingFaceTB/SmolLM2-135M\nadapter: lora\nlora_target_modules:\n  - q_proj\n"
        "lora_modules_to_save:\n  - embed_token\n", encoding="utf-8")
    [d] = lint(tmp_path, "axolotl.yml")
    assert d["code"] == "PFT306"
    assert d["message"].endswith("(`modules_to_save` is `lora_modules_to_save` in this axolotl config)")


# -- LLaMA-Factory v1 (examples/v1: `model` and a `peft_config` plugin mapping) ---------------------

V1 = f"""model: {MODEL}
model_class: llm

# PEFT Configuration
peft_config:
  name: lora
  r: 16
  lora_alpha: 32
  lora_dropout: 0.05
  target_modules: all
"""


def test_llama_factory_v1_layout():
    [spec] = _spec(V1)
    assert spec.facts.tool == "llama-factory" and spec.model.ref == MODEL and spec.task_type == "CAUSAL_LM"
    assert spec.model.how == "`model` in the LLaMA-Factory v1 config" and spec.model.model_class == "AutoModelForCausalLM"
    assert spec.static("r") == 16 and spec.static("lora_alpha") == 32 and spec.static("lora_dropout") == 0.05
    assert spec.facts.target_rule.trainer == "llama-factory-v1" and spec.facts.trainer_keys["r"] == "peft_config.r"
    assert (spec.facts.key_spans["r"].line, spec.facts.key_spans["r"].column) == (7, 3)
    # a string is wrapped in a list (one literal name); "16" in a plugin config becomes 16
    [spec] = _spec(V1.replace("target_modules: all", "target_modules: q_proj,v_proj").replace("r: 16", "r: '16'"))
    assert spec.static("target_modules") == ["q_proj,v_proj"] and spec.static("r") == 16
    [spec] = _spec(V1.replace("model_class: llm", "model_class: cls"))
    assert spec.task_type == "TOKEN_CLS" and spec.model.model_class == "AutoModelForTokenClassification"
    # without `model`, LLaMA-Factory v1 trains its default
    [spec] = _spec(V1.replace(f"model: {MODEL}\n", ""))
    assert spec.model.from_default and spec.model.ref == "Qwen/Qwen3-4B-Instruct-2507"
    # loading an adapter (export, resume) or freeze tuning builds no LoraConfig
    assert _spec(V1 + "  adapter_name_or_path: ./outputs/test_lora\n") == []
    assert _spec(V1.replace("name: lora", "name: freeze")) == []


def test_llama_factory_v1_unknown_option(tmp_path: Path):
    (tmp_path / "v1.yaml").write_text(V1.replace("target_modules: all", "target_modules: [q_proj, vproj]")
                                      + "  bias: none\n")
    got = {f["code"]: f for f in lint(tmp_path, ".")}
    assert set(got) == {"PFT101", "PFT209"}
    assert (got["PFT209"]["line"], got["PFT209"]["column"]) == (11, 3)
    assert "Unknown params for PeftPlugin.LoraParams" in got["PFT209"]["message"]
    assert got["PFT101"]["subject"] == "vproj" and got["PFT101"]["line"] == 10


def test_v1_messages_name_the_plugin_key(tmp_path: Path):
    (tmp_path / "v1.yaml").write_text(V1 + "  modules_to_save: [embed_token]\n")
    [d] = lint(tmp_path, ".")
    assert d["code"] == "PFT306"
    assert d["message"].endswith("(`modules_to_save` is `peft_config.modules_to_save` in this llama-factory config)")


# -- the trainers' own target lists, once the model is known --------------------------------------

def test_axolotl_linear_layers_checked_with_axolotls_rule(tmp_path: Path):
    (tmp_path / "ax.yml").write_text("base_model: openai/whisper-small\nadapter: lora\nlora_target_linear: true\n"
                                     "lora_target_modules: [vproj]\n")
    got = sorted((f["code"], f["subject"]) for f in lint(tmp_path, "."))
    # the user's typo is still reported; axolotl's own list keeps whisper's `proj_out` head
    assert got == [("PFT101", "vproj"), ("PFT104", "proj_out")]
    [head] = [f for f in lint(tmp_path, ".") if f["code"] == "PFT104"]
    assert "axolotl adds the last name segment of every linear layer except `lm_head`" in head["message"]
    assert "all-linear" not in head["message"] and (head["line"], head["column"]) == (3, 21)


def test_axolotl_without_targets_passes_an_empty_list(tmp_path: Path):
    (tmp_path / "ax.yml").write_text(f"base_model: {MODEL}\nadapter: lora\n")
    [f] = lint(tmp_path, ".")
    assert f["code"] == "PFT205" and f["message"].endswith(
        "(axolotl passes `target_modules=[]` when neither `lora_target_modules` nor `lora_target_linear: true` is "
        "set: set one of them)")


def test_axolotl_rule_with_a_layer_filter_is_a_list(tmp_path: Path):
    # PEFT's "all-linear" would ignore layers_to_transform (PFT206); axolotl passes names, so it works
    (tmp_path / "ax.yml").write_text(f"base_model: {MODEL}\nadapter: lora\nlora_target_linear: true\n"
                                     "peft_layers_to_transform: [0, 1]\n")
    assert lint(tmp_path, ".") == []


def test_unresolved_model_keeps_one_note(tmp_path: Path):
    (tmp_path / "ax.yml").write_text("base_model: acme/unknown\nadapter: lora\nlora_target_linear: true\n")
    [f] = lint(tmp_path, ".")
    assert f["code"] == "PFT901"


def _tiny_llava(root: Path) -> None:
    import json

    from transformers import LlavaConfig

    cfg = LlavaConfig().to_dict()
    cfg["text_config"].update(num_hidden_layers=2, hidden_size=64, intermediate_size=128, num_attention_heads=4,
                              num_key_value_heads=4, vocab_size=32064)
    cfg["vision_config"].update(num_hidden_layers=2, hidden_size=64, intermediate_size=128, num_attention_heads=4)
    (root / "llava").mkdir()
    (root / "llava" / "config.json").write_text(json.dumps(cfg))


def test_multimodal_models(tmp_path: Path):
    _tiny_llava(tmp_path)
    # axolotl's names reach the vision tower too
    (tmp_path / "ax.yml").write_text("base_model: ./llava\nadapter: lora\nlora_target_linear: true\n")
    got = lint(tmp_path, "ax.yml")
    assert sorted((f["code"], f["subject"]) for f in got) == [("PFT108", "k_proj"), ("PFT108", "q_proj"),
                                                              ("PFT108", "v_proj")]
    assert all("vision_tower" in f["message"] and "find_all_linear_names" in f["message"] for f in got)
    # LLaMA-Factory rewrites multimodal targets with its own table: not guessed
    (tmp_path / "lf.yaml").write_text("model_name_or_path: ./llava\nfinetuning_type: lora\nlora_target: q_proj,vproj\n")
    [f] = lint(tmp_path, "lf.yaml")
    assert f["code"] == "PFT904" and "patch_target_modules" in f["message"]
