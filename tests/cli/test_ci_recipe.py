"""The CI recipe (issue 23, item 9): docs/ci/peftlint.yml is a valid GitHub workflow that installs CPU
torch, caches both caches keyed on the models the code names, fails on unchecked configs with
--strict, uploads SARIF only where the token can write; its peftlint commands run as written. And
the ruff advice of docs/configuration.md holds with the real ruff."""

from __future__ import annotations

import json
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from support.helpers_hf import REPO_ROOT
from support.lintutil import run_cli

WORKFLOW = REPO_ROOT / "docs" / "ci" / "peftlint.yml"
DOCS = (REPO_ROOT / "docs" / "configuration.md").read_text(encoding="utf-8")
README = (REPO_ROOT / "README.md").read_text(encoding="utf-8")
CPU_INDEX = "pip install torch --index-url https://download.pytorch.org/whl/cpu"


@pytest.fixture(scope="module")
def workflow() -> dict:
    return yaml.safe_load(WORKFLOW.read_text(encoding="utf-8"))


def _steps(workflow: dict) -> list[dict]:
    return workflow["jobs"]["peftlint"]["steps"]


def test_workflow_matches_githubs_schema() -> None:
    """check-jsonschema's copy of GitHub's workflow schema (shipped in the package: offline)."""
    out = subprocess.run([sys.executable, "-m", "check_jsonschema", "--builtin-schema", "vendor.github-workflows",
                          str(WORKFLOW)], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stdout + out.stderr


def test_schema_check_can_fail(tmp_path: Path) -> None:
    broken = tmp_path / "broken.yml"
    broken.write_text(WORKFLOW.read_text(encoding="utf-8").replace("runs-on:", "runs_on:"))
    out = subprocess.run([sys.executable, "-m", "check_jsonschema", "--builtin-schema", "vendor.github-workflows",
                          str(broken)], capture_output=True, text=True, timeout=120)
    assert out.returncode == 1 and "'runs-on' is a required property" in out.stdout


def test_install_is_cpu_torch_and_peftlint_from_git(workflow: dict) -> None:
    runs = "\n".join(s.get("run", "") for s in _steps(workflow))
    assert CPU_INDEX in runs
    assert runs.index(CPU_INDEX) < runs.index("git+https://")  # torch first, so peftlint's dependency is met
    assert not re.search(r"pip install peftlint\b", runs)  # not on PyPI
    for text in (DOCS, README):
        assert not re.search(r"pip install peftlint\b", text) and "rev: v0.1.0" not in text
    assert CPU_INDEX in README and CPU_INDEX in DOCS


def test_both_caches_keyed_on_the_models(workflow: dict) -> None:
    caches = [s for s in _steps(workflow) if s.get("uses", "").startswith("actions/cache@")]
    assert {c["with"]["path"] for c in caches} == {"~/.cache/huggingface/hub", "~/.cache/peftlint"}
    assert workflow["env"]["PEFTLINT_CACHE_DIR"] == "~/.cache/peftlint"
    for c in caches:
        assert "hashFiles('.peftlint-models.txt')" in c["with"]["key"]
        assert "**/*.py" not in c["with"]["key"]
    listing = next(s for s in _steps(workflow) if "--list" in s.get("run", ""))
    assert _steps(workflow).index(listing) < _steps(workflow).index(caches[0])


def test_strict_lint_and_sarif_upload_done_right(workflow: dict) -> None:
    assert workflow["permissions"] == {"contents": "read", "actions": "read", "security-events": "write"}
    lint = next(s for s in _steps(workflow) if "--output-format github" in s.get("run", ""))
    assert "--strict" in lint["run"] and lint["env"]["HF_HUB_OFFLINE"] == "1"
    [upload] = [s for s in _steps(workflow) if "upload-sarif" in s.get("uses", "")]
    assert upload["uses"] == "github/codeql-action/upload-sarif@v4"
    assert "github.event.pull_request.head.repo.full_name == github.repository" in upload["if"]
    fetch = next(s for s in _steps(workflow) if s.get("run", "").strip() == "peftlint cache fetch .")
    assert fetch["continue-on-error"] is True and "HF_TOKEN" in fetch["env"]
    assert "upload-sarif@v3" not in DOCS


def _peftlint_commands(workflow: dict) -> list[list[str]]:
    out = []
    for step in _steps(workflow):
        for line in step.get("run", "").splitlines():
            if line.strip().startswith("peftlint ") and line.strip() != "peftlint cache fetch .":
                out.append(shlex.split(line.split(">")[0])[1:])
    return out


def test_the_workflows_commands_run(tmp_path: Path, workflow: dict) -> None:
    (tmp_path / "train.py").write_text(
        "from transformers import AutoModelForCausalLM\nfrom peft import LoraConfig, get_peft_model\n"
        "model = get_peft_model(AutoModelForCausalLM.from_pretrained('gpt2'), LoraConfig(target_modules=['c_atn']))\n"
        "other = LoraConfig(target_modules=['q_proj'])  # peftlint: model=acme/not-fetched\n")
    commands = _peftlint_commands(workflow)
    assert [c[:2] for c in commands] == [["cache", "fetch"], ["check", "--strict"], ["check", "--output-format"]]
    code, out = run_cli(commands[0], tmp_path)
    assert code == 0 and out.splitlines() == ["acme/not-fetched", "gpt2"]
    code, out = run_cli(commands[1], tmp_path)
    assert code == 1 and "::error file=train.py,line=3" in out
    assert "::error file=train.py,line=4" in out and "PFT901" in out  # --strict: the unchecked config fails
    code, out = run_cli(commands[2], tmp_path)
    assert code == 0 and json.loads((tmp_path / "peftlint.sarif").read_text())["version"] == "2.1.0"


def test_docs_pin_a_commit_for_pre_commit() -> None:
    assert re.search(r"rev: [0-9a-f]{40}\s+# a commit of peftlint", DOCS)


@pytest.mark.skipif(shutil.which("ruff") is None and not (Path(sys.executable).parent / "ruff").exists(),
                    reason="needs ruff")
def test_ruff_external_keeps_peftlint_codes(tmp_path: Path) -> None:
    """What docs/configuration.md says about RUF100 and `lint.external`."""
    ruff = shutil.which("ruff") or str(Path(sys.executable).parent / "ruff")
    src = "x = 1  # noqa: E501, PFT101\n"

    def fixed(config: str) -> str:
        (tmp_path / "ruff.toml").write_text(config)
        (tmp_path / "a.py").write_text(src)
        subprocess.run([ruff, "check", "--no-cache", "--fix", "a.py"], cwd=tmp_path, capture_output=True, timeout=60)
        return (tmp_path / "a.py").read_text()

    assert fixed('[lint]\nselect = ["RUF100"]\n') == "x = 1\n"
    assert fixed('[lint]\nselect = ["RUF100"]\nexternal = ["PFT"]\n') == "x = 1  # noqa: PFT101\n"
    assert 'external = ["PFT"]' in DOCS and 'external = ["PFT"]' in README
