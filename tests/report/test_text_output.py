"""What a person reads: errors and warnings one line each, notes counted but shown on request, a
short summary ending with the coverage, ``full`` with explanations, where each model came from (text,
JSON, SARIF), and ``--show-configs``."""

from __future__ import annotations

import json
from pathlib import Path

from support.lintutil import lint, run_cli

SMOL = "HuggingFaceTB/SmolLM2-135M"
CHECKED = f'''from peft import LoraConfig
from transformers import AutoModelForCausalLM

model = AutoModelForCausalLM.from_pretrained("{SMOL}")
config = LoraConfig(target_modules=["q_proj", "vproj"])
'''
# one model literal shared by eight configs (the case that printed eight identical lines)
SHARED = "from peft import LoraConfig\nfrom transformers import AutoModelForCausalLM\n\n" \
         'MODEL_ID = "acme/not-a-model"\nmodel = AutoModelForCausalLM.from_pretrained(MODEL_ID)\n\n' + \
         "".join(f"c{i} = LoraConfig(r={2 ** i}, target_modules=['q_proj'])\n" for i in range(8))


def _project(tmp: Path) -> Path:
    (tmp / "train.py").write_text(CHECKED, encoding="utf-8")
    (tmp / "shared.py").write_text(SHARED, encoding="utf-8")
    return tmp


def test_concise_prints_errors_and_warnings_and_counts_the_notes(tmp_path: Path):
    code, out = run_cli(["check", "."], _project(tmp_path))
    assert code == 1
    assert out.splitlines() == [
        out.splitlines()[0],
        "",
        "Found 1 error, 0 warnings, 8 notes (notes not shown: --show-notes). "
        "(1 hidden fix can be enabled with --unsafe-fixes)",
        "8 configs not checked: their base model is not on this machine; `peftlint cache fetch .` "
        "downloads the config.json files (or run with --online).",
        "Checked 2 files: 9 configs, 1 checked (11 %).",
    ]
    assert out.splitlines()[0].startswith("train.py:5:47: PFT101 `vproj` matches no module of")


def test_unresolved_model_is_one_note_per_config_at_the_config_call(tmp_path: Path):
    _project(tmp_path)
    notes = [f for f in lint(tmp_path, "shared.py") if f["code"] == "PFT901"]
    assert [(f["line"], f["column"]) for f in notes] == [(7 + i, 6) for i in range(8)]
    for f in notes:
        assert f["message"] == ("base model 'acme/not-a-model' not resolved (AutoModelForCausalLM.from_pretrained() "
                                "at line 5); model-aware checks skipped")
        assert len(f["message"]) <= 160
        assert "--online" in f["detail"] and "# peftlint: model=" in f["detail"]
    code, out = run_cli(["check", "shared.py"], tmp_path)
    assert code == 0 and out.splitlines() == [
        "Found 0 errors, 0 warnings, 8 notes (notes not shown: --show-notes).",
        "8 configs not checked: their base model is not on this machine; `peftlint cache fetch shared.py` "
        "downloads the config.json files (or run with --online).",
        "Checked 1 file: 8 configs, 0 checked (0 %).",
    ]
    code, out = run_cli(["check", "--show-notes", "shared.py"], tmp_path)
    assert code == 0
    assert sum("PFT901" in line for line in out.splitlines()) == 8  # listed once each, not again in the summary
    assert "acme/not-a-model" not in "\n".join(out.splitlines()[8:])
    assert out.splitlines()[-1] == "Checked 1 file: 8 configs, 0 checked (0 %)."
    assert "`peftlint cache fetch shared.py`" in out.splitlines()[-2]  # every time, notes shown or not


def test_full_adds_the_explanation_and_the_model_source(tmp_path: Path):
    code, out = run_cli(["check", "--output-format", "full", "."], _project(tmp_path))
    lines = out.splitlines()
    assert code == 1
    i = next(k for k, line in enumerate(lines) if line.startswith("train.py:5:47: PFT101"))
    assert lines[i + 1] == "    PEFT ignores an entry that matches nothing silently and adapts only the other entries."
    assert lines[i + 2] == (f"    model: {SMOL} (AutoModelForCausalLM.from_pretrained() at line 4, "
                            "the only model loaded in this module)")
    j = next(k for k, line in enumerate(lines) if line.startswith("shared.py:7:6: PFT901"))
    assert lines[j + 1].startswith("    'acme/not-a-model' (from AutoModelForCausalLM.from_pretrained()")
    assert sum(line.startswith("shared.py:") for line in lines) == 8
    assert lines[-3:] == ["Found 1 error, 0 warnings, 8 notes. (1 hidden fix can be enabled with --unsafe-fixes)",
                          "8 configs not checked: their base model is not on this machine; `peftlint cache fetch .` "
                          "downloads the config.json files (or run with --online).",
                          "Checked 2 files: 9 configs, 1 checked (11 %)."]


