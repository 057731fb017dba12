"""Hostile input, second round: peftlint never writes outside the tree, never through a link, and
never loses bytes. Each case is a real ``peftlint`` process under an address-space limit, with a
generous time cap that only guards against a hang; no run builds a model.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from support import hostile

pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="RLIMIT_AS, O_NOFOLLOW and /dev/full as on Linux")

DUPLICATE = 'from peft import LoraConfig\nconfig = LoraConfig(target_modules=["q_proj", "q_proj"])\n'
_CACHE: list[Path] = []


def run(cwd: Path, *args: str, stdout: object = subprocess.PIPE, script: str | None = None) -> subprocess.CompletedProcess:
    return hostile.run(cwd, _CACHE[0], *args, stdout=stdout, script=script)


def _one_clear_line(err: str, *needles: str) -> None:
    assert "Traceback" not in err, err
    line = err.strip().splitlines()[-1]
    assert line.startswith("peftlint: ") and all(n in line for n in needles), err


@pytest.fixture
def tree(tmp_path: Path, facts_cache: Path) -> Path:
    _CACHE[:] = [facts_cache]
    d = tmp_path / "tree"
    d.mkdir()
    (d / "train.py").write_text(DUPLICATE)
    return d


def test_output_file_through_a_committed_symlink_is_refused(tree: Path) -> None:
    victim = tree.parent / "victim.txt"
    victim.write_text("keep")
    (tree / "peftlint.sarif").symlink_to("../victim.txt")
    got = run(tree, "--format", "sarif", "--output-file", "peftlint.sarif", "--exit-zero", ".")
    assert got.returncode == 2
    _one_clear_line(got.stderr, "peftlint.sarif", "symbolic link")
    assert victim.read_text() == "keep" and (tree / "peftlint.sarif").is_symlink()


@pytest.mark.parametrize("where", ["missing folder", "a directory", "FIFO without reader"])
def test_unwritable_report_is_exit_2_even_with_exit_zero(tree: Path, where: str) -> None:
    target = {"missing folder": "nope/report.json", "a directory": "sub", "FIFO without reader": "pipe"}[where]
    if where == "a directory":
        (tree / "sub").mkdir()
    if where == "FIFO without reader":
        os.mkfifo(tree / "pipe")
    got = run(tree, "--format", "json", "-o", target, "--exit-zero", ".")
    assert got.returncode == 2
    _one_clear_line(got.stderr, "cannot write the report", target)


def test_report_on_a_full_stdout_is_exit_2(tree: Path) -> None:
    with open("/dev/full", "w") as full:
        got = run(tree, "--exit-zero", ".", stdout=full)
    assert got.returncode == 2
    _one_clear_line(got.stderr, "standard output", "No space left")


def test_written_report_is_complete(tree: Path) -> None:
    got = run(tree, "--format", "json", "-o", "out.json", ".")
    assert got.returncode == 1 and "PFT204" in (tree / "out.json").read_text()


def test_fix_through_a_directory_link_named_on_the_command_line(tree: Path) -> None:
    outside = tree.parent / "outside"
    outside.mkdir()
    (outside / "ext.py").write_text(DUPLICATE)
    (tree / "dirlink").symlink_to("../outside")
    for named in ("dirlink/ext.py", "dirlink"):
        got = run(tree, "--fix", "--select", "PFT204", named)
        assert got.returncode == 1, got.stderr
        assert "dirlink/ext.py" in got.stdout and "symbolic link" in got.stderr and "Traceback" not in got.stderr
        assert (outside / "ext.py").read_text() == DUPLICATE
    assert sorted(p.name for p in outside.iterdir()) == ["ext.py"]


# write_atomic with the moment between its last check and the rename made visible: the check's
# read is replaced by one that does what a user or an editor does at that moment.
_INTERRUPTED = """
import os, signal, sys
from pathlib import Path
import peftlint.fix.apply as A

p = Path(sys.argv[1]) / "train.py"
real = A.read_limited
how = sys.argv[2]

def read(path, *a):
    data = real(path, *a)
    if how == "append":
        with open(path, "a") as fh:
            fh.write("# typed meanwhile\\n")
    else:
        os.kill(os.getpid(), getattr(signal, how))
    return data

A.read_limited = read
import hashlib
digest = hashlib.sha256(p.read_bytes()).hexdigest()
try:
    with A.signals_as_exit():
        A.write_atomic(p, "fixed\\n", expect_digest=digest)
except A.ChangedOnDisk:
    print("changed on disk")
"""


@pytest.mark.parametrize("how", ["SIGTERM", "SIGINT", "SIGHUP", "append"])
def test_fix_write_interrupted_or_raced(tree: Path, how: str) -> None:
    got = run(tree, str(tree), how, script=_INTERRUPTED)
    assert [p.name for p in tree.iterdir()] == ["train.py"]  # no .train.py.*.peftlint left behind
    if how == "append":  # the editor's bytes are kept, the fix is not applied
        assert got.returncode == 0 and got.stdout.strip() == "changed on disk", got.stderr
        assert (tree / "train.py").read_text() == DUPLICATE + "# typed meanwhile\n"
    else:
        assert got.returncode != 0 and (tree / "train.py").read_text() == DUPLICATE
