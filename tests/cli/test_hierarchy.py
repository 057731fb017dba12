"""Each file is linted with its nearest configuration (ruff's hierarchical discovery, issue 23 item 5):
pyproject.toml with [tool.peftlint], peftlint.toml or .peftlint.toml; --config overrides; a nested
configuration can no more enable remote code, the network or a cache directory than the top one."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from support.helpers_hf import REPO_ROOT
from support.lintutil import lint, run_cli
from support.remote_model import write_remote_code_model

REGEX = ("from peft import LoraConfig\n\n# peftlint: model=gpt2\n"
         "config = LoraConfig(target_modules='c_attn|c_proj')\n")  # PFT102 (error)
DUP = ("from peft import LoraConfig\n\n# peftlint: model=gpt2\n"
       "config = LoraConfig(target_modules=['c_attn', 'c_attn'])\n")  # PFT204 (warning)


@pytest.fixture(scope="module")
def mono(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A monorepo: the top pyproject ignores nothing, proj/ ignores PFT102, proj/sub/ selects PFT2 only
    (peftlint.toml, top-level keys), a pyproject.toml without [tool.peftlint] in other/ is not a config."""
    root = tmp_path_factory.mktemp("mono")
    for d in ("", "proj", "proj/sub", "other"):
        (root / d).mkdir(parents=True, exist_ok=True)
        (root / d / "a.py").write_text(REGEX)
        (root / d / "b.py").write_text(DUP)
    (root / "pyproject.toml").write_text("[tool.peftlint]\nignore = []\n")
    (root / "proj" / "pyproject.toml").write_text('[tool.peftlint]\nignore = ["PFT102"]\n')
    (root / "proj" / "sub" / "peftlint.toml").write_text('select = ["PFT2"]\n')
    (root / "other" / "pyproject.toml").write_text('[project]\nname = "other"\n')
    return root


def _found(cwd: Path, *args: str) -> set[tuple[str, str]]:
    return {(f["path"], f["code"]) for f in lint(cwd, *args)}


EXPECTED = {("a.py", "PFT102"), ("b.py", "PFT204"), ("other/a.py", "PFT102"), ("other/b.py", "PFT204"),
            ("proj/b.py", "PFT204"), ("proj/sub/b.py", "PFT204")}


def test_each_file_uses_its_nearest_configuration(mono: Path) -> None:
    assert _found(mono, ".") == EXPECTED


def test_from_a_parent_or_a_child_directory(mono: Path) -> None:
    # `peftlint check proj` from the parent reads proj/pyproject.toml (the report)
    assert _found(mono, "proj") == {("proj/b.py", "PFT204"), ("proj/sub/b.py", "PFT204")}
    # files named one by one (pre-commit, editors) too
    assert _found(mono, "proj/a.py", "proj/sub/a.py", "a.py") == {("a.py", "PFT102")}
    assert _found(mono / "proj" / "sub", ".") == {("b.py", "PFT204")}


def test_config_option_overrides(mono: Path) -> None:
    everything = {(p, c) for p in ("a.py", "other/a.py", "proj/a.py", "proj/sub/a.py") for c in ("PFT102",)}
    assert _found(mono, "--config", "proj/sub/peftlint.toml", ".") == {
        (p.replace("a.py", "b.py"), "PFT204") for p, _ in everything}
    assert _found(mono, "--config", "pyproject.toml", "proj") == {
        ("proj/a.py", "PFT102"), ("proj/b.py", "PFT204"), ("proj/sub/a.py", "PFT102"), ("proj/sub/b.py", "PFT204")}


def test_command_line_options_apply_to_every_configuration(mono: Path) -> None:
    # --select replaces each configuration's select and drops its ignore (ruff's layering)
    assert _found(mono, "--select", "PFT1", ".") == {("a.py", "PFT102"), ("other/a.py", "PFT102"),
                                                     ("proj/a.py", "PFT102"), ("proj/sub/a.py", "PFT102")}
    # --ignore adds to each configuration's: proj's PFT102 stays ignored, PFT204 goes everywhere
    assert _found(mono, "--ignore", "PFT204", ".") == {("a.py", "PFT102"), ("other/a.py", "PFT102")}


