"""Resolutions remembered between runs: reused while the files they looked at are unchanged,
resolved again (and right) as soon as one of them changes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from support.helpers_hf import REPO_ROOT, add_to_hf_cache, bundled_config

from peftlint.model import resolve_cache
from peftlint.model.resolve import Resolved, ResolveOptions, Unresolved

LLAMA = bundled_config("meta-llama--Llama-2-7b-hf.json")
COMMIT_A, COMMIT_B = "a" * 40, "b" * 40


def _config(layers: int) -> str:
    return json.dumps({**LLAMA, "num_hidden_layers": layers})


@pytest.fixture
def setup(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, ResolveOptions, list[str]]:
    hf = tmp_path / "hf"
    hf.mkdir()
    options = ResolveOptions(hf_cache_dir=str(hf), cache_dir=tmp_path / "cache")
    calls: list[str] = []
    real = resolve_cache.resolve

    def counting(ref: str, **kw: object) -> Resolved | Unresolved:
        calls.append(ref)
        return real(ref, **kw)  # type: ignore[arg-type]

    monkeypatch.setattr(resolve_cache, "resolve", counting)
    return hf, options, calls


def _resolve(ref: str, options: ResolveOptions, revision: str | None = None) -> Resolved | Unresolved:
    return resolve_cache.resolve_cached(ref, revision=revision, base_dirs=(), options=options, subfolder=None,
                                        cache_dir=options.cache_dir)


def test_same_files_same_answer_without_resolving(setup: tuple[Path, ResolveOptions, list[str]]) -> None:
    hf, options, calls = setup
    add_to_hf_cache(hf, "acme/llama", {"config.json": _config(3)}, commit=COMMIT_A)
    first = _resolve("acme/llama", options)
    second = _resolve("acme/llama", options)
    assert calls == ["acme/llama"]
    assert isinstance(first, Resolved) and isinstance(second, Resolved)
    assert (second.source, second.location, second.config_text) == (first.source, first.location, first.config_text)
    assert second.config["num_hidden_layers"] == 3


def test_a_new_commit_on_the_branch_is_seen(setup: tuple[Path, ResolveOptions, list[str]]) -> None:
    hf, options, calls = setup
    add_to_hf_cache(hf, "acme/llama", {"config.json": _config(3)}, commit=COMMIT_A)
    assert _resolve("acme/llama", options).config["num_hidden_layers"] == 3  # type: ignore[union-attr]
    add_to_hf_cache(hf, "acme/llama", {"config.json": _config(5)}, commit=COMMIT_B)  # refs/main moves
    again = _resolve("acme/llama", options)
    assert isinstance(again, Resolved) and again.config["num_hidden_layers"] == 5
    assert calls == ["acme/llama", "acme/llama"]


def test_an_unresolved_reference_resolves_once_its_config_arrives(setup: tuple[Path, ResolveOptions, list[str]]) -> None:
    hf, options, calls = setup
    missing = _resolve("acme/later", options)
    assert isinstance(missing, Unresolved)
    assert _resolve("acme/later", options) == missing and calls == ["acme/later"]
    add_to_hf_cache(hf, "acme/later", {"config.json": _config(2)}, commit=COMMIT_A)
    found = _resolve("acme/later", options)
    assert isinstance(found, Resolved) and found.source == "hf-cache"


def test_local_directory_edits_are_seen(setup: tuple[Path, ResolveOptions, list[str]], tmp_path: Path) -> None:
    _, options, calls = setup
    model = tmp_path / "my-model"
    model.mkdir()
    (model / "config.json").write_text(_config(3))
    assert _resolve(str(model), options).config["num_hidden_layers"] == 3  # type: ignore[union-attr]
    (model / "config.json").write_text(_config(7) + " ")  # another size, so the stat data differ
    assert _resolve(str(model), options).config["num_hidden_layers"] == 7  # type: ignore[union-attr]
    assert len(calls) == 2


def test_online_and_no_cache_always_resolve(setup: tuple[Path, ResolveOptions, list[str]]) -> None:
    hf, options, calls = setup
    add_to_hf_cache(hf, "acme/llama", {"config.json": _config(3)}, commit=COMMIT_A)
    online = ResolveOptions(hf_cache_dir=options.hf_cache_dir, cache_dir=options.cache_dir, online=True)
    for _ in range(2):
        _resolve("acme/llama", online)
        resolve_cache.resolve_cached("acme/llama", revision=None, base_dirs=(), options=options, subfolder=None,
                                     cache_dir=None)
    assert len(calls) == 4


def test_damaged_entries_are_resolved_again(setup: tuple[Path, ResolveOptions, list[str]]) -> None:
    hf, options, calls = setup
    add_to_hf_cache(hf, "acme/llama", {"config.json": _config(3)}, commit=COMMIT_A)
    _resolve("acme/llama", options)
    assert options.cache_dir is not None
    for entry in options.cache_dir.glob(f"{resolve_cache.RESOLUTION_PREFIX}*.json"):
        data = json.loads(entry.read_text())
        data["payload"] = {"probes": 3}
        entry.write_text(json.dumps(data))
    again = _resolve("acme/llama", options)
    assert isinstance(again, Resolved) and len(calls) == 2


def test_a_warm_run_does_not_import_the_hub_client(tmp_path: Path) -> None:
    """Resolving a hub id means asking huggingface_hub, whose import brings its HTTP client: the
    second run over the same files answers from the stored resolution instead."""
    hf = tmp_path / "hf"
    add_to_hf_cache(hf, "acme/llama", {"config.json": _config(2)}, commit=COMMIT_A)
    (tmp_path / "train.py").write_text(textwrap.dedent("""
        from peft import LoraConfig, get_peft_model
        from transformers import AutoModelForCausalLM
        model = AutoModelForCausalLM.from_pretrained("acme/llama")
        model = get_peft_model(model, LoraConfig(target_modules=["q_proj", "vproj"]))
    """))
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HF_", "HUGGINGFACE_"))}
    env.update(PYTHONPATH=str(REPO_ROOT), PEFTLINT_CACHE_DIR=str(tmp_path / "cache"), HF_HUB_CACHE=str(hf),
               HF_HUB_OFFLINE="1")
    probe = textwrap.dedent("""
        import sys
        from peftlint.cli import main
        try:
            main(["--format", "json", "--no-result-cache", "train.py"])
        except SystemExit:
            pass
        loaded = sorted(m for m in ("huggingface_hub.file_download", "torch") if m in sys.modules)
        print("LOADED=" + ",".join(loaded), file=sys.stderr)
    """)
    from huggingface_hub import constants
    from support.lintutil import lint

    with pytest.MonkeyPatch.context() as mp:  # the first run resolves through the hub client, in this process
        mp.setattr(constants, "HF_HUB_CACHE", str(hf))
        cold = lint(tmp_path, "--cache-dir", str(tmp_path / "cache"), "--no-result-cache", "train.py")
    warm = subprocess.run([sys.executable, "-c", probe], cwd=tmp_path, env=env, capture_output=True, text=True)
    assert warm.stderr.strip().endswith("LOADED="), warm.stderr
    codes = [[(d["code"], d["subject"]) for d in found] for found in (cold, json.loads(warm.stdout))]
    assert codes[0] == codes[1] == [("PFT101", "vproj")]
