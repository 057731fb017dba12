from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from support.helpers_hf import REPO_ROOT

from peftlint.model import build as build_module
from peftlint.model import inventory as inv
from peftlint.model.cache import INVENTORY_PREFIX, InventoryCache
from peftlint.model.inventory import Inventory, ModuleInfo
from peftlint.model.load import get_inventory
from peftlint.model.resolve import Resolved, ResolveOptions, resolve
from peftlint.store import default_cache_dir, package_versions


def _resolved(text: str = '{"model_type": "llama"}', label: str = "acme/m", auto_map: bool = False) -> Resolved:
    return Resolved(
        ref=label,
        label=label,
        config=json.loads(text),
        config_text=text,
        source="local",
        location="/x/config.json",
        has_auto_map=auto_map,
    )


def _inventory(model_id: str = "acme/m") -> Inventory:
    return Inventory(
        model_id=model_id,
        model_type="llama",
        model_class="LlamaForCausalLM",
        config_hash="abc",
        modules=[
            ModuleInfo("model", "LlamaModel", inv.CONTAINER, children=["layers"]),
            ModuleInfo("model.layers", "ModuleList", inv.MODULE_LIST, children=["0"]),
            ModuleInfo("model.layers.0", "Linear", inv.LINEAR, 4, 8, params={"weight": [8, 4]}),
        ],
        default_targets={"LORA": ["q_proj", "v_proj"]},
    )


