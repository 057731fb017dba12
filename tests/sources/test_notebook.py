"""Notebooks: code cells are one program; findings land on the cell's text in the .ipynb file
(and name the cell and its line); ``--fix`` rewrites only the cells it changes."""

from __future__ import annotations

import json
from pathlib import Path

from support.lintutil import lint, run_cli

from peftlint.sources.notebook import extract_notebook

MODEL = "HuggingFaceTB/SmolLM2-135M"


def _cell(source, kind: str = "code") -> dict:
    cell = {"cell_type": kind, "metadata": {}, "source": source}
    if kind == "code":
        cell.update(execution_count=None, outputs=[])
    return cell


def _write(tmp: Path, cells: list[dict], name: str = "train.ipynb", indent: int = 1) -> Path:
    nb = {"cells": cells, "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3"}},
          "nbformat": 4, "nbformat_minor": 5}
    p = tmp / name
    p.write_text(json.dumps(nb, indent=indent, ensure_ascii=False) + "\n", encoding="utf-8")
    return p


def _raw(p: Path, f: dict) -> str:
    line = p.read_text(encoding="utf-8").splitlines()[f["line"] - 1]
    return line[f["column"] - 1:f["end_column"] - 1]


def _typo_notebook(tmp: Path) -> Path:
    return _write(tmp, [
        _cell(["# Fine-tune\n"], "markdown"),
        _cell(["!pip install peft\n", "%matplotlib inline\n", "from peft import LoraConfig\n",
               "from transformers import AutoModelForCausalLM\n", f'MODEL = "{MODEL}"\n',
               'TARGETS = ["q_proj", "vproj"]\n']),
        _cell(["model = AutoModelForCausalLM.from_pretrained(MODEL)\n", "config = LoraConfig(target_modules=TARGETS)"]),
    ])


def test_cells_are_one_program_and_findings_point_into_the_file(tmp_path: Path):
    p = _typo_notebook(tmp_path)
    [f] = [f for f in lint(tmp_path, ".") if f["code"] == "PFT101"]
    assert f["path"] == "train.ipynb" and f["subject"] == "vproj" and f["model"] == MODEL
    assert _raw(p, f) == '\\"vproj\\"'  # the item as stored in the JSON string of cell 2
    assert f["message"].endswith("(cell 2, line 6)")


def test_noqa_inside_a_cell(tmp_path: Path):
    _write(tmp_path, [_cell([
        "from peft import LoraConfig\n",
        f"# peftlint: model={MODEL}\n",
        'config = LoraConfig(target_modules=["q_proj", "vproj"])  # noqa: PFT101\n'])])
    assert [f["code"] for f in lint(tmp_path, ".")] == []


def test_magics_and_shell_cells_do_not_break_parsing(tmp_path: Path):
    _write(tmp_path, [
        _cell("%%bash\npip install peft\n  if [ -x ]; then echo; fi\n"),
        _cell(["%%time\n", "from peft import LoraConfig\n", "files = !ls\n", "LoraConfig?\n",
               "if True:\n", "    %env X=1\n", f"    # peftlint: model={MODEL}\n",
               '    config = LoraConfig(target_modules=["all-linear"])\n']),
    ])
    findings = lint(tmp_path, ".")
    assert [f["code"] for f in findings] == ["PFT202"]
    assert findings[0]["message"].endswith("(cell 2, line 8)")


def test_a_cell_that_does_not_parse_is_a_note_and_the_rest_is_linted(tmp_path: Path):
    p = _write(tmp_path, [
        _cell(["!pip install --no-deps bitsandbytes accelerate xformers \\\n", "    peft trl triton\n"]),
        _cell(["from peft import LoraConfig\n", "from transformers import AutoModelForCausalLM\n"]),
        _cell(["print(dict(a=1\n", "         b=2))\n"]),
        _cell([f'model = AutoModelForCausalLM.from_pretrained("{MODEL}")\n',
               'config = LoraConfig(target_modules=["q_proj", "vproj"])\n']),
    ])
    note, typo = lint(tmp_path, ".")
    assert (note["code"], note["severity"]) == ("PFT906", "info")
    assert note["message"].startswith("cell not linted") and note["message"].endswith("(cell 3, line 1)")
    assert _raw(p, note) == "1"  # where Python reports the missing comma, inside the cell's JSON string
    assert (typo["code"], typo["subject"], typo["model"]) == ("PFT101", "vproj", MODEL)
    assert typo["message"].endswith("(cell 4, line 2)") and _raw(p, typo) == '\\"vproj\\"'
    assert run_cli(["check", "--select", "PFT906", "."], tmp_path)[0] == 0  # a note does not fail the run


