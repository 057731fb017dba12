"""The same mistake gets the same code wherever the targets are written: a Python script, a
notebook, a saved adapter, an axolotl / LLaMA-Factory / TRL YAML, a TRL command line."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from support.lintutil import lint

MODEL = "HuggingFaceTB/SmolLM2-135M"


def _python(targets: list[str]) -> dict[str, str]:
    return {"train.py": "from peft import LoraConfig\nfrom transformers import AutoModelForCausalLM\n\n"
                        f'model = AutoModelForCausalLM.from_pretrained("{MODEL}")\n'
                        f"config = LoraConfig(task_type=\"CAUSAL_LM\", target_modules={targets!r})\n"}


def _notebook(targets: list[str]) -> dict[str, str]:
    cells = [["from peft import LoraConfig\n", "from transformers import AutoModelForCausalLM\n"],
             [f'model = AutoModelForCausalLM.from_pretrained("{MODEL}")\n',
              f"config = LoraConfig(task_type=\"CAUSAL_LM\", target_modules={targets!r})"]]
    nb = {"cells": [{"cell_type": "code", "execution_count": None, "metadata": {}, "outputs": [], "source": c}
                    for c in cells], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}
    return {"train.ipynb": json.dumps(nb, indent=1)}


def _adapter(targets: list[str]) -> dict[str, str]:
    return {"adapter/adapter_config.json": json.dumps({
        "peft_type": "LORA", "task_type": "CAUSAL_LM", "base_model_name_or_path": MODEL, "r": 8,
        "target_modules": targets}, indent=2)}


def _axolotl(targets: list[str]) -> dict[str, str]:
    items = "".join(f"  - {t}\n" for t in targets)
    return {"axolotl.yaml": f"base_model: {MODEL}\nadapter: lora\nlora_r: 8\nlora_target_modules:\n{items}"}


def _llama_factory(targets: list[str]) -> dict[str, str]:
    return {"llama_factory.yaml": f"model_name_or_path: {MODEL}\nstage: sft\nfinetuning_type: lora\n"
                                  f"lora_target: {','.join(targets)}\n"}


def _trl(targets: list[str]) -> dict[str, str]:
    return {"trl.yaml": f"model_name_or_path: {MODEL}\nuse_peft: true\nlora_target_modules: [{', '.join(targets)}]\n"}


def _trl_shell(targets: list[str]) -> dict[str, str]:
    return {"train.sh": f"#!/bin/sh\npython trl/scripts/sft.py --model_name_or_path {MODEL} \\\n"
                        f"  --use_peft --lora_target_modules {' '.join(targets)}\n"}


SOURCES = {"python": _python, "notebook": _notebook, "adapter_config": _adapter, "axolotl": _axolotl,
           "llama_factory": _llama_factory, "trl_yaml": _trl, "trl_shell": _trl_shell}

# (targets, the entry the finding is about, its code)
MISTAKES = {
    "typo": (["q_proj", "vproj"], "vproj", "PFT101"),
    "all-linear-in-list": (["q_proj", "all-linear"], "all-linear", "PFT202"),
    "container": (["q_proj", "mlp"], "mlp", "PFT103"),
    "regex-in-list": (["q_proj", ".*v_proj"], ".*v_proj", "PFT201"),
}


@pytest.mark.parametrize("source", sorted(SOURCES))
@pytest.mark.parametrize("mistake", sorted(MISTAKES))
def test_same_mistake_same_code(tmp_path: Path, mistake: str, source: str):
    targets, subject, code = MISTAKES[mistake]
    for name, text in SOURCES[source](targets).items():
        p = tmp_path / name
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(text, encoding="utf-8")
    findings = [f for f in lint(tmp_path, ".") if f["severity"] != "info"]
    assert [(f["code"], f["subject"]) for f in findings] == [(code, subject)], findings
    [f] = findings
    assert f["model"] == MODEL
    line = (tmp_path / f["path"]).read_text(encoding="utf-8").splitlines()[f["line"] - 1]
    assert subject in line[f["column"] - 1:f["end_column"] - 1]  # the finding sits on the entry itself


SAVE_SOURCES = {
    "python": lambda: {"train.py": "from peft import LoraConfig\nfrom transformers import AutoModelForCausalLM\n"
                                   f'model = AutoModelForCausalLM.from_pretrained("{MODEL}")\n'
                                   'c = LoraConfig(target_modules=["q_proj"], modules_to_save=["lm_haed"])\n'},
    "adapter_config": lambda: {"adapter_config.json": json.dumps({
        "peft_type": "LORA", "task_type": "CAUSAL_LM", "base_model_name_or_path": MODEL,
        "target_modules": ["q_proj"], "modules_to_save": ["lm_haed"]})},
    "axolotl": lambda: {"a.yaml": f"base_model: {MODEL}\nadapter: lora\nlora_target_modules: [q_proj]\n"
                                  "lora_modules_to_save:\n  - lm_haed\n"},
    "llama_factory": lambda: {"a.yaml": f"model_name_or_path: {MODEL}\nlora_target: q_proj\nadditional_target: lm_haed\n"},
    "trl_yaml": lambda: {"a.yaml": f"model_name_or_path: {MODEL}\nuse_peft: true\nlora_target_modules: [q_proj, v_proj]\n"
                                   "lora_modules_to_save: [lm_haed]\n"},
}


@pytest.mark.parametrize("source", sorted(SAVE_SOURCES))
def test_modules_to_save_typo_same_code(tmp_path: Path, source: str):
    for name, text in SAVE_SOURCES[source]().items():
        (tmp_path / name).write_text(text, encoding="utf-8")
    findings = [f for f in lint(tmp_path, ".") if f["severity"] != "info"]
    assert [(f["code"], f["subject"]) for f in findings] == [("PFT306", "lm_haed")], findings
