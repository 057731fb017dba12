"""``--format sarif`` validates against the official SARIF 2.1.0 schema and carries what GitHub code
scanning needs; ``--output-file``, ``--exit-zero`` and ``--statistics`` work as documented."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest
from support.lintutil import lint, run_cli

SCHEMA = Path(__file__).resolve().parents[1] / "data" / "sarif-schema-2.1.0.json"

BAD = '''from peft import LoraConfig
from transformers import AutoModelForCausalLM

model = AutoModelForCausalLM.from_pretrained("HuggingFaceTB/SmolLM2-135M")
config = LoraConfig(target_modules=["q_proj", "vproj", "q_proj"])
'''
UNRESOLVED = '''from peft import LoraConfig
config = LoraConfig(target_modules=["q_proj"])
'''


def _validate(log: dict) -> None:
    schema = json.loads(SCHEMA.read_text(encoding="utf-8"))
    jsonschema.Draft4Validator(schema).validate(log)


@pytest.fixture()
def project(tmp_path: Path) -> Path:
    (tmp_path / ".git").mkdir()  # the repository root SARIF URIs are relative to
    src = tmp_path / "src dir"
    src.mkdir()
    (src / "train.py").write_text(BAD, encoding="utf-8")
    (src / "other.py").write_text(UNRESOLVED, encoding="utf-8")
    return tmp_path


def _sarif(cwd: Path, *args: str) -> dict:
    code, out = run_cli(["check", "--format", "sarif", *args], cwd)
    assert code in (0, 1), out
    return json.loads(out)


def test_schema_file_is_the_oasis_schema():
    schema = json.loads(SCHEMA.read_text(encoding="utf-8"))
    assert schema["id"].endswith("/sarif-schema-2.1.0.json")
    jsonschema.Draft4Validator.check_schema(schema)


def test_sarif_validates_and_matches_json_findings(project: Path):
    log = _sarif(project, ".")
    _validate(log)
    assert log["version"] == "2.1.0" and log["$schema"]
    run = log["runs"][0]
    driver = run["tool"]["driver"]
    assert driver["name"] == "peftlint" and driver["version"] and driver["informationUri"].startswith("https://")
    findings = lint(project, ".")
    assert len(run["results"]) == len(findings) > 0
    for res, f in zip(run["results"], findings):
        assert res["ruleId"] == f["code"]
        assert driver["rules"][res["ruleIndex"]]["id"] == f["code"]
        assert res["level"] == {"error": "error", "warning": "warning", "info": "note"}[f["severity"]]
        assert res["message"]["text"] == f["message"]
        loc = res["locations"][0]["physicalLocation"]
        assert loc["artifactLocation"]["uri"] == f["path"].replace(" ", "%20")
        assert loc["artifactLocation"]["uriBaseId"] == "%SRCROOT%"
        assert loc["region"]["startLine"] == f["line"] and loc["region"]["startColumn"] == f["column"]
        assert loc["region"]["endLine"] == f["end_line"]
    assert {r["ruleId"] for r in run["results"]} >= {"PFT101", "PFT204", "PFT901"}
    note = next(r for r in run["results"] if r["ruleId"] == "PFT901")
    assert note["level"] == "note"


def test_rules_carry_what_code_scanning_requires(project: Path):
    rules = _sarif(project, ".")["runs"][0]["tool"]["driver"]["rules"]
    by_id = {r["id"]: r for r in rules}
    r = by_id["PFT101"]
    assert r["name"] == "unmatched-target"
    assert r["shortDescription"]["text"] and r["fullDescription"]["text"]
    assert len(r["fullDescription"]["text"]) <= 1024
    assert "PFT101" in r["help"]["text"] and "```" in r["help"]["markdown"]
    assert r["defaultConfiguration"]["level"] == "error"
    assert by_id["PFT204"]["defaultConfiguration"]["level"] == "warning"
    assert by_id["PFT901"]["defaultConfiguration"]["level"] == "note"


def test_uris_are_relative_to_the_repository_root(project: Path):
    log = _sarif(project / "src dir", "train.py")
    _validate(log)
    uri = log["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
    assert uri == "src%20dir/train.py"
    base = log["runs"][0]["originalUriBaseIds"]["%SRCROOT%"]["uri"]
    assert base.startswith("file://") and base.endswith("/")


def test_fixes_are_sarif_fixes(project: Path):
    log = _sarif(project, ".")
    dup = next(r for r in log["runs"][0]["results"] if r["ruleId"] == "PFT204")
    change = dup["fixes"][0]["artifactChanges"][0]
    assert change["artifactLocation"]["uri"].endswith("train.py")
    assert change["replacements"][0]["insertedContent"]["text"] == ""


def test_empty_run_is_valid(tmp_path: Path):
    (tmp_path / "ok.py").write_text("print('hi')\n", encoding="utf-8")
    log = _sarif(tmp_path, ".")
    _validate(log)
    assert log["runs"][0]["results"] == []


def test_output_file_exit_zero_and_statistics(project: Path):
    out = project / "report.sarif"
    code, stdout = run_cli(["check", "--format", "sarif", "--output-file", str(out), "."], project)
    assert code == 1 and stdout == ""
    _validate(json.loads(out.read_text(encoding="utf-8")))
    code, _ = run_cli(["check", "--exit-zero", "--format", "sarif", "-o", str(out), "."], project)
    assert code == 0
    code, text = run_cli(["check", "--statistics", "."], project)
    assert code == 1
    assert any(line.split()[:3] == ["1", "PFT101", "unmatched-target"] for line in text.splitlines())
    code, _ = run_cli(["check", "--select", "PFT901", "."], project)
    assert code == 0  # notes alone never fail a run