def test_nested_configuration_errors_stop_the_run(tmp_path: Path) -> None:
    (tmp_path / "proj").mkdir()
    (tmp_path / "proj" / "a.py").write_text(REGEX)
    (tmp_path / "proj" / ".peftlint.toml").write_text('ignore = ["PFT1O2"]\n')
    code, out = run_cli(["check", "."], tmp_path)
    assert code == 2
    assert f"{tmp_path / 'proj' / '.peftlint.toml'}: ignore: `PFT1O2` is not a peftlint rule code" in out


def test_nested_excludes_apply_to_their_project(tmp_path: Path) -> None:
    (tmp_path / "proj" / "legacy").mkdir(parents=True)
    (tmp_path / "proj" / "legacy" / "a.py").write_text(REGEX)
    (tmp_path / "proj" / "a.py").write_text(REGEX)
    (tmp_path / "proj" / "pyproject.toml").write_text('[tool.peftlint]\nexclude = ["legacy/"]\n')
    assert _found(tmp_path, ".") == {("proj/a.py", "PFT102")}
    assert _found(tmp_path, "proj/legacy/a.py") == {("proj/legacy/a.py", "PFT102")}  # named: linted
    (tmp_path / "proj" / "pyproject.toml").write_text('[tool.peftlint]\nexclude = ["legacy/"]\nforce-exclude = true\n')
    assert _found(tmp_path, "proj/legacy/a.py", "proj/a.py") == {("proj/a.py", "PFT102")}


def test_nested_configuration_cannot_widen_what_peftlint_does(tmp_path: Path) -> None:
    """The security rule of config.py holds for every configuration found, not only the top one."""
    repo = tmp_path / "mono" / "proj"
    marker = tmp_path / "REMOTE-CODE-RAN"
    elsewhere = tmp_path / "elsewhere"
    write_remote_code_model(repo / "fancy", marker)
    (repo / "pyproject.toml").write_text(f'[tool.peftlint]\nmodel = "fancy"\ntrust-remote-code = true\n'
                                         f'online = true\ncache-dir = "{elsewhere}"\n')
    (repo / "train.py").write_text('from peft import LoraConfig\n\nconfig = LoraConfig(target_modules=["fancy_proj"])\n')
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT), "HF_HOME": str(tmp_path / "hf-home")}
    for k in ("HF_MODULES_CACHE", "PEFTLINT_TRUST_REMOTE_CODE", "PEFTLINT_ONLINE"):
        env.pop(k, None)
    out = subprocess.run([sys.executable, "-m", "peftlint", "--format", "json", "proj"], cwd=repo.parent, env=env,
                         capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stderr
    assert [d["code"] for d in json.loads(out.stdout)] == ["PFT903"]  # the nested `model` was read; its code never ran
    assert not marker.exists() and not elsewhere.exists()
    assert len([ln for ln in out.stderr.splitlines() if "ignoring" in ln]) == 3


def test_fix_reports_with_each_files_configuration(tmp_path: Path) -> None:
    """After --fix re-lints, the report still uses each file's own configuration."""
    (tmp_path / "proj").mkdir()
    (tmp_path / "proj" / "pyproject.toml").write_text('[tool.peftlint]\nignore = ["PFT102"]\n')
    (tmp_path / "proj" / "a.py").write_text(REGEX)
    (tmp_path / "proj" / "b.py").write_text(DUP)
    code, out = run_cli(["check", "--fix", "."], tmp_path)
    assert "PFT102" not in out and code == 0, out
    assert "Fixed 1 finding in 1 file." in out
    assert (tmp_path / "proj" / "b.py").read_text().endswith("target_modules=['c_attn'])\n")
