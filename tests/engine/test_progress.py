"""The progress line: on a terminal only, only for runs longer than a second, never with
machine-readable output, and erased at the end."""

from __future__ import annotations

import io
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from support import shared
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


# The progress line waits DELAY seconds; a run of the real command line with it set to 0 shows it at
# once, so a fast warm run can show it (a copy of the session's warm cache: no model is built).
DRAWN_AT_ONCE = "import sys; import peftlint.engine.progress as p; p.DELAY = 0; from peftlint.__main__ import run; run()"


def _warm_env(tmp_path: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    shutil.copytree(shared.tree_cache(tmp_path_factory), tmp_path / "cache")
    return {**os.environ, "PYTHONPATH": str(REPO_ROOT), "PEFTLINT_CACHE_DIR": str(tmp_path / "cache")}


def test_the_command_line_prints_none_when_stderr_is_not_a_terminal(
        tmp_path: Path, tmp_path_factory: pytest.TempPathFactory) -> None:
    make_tree(tmp_path / "tree")
    code, out = run_cli(["check", "--cache-dir", str(tmp_path / "cache2"), "."], tmp_path / "tree")
    assert "Linting" not in out
    proc = subprocess.run([sys.executable, "-c", DRAWN_AT_ONCE, "."], cwd=tmp_path / "tree",
                          env=_warm_env(tmp_path, tmp_path_factory), capture_output=True, text=True)
    assert proc.returncode == 1 and proc.stderr == ""


@pytest.mark.skipif(os.name != "posix", reason="needs a pseudo-terminal")
@pytest.mark.parametrize("fmt", ["text", "json"])
def test_on_a_real_terminal_only_the_text_report_shows_it(
        tmp_path: Path, tmp_path_factory: pytest.TempPathFactory, fmt: str) -> None:
    import pty

    make_tree(tmp_path / "tree", copies=2)
    env = _warm_env(tmp_path, tmp_path_factory)
    master, slave = pty.openpty()
    proc = subprocess.Popen([sys.executable, "-c", DRAWN_AT_ONCE, "-j", "1", "--format", fmt, "."],
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
