"""A run reads each source file once: the read that feeds the prefilter and the result-cache lookup
is the one that is linted (engine/reading.py's ``read_file`` is the engine's only reader)."""

from __future__ import annotations

import os
import shutil
from collections import Counter
from pathlib import Path

import pytest
from support.lintutil import run_cli
from support.treeutil import add_adapter, make_tree

from peftlint.config import Settings
from peftlint.engine import discover as disc
from peftlint.engine.run import Linter

BINARY_KINDS = (disc.ORPHAN_WEIGHTS, disc.DIFFUSERS_LORA)


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = make_tree(tmp_path_factory.mktemp("tree"))
    add_adapter(root)
    (root / "pkg0" / "latin1.py").write_bytes(b"from peft import LoraConfig\nname = '\xe9'\n")  # PFT902
    return root


@pytest.fixture
def tree(template: Path, tmp_path: Path) -> Path:
    return Path(shutil.copytree(template, tmp_path / "tree", symlinks=True))


@pytest.fixture
def reads(monkeypatch: pytest.MonkeyPatch) -> Counter[str]:
    """How often each file was opened for reading in this process (every bounded read,
    ``peftlint.reading.read_limited``, opens with ``os.open``), by resolved path."""
    counts: Counter[str] = Counter()
    original = os.open

    def counting(path, flags, *args, **kwargs):  # type: ignore[no-untyped-def]
        if not flags & (os.O_WRONLY | os.O_RDWR | os.O_CREAT):
            counts[os.path.realpath(path)] += 1
        return original(path, flags, *args, **kwargs)

    monkeypatch.setattr(os, "open", counting)
    return counts


def sources(root: Path) -> set[str]:
    """The files a run of ``root`` lints that are read whole (weights files only have a header read)."""
    return {os.path.realpath(c.path) for c in disc.Walker([], root=root).walk([root]) if c.kind not in BINARY_KINDS}


def only_once(reads: Counter[str], expected: set[str]) -> bool:
    """Every source file read exactly once (other files, such as models' config.json, do not count)."""
    return {p: n for p, n in reads.items() if p in expected} == dict.fromkeys(expected, 1)


def check(cwd: Path, *args: str) -> str:
    code, out = run_cli(["check", "--output-format", "json", "--show-notes", "--cache-dir", str(cwd.parent / "cache"),
                         "-j", "1", *args, "."], cwd)
    assert code == 1, out
    return out


def test_each_file_is_read_once_cold_and_warm(tree: Path, reads: Counter[str]) -> None:
    expected = sources(tree)
    assert len(expected) >= 8 and any(p.endswith("adapter_config.json") for p in expected)
    cold = check(tree)  # result cache empty: every file passing the prefilter is linted
    assert "PFT101" in cold and "PFT902" in cold  # linted, and the undecodable file reported
    assert only_once(reads, expected)
    reads.clear()
    assert check(tree) == cold  # every file from the result cache
    assert only_once(reads, expected)
    reads.clear()
    (tree / "pkg0" / "train.py").write_text((tree / "pkg0" / "train.py").read_text() + "\n", encoding="utf-8")
    assert check(tree) == cold  # one miss among hits (the added line changes no finding)
    assert only_once(reads, expected)
    reads.clear()
    assert check(tree, "--no-result-cache") == cold
    assert only_once(reads, expected)


def test_overrides_are_linted_from_memory(tree: Path, reads: Counter[str]) -> None:
    """``--fix``/``--diff`` lint fixed text again from memory (``Linter.overrides``): that pass reads
    the file not at all and prefilters and lints the text it was given."""
    train = tree / "pkg0" / "train.py"
    before = Linter(Settings(), tree).lint_paths([train])
    assert [d.code for d in before.diagnostics] == ["PFT101"]
    assert reads[os.path.realpath(train)] == 1
    reads.clear()
    again = Linter(Settings(), tree)
    again.overrides = {str(train): train.read_bytes().replace(b'"vproj"', b'"v_proj"')}
    after = again.lint_paths([train])
    assert after.diagnostics == [] and after.files == 1 and len(after.outcomes) == 1
    assert os.path.realpath(train) not in reads


def test_a_run_keeps_a_bounded_text_between_reading_and_linting(tree: Path, reads: Counter[str],
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    """Files are read (prefilter, result-cache lookup) before any is linted; a run over many files
    keeps at most ``KEPT_READS`` of their text meanwhile and reads the rest again when linted, with
    the same findings (1,000 notebooks held 330 MB of text at once before)."""
    from peftlint.engine import run

    expected = sources(tree)
    whole = check(tree, "--no-result-cache")
    assert only_once(reads, expected)
    reads.clear()
    monkeypatch.setattr(run, "KEPT_READS", 0)  # nothing kept: every file linted is read again
    assert check(tree, "--no-result-cache") == whole
    linted = {p for p, n in reads.items() if p in expected and n == 2}
    assert len(linted) >= 6 and all(reads[p] <= 2 for p in expected)
