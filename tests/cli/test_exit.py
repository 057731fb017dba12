"""The command line leaves without Python's teardown when nothing needs it: the report must still be
complete, the exit code right, and a reader that stops early must not cause a traceback."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from support.helpers_hf import REPO_ROOT
from support.lintutil import run_cli

TYPO = """from peft import LoraConfig, get_peft_model
from transformers import AutoModelForCausalLM
model = get_peft_model(AutoModelForCausalLM.from_pretrained("gpt2"), LoraConfig(target_modules=["c_atn"]))
"""


def _env(tmp_path: Path) -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(REPO_ROOT), "PEFTLINT_CACHE_DIR": str(tmp_path / "cache")}


def test_report_and_exit_code_are_whole(tmp_path: Path) -> None:
    for i in range(30):
        (tmp_path / f"t{i:02d}.py").write_text(TYPO)
    cmd = [sys.executable, "-m", "peftlint", "--format", "json", "-j", "1", "."]
    for _ in range(2):  # a cold run (torch imported: Python's own exit), then a warm one (the quick exit)
        proc = subprocess.run(cmd, cwd=tmp_path, env=_env(tmp_path), capture_output=True, text=True)
        assert proc.returncode == 1, proc.stderr
        assert [d["code"] for d in json.loads(proc.stdout)] == ["PFT101"] * 30
    proc = subprocess.run([*cmd[:3], "--exit-zero", "."], cwd=tmp_path, env=_env(tmp_path), capture_output=True)
    assert proc.returncode == 0
    missing = subprocess.run([*cmd[:3], "no-such-dir"], cwd=tmp_path, env=_env(tmp_path), capture_output=True,
                             text=True)
    assert missing.returncode == 2 and "no such file or directory" in missing.stderr


def test_a_reader_that_stops_early(tmp_path: Path) -> None:
    for i in range(200):
        (tmp_path / f"t{i:03d}.py").write_text(TYPO)
    cmd = [sys.executable, "-m", "peftlint", "--format", "full", "-j", "1", "."]
    code, _ = run_cli(["check", "--cache-dir", str(tmp_path / "cache"), "."], tmp_path)  # fills the cache, in process
    assert code == 1
    proc = subprocess.Popen(cmd, cwd=tmp_path, env=_env(tmp_path), stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert proc.stdout is not None and proc.stdout.read(100)
    proc.stdout.close()
    _, err = proc.communicate()
    assert proc.returncode in (1, 120), err  # 120: Python's code when flushing the closed pipe fails
    assert b"Traceback" not in err and b"Exception ignored" not in err, err
