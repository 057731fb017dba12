"""The result cache: a hit gives exactly what linting gives, and every change that can alter a file's
findings makes that file (and only that file) be linted again."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from support.adapterutil import LLAMA, save_adapter
from support.helpers_hf import REPO_ROOT, add_to_hf_cache
from support.lintutil import run_cli
from support.treeutil import add_adapter, make_tree

from peftlint import store
from peftlint.config import Settings
from peftlint.engine import discover as disc
from peftlint.engine.readers import read_python
from peftlint.engine.results_cache import RESULT_PREFIX, evict
from peftlint.engine.run import Linter

ALL_LINTED = sorted(["qv/adapter_config.json", "pkg0/axolotl.yml", "pkg0/hub.py", "pkg0/ok.py", "pkg0/run.sh",
              "pkg0/train.py", "pkg0/tune.ipynb"])


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = make_tree(tmp_path_factory.mktemp("tree"))
    add_adapter(root)
    return root


@pytest.fixture
def tree(template: Path, tmp_path: Path) -> Path:
    """A fresh copy of the tree (absolute model paths inside still point at the template's base)."""
    return Path(shutil.copytree(template, tmp_path / "tree", symlinks=True))


@pytest.fixture
def hf(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    from huggingface_hub import constants

    d = tmp_path / "hf"
    d.mkdir()
    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(d))
    return d


def check(cwd: Path, *args: str, cache: Path | None = None, fmt: str = "text") -> str:
    cache = cache or cwd.parent / "cache"
    # the text report in full: notes and the saved adapters' verdict lines included
    notes = ["--show-notes"] if fmt == "text" else []
    fmt = "full" if fmt == "text" else fmt
    code, out = run_cli(["check", "--format", fmt, *notes, "--cache-dir", str(cache), "-j", "1", *args, "."], cwd)
    assert code in (0, 1), out
    return out


def entries(cache: Path, prefix: str = RESULT_PREFIX) -> list[Path]:
    return sorted(cache.glob(f"{prefix}*.json")) if cache.is_dir() else []


def test_a_hit_reports_exactly_what_linting_reports(tree: Path, linted: list[str]) -> None:
    cold = {fmt: check(tree, fmt=fmt) for fmt in ("text", "json", "sarif")}
    assert sorted(linted) == ALL_LINTED
    assert "PFT101" in cold["text"] and "PFT901" in cold["text"] and "Checked 8 files" in cold["text"]
    assert "adapter adapters/qv: fits" in cold["text"]  # the saved adapter's verdict line
    linted.clear()
    for fmt, out in cold.items():
        assert check(tree, fmt=fmt) == out
    assert linted == []  # every file came from the cache
    no_results = {fmt: check(tree, "--no-result-cache", fmt=fmt) for fmt in ("text", "json")}
    assert no_results == {"text": cold["text"], "json": cold["json"]}
    assert len(linted) == 2 * len(ALL_LINTED)


def test_fixes_survive_the_cache(tree: Path) -> None:
    check(tree)
    before = (tree / "pkg0" / "tune.ipynb").read_text(encoding="utf-8")
    code, out = run_cli(["check", "--cache-dir", str(tree.parent / "cache"), "--fix", "."], tree)
    after = (tree / "pkg0" / "tune.ipynb").read_text(encoding="utf-8")
    assert after != before and after.count('\\"q_proj\\"') == 1  # the duplicate entry was removed from the hit


def test_a_changed_file_is_linted_again_alone(tree: Path, linted: list[str]) -> None:
    check(tree)
    linted.clear()
    train = tree / "pkg0" / "train.py"
    train.write_text(train.read_text().replace('"vproj"', '"v_proj"'), encoding="utf-8")
    out = check(tree)
    assert linted == ["pkg0/train.py"]
    assert not any(line.startswith("pkg0/train.py") and "PFT101" in line for line in out.splitlines())


def test_a_changed_setting_relints_everything_and_keeps_both(tree: Path, linted: list[str]) -> None:
    plain = check(tree)
    linted.clear()
    ignored = check(tree, "--ignore", "PFT101")
    assert sorted(linted) == ALL_LINTED and "PFT101" not in ignored
    linted.clear()
    assert check(tree) == plain and check(tree, "--ignore", "PFT101") == ignored
    assert linted == []  # one entry per file and settings


def test_changed_weights_invalidate_their_adapter(tree: Path, template: Path, linted: list[str]) -> None:
    first = check(tree, fmt="json")
    assert "PFT403" not in first
    linted.clear()
    other = save_adapter(template / "base", tree.parent / "r8", r=8, target_modules=["q_proj", "v_proj"])
    shutil.copy(other / "adapter_model.safetensors", tree / "adapters" / "qv" / "adapter_model.safetensors")
    second = check(tree, fmt="json")
    assert linted == ["qv/adapter_config.json"]
    assert "PFT403" in [d["code"] for d in json.loads(second)]  # weights of rank 8, config says 4
    linted.clear()
    (tree / "adapters" / "qv" / "adapter_model.safetensors").unlink()
    third = check(tree, fmt="json")
    assert linted == ["qv/adapter_config.json"] and third != second


def test_a_listed_dependency_invalidates_its_file(tree: Path, linted: list[str]) -> None:
    """A reader that read a sibling module lists it in SourceResult.dependencies."""
    sibling = tree / "pkg0" / "constants.py"
    sibling.write_text("TARGETS = ['q_proj']\n", encoding="utf-8")

    def reader(text: str, path: str, abspath: str, linter: Linter):  # type: ignore[no-untyped-def]
        src = read_python(text, path, abspath, linter)
        if abspath.endswith("train.py"):
            src.dependencies.append(str(sibling))
        return src

    def run() -> None:
        linter = Linter(Settings(cache_dir=str(tree.parent / "cache")), cwd=tree, result_cache=True)
        linter.readers[disc.PYTHON] = reader
        linter.lint_paths([tree])

    run()
    linted.clear()
    run()
    assert linted == []
    sibling.write_text("TARGETS = ['q_proj', 'v_proj']\n", encoding="utf-8")
    run()
    assert linted == ["pkg0/train.py"]
    linted.clear()
    sibling.unlink()
    run()
    assert linted == ["pkg0/train.py"]


def test_a_model_added_to_the_hf_cache_gets_checked(tree: Path, hf: Path, linted: list[str]) -> None:
    first = check(tree)
    assert "pkg0/hub.py:3:1: PFT901" in first or any(
        line.startswith("pkg0/hub.py") and "PFT901" in line for line in first.splitlines())
    linted.clear()
    add_to_hf_cache(hf, "acme/other", {"config.json": json.dumps(LLAMA)}, commit="b" * 40)
    assert check(tree) == first and linted == []  # another repository: nothing to redo
    add_to_hf_cache(hf, "acme/tiny-llama", {"config.json": json.dumps(LLAMA)}, commit="a" * 40)
    second = check(tree)
    assert linted == ["pkg0/hub.py"]
    hub = [line for line in second.splitlines() if line.startswith("pkg0/hub.py")]
    assert hub and all("PFT901" not in line for line in hub) and any("PFT101" in line for line in hub)
    linted.clear()
    assert check(tree) == second and linted == []


def test_an_edited_local_model_is_checked_again(tree: Path, tmp_path: Path, linted: list[str]) -> None:
    local = tmp_path / "mymodel"
    local.mkdir()
    (local / "config.json").write_text(json.dumps(LLAMA), encoding="utf-8")
    args = ("--model", str(local), "--select", "PFT301")
    first = check(tree, *args, fmt="json")
    assert "PFT301" not in first  # layers_to_transform=[1] exists in 2 layers
    linted.clear()
    (local / "config.json").write_text(json.dumps({**LLAMA, "num_hidden_layers": 1}), encoding="utf-8")
    second = check(tree, *args, fmt="json")
    assert "PFT301" in second
    assert "pkg0/train.py" in linted and "pkg0/util.py" not in linted


def test_another_peft_version_relints(tree: Path, monkeypatch: pytest.MonkeyPatch, linted: list[str]) -> None:
    first = check(tree)
    linted.clear()
    real = store.package_versions

    def bumped(*dists: str) -> dict[str, str]:
        return {d: ("99.0" if d == "peft" else v) for d, v in real(*dists).items()}

    monkeypatch.setattr(store, "package_versions", bumped)
    assert check(tree) == first
    assert sorted(linted) == ALL_LINTED


def test_no_cache_reads_and_writes_nothing(tree: Path, linted: list[str]) -> None:
    cache = tree.parent / "nocache"
    first = check(tree, "--no-cache", cache=cache)
    assert not cache.exists()
    check(tree, cache=cache)  # fill it
    linted.clear()
    assert check(tree, "--no-cache", cache=cache) == first
    assert sorted(linted) == ALL_LINTED  # the filled cache was not read


def test_no_result_cache_keeps_inventories_and_refreshes_results(tree: Path, linted: list[str]) -> None:
    cache = tree.parent / "cache"
    check(tree, "--no-result-cache", cache=cache)
    assert entries(cache, "inventory-") and len(entries(cache)) == len(ALL_LINTED)
    linted.clear()
    check(tree, "--no-result-cache", cache=cache)  # read nothing: every file is linted again
    assert sorted(linted) == ALL_LINTED


def test_cache_clear_removes_results(tree: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cache = tree.parent / "default-cache"
    monkeypatch.setenv("PEFTLINT_CACHE_DIR", str(cache))
    run_cli(["check", "-j", "1", "."], tree)
    assert len(entries(cache)) == len(ALL_LINTED)
    (cache / "notes.txt").write_text("not ours")
    n = len(entries(cache, "")) - 0
    code, out = run_cli(["cache", "clear"], tree)
    assert (code, out) == (0, f"removed {n} cached entries\n")
    assert [p.name for p in cache.iterdir()] == ["notes.txt"]


@pytest.mark.parametrize("damage", ["garbage", "truncated", "wrong-shape", "wrong-types", "foreign-key"])
def test_a_damaged_entry_is_a_miss(tree: Path, linted: list[str], damage: str) -> None:
    cache = tree.parent / "cache"
    first = check(tree, fmt="json")
    for path in entries(cache):
        text = path.read_text(encoding="utf-8")
        data = json.loads(text)
        if damage == "garbage":
            path.write_bytes(b"\x00\xff not json")
        elif damage == "truncated":
            path.write_text(text[: len(text) // 2], encoding="utf-8")
        elif damage == "wrong-shape":
            data["payload"] = ["not", "a", "dict"]
            path.write_text(json.dumps(data), encoding="utf-8")
        elif damage == "wrong-types":
            data["payload"]["diagnostics"] = [{"code": 5}]
            data["payload"]["outcomes"] = [{"spec": {"span": "x"}}]
            path.write_text(json.dumps(data), encoding="utf-8")
        else:
            data["key"] = "0" * 64
            path.write_text(json.dumps(data), encoding="utf-8")
    linted.clear()
    assert check(tree, fmt="json") == first
    assert sorted(linted) == ALL_LINTED
    linted.clear()
    assert check(tree, fmt="json") == first and linted == []  # rewritten


def test_eviction_removes_the_least_recently_used(tmp_path: Path) -> None:
    for i in range(10):
        p = tmp_path / f"{RESULT_PREFIX}{i:02d}.json"
        p.write_text("x" * 100)
        os.utime(p, (1_000_000 + i, 1_000_000 + i))
    (tmp_path / "inventory-x.json").write_text("keep")
    assert evict(tmp_path, max_entries=20) == 0
    assert evict(tmp_path, max_entries=5) == 6  # down to 80 % of the limit: 4 left, the newest
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "inventory-x.json", *(f"{RESULT_PREFIX}{i:02d}.json" for i in range(6, 10))]
    assert evict(tmp_path, max_entries=100, max_bytes=250) == 2  # 4 x 100 bytes > 250: 2 left
    assert evict(tmp_path / "missing") == 0


def test_an_old_hit_refreshes_its_timestamp(tree: Path) -> None:
    cache = tree.parent / "cache"
    check(tree)
    for p in entries(cache):
        os.utime(p, (1_000_000, 1_000_000))
    check(tree)
    assert all(p.stat().st_mtime > 1_000_000 for p in entries(cache))


def test_concurrent_runs_share_the_cache(tree: Path, linted: list[str]) -> None:
    """Two processes start at once on an empty cache; both report the same, the cache stays whole."""
    cache = tree.parent / "shared-cache"
    env = {k: v for k, v in os.environ.items() if k != "PEFTLINT_CACHE_DIR"}
    env.update(PYTHONPATH=str(REPO_ROOT), PEFTLINT_CACHE_DIR=str(cache), HF_HUB_OFFLINE="1")
    cmd = [sys.executable, "-m", "peftlint", "--format", "json", "-j", "1", "."]
    procs = [subprocess.Popen(cmd, cwd=tree, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for _ in range(2)]
    outs = [p.communicate(timeout=600) for p in procs]
    assert all(p.returncode == 1 for p in procs), [err for _, err in outs]
    assert outs[0][0] == outs[1][0]
    assert not list(cache.glob(".tmp-peftlint-*"))
    if os.name != "nt":  # lock files are removed by their holder (Windows cannot remove open files)
        assert not list(cache.glob("lock-*"))
    linted.clear()
    assert check(tree, cache=cache, fmt="json") == outs[0][0]
    assert linted == []  # every entry they wrote is valid


def test_same_findings_cold_warm_and_cached_on_the_examples(tmp_path: Path, linted: list[str]) -> None:
    """The repository's examples (Python, notebook, YAML, saved adapters on bundled models)."""
    work = Path(shutil.copytree(REPO_ROOT / "examples", tmp_path / "examples"))
    cache = Path(os.environ["PEFTLINT_CACHE_DIR"])  # the session's inventories; results are new (new paths)
    cold = check(work, cache=cache, fmt="json")
    warm = check(work, "--no-result-cache", cache=cache, fmt="json")
    n = len(linted)
    hit = check(work, cache=cache, fmt="json")
    assert cold == warm == hit and len(linted) == n
    assert {d["code"] for d in json.loads(hit)} >= {"PFT101", "PFT204"}


def test_a_cached_outcome_keeps_every_plain_field_of_an_outcome() -> None:
    """A field added to SpecOutcome is cached too (or listed as living only in the run that linted)."""
    from dataclasses import fields

    from peftlint.engine.results import SpecOutcome
    from peftlint.engine.results_cache import OutcomeSummary

    live = {"spec", "inventory", "ctx"}
    assert [f.name for f in fields(OutcomeSummary)][1:] == [f.name for f in fields(SpecOutcome) if f.name not in live]