def test_findings_after_a_time_magic_and_in_an_indented_cell_map_into_the_file(tmp_path: Path):
    p = _write(tmp_path, [
        _cell(["from peft import LoraConfig\n", f'# peftlint: model={MODEL}\n',
               '%time config = LoraConfig(target_modules=["q_proj", "vproj"])\n']),
        _cell([f'  # peftlint: model={MODEL}\n', '  c2 = LoraConfig(target_modules=["q_proj", "kproj"])\n']),
    ])
    found = lint(tmp_path, ".")
    assert [(f["code"], f["subject"], _raw(p, f)) for f in found] == [
        ("PFT101", "vproj", '\\"vproj\\"'), ("PFT101", "kproj", '\\"kproj\\"')]


def test_model_source_names_cell_and_line(tmp_path: Path):
    _typo_notebook(tmp_path)
    [f] = [f for f in lint(tmp_path, ".") if f["code"] == "PFT101"]
    assert f["model_source"].startswith("AutoModelForCausalLM.from_pretrained() at cell 3, line 1")


def test_not_a_notebook(tmp_path: Path):
    (tmp_path / "broken.ipynb").write_text('{"cells": [ "from peft import LoraConfig', encoding="utf-8")
    [f] = lint(tmp_path, ".")
    assert f["code"] == "PFT902" and f["line"] == 1
    # a broken file that names no PEFT config is dropped by the prefilter, like any file without one
    (tmp_path / "broken.ipynb").write_text('{"cells": [ peft', encoding="utf-8")
    assert lint(tmp_path, ".") == []


def test_fix_edits_the_cell_source_and_nothing_else(tmp_path: Path):
    cells = [
        _cell(["from peft import LoraConfig  # café\n"]),
        _cell([f"# peftlint: model={MODEL}\n", "config = LoraConfig(target_modules=[\n", '    "q_proj",\n',
               '    "k_proj",\n', '    "q_proj",\n', "])\n", 'c2 = LoraConfig(target_modules=["all-linear"])']),
        _cell('c3 = LoraConfig(target_modules=["all-linear"])\n'),  # source as one string
    ]
    p = _write(tmp_path, cells)
    before = p.read_text(encoding="utf-8")
    code, out = run_cli(["check", "--fix", "."], tmp_path)
    after = p.read_text(encoding="utf-8")
    nb = json.loads(after)
    assert nb["cells"][1]["source"] == [f"# peftlint: model={MODEL}\n", "config = LoraConfig(target_modules=[\n",
                                        '    "q_proj",\n', '    "k_proj",\n', "])\n",
                                        'c2 = LoraConfig(target_modules="all-linear")']
    assert nb["cells"][2]["source"] == 'c3 = LoraConfig(target_modules="all-linear")\n'
    # everything but the two changed sources is byte-identical: same cells, same layout, same unicode
    expected = json.loads(before)
    expected["cells"][1]["source"] = nb["cells"][1]["source"]
    expected["cells"][2]["source"] = nb["cells"][2]["source"]
    assert after == json.dumps(expected, indent=1, ensure_ascii=False) + "\n"
    assert [f["code"] for f in lint(tmp_path, ".")] == ["PFT901", "PFT901"]  # c2, c3: no model named


def test_fix_keeps_an_ascii_escaped_notebook_ascii(tmp_path: Path):
    p = _write(tmp_path, [_cell(["# é\n", "from peft import LoraConfig\n",
                                 'c = LoraConfig(target_modules=["all-linear"])  # ü\n'])], indent=2)
    p.write_text(json.dumps(json.loads(p.read_text(encoding="utf-8")), indent=2) + "\n", encoding="utf-8")
    run_cli(["check", "--fix", "."], tmp_path)
    after = p.read_text(encoding="utf-8")
    assert "\\u00e9" in after and "\\u00fc" in after
    assert json.loads(after)["cells"][0]["source"][2] == 'c = LoraConfig(target_modules="all-linear")  # ü\n'


def test_reader_maps_specs_to_python_spans():
    text = json.dumps({"cells": [_cell(["from peft import LoraConfig\n"]),
                                 _cell(['c = LoraConfig(r=8, target_modules=["q_proj"])\n'])],
                       "metadata": {}, "nbformat": 4, "nbformat_minor": 5}, indent=1)
    res = extract_notebook(text, "nb.ipynb", "/tmp/nb.ipynb", {"LoraConfig"})
    [spec] = res.specs
    assert spec.facts.notebook is True
    assert spec.static("target_modules") == ["q_proj"] and spec.static("r") == 8
    assert spec.span.line == 2  # program coordinates until the engine calls remap()
