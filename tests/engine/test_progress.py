"""The progress line: on a terminal only, only for runs longer than a second, never with
machine-readable output, and erased at the end."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path

import pytest
from support.helpers_hf import REPO_ROOT
from support.lintutil import run_cli
from support.treeutil import make_tree

from peftlint.engine.progress import Progress


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_drawn_on_a_terminal_and_erased() -> None:
    term = Terminal()
    p = Progress(term, delay=0, interval=0)
    p(3, 412)
    p(120, 412)
    assert term.getvalue().endswith("\rLinting 120/412 files\u2026")
    p.close()
    assert term.getvalue().endswith("\r" + " " * len("Linting 120/412 files\u2026") + "\r")


def test_nothing_before_the_delay_or_off_a_terminal() -> None:
    term = Terminal()
    slow = Progress(term, delay=3600)
    slow(1, 2)
    slow.close()
    assert term.getvalue() == ""
    pipe = io.StringIO()
    p = Progress(pipe, delay=0, interval=0)
    p(1, 2)
    p.close()
    assert pipe.getvalue() == ""


def test_the_command_line_prints_none_when_stderr_is_not_a_terminal(tmp_path: Path) -> None:
    make_tree(tmp_path / "tree")
    code, out = run_cli(["check", "--cache-dir", str(tmp_path / "cache"), "."], tmp_path / "tree")
    assert "Linting" not in out
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT), "PEFTLINT_CACHE_DIR": str(tmp_path / "cache2")}
    proc = subprocess.run([sys.executable, "-m", "peftlint", "."], cwd=tmp_path / "tree", env=env,
                          capture_output=True, text=True)
    assert proc.returncode == 1 and proc.stderr == ""


@pytest.mark.skipif(os.name != "posix", reason="needs a pseudo-terminal")
@pytest.mark.parametrize("fmt", ["text", "json"])
def test_on_a_real_terminal_only_the_text_report_shows_it(tmp_path: Path, fmt: str) -> None:
    import pty

    make_tree(tmp_path / "tree", copies=2)
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT), "PEFTLINT_CACHE_DIR": str(tmp_path / "cache")}
    master, slave = pty.openpty()
    # an empty cache: peft's facts and the model are built, well over a second
    proc = subprocess.Popen([sys.executable, "-m", "peftlint", "-j", "1", "--format", fmt, "."],
                            cwd=tmp_path / "tree", env=env, stdout=subprocess.PIPE, stderr=slave)
    os.close(slave)
    seen = b""
    while True:
        try:
            chunk = os.read(master, 4096)
        except OSError:  # the child closed the terminal
            break
        if not chunk:
            break
        seen += chunk
    os.close(master)
    stdout, _ = proc.communicate(timeout=600)
    assert proc.returncode == 1 and b"PFT101" in stdout
    if fmt == "text":
        assert "Linting".encode() in seen and seen.rstrip(b" ").endswith(b"\r")
    else:
        assert seen == b""
