"""A cache directory cannot stall, exhaust or fool a run: every entry is read through
``store.read_entry`` (regular files under a size limit), and an entry is used only when it has the
exact shape of what peftlint writes and belongs to its key; anything else is rebuilt."""

from __future__ import annotations

import json
import os
import threading
from pathlib import Path

import pytest

from peftlint import store
from peftlint.model.cache import InventoryCache
from peftlint.model.load import get_inventory
from peftlint.model.resolve import ResolveOptions, resolve
from peftlint.semantics import peft_facts

posix_only = pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="FIFOs and /dev/zero are POSIX")


def _within(seconds: float, fn):
    out: list[object] = []
    t = threading.Thread(target=lambda: out.append(fn()), daemon=True)
    t.start()
    t.join(seconds)
    assert not t.is_alive(), "reading the cache entry did not return"
    return out[0]


@posix_only
def test_special_and_huge_entries_are_misses(tmp_path: Path) -> None:
    fifo = tmp_path / "inventory-a.json"
    os.mkfifo(fifo)
    zero = tmp_path / "inventory-b.json"
    zero.symlink_to("/dev/zero")
    big = tmp_path / "inventory-c.json"
    big.write_text(json.dumps({"format": store.CACHE_FORMAT, "key": "k", "payload": "x" * 2000}))
    assert _within(10, lambda: store.read_entry(fifo, "k")) is None
    assert _within(10, lambda: store.read_entry(zero, "k")) is None
    assert store.read_entry(big, "k", limit=1000) is None
    assert store.read_entry(big, "k") == "x" * 2000
    deep = tmp_path / "inventory-d.json"
    deep.write_text('{"format": 2, "key": "k", "payload": ' + "[" * 100_000 + "]" * 100_000 + "}")
    assert store.read_entry(deep, "k") is None


def _smol():
    return resolve("HuggingFaceTB/SmolLM2-135M", options=ResolveOptions())


def test_crafted_inventory_entries_are_rebuilt(tmp_path: Path) -> None:
    cache = InventoryCache(tmp_path)
    res = _smol()
    key = cache.key(res, "AutoModelForCausalLM")
    real = get_inventory(res, "AutoModelForCausalLM", cache)
    good = json.loads(cache.path(key).read_text())["payload"]
    names = [m.name for m in real.modules]

    def crafted(change) -> dict:
        payload = json.loads(json.dumps(good))
        change(payload)
        return payload

    attacks = [
        crafted(lambda p: p.update(modules=[])),  # "the model has no modules": every check silenced
        crafted(lambda p: p["modules"][0].update(name=7)),
        crafted(lambda p: p["modules"][0].update(params="weight")),
        crafted(lambda p: p.update(extra="key")),
        crafted(lambda p: p.update(config_hash="0" * 64)),  # recorded from another config
        crafted(lambda p: p["modules"].append(p["modules"][0])),  # a module twice
        crafted(lambda p: p["moe"].update(target_map={"q_proj": 1})),
        crafted(lambda p: p.update(default_targets=["q_proj"])),
    ]
    for payload in attacks:
        store.write_entry(cache.path(key), key, payload)
        again = get_inventory(res, "AutoModelForCausalLM", cache)
        assert [m.name for m in again.modules] == names
        assert json.loads(cache.path(key).read_text())["payload"] == good  # rebuilt and overwritten


def test_crafted_peft_facts_are_rebuilt(tmp_path: Path) -> None:
    real = peft_facts.load_peft_facts(tmp_path)
    key = peft_facts.facts_key()
    path = store.entry_path(tmp_path, peft_facts.FACTS_PREFIX, key)
    for payload in ({**real.to_json(), "configs": {}},  # no config classes: no Python config would be found
                    {**real.to_json(), "version": "0.0.1"},
                    {**real.to_json(), "task_types": "CAUSAL_LM"},
                    {"configs": 1}):
        store.write_entry(path, key, payload)
        assert peft_facts.cached_target_classes(tmp_path) is None  # the prefilter does not trust it either
        assert peft_facts.load_peft_facts(tmp_path) == real
    assert peft_facts.cached_target_classes(tmp_path) == {n for n, c in real.configs.items() if c.has_target_modules}
