"""``Linter.lint_text``: a text linted as if it were the file at a path (stdin, an editor's unsaved
buffer) gives exactly what a run over that file gives: same findings, positions, fixes, noqa and
per-file ignores; the path itself is not read."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from support.lintutil import run_cli

from peftlint.config import Settings
from peftlint.engine.run import Linter
from peftlint.fix.apply import fix_text

MODEL = "HuggingFaceTB/SmolLM2-135M"
TARGETS = ["q_proj", "vproj", "q_proj", "mlp"]  # a typo, a repetition (safe fix), a container

PYTHON = ("from peft import LoraConfig\nfrom transformers import AutoModelForCausalLM\n\n"
          f'model = AutoModelForCausalLM.from_pretrained("{MODEL}")\n'
          f'config = LoraConfig(task_type="CAUSAL_LM", target_modules={TARGETS!r})\n'
          'other = LoraConfig(task_type="CAUSAL_LM", target_modules=["k_proj", "kproj"])  # noqa: PFT101\n')
NOTEBOOK = json.dumps({"cells": [
    {"cell_type": "code", "execution_count": None, "metadata": {}, "outputs": [],
     "source": ["from peft import LoraConfig\n", "from transformers import AutoModelForCausalLM\n"]},
    {"cell_type": "code", "execution_count": None, "metadata": {}, "outputs": [],
     "source": [f'model = AutoModelForCausalLM.from_pretrained("{MODEL}")\n',
                f'config = LoraConfig(task_type="CAUSAL_LM", target_modules={TARGETS!r})']}],
    "metadata": {}, "nbformat": 4, "nbformat_minor": 5}, indent=1)
ADAPTER = json.dumps({"peft_type": "LORA", "task_type": "CAUSAL_LM", "base_model_name_or_path": MODEL, "r": 8,
                      "target_modules": TARGETS}, indent=2)
AXOLOTL = f"base_model: {MODEL}\nadapter: lora\nlora_r: 8\nlora_target_modules:\n" + "".join(
    f"  - {t}\n" for t in TARGETS)
FILES = {"train.py": PYTHON, "train.ipynb": NOTEBOOK, "adapter/adapter_config.json": ADAPTER,
         "axolotl.yaml": AXOLOTL}


def _findings(result) -> list[dict]:
    return [d.to_json() for d in result.diagnostics]


@pytest.mark.parametrize("name", sorted(FILES))
def test_text_gives_what_the_file_gives(tmp_path: Path, name: str) -> None:
    path = tmp_path / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(FILES[name], encoding="utf-8")
    from_file = _findings(Linter(Settings(), tmp_path).lint_paths([path]))
    path.write_text("# something else entirely\n", encoding="utf-8")  # the path is not read
    from_text = _findings(Linter(Settings(), tmp_path).lint_text(FILES[name], Path(name)))
    assert from_text == from_file
    codes = {f["code"] for f in from_text}
    assert {"PFT101", "PFT103"} <= codes, from_text  # the model was resolved and the rules ran
    assert all(f["path"] == name for f in from_text)


def test_path_need_not_exist_and_is_not_created(tmp_path: Path) -> None:
    result = Linter(Settings(), tmp_path).lint_text(PYTHON, Path("new/train.py"))
    assert {(d.code, d.subject) for d in result.diagnostics if d.code != "PFT901"} >= {("PFT101", "vproj")}
    assert [d.path for d in result.diagnostics][:1] == ["new/train.py"]
    assert not (tmp_path / "new").exists()


def test_per_file_ignores_of_the_path_apply(tmp_path: Path) -> None:
    settings = Settings(per_file_ignores={"scripts/*.py": ["PFT101"]})
    ignored = Linter(settings, tmp_path).lint_text(PYTHON, Path("scripts/train.py"))
    kept = Linter(settings, tmp_path).lint_text(PYTHON, Path("train.py"))
    assert "PFT101" not in {d.code for d in ignored.diagnostics}
    assert "PFT101" in {d.code for d in kept.diagnostics}


def test_name_of_no_linted_kind_gives_nothing(tmp_path: Path) -> None:
    result = Linter(Settings(), tmp_path).lint_text(PYTHON, Path("README.md"))
    assert result.diagnostics == [] and result.files == 0


def test_text_over_the_size_limit_is_reported_not_read(tmp_path: Path) -> None:
    result = Linter(Settings(max_file_size=100), tmp_path).lint_text(PYTHON, Path("train.py"))
    assert [d.code for d in result.diagnostics] == ["PFT907"]


def test_fix_text_fixes_like_fix_on_the_file(tmp_path: Path) -> None:
    (tmp_path / "train.py").write_text(PYTHON, encoding="utf-8")
    run_cli(["check", "--fix", "train.py"], tmp_path)
    fixed_on_disk = (tmp_path / "train.py").read_text(encoding="utf-8")
    (tmp_path / "train.py").write_text("", encoding="utf-8")
    got = fix_text(Linter(Settings(), tmp_path), PYTHON, Path("train.py"), unsafe=False)
    assert got.text == fixed_on_disk != PYTHON
    assert got.fixed == 1 and "['q_proj', 'vproj', 'mlp']" in got.text
    assert "PFT204" not in {d.code for d in got.result.diagnostics}
    assert (tmp_path / "train.py").read_text(encoding="utf-8") == ""
