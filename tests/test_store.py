"""The cache directory's primitives: package versions without importlib.metadata, the build lock."""

from __future__ import annotations

import importlib.metadata
import multiprocessing
import sys
import time
from pathlib import Path

import pytest

from peftlint import store


def test_package_versions_are_importlib_metadata_s() -> None:
    dists = ("torch", "transformers", "peft", "huggingface_hub", "safetensors", "PyYAML", "click", "pathspec")
    assert store.package_versions(*dists) == {d: importlib.metadata.version(d) for d in dists}
    assert store.package_versions("no-such-distribution-peftlint") == {"no-such-distribution-peftlint": ""}


def _hold(directory: str, name: str, log: str, delay: float) -> None:
    with store.file_lock(Path(directory), name) as held:
        with open(log, "a", encoding="utf-8") as fh:
            fh.write(f"start {held}\n")
        time.sleep(delay)
        with open(log, "a", encoding="utf-8") as fh:
            fh.write("end\n")


@pytest.mark.skipif(sys.platform == "win32", reason="lock files cannot be removed while open on Windows")
def test_file_lock_serialises_processes_and_cleans_up(tmp_path: Path) -> None:
    log = tmp_path / "log"
    ctx = multiprocessing.get_context("spawn")
    procs = [ctx.Process(target=_hold, args=(str(tmp_path), "inventory-x", str(log), 0.5)) for _ in range(3)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(60)
    assert log.read_text().splitlines() == ["start True", "end"] * 3  # never two holders at once
    assert not list(tmp_path.glob("lock-*"))


def test_file_lock_without_a_directory_runs_the_body() -> None:
    with store.file_lock(None, "x") as held:
        assert held is False


def test_clear_removes_lock_files_without_counting_them(tmp_path: Path) -> None:
    (tmp_path / "result-a.json").write_text("{}")
    (tmp_path / "lock-inventory-a.lock").write_text("")
    (tmp_path / "mine.lock").write_text("")
    assert store.clear(tmp_path) == 1
    assert [p.name for p in tmp_path.iterdir()] == ["mine.lock"]


def test_a_lock_held_elsewhere_times_out_and_the_body_runs_without_it(tmp_path: Path,
                                                                      capsys: pytest.CaptureFixture[str]) -> None:
    """A hung holder (here: another lock object on the same file) does not stall the run."""
    import filelock

    other = filelock.FileLock(tmp_path / "lock-inventory-x.lock")
    with other:
        with store.file_lock(tmp_path, "inventory-x", timeout=0) as held:
            assert held is False
    err = capsys.readouterr().err
    assert "gave up waiting for" in err and "lock-inventory-x.lock" in err
    assert "going on without waiting for it" in err and "without the cache for this entry" in err
    with store.file_lock(tmp_path, "inventory-x", timeout=0) as held:  # released: free again
        assert held is True
