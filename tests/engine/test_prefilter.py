"""The text prefilter drops files that cannot hold a PEFT config before any parsing, and never one
that can: every file the Python reader finds a config in passes it."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from support.helpers_hf import REPO_ROOT
from support.lintutil import run_cli

from peftlint.config import Settings
from peftlint.engine import discover as disc
from peftlint.engine.run import Linter
from peftlint.rules import all_rules
from peftlint.sources.python import extract_python

SMOL = "HuggingFaceTB/SmolLM2-135M"
HOLDS_A_CONFIG = {
    "module alias": f"import peft as p\n\ncfg = p.LoraConfig(target_modules=['q_proj', 'vproj'])  # peftlint: model={SMOL}\n",
    "submodule import": (f"from peft.tuners.lora import LoraConfig\n\n# peftlint: model={SMOL}\n"
                         "cfg = LoraConfig(target_modules=['q_proj', 'vproj'])\n"),
    "unsloth": ("from unsloth import FastLanguageModel\n\n"
                f"model, tok = FastLanguageModel.from_pretrained({SMOL!r})\n"
                "model = FastLanguageModel.get_peft_model(model, target_modules=['q_proj', 'vproj'])\n"),
    "star import": f"from peft import *\n\n# peftlint: model={SMOL}\ncfg = LoraConfig(target_modules=['q_proj', 'vproj'])\n",
    "another method": f"from peft import IA3Config\n\n# peftlint: model={SMOL}\ncfg = IA3Config(target_modules=['q_proj', 'vproj'])\n",
}
NO_CONFIG = {
    "peft mentioned only": "# fine-tuned with peft elsewhere\nimport os\n",
    "a config class without peft": "from mylib import LoraConfig\n\ncfg = LoraConfig(r=8)\n",
    "target_modules without a class": "target_modules = ['q_proj']\n",
    "another Config": "from peft import PeftModel\nfrom trl import SFTConfig\n\nargs = SFTConfig(output_dir='x')\n",
}


@pytest.fixture(scope="module")
def classes() -> set[str]:
    return Linter(Settings()).config_classes()


@pytest.mark.parametrize("name", sorted(HOLDS_A_CONFIG))
def test_files_with_a_config_pass(name: str, classes: set[str], tmp_path: Path) -> None:
    text = HOLDS_A_CONFIG[name]
    assert disc.passes_prefilter(disc.PYTHON, text, lambda: classes)
    nb = {"cells": [{"cell_type": "code", "metadata": {}, "outputs": [], "execution_count": None,
                     "source": text.splitlines(keepends=True)}], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}
    assert disc.passes_prefilter(disc.NOTEBOOK, json.dumps(nb), lambda: classes)
    (tmp_path / "train.py").write_text(text, encoding="utf-8")
    found = extract_python(text, "train.py", str(tmp_path / "train.py"), classes).specs
    code, out = run_cli(["check", "train.py"], tmp_path)
    # what the reader finds in the file, the command line reports: the prefilter did not drop it
    assert f"Checked 1 file: {len(found)} config{'s' if len(found) != 1 else ''}" in out
    if name != "star import":
        assert len(found) == 1 and "PFT101" in out


@pytest.mark.parametrize("name", sorted(NO_CONFIG))
def test_files_without_a_config_are_dropped(name: str, classes: set[str]) -> None:
    text = NO_CONFIG[name]
    assert not disc.passes_prefilter(disc.PYTHON, text, lambda: classes)
    assert extract_python(text, "x.py", "/x.py", classes).specs == []


def test_class_names_are_found_in_any_spelling(classes: set[str]) -> None:
    has = lambda text: disc._names_a_class(text, classes)  # noqa: E731
    assert has("x = LoraConfig(")
    assert has("peft.AdaLoraConfig(") and has("VBLoRAConfig") and has("class MyLoraConfig(Base): pass")
    assert not has("SFTConfig(), GRPOConfig(), PeftConfig, Lora_Config, LoraConfi")
    assert has("XLoraConfig")  # ends in a config class name: kept (the reader decides)
    assert not has("") and not has("Config")
    assert has("x" * 100_000 + "IA3Config")  # a long line before it
    assert disc._names_a_class("a CustomThing here", ["CustomThing"])  # names without the suffix


def _python_examples() -> list[str]:
    texts = []
    for rule in all_rules():
        texts += [ex.code for ex in (*rule.bad, *rule.good) if ex.kind == "python"]
    texts += [p.read_text(encoding="utf-8") for p in sorted((REPO_ROOT / "examples").glob("*.py"))]
    return texts


def test_every_rule_example_with_a_config_passes(classes: set[str]) -> None:
    texts = _python_examples()
    assert len(texts) > 50
    for text in texts:
        if extract_python(text, "train.py", "/tmp/train.py", classes).specs:
            assert disc.passes_prefilter(disc.PYTHON, text, lambda: classes), text


CORPUS = Path(os.environ.get("PEFTLINT_CORPUS", REPO_ROOT.parent / "shared" / "corpus"))


@pytest.mark.skipif(not CORPUS.is_dir(), reason="real-code corpus not present (set PEFTLINT_CORPUS)")
def test_no_config_in_the_corpus_is_dropped(classes: set[str]) -> None:
    """Files of TRL and LLaMA-Factory the old, wider prefilter kept and this one drops hold no config."""
    dropped = []
    for path in sorted(CORPUS.rglob("*.py")):
        text = path.read_text(encoding="utf-8", errors="replace")
        old = any(s in text for s in ("peft", "target_modules", "get_peft_model"))
        if old and not disc.passes_prefilter(disc.PYTHON, text, lambda: classes):
            dropped.append(path)
            assert extract_python(text, path.name, str(path), classes).specs == [], path
    assert dropped