@pytest.fixture
def counting_build(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Replaces the real (slow) builder; records each build."""
    calls: list[str] = []

    def fake_build(resolved: Resolved, model_class: str, *, trust_remote_code: bool = False, **limits: int) -> Inventory:
        calls.append(model_class)
        built = _inventory(resolved.label)
        # what record.py stamps on a real build; the cache checks both when it reads the entry back
        built.config_hash = hashlib.sha256(resolved.config_text.encode("utf-8")).hexdigest()
        built.versions = package_versions("torch", "transformers", "peft")
        return built

    monkeypatch.setattr(build_module, "build_inventory", fake_build)
    return calls


def test_default_cache_dir(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("PEFTLINT_CACHE_DIR", str(tmp_path / "c"))
    assert default_cache_dir() == tmp_path / "c"
    monkeypatch.delenv("PEFTLINT_CACHE_DIR")
    from platformdirs import user_cache_dir

    assert default_cache_dir() == Path(user_cache_dir("peftlint"))


def test_store_load_roundtrip(tmp_path: Path) -> None:
    cache = InventoryCache(tmp_path / "cache")
    key = cache.key(_resolved(), "AutoModelForCausalLM")
    assert cache.load(key) is None
    cache.store(key, _inventory())
    loaded = cache.load(key)
    assert loaded is not None
    assert loaded.to_json() == _inventory().to_json()
    assert loaded.module("model.layers.0").params == {"weight": [8, 4]}
    assert [p.name for p in (tmp_path / "cache").iterdir()] == [f"{INVENTORY_PREFIX}{key}.json"]


def test_key_depends_on_inputs(tmp_path: Path) -> None:
    cache = InventoryCache(tmp_path)
    base = cache.key(_resolved(), "AutoModelForCausalLM")
    assert base == cache.key(_resolved(label="other/name"), "AutoModelForCausalLM")  # content, not name
    assert base != cache.key(_resolved(), "AutoModelForSequenceClassification")
    assert base != cache.key(_resolved('{"model_type": "llama", "num_hidden_layers": 2}'), "AutoModelForCausalLM")
    assert base != cache.key(_resolved('{"model_type":"llama"}'), "AutoModelForCausalLM")  # exact text
    remote = _resolved(auto_map=True)
    assert cache.key(remote, "AutoModelForCausalLM") != cache.key(remote, "AutoModelForCausalLM", trust_remote_code=True)
    assert len(base) == 64


def test_key_depends_on_versions(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from peftlint import store

    cache = InventoryCache(tmp_path)
    base = cache.key(_resolved(), "AutoModelForCausalLM")
    real = store.package_versions
    monkeypatch.setattr(store, "package_versions", lambda *d: {**real(*d), "peft": "99.0"})
    assert cache.key(_resolved(), "AutoModelForCausalLM") != base


def test_get_inventory_builds_once(tmp_path: Path, counting_build: list[str]) -> None:
    cache = InventoryCache(tmp_path)
    first = get_inventory(_resolved(), "AutoModelForCausalLM", cache)
    second = get_inventory(_resolved(label="alias/of-it"), "AutoModelForCausalLM", cache)
    assert counting_build == ["AutoModelForCausalLM"]
    assert first.to_json()["modules"] == second.to_json()["modules"]
    assert second.model_id == "alias/of-it"  # same config text reached under another name


@pytest.mark.parametrize(
    "damage",
    [
        "not json at all",
        '{"format": 1, "key": "other", "payload": {}}',
        "[]",
        "",
        None,  # wrong schema
        "missing-fields",
    ],
)
def test_corrupt_entry_is_rebuilt(tmp_path: Path, counting_build: list[str], damage: str | None) -> None:
    cache = InventoryCache(tmp_path)
    key = cache.key(_resolved(), "AutoModelForCausalLM")
    path = cache.path(key)
    assert path is not None
    cache.store(key, _inventory())
    if damage is None:
        data = json.loads(path.read_text())
        data["payload"]["schema"] = 999
        path.write_text(json.dumps(data))
    elif damage == "missing-fields":
        data = json.loads(path.read_text())
        del data["payload"]["modules"][0]["kind"]
        path.write_text(json.dumps(data))
    else:
        path.write_text(damage)
    assert cache.load(key) is None
    get_inventory(_resolved(), "AutoModelForCausalLM", cache)
    assert counting_build == ["AutoModelForCausalLM"]
    assert cache.load(key) is not None  # overwritten with a good entry


def test_unwritable_directory_is_skipped(tmp_path: Path, counting_build: list[str]) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    cache = InventoryCache(blocker / "cache")  # cannot be created: its parent is a file
    key = cache.key(_resolved(), "AutoModelForCausalLM")
    cache.store(key, _inventory())  # no exception
    assert cache.load(key) is None
    assert get_inventory(_resolved(), "AutoModelForCausalLM", cache).model_type == "llama"


@pytest.mark.skipif(hasattr(os, "geteuid") and os.geteuid() == 0, reason="root ignores directory permissions")
def test_read_only_directory_is_skipped(tmp_path: Path) -> None:
    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(0o500)
    try:
        cache = InventoryCache(ro)
        cache.store("k", _inventory())
        assert list(ro.iterdir()) == []
    finally:
        ro.chmod(0o700)


def test_disabled_cache(counting_build: list[str]) -> None:
    cache = InventoryCache(None)
    get_inventory(_resolved(), "AutoModelForCausalLM", cache)
    get_inventory(_resolved(), "AutoModelForCausalLM", cache)
    assert counting_build == ["AutoModelForCausalLM", "AutoModelForCausalLM"]
    assert cache.clear() == 0


def test_no_temp_files_left(tmp_path: Path) -> None:
    cache = InventoryCache(tmp_path)
    for i in range(3):
        cache.store(f"k{i}", _inventory())
    assert sorted(p.name for p in tmp_path.iterdir()) == [f"{INVENTORY_PREFIX}k{i}.json" for i in range(3)]


def test_clear_removes_only_peftlint_files(tmp_path: Path) -> None:
    cache = InventoryCache(tmp_path)
    cache.store("k1", _inventory())
    cache.store("k2", _inventory())
    (tmp_path / "peftfacts-x.json").write_text("{}")
    (tmp_path / "notes.txt").write_text("keep me")
    (tmp_path / "other.json").write_text("{}")
    assert cache.clear() == 3
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.txt", "other.json"]
    assert InventoryCache(tmp_path / "does-not-exist").clear() == 0


def test_real_build_through_cache(tmp_path: Path) -> None:
    res = resolve("gpt2", options=ResolveOptions(hf_cache_dir=str(tmp_path / "hf")))
    assert isinstance(res, Resolved)
    cache = InventoryCache(tmp_path / "cache")
    built = get_inventory(res, "GPT2LMHeadModel", cache)
    loaded = cache.load(cache.key(res, "GPT2LMHeadModel"))
    assert loaded is not None and loaded.to_json() == built.to_json()


def test_warm_run_imports_no_heavy_packages(tmp_path: Path) -> None:
    """With a warm cache, resolving, loading the inventory and the peft facts imports neither
    torch nor transformers nor peft."""
    script = (
        "import json, sys\n"
        "from peftlint.model.resolve import resolve, ResolveOptions\n"
        "from peftlint.model.classes import pick_model_class\n"
        "from peftlint.model.cache import InventoryCache\n"
        "from peftlint.model.load import get_inventory\n"
        "from peftlint.store import default_cache_dir\n"
        "from peftlint.semantics.peft_facts import load_peft_facts\n"
        "out = []\n"
        "for ref in ('gpt2', 'mistralai/Mixtral-8x7B-v0.1'):\n"
        "    r = resolve(ref, options=ResolveOptions())\n"
        "    inv = get_inventory(r, pick_model_class(r.config, None, None), InventoryCache(default_cache_dir()))\n"
        "    out.append(len(inv.modules))\n"
        "facts = load_peft_facts(default_cache_dir())\n"
        "heavy = sorted(m for m in sys.modules if m.split('.')[0] in ('torch', 'transformers', 'peft'))\n"
        "print(json.dumps({'modules': out, 'lora': facts.by_peft_type('LORA').name, 'heavy': heavy}))\n"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HF_", "HUGGINGFACE_"))}
    env.update(
        PYTHONPATH=str(REPO_ROOT),
        PEFTLINT_CACHE_DIR=str(tmp_path / "cache"),
        HF_HUB_CACHE=str(tmp_path / "hf"),
        HF_HUB_OFFLINE="1",
    )

    def run() -> dict:
        out = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, check=True)
        return json.loads(out.stdout)

    cold = run()
    assert cold["heavy"]  # the first run built the models
    warm = run()
    assert warm["heavy"] == []
    assert warm["modules"] == cold["modules"] == [163, 390]
    assert warm["lora"] == "LoraConfig"
