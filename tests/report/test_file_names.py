"""Every output format survives a file name that is not UTF-8 (its bytes reach Python as surrogate
escapes): the run exits 1 with a complete report that is valid UTF-8."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest
from support.helpers_hf import REPO_ROOT

SCHEMA = Path(__file__).resolve().parents[1] / "data" / "sarif-schema-2.1.0.json"
DUP = ('from peft import LoraConfig\n\n# peftlint: model=HuggingFaceTB/SmolLM2-135M\n'
       'config = LoraConfig(target_modules=["q_proj", "v_proj", "q_proj"])\n')

pytestmark = pytest.mark.skipif(sys.platform in ("win32", "darwin"), reason="file names are bytes on Linux")


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("names")
    (root / ".git").mkdir()
    (root / os.fsdecode(b"caf\xe9.py")).write_text(DUP)
    return root


def _run(project: Path, fmt: str) -> str:
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT), "PYTHONIOENCODING": "utf-8"}
    out = subprocess.run([sys.executable, "-m", "peftlint", "--format", fmt, "."], cwd=project, env=env,
                         capture_output=True, timeout=600)
    assert out.returncode == 1, out.stderr.decode("utf-8", "replace")
    assert out.stdout
    return out.stdout.decode("utf-8")  # strict: the report is valid UTF-8


def test_text(project: Path) -> None:
    assert "caf\ufffd.py:4:57: PFT204" in _run(project, "text")


def test_json_keeps_the_exact_name(project: Path) -> None:
    (found,) = json.loads(_run(project, "json"))
    assert found["path"] == os.fsdecode(b"caf\xe9.py") and found["code"] == "PFT204"
    assert os.fsencode(found["path"]) == b"caf\xe9.py"


def test_sarif_percent_encodes_the_bytes(project: Path) -> None:
    log = json.loads(_run(project, "sarif"))
    jsonschema.Draft4Validator(json.loads(SCHEMA.read_text(encoding="utf-8"))).validate(log)
    (result,) = log["runs"][0]["results"]
    assert result["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == "caf%E9.py"


def test_github(project: Path) -> None:
    (line,) = _run(project, "github").splitlines()
    assert line.startswith("::warning file=caf\ufffd.py,line=4,")
