"""The repository works as a pre-commit hook: the real ``pre-commit`` tool, a temporary git
repository, offline, from this checkout (``pre-commit try-repo``).

The ``peftlint-system`` hook (``language: system``) is the one tested: it runs the ``peftlint`` of
the current environment, so no network is needed. The ``peftlint`` hook (``language: python``)
makes pre-commit pip-install this repository and its dependencies (torch, transformers, peft)
into a fresh virtualenv, which needs a package index; it shares the entry, file filter and
``require_serial`` with the system hook (checked below from the hooks file itself).
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
MODEL = "HuggingFaceTB/SmolLM2-135M"

pytestmark = pytest.mark.skipif(shutil.which("pre-commit") is None or shutil.which("git") is None
                                or shutil.which("peftlint") is None,
                                reason="needs the pre-commit, git and peftlint executables")

GOOD = f'''from peft import LoraConfig
from transformers import AutoModelForCausalLM

model = AutoModelForCausalLM.from_pretrained("{MODEL}")
config = LoraConfig(target_modules=["q_proj", "v_proj"])
'''
BAD = GOOD.replace('"v_proj"', '"vproj"')


def _git(cwd: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True)


@pytest.fixture()
def project(tmp_path: Path) -> Path:
    proj = tmp_path / "proj"
    proj.mkdir()
    _git(proj, "init", "-q")
    _git(proj, "config", "user.email", "t@example.com")
    _git(proj, "config", "user.name", "t")
    (proj / "package.json").write_text('{"name": "not an adapter"}\n')  # filtered out by the hook
    return proj


def _try_repo(proj: Path, *files: str) -> subprocess.CompletedProcess:
    _git(proj, "add", "-A")
    env = dict(os.environ, PRE_COMMIT_HOME=str(proj.parent / "pre-commit-home"), HF_HUB_OFFLINE="1",
               PRE_COMMIT_COLOR="never")
    args = ["--files", *files] if files else ["--all-files"]
    return subprocess.run(["pre-commit", "try-repo", str(REPO), "peftlint-system", "--verbose", *args],
                          cwd=proj, env=env, capture_output=True, text=True, timeout=300)


def test_hook_fails_on_a_bad_config_and_passes_on_a_good_one(project: Path):
    (project / "train.py").write_text(BAD)
    res = _try_repo(project)
    assert res.returncode == 1, res.stdout + res.stderr
    assert "Failed" in res.stdout
    assert "train.py:5:47: PFT101 `vproj` matches no module" in res.stdout
    assert "package.json" not in res.stdout

    (project / "train.py").write_text(GOOD)
    res = _try_repo(project)
    assert res.returncode == 0, res.stdout + res.stderr
    assert "Passed" in res.stdout and "All checks passed." in res.stdout


def test_hook_sees_notebooks_and_trainer_configs(project: Path):
    (project / "axolotl.yml").write_text(f"base_model: {MODEL}\nadapter: lora\nlora_target_modules: [q_proj, vproj]\n")
    (project / "notes.yaml").write_text("todo: [write, tests]\n")  # not a trainer config: ignored
    res = _try_repo(project, "axolotl.yml", "notes.yaml", "package.json")
    assert res.returncode == 1, res.stdout + res.stderr
    assert "axolotl.yml:3:31: PFT101" in res.stdout
    assert "Checked 2 files" in res.stdout


def test_hook_honours_exclude_for_the_files_it_names(project: Path):
    """pre-commit names every file; `exclude` still applies (the hooks pass --force-exclude)."""
    (project / "legacy").mkdir()
    (project / "legacy" / "train.py").write_text(BAD)
    (project / "train.py").write_text(GOOD)
    (project / "pyproject.toml").write_text('[tool.peftlint]\nexclude = ["legacy/"]\n')
    res = _try_repo(project)
    assert res.returncode == 0, res.stdout + res.stderr
    assert "Checked 1 file" in res.stdout and "legacy" not in res.stdout
    (project / "pyproject.toml").write_text("[tool.peftlint]\n")
    res = _try_repo(project)
    assert res.returncode == 1 and "legacy/train.py:5:47: PFT101" in res.stdout


def test_both_hooks_are_declared_alike():
    hooks = {h["id"]: h for h in yaml.safe_load((REPO / ".pre-commit-hooks.yaml").read_text())}
    assert hooks["peftlint"]["language"] == "python" and hooks["peftlint-system"]["language"] == "system"
    for h in hooks.values():
        assert h["require_serial"] is True and h["entry"] == "peftlint check --force-exclude"
        assert {"python", "json", "jupyter", "yaml"} <= set(h["types_or"])
        assert h["files"] == hooks["peftlint"]["files"]
