"""Files linted in worker processes: the report does not depend on the number of workers, and a
cold run builds each base model once even when several workers need it."""

from __future__ import annotations

import multiprocessing
import sys
from pathlib import Path

import pytest
from support.lintutil import run_cli
from support.treeutil import add_adapter, make_tree

from peftlint.engine import parallel
from peftlint.model import build as build_module


@pytest.fixture(scope="module")
def big_tree(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = make_tree(tmp_path_factory.mktemp("big"), copies=8)
    add_adapter(root)
    return root


def check(cwd: Path, cache: Path, *args: str, fmt: str = "text") -> str:
    code, out = run_cli(["check", "--format", fmt, "--cache-dir", str(cache), *args, "."], cwd)
    assert code == 1, out
    return out


def test_worker_count() -> None:
    budget = parallel.SERIAL_BUDGET
    assert parallel.worker_count(1, 1000, elapsed=100) == 1
    assert parallel.worker_count(0, 1000, elapsed=0) == 1  # quick so far: go on in this process
    assert parallel.worker_count(0, 1000, elapsed=budget) == parallel.available_cpus()
    assert parallel.worker_count(0, 1, elapsed=budget) == 1  # one file left
    assert parallel.worker_count(4, 1000) == 4  # -j N: at once
    assert parallel.worker_count(4, 3) == 1  # two files per worker at least
    assert parallel.worker_count(8, 6) == 3
    assert parallel.worker_count(0, 0) == parallel.worker_count(3, 1) == 1


@pytest.mark.parametrize("fmt", ["text", "json"])
def test_workers_give_the_serial_report(big_tree: Path, tmp_path: Path, fmt: str) -> None:
    cache = tmp_path / "cache"
    serial = check(big_tree, cache, "-j", "1", "--no-result-cache", fmt=fmt)
    assert check(big_tree, cache, "-j", "2", "--no-result-cache", fmt=fmt) == serial
    assert check(big_tree, cache, "-j", "3", fmt=fmt) == serial  # fills the result cache
    assert check(big_tree, cache, fmt=fmt) == serial  # -j 0, every file from the cache
    if fmt == "text":
        assert "Checked 57 files: 49 configs, " in serial


@pytest.mark.skipif(not sys.platform.startswith("linux") or "fork" not in multiprocessing.get_all_start_methods(),
                    reason="the build counter is inherited by forked workers")
def test_a_cold_run_with_workers_builds_each_model_once(big_tree: Path, tmp_path: Path,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    log = tmp_path / "builds.log"
    real = build_module.build_inventory

    def logged(resolved, model_class, **kw):  # type: ignore[no-untyped-def]
        import os
        import time

        with open(log, "a", encoding="utf-8") as fh:
            fh.write(f"{os.getpid()} {resolved.location} {model_class}\n")
        time.sleep(0.5)  # long enough for the other worker to ask for the same model meanwhile
        return real(resolved, model_class, **kw)

    monkeypatch.setattr(build_module, "build_inventory", logged)
    out = check(big_tree, tmp_path / "cold-cache", "-j", "2")
    builds = [line.split(" ", 1)[1] for line in log.read_text().splitlines()]
    assert builds and len(builds) == len(set(builds)), builds
    assert out == check(big_tree, tmp_path / "other-cache", "-j", "1", "--no-result-cache")


def test_spawned_workers_give_the_serial_report(big_tree: Path, tmp_path: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    """macOS and Windows start workers with spawn: everything a worker needs crosses by pickling."""
    cache = tmp_path / "cache"
    serial = check(big_tree, cache, "-j", "1", "--no-result-cache", fmt="json")
    monkeypatch.setattr(parallel, "_context", lambda: multiprocessing.get_context("spawn"))
    assert check(big_tree, cache, "-j", "2", "--no-result-cache", fmt="json") == serial


@pytest.mark.skipif(not sys.platform.startswith("linux") or "fork" not in multiprocessing.get_all_start_methods(),
                    reason="the patched method is inherited by forked workers")
def test_a_worker_that_dies_leaves_its_files_to_this_process(big_tree: Path, tmp_path: Path,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    """A worker killed while linting (a library's failed allocation under a memory limit aborts
    it) broke the pool and stopped the run with an internal error: its files, and those of every
    batch still pending, are linted in this process."""
    import os

    from peftlint.engine.run import Linter

    cache = tmp_path / "cache"
    serial = check(big_tree, cache, "-j", "1", "--no-result-cache")
    parent, real = os.getpid(), Linter.lint_file

    def dying(self: Linter, cand, result, read=None) -> None:  # type: ignore[no-untyped-def]
        if os.getpid() != parent:
            os._exit(70)
        real(self, cand, result, read)

    monkeypatch.setattr(Linter, "lint_file", dying)
    assert check(big_tree, cache, "-j", "2", "--no-result-cache") == serial
