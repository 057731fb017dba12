"""The text report as a ruff user expects it (issue 23, item 7): colour on request or on a terminal,
--statistics as counts only, output-format from [tool.peftlint], `peftlint rule --output-format json`."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from support.lintutil import run_cli

BAD = ("from peft import LoraConfig\n\n# peftlint: model=gpt2\na = LoraConfig(target_modules=['c_atn'])\n"
       "# peftlint: model=gpt2\nb = LoraConfig(target_modules=['c_attn', 'c_attn'])\n")
ESC = "\x1b["


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("out")
    (root / "train.py").write_text(BAD)
    return root


@pytest.fixture(autouse=True)
def _no_color_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.delenv("FORCE_COLOR", raising=False)


def test_no_colour_in_a_pipe(project: Path) -> None:
    code, out = run_cli(["check", "."], project)
    assert code == 1 and ESC not in out
    assert "train.py:4:32: PFT101 `c_atn` matches no module" in out


def test_colour_always_styles_path_code_and_fix_mark(project: Path) -> None:
    code, out = run_cli(["check", "--color", "always", "."], project)
    assert code == 1
    assert "\x1b[1mtrain.py\x1b[0m:4:32: \x1b[31m\x1b[1mPFT101\x1b[0m `c_atn`" in out  # error: red
    assert "\x1b[1mtrain.py\x1b[0m:6:42: \x1b[33m\x1b[1mPFT204\x1b[0m \x1b[36m[*]\x1b[0m" in out  # warning: yellow


def test_force_color_and_no_color(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FORCE_COLOR", "1")
    assert ESC in run_cli(["check", "."], project)[1]
    assert ESC not in run_cli(["check", "--color", "never", "."], project)[1]
    assert ESC not in run_cli(["check", "--output-format", "json", "."], project)[1]
    monkeypatch.setenv("NO_COLOR", "1")
    assert ESC not in run_cli(["check", "."], project)[1]
    assert ESC in run_cli(["check", "--color", "always", "."], project)[1]


def test_statistics_prints_counts_only(project: Path) -> None:
    code, out = run_cli(["check", "--statistics", "."], project)
    assert code == 1
    lines = out.splitlines()
    assert lines[:2] == ["    1  PFT101      unmatched-target             error",
                         "    1  PFT204  [*] duplicate-entry              warning"]
    assert "train.py:" not in out and "Found 1 error, 1 warning" in out


def test_output_format_from_pyproject(tmp_path: Path) -> None:
    (tmp_path / "train.py").write_text(BAD)
    (tmp_path / "pyproject.toml").write_text('[tool.peftlint]\noutput-format = "json"\n')
    code, out = run_cli(["check", "."], tmp_path)
    assert code == 1 and [d["code"] for d in json.loads(out)] == ["PFT101", "PFT204"]
    code, out = run_cli(["check", "--output-format", "concise", "."], tmp_path)  # the command line wins
    assert out.startswith("train.py:4:32: PFT101")
    (tmp_path / "pyproject.toml").write_text('[tool.peftlint]\noutput-format = "jsn"\n')
    code, out = run_cli(["check", "."], tmp_path)
    assert code == 2 and "output-format: 'jsn' is not one of concise, full, text, json, sarif, github" in out


def test_rule_as_json(tmp_path: Path) -> None:
    code, out = run_cli(["rule", "PFT101", "--output-format", "json"], tmp_path)
    assert code == 0
    data = json.loads(out)
    assert (data["code"], data["name"], data["severity"]) == ("PFT101", "unmatched-target", "error")
    assert "target_modules" in data["explanation"]
    code, out = run_cli(["rule", "--all", "--output-format", "json"], tmp_path)
    assert [r["code"] for r in json.loads(out)][:2] == ["PFT101", "PFT102"]
    code, out = run_cli(["rule", "PFT1O1"], tmp_path)
    assert code == 2 and "did you mean `PFT101`?" in out


def test_notebook_positions_as_ruff_prints_them(tmp_path: Path) -> None:
    """`nb.ipynb:cell N:LINE:COL` in the text report (cell, line and column inside the cell, after an
    IPython magic and in an indented cell); JSON keeps the file position and adds `cell`."""
    model = "HuggingFaceTB/SmolLM2-135M"
    cells = [
        {"cell_type": "markdown", "metadata": {}, "source": ["# notes\n"]},
        {"cell_type": "code", "metadata": {}, "execution_count": None, "outputs": [], "source": [
            "from peft import LoraConfig\n", f"# peftlint: model={model}\n",
            '%time config = LoraConfig(target_modules=["q_proj", "vproj"])\n']},
        {"cell_type": "code", "metadata": {}, "execution_count": None, "outputs": [], "source": [
            f"  # peftlint: model={model}\n", '  c2 = LoraConfig(target_modules=["q_proj", "kproj"])\n']},
    ]
    nb = {"cells": cells, "metadata": {}, "nbformat": 4, "nbformat_minor": 5}
    (tmp_path / "nb.ipynb").write_text(json.dumps(nb, indent=1))
    code, out = run_cli(["check", "nb.ipynb"], tmp_path)
    lines = [ln for ln in out.splitlines() if "PFT101" in ln]
    assert [ln.split(" PFT101 ")[0] for ln in lines] == ["nb.ipynb:cell 2:3:53:", "nb.ipynb:cell 3:2:45:"]
    assert not any("(cell " in ln for ln in lines)  # the position says it already
    found = json.loads(run_cli(["check", "--output-format", "json", "nb.ipynb"], tmp_path)[1])
    assert [(f["cell"], f["message"][-16:]) for f in found] == [([2, 3, 53], "(cell 2, line 3)"),
                                                                 ([3, 2, 45], "(cell 3, line 2)")]
    assert found[0]["line"] > 3  # the line in the .ipynb file


def test_statistics_as_json(project: Path) -> None:
    code, out = run_cli(["check", "--statistics", "--output-format", "json", "."], project)
    assert code == 1
    assert json.loads(out) == [
        {"code": "PFT101", "name": "unmatched-target", "severity": "error", "count": 1, "fixable": False},
        {"code": "PFT204", "name": "duplicate-entry", "severity": "warning", "count": 1, "fixable": True}]
