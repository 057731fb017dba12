"""Work done once per test session and shared by every pytest-xdist worker: the first worker that
asks builds it under a file lock, the others wait and read it (pytest-xdist's documented recipe)."""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Callable

import pytest
from filelock import FileLock


def once(tmp_path_factory: pytest.TempPathFactory, name: str, build: Callable[[Path], None]) -> Path:
    """The directory ``name``, filled by ``build(directory)`` exactly once per session."""
    base = tmp_path_factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):
        base = base.parent  # the session's directory, shared by its workers
    target = base / f"shared-{name}"
    with FileLock(str(target) + ".lock"):
        if not (target / ".done").is_file():
            shutil.rmtree(target, ignore_errors=True)  # what a failed build by another worker left
            target.mkdir()
            build(target)
            (target / ".done").write_text("")
    return target


def tree_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A peftlint cache after a real run over ``make_tree`` (peft's facts, the tiny Llama's inventory,
    peft's verdicts on the tree's configs): a test that copies it runs warm, without importing
    torch, transformers or peft. Built once per session, in a process of its own."""

    def build(root: Path) -> None:
        import subprocess
        import sys

        from support.helpers_hf import REPO_ROOT
        from support.treeutil import make_tree

        make_tree(root / "tree", copies=3)
        env = {**os.environ, "PYTHONPATH": str(REPO_ROOT), "PEFTLINT_CACHE_DIR": str(root / "cache")}
        proc = subprocess.run([sys.executable, "-m", "peftlint", "--format", "json", "."], cwd=root / "tree", env=env,
                              capture_output=True, text=True)
        assert proc.returncode == 1, proc.stderr[-2000:]

    return once(tmp_path_factory, "tree-cache", build) / "cache"
