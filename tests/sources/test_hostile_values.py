"""Valid files with values peftlint must not trip over: each gets one clear finding (PFT401,
PFT902, PFT210, PFT907), never PFT999, and the rest of the file is still checked."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from support.lintutil import lint

SMOL = "HuggingFaceTB/SmolLM2-135M"
BASE = {"peft_type": "LORA", "base_model_name_or_path": SMOL, "r": 8, "task_type": "CAUSAL_LM",
        "target_modules": ["q_proj", "v_proj"]}


def _adapter(tmp: Path, text: str) -> list[dict]:
    (tmp / "adapter_config.json").write_text(text)
    found = lint(tmp, ".")
    assert "PFT999" not in {d["code"] for d in found}, found
    return found


def test_integer_longer_than_python_reads_is_pft401_at_its_position(tmp_path: Path) -> None:
    text = '{\n  "peft_type": "LORA",\n  "r": ' + "9" * 5000 + "\n}\n"
    (found,) = _adapter(tmp_path, text)
    assert found["code"] == "PFT401" and (found["line"], found["column"]) == (3, 8)
    assert "4300" in found["message"] and "PEFT cannot read this file" in found["message"]


@pytest.mark.parametrize("depth", [600, 5000])
def test_deep_nesting_in_an_adapter_config(tmp_path: Path, depth: int) -> None:
    text = json.dumps({**BASE, "extra": "PLACEHOLDER"}).replace('"PLACEHOLDER"', "[" * depth + "]" * depth)
    found = _adapter(tmp_path, text)
    if depth == 600:  # Python's json reads it (so does PEFT): the file is checked as usual
        assert [d["code"] for d in found] == ["PFT209"]  # `extra` is not a LoraConfig field
    else:
        assert [d["code"] for d in found] == ["PFT401"] and "nested more deeply" in found[0]["message"]


def test_deep_nesting_in_a_notebook(tmp_path: Path) -> None:
    # a cell that passes the prefilter (peft and a config class), then metadata nested 5,000 deep
    cell = '{"cell_type": "code", "metadata": {}, "source": ["from peft import LoraConfig"], "outputs": []}'
    text = ('{"cells": [' + cell + '], "metadata": {"peft": ' + "[" * 5000 + "]" * 5000
            + '}, "nbformat": 4, "nbformat_minor": 5}')
    (tmp_path / "train.ipynb").write_text(text)
    found = lint(tmp_path, ".")
    assert [d["code"] for d in found] == ["PFT902"] and "nested more deeply" in found[0]["message"]


def test_nbformat_3_notebook_is_noted(tmp_path: Path) -> None:
    nb = {"nbformat": 3, "nbformat_minor": 0, "metadata": {},
          "worksheets": [{"cells": [{"cell_type": "code", "language": "python",
                                      "input": ["from peft import LoraConfig\n"], "outputs": []}]}]}
    (tmp_path / "old.ipynb").write_text(json.dumps(nb, indent=1))
    (found,) = lint(tmp_path, ".")
    assert found["code"] == "PFT907" and "nbformat 3" in found["message"] and found["line"] == 5


@pytest.mark.parametrize("field", ["modules_to_save", "target_parameters"])
@pytest.mark.parametrize("value", [5, True, 0.5])
def test_list_field_given_a_scalar_in_python(tmp_path: Path, field: str, value: object) -> None:
    (tmp_path / "train.py").write_text(f"from peft import LoraConfig\n\n# peftlint: model={SMOL}\n"
                                       f'config = LoraConfig(target_modules=["q_proj"], {field}={value!r})\n')
    found = lint(tmp_path, ".")
    assert [(d["code"], d["subject"]) for d in found] == [("PFT210", field)], found


@pytest.mark.parametrize("field", ["modules_to_save", "target_parameters"])
def test_list_field_given_a_scalar_in_a_saved_config(tmp_path: Path, field: str) -> None:
    found = _adapter(tmp_path, json.dumps({**BASE, field: 7}))
    assert len([d for d in found if d["subject"] == field]) == 1, found
    assert {d["code"] for d in found} <= {"PFT210", "PFT401", "PFT406"}


@pytest.mark.parametrize("ff, raises", [('[["down_proj"]]', True), ('{"down_proj": 1}', False)])
def test_ia3_feedforward_modules_of_the_wrong_shape(tmp_path: Path, ff: str, raises: bool) -> None:
    """peft is the judge: a nested list makes IA3Config raise (TypeError: unhashable), a dict is
    accepted (its keys act as the names), so only the first is reported."""
    from peft import IA3Config
    from support.lintutil import lint as run

    try:
        IA3Config(target_modules=["q_proj", "down_proj"], feedforward_modules=eval(ff))
        peft_raised = False
    except TypeError:
        peft_raised = True
    assert peft_raised is raises
    (tmp_path / "train.py").write_text(
        f"from peft import IA3Config\n\n# peftlint: model={SMOL}\n"
        f'config = IA3Config(target_modules=["q_proj", "down_proj"], feedforward_modules={ff})\n')
    found = run(tmp_path, ".")
    if raises:
        assert "PFT211" in {d["code"] for d in found} and all(d["severity"] == "error" for d in found), found
    else:
        assert found == []


def test_the_rest_of_the_file_is_still_checked(tmp_path: Path) -> None:
    (tmp_path / "train.py").write_text(
        f"from peft import LoraConfig\n\n# peftlint: model={SMOL}\n"
        'a = LoraConfig(target_modules=["q_proj"], modules_to_save=5)\n'
        f"# peftlint: model={SMOL}\n"
        'b = LoraConfig(target_modules=["q_prj"])\n')
    found = lint(tmp_path, ".")
    assert [(d["code"], d["line"]) for d in found] == [("PFT210", 4), ("PFT101", 6)]
