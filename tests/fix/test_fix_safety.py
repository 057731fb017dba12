"""--fix never writes through a symlink, never applies edits to text they were not computed from,
and a file it cannot write does not stop the run."""

from __future__ import annotations

import json
import os
import resource
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from support.helpers_hf import REPO_ROOT
from support.lintutil import lint, run_cli

from peftlint.config import Settings
from peftlint.engine.run import Linter
from peftlint.fix.apply import ChangedOnDisk, apply_fixes, write_atomic

DUP = ('from peft import LoraConfig\n\n# peftlint: model=HuggingFaceTB/SmolLM2-135M\n'
       'config = LoraConfig(target_modules=["q_proj", "v_proj", "q_proj"])\n')
FIXED = DUP.replace(', "q_proj"])', '])')

posix_only = pytest.mark.skipif(os.name != "posix", reason="symlinks and rlimits as on POSIX")


@posix_only
def test_symlink_out_of_the_tree_is_reported_not_written(tmp_path: Path) -> None:
    tree, outside = tmp_path / "tree", tmp_path / "outside"
    tree.mkdir()
    outside.mkdir()
    target = outside / "target.py"
    target.write_text(DUP)
    (tree / "link.py").symlink_to("../outside/target.py")
    found = lint(tree, ".")
    assert [(d["code"], d["path"]) for d in found] == [("PFT204", "link.py")]  # reported under the link's name
    code, out = run_cli(["check", "--fix", "."], tree)
    assert target.read_text() == DUP, "the file outside the tree was rewritten"
    assert (tree / "link.py").is_symlink()
    assert "fixes for link.py were not applied: it is a symbolic link (to ../outside/target.py)" in out
    assert code == 1


@posix_only
def test_symlink_inside_the_tree_is_linted_and_fixed_as_its_target(tmp_path: Path) -> None:
    (tmp_path / "real.py").write_text(DUP)
    (tmp_path / "alias.py").symlink_to("real.py")
    found = lint(tmp_path, ".")
    assert [(d["code"], d["path"]) for d in found] == [("PFT204", "real.py")]  # once, not twice
    code, _ = run_cli(["check", "--fix", "."], tmp_path)
    assert code == 0
    assert (tmp_path / "real.py").read_text() == FIXED and (tmp_path / "alias.py").is_symlink()


@posix_only
def test_named_symlink_is_never_written_through(tmp_path: Path) -> None:
    (tmp_path / "real.py").write_text(DUP)
    (tmp_path / "alias.py").symlink_to("real.py")
    code, out = run_cli(["check", "--fix", "alias.py"], tmp_path)
    assert (tmp_path / "real.py").read_text() == DUP
    assert "fixes for alias.py were not applied: it is a symbolic link" in out


def test_file_edited_after_linting_is_not_fixed(tmp_path: Path) -> None:
    p = tmp_path / "train.py"
    p.write_text(DUP)
    linter = Linter(Settings(), tmp_path)
    result = linter.lint_paths([tmp_path])
    assert [d.code for d in result.diagnostics] == ["PFT204"]
    edited = "# the user added a line while peftlint ran\n" + DUP
    p.write_text(edited)
    outcome, _ = apply_fixes(linter, result, [tmp_path], write=True, unsafe=False)
    assert p.read_text() == edited  # the old edits would have cut the wrong characters
    assert outcome.fixed == 0 and outcome.files == []
    assert outcome.not_applied == [("train.py", "it changed after it was linted; run peftlint again")]


def test_content_is_checked_right_before_the_replace(tmp_path: Path) -> None:
    import hashlib

    p = tmp_path / "train.py"
    p.write_text("old\n")
    stale = hashlib.sha256(b"older\n").hexdigest()
    with pytest.raises(ChangedOnDisk):
        write_atomic(p, "new\n", expect_digest=stale)
    assert p.read_text() == "old\n" and sorted(x.name for x in tmp_path.iterdir()) == ["train.py"]
    write_atomic(p, "new\n", expect_digest=hashlib.sha256(b"old\n").hexdigest())
    assert p.read_text() == "new\n"


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="root writes to read-only directories")
def test_unwritable_directory_does_not_stop_the_run(tmp_path: Path) -> None:
    locked, free = tmp_path / "locked", tmp_path / "free"
    locked.mkdir()
    free.mkdir()
    (locked / "a.py").write_text(DUP)
    (free / "b.py").write_text(DUP)
    locked.chmod(0o555)
    try:
        code, out = run_cli(["check", "--fix", "--format", "json", "."], tmp_path)
    finally:
        locked.chmod(0o755)
    assert (free / "b.py").read_text() == FIXED and (locked / "a.py").read_text() == DUP
    assert "fixes for locked/a.py were not applied: writing it failed" in out
    assert code == 1


@posix_only
def test_a_failing_write_does_not_stop_the_run(tmp_path: Path) -> None:
    """A real write failure even for root: the file-size limit (RLIMIT_FSIZE) makes writing the
    large file fail with EFBIG, while the small one is fixed; the report is complete."""
    (tmp_path / "small.py").write_text(DUP)
    big = DUP + "#" * 20000 + "\n"
    (tmp_path / "big.py").write_text(big)
    lint(tmp_path, ".")  # warm the caches before the limit forbids writing them

    def limit() -> None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # EFBIG instead of being killed
        resource.setrlimit(resource.RLIMIT_FSIZE, (8192, 8192))

    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
    out = subprocess.run([sys.executable, "-m", "peftlint", "--fix", "--format", "json", "."], cwd=tmp_path, env=env,
                         capture_output=True, text=True, timeout=600, preexec_fn=limit)
    assert out.returncode == 1, out.stderr
    assert (tmp_path / "small.py").read_text() == FIXED
    assert (tmp_path / "big.py").read_text() == big
    assert "fixes for big.py were not applied: writing it failed" in out.stderr
    remaining = json.loads(out.stdout)
    assert [(d["code"], d["path"]) for d in remaining] == [("PFT204", "big.py")]
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".peftlint")]  # no temporary file left