def test_every_finding_is_one_line(tmp_path: Path):
    from peftlint.report.text import one_line

    assert one_line("peftlint failed here: ValueError: bad\n  value\n") == "peftlint failed here: ValueError: bad value"


def test_format_names_and_environment(tmp_path: Path, monkeypatch):
    _project(tmp_path)
    concise = run_cli(["check", "."], tmp_path)[1]
    assert run_cli(["check", "--format", "text", "."], tmp_path)[1] == concise
    assert run_cli(["check", "--output-format", "concise", "."], tmp_path)[1] == concise
    monkeypatch.setenv("PEFTLINT_OUTPUT_FORMAT", "json")
    assert len(json.loads(run_cli(["check", "."], tmp_path)[1])) == 9


def test_json_and_sarif_say_where_the_model_came_from(tmp_path: Path):
    _project(tmp_path)
    (tmp_path / ".git").mkdir()
    found = lint(tmp_path, ".")
    assert len(found) == 9  # notes included
    typo = next(f for f in found if f["code"] == "PFT101")
    assert typo["model_source"] == "AutoModelForCausalLM.from_pretrained() at line 4, the only model loaded in this module"
    assert typo["detail"] == "PEFT ignores an entry that matches nothing silently and adapts only the other entries."
    assert {f["model_source"] for f in found if f["code"] == "PFT901"} == {
        "AutoModelForCausalLM.from_pretrained() at line 5, the only model loaded in this module"}
    run = json.loads(run_cli(["check", "--format", "sarif", "."], tmp_path)[1])["runs"][0]
    props = [r["properties"] for r in run["results"]]
    assert [p["model_source"] for p in props] == [f["model_source"] for f in found]
    assert all("--online" in p["detail"] for p in props if p["model_source"].endswith("line 5, the only model "
                                                                                        "loaded in this module"))


def test_show_configs_lists_every_config_with_its_model_or_why_not(tmp_path: Path):
    _project(tmp_path)
    (tmp_path / "nomodel.py").write_text("from peft import LoraConfig\nc = LoraConfig(target_modules=['q_proj'])\n",
                                         encoding="utf-8")
    code, out = run_cli(["check", "--show-configs", "."], tmp_path)
    lines = out.splitlines()
    assert code == 0 and len(lines) == 13
    assert lines[0] == "nomodel.py:2:5: LoraConfig: not checked: no from_pretrained() call or trainer linked to this config"
    assert lines[1].startswith("shared.py:7:6: LoraConfig: not checked: 'acme/not-a-model' (from AutoModelForCausalLM")
    assert lines[9] == (f"train.py:5:10: LoraConfig: checked against {SMOL} (AutoModelForCausalLM.from_pretrained() "
                        "at line 4, the only model loaded in this module)")
    assert lines[10].startswith("    trainable params: ")  # what the config trains (test_params_output.py)
    assert lines[-1] == "10 configs, 1 checked (10 %)."
    code, out = run_cli(["check", "--show-configs", "--output-format", "json", "."], tmp_path)
    sites = json.loads(out)
    assert code == 0 and len(sites) == 10
    assert sites[0] == {"path": "nomodel.py", "line": 2, "column": 5, "config": "LoraConfig", "method": "LORA",
                        "source": "python", "checked": False, "model": None, "model_ref": None, "model_source": None,
                        "from_default": False,
                        "why": "no from_pretrained() call or trainer linked to this config",
                        "trainable_parameters": None, "adapted_modules": None, "all_parameters": None,
                        "trainable_percent": None, "adapter_bytes": None, "parameters_note": None}
    assert sites[-1]["checked"] and sites[-1]["model"] == SMOL and sites[-1]["model_ref"] == SMOL
    assert sites[1]["model_ref"] == "acme/not-a-model" and "not in the Hugging Face cache" in sites[1]["why"]
