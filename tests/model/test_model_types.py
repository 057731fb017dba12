"""Which model types transformers builds without remote code: asked from transformers itself, then
read from the cache without importing it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from support.helpers_hf import REPO_ROOT

from peftlint import store
from peftlint.model import model_types


def test_the_types_are_transformers_config_mapping(tmp_path: Path) -> None:
    from transformers.models.auto.configuration_auto import CONFIG_MAPPING_NAMES

    model_types._KNOWN.clear()
    assert model_types.model_types(tmp_path) == frozenset(CONFIG_MAPPING_NAMES)
    assert model_types.known_model_type("llama", tmp_path)
    assert not model_types.known_model_type("not-a-model-type", tmp_path)
    assert list(tmp_path.glob(f"{model_types.TYPES_PREFIX}*.json"))


def test_a_second_process_reads_them_without_transformers(tmp_path: Path) -> None:
    script = (
        "import json, sys\n"
        "from pathlib import Path\n"
        "from peftlint.model.model_types import known_model_type\n"
        "answers = [known_model_type(t, Path(sys.argv[1])) for t in ('llama', 'qwen3_moe', 'nonsense')]\n"
        "print(json.dumps([answers, 'transformers' in sys.modules]))\n"
    )
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
    cache = tmp_path / "cache"

    def run() -> list:
        out = subprocess.run([sys.executable, "-c", script, str(cache)], env=env, capture_output=True, text=True,
                             check=True)
        return json.loads(out.stdout)

    def ask_here() -> list[bool]:  # the first process asks transformers (this one: it is imported already)
        model_types._KNOWN.clear()
        return [model_types.known_model_type(t, cache) for t in ("llama", "qwen3_moe", "nonsense")]

    assert ask_here() == [True, True, False]
    assert run() == [[True, True, False], False]
    for entry in cache.glob(f"{model_types.TYPES_PREFIX}*.json"):  # a damaged entry: transformers is asked again
        store.write_entry(entry, json.loads(entry.read_text())["key"], {"llama": 1})
    assert ask_here() == [True, True, False]
    assert run() == [[True, True, False], False]
