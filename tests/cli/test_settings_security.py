"""Settings that widen what peftlint may do come only from the command line or the environment.

A linted repository (a pull request in CI) must not be able to make peftlint run its model code,
use the network or write outside the cache the user chose: ``trust-remote-code``, ``online`` and
``cache-dir`` in its pyproject.toml are ignored, with a note on stderr that says how to enable them.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from support.helpers_hf import REPO_ROOT
from support.remote_model import write_remote_code_model

from peftlint.config import SettingsError, load_settings


def _repo(tmp_path: Path, table: str) -> tuple[Path, Path]:
    """A repository whose pyproject asks for ``table`` and whose base model is a local remote-code model."""
    repo = tmp_path / "repo"
    marker = tmp_path / "REMOTE-CODE-RAN"
    write_remote_code_model(repo / "fancy", marker)
    (repo / "pyproject.toml").write_text(f'[tool.peftlint]\nmodel = "fancy"\n{table}\n')
    (repo / "train.py").write_text('from peft import LoraConfig\n\nconfig = LoraConfig(target_modules=["fancy_proj"])\n')
    return repo, marker


def _run(repo: Path, tmp_path: Path, *args: str, **env_extra: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT), "HF_HOME": str(tmp_path / "hf-home"), **env_extra}
    for k in ("HF_MODULES_CACHE", "PEFTLINT_TRUST_REMOTE_CODE", "PEFTLINT_ONLINE"):
        if k not in env_extra:
            env.pop(k, None)
    return subprocess.run([sys.executable, "-m", "peftlint", "--format", "json", *args, "."], cwd=repo, env=env,
                          capture_output=True, text=True, timeout=600)


def test_repository_cannot_enable_remote_code_network_or_cache_dir(tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere"
    repo, marker = _repo(tmp_path, f'trust-remote-code = true\nonline = true\ncache-dir = "{elsewhere}"')
    out = _run(repo, tmp_path)
    assert out.returncode == 0, out.stderr  # PFT903 is a note: the run does not fail
    found = json.loads(out.stdout)
    assert [d["code"] for d in found] == ["PFT903"]
    assert not marker.exists(), "the repository's model code was imported"
    assert not elsewhere.exists(), "the repository chose where peftlint writes"
    notes = [line for line in out.stderr.splitlines() if "ignoring" in line]
    assert len(notes) == 3
    assert "`trust-remote-code = true`" in notes[0] and "--trust-remote-code or set PEFTLINT_TRUST_REMOTE_CODE=1" in notes[0]
    assert "`online = true`" in notes[1] and "PEFTLINT_ONLINE=1" in notes[1]
    assert f'`cache-dir = "{elsewhere}"`' in notes[2] and "PEFTLINT_CACHE_DIR" in notes[2]


def test_the_user_enables_remote_code_from_the_environment(tmp_path: Path) -> None:
    repo, marker = _repo(tmp_path, "")
    out = _run(repo, tmp_path, "--no-cache", PEFTLINT_TRUST_REMOTE_CODE="1")
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout) == []  # the model was built with its own code: fancy_proj exists
    assert marker.read_text() == "remote code ran"
    assert "ignoring" not in out.stderr


def test_the_user_enables_remote_code_on_the_command_line(tmp_path: Path) -> None:
    repo, marker = _repo(tmp_path, "trust-remote-code = false")
    out = _run(repo, tmp_path, "--no-cache", "--trust-remote-code")
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout) == [] and marker.exists()


def test_environment_and_command_line_precedence(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "pyproject.toml").write_text("[tool.peftlint]\nonline = true\n")
    monkeypatch.delenv("PEFTLINT_ONLINE", raising=False)
    monkeypatch.delenv("PEFTLINT_TRUST_REMOTE_CODE", raising=False)
    settings = load_settings(tmp_path)
    assert settings.online is False and settings.trust_remote_code is False and len(settings.notes) == 1
    monkeypatch.setenv("PEFTLINT_ONLINE", "yes")
    monkeypatch.setenv("PEFTLINT_TRUST_REMOTE_CODE", "0")
    settings = load_settings(tmp_path)
    assert settings.online is True and settings.trust_remote_code is False
    monkeypatch.setenv("PEFTLINT_ONLINE", "maybe")
    with pytest.raises(SettingsError, match="PEFTLINT_ONLINE"):
        load_settings(tmp_path)


def test_values_that_do_not_widen_are_accepted_silently(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text(
        '[tool.peftlint]\nonline = false\ntrust-remote-code = false\nmax-file-size = "20MB"\n'
        "regex-timeout = 0.5\nmax-model-modules = 5000\n")
    settings = load_settings(tmp_path)
    assert settings.notes == []
    assert (settings.max_file_size, settings.regex_timeout, settings.max_model_modules) == (20 << 20, 0.5, 5000)


@pytest.mark.parametrize("line", ['max-file-size = "lots"', "max-file-size = 0", "regex-timeout = -1",
                                  "max-model-modules = 1.5", "max-model-modules = true"])
def test_bad_limits_are_configuration_errors(tmp_path: Path, line: str) -> None:
    (tmp_path / "pyproject.toml").write_text(f"[tool.peftlint]\n{line}\n")
    with pytest.raises(SettingsError):
        load_settings(tmp_path)
