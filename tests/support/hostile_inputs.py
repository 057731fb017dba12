"""The hostile set's third round (tests/hostile/test_hostile_set.py runs them): each case is one
folder of several inputs of one kind, linted by one process, and checked file by file. Each input
once hung peftlint, crashed it (PFT999), blew its memory or passed silently.
"""

from __future__ import annotations

import json
import os
from collections import defaultdict
from pathlib import Path
from typing import Callable

SMOL = "HuggingFaceTB/SmolLM2-135M"
ADAPTER = {"peft_type": "LORA", "base_model_name_or_path": SMOL, "r": 8, "task_type": "CAUSAL_LM",
           "target_modules": ["q_proj"]}
CONFIG = f"from peft import LoraConfig\n\n# peftlint: model={SMOL}\nc = LoraConfig(target_modules=['q_proj', 'q_proj'])\n"
AXOLOTL = f"base_model: {SMOL}\nadapter: lora\n"

Files = dict[str, "str | bytes | Callable[[Path], None]"]


def write(d: Path, files: Files) -> None:
    for name, content in files.items():
        path = d / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if callable(content):
            content(path)
        elif isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content)


def by_path(found: list[dict]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = defaultdict(list)
    for f in found:
        out[f["path"]].append(f["code"])
    return {k: sorted(v) for k, v in out.items()}


def _text(f: dict) -> str:
    return f"{f['message']} {f.get('detail') or ''}"


def _nested_notebook(path: Path) -> None:
    cells = ["x = " + "+".join(["1"] * 100_000) + "\n", "y = '\ud800'\n", CONFIG]
    nb = {"cells": [{"cell_type": "code", "metadata": {}, "source": c, "outputs": [], "execution_count": None}
                    for c in cells], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}
    path.write_text(json.dumps(nb))


# -- Python: coding cookies CPython refuses (or decodes in quadratic time), nesting CPython's parser
# refuses, computed values nested inside lists, and notebooks cells of the same ---------------------
SOURCES: Files = {
    "hex.py": "# -*- coding: hex -*-\n" + CONFIG,  # a bytes-to-bytes codec: LookupError stopped the run
    "undefined.py": "# coding: undefined\n" + CONFIG,  # a codec that fails as a whole: UnicodeError
    "puny.py": b"# coding: punycode\n-" + b"a" * 2_000_000,  # decoding time grows with the square of the size
    "unary.py": "x = " + "-" * 100_000 + "1\n" + CONFIG,  # CPython's parser: MemoryError
    "sum.py": "x = " + "+".join(["'q'"] * 20_000) + "\n" + CONFIG,  # CPython's parser: RecursionError
    "nested.py": "from peft import LoraConfig\n\nc = LoraConfig(target_modules=[['q_proj', f()]])\n"
                 "d = LoraConfig(target_modules=" + "[" * 60 + "'q_proj'" + "]" * 60 + ")\n",
    "nb.ipynb": _nested_notebook,
}


def sources_ok(found: list[dict]) -> bool:
    got = by_path(found)
    refused = all(got.get(n) == ["PFT902"] for n in ("hex.py", "undefined.py", "puny.py", "unary.py", "sum.py"))
    nested = sorted(f["line"] for f in found if f["path"] == "nested.py" and f["code"] == "PFT904") == [3, 4]
    # each cell on its own: the two it cannot parse are notes, the config cell is still checked
    return refused and nested and got.get("nb.ipynb") == ["PFT204", "PFT906", "PFT906"]


# -- files of many configs, and of a name bound and read thousands of times (the work per config
# grew with the product of the two: a 6 KB file took minutes) ---------------------------------------
MANY: Files = {
    "reads.py": "from peft import LoraConfig\n\n" + "c = LoraConfig(r=8)\n" * 40 + "c\n" * 2500,
    "many.py": "from peft import LoraConfig\n\nx = [" + "LoraConfig(r=8), " * 2100 + "]\n",
    "run.sh": "trl sft --use_peft --lora_target_modules q_proj\n" * 2100,  # a reader without a bound of its own
}


def many_ok(found: list[dict]) -> bool:
    got = by_path(found)
    capped = [f for f in found if f["path"] == "many.py" and f["code"] == "PFT907"]
    reads = got.get("reads.py", [])  # a note may say that the search of reads stopped at its bound
    shell = got.get("run.sh", [])
    return (reads.count("PFT901") == 40 and set(reads) <= {"PFT901", "PFT904"}
            and len(capped) == 1 and "2,000" in _text(capped[0]) and got["many.py"].count("PFT901") == 2000
            and shell.count("PFT907") == 1 and shell.count("PFT901") == 2000)


# -- one rule reporting each of 150,000 entries (over a gigabyte of findings) -----------------------------
FLOOD: Files = {
    "keys/adapter_config.json": json.dumps({**ADAPTER, **{f"k{i}": i for i in range(150_000)}}),
    "layers/adapter_config.json": json.dumps({**ADAPTER, "layers_to_transform": list(range(50_000))}),
}


def flood_ok(found: list[dict]) -> bool:
    got = by_path(found)
    last = [f for f in found if "not listed" in f["message"]]
    return (got.get("keys/adapter_config.json") == ["PFT209"] * 501
            and got.get("layers/adapter_config.json") == ["PFT301"] * 501 and len(last) == 2)


# -- YAML values yaml.safe_load builds in quadratic time, builds too large to print, or refuses ------
def _bomb() -> str:
    text, prev = "a: &a [q_proj, q_proj, q_proj, q_proj, q_proj, q_proj, q_proj, q_proj, q_proj]\n", "a"
    for n in "bcdefghij":
        text += f"{n}: &{n} [" + ", ".join([f"*{prev}"] * 9) + "]\n"
        prev = n
    return text + f"lora_target_modules: *{prev}\n"


YAML: Files = {
    "sexagesimal.yaml": AXOLOTL + "lora_target_modules: [q_proj]\nlora_r: 1" + ":59" * 300_000 + "\n",
    "hex.yaml": AXOLOTL + "lora_target_modules: [q_proj]\nlora_r: 0x" + "f" * 5000 + "\n",
    "date.yaml": AXOLOTL + "lora_target_modules: [q_proj]\nlora_r: 2001-02-30\n",
    "key.yaml": AXOLOTL + "? [a, b]\n: 1\nlora_target_modules: [q_proj]\n",
    "bomb.yaml": AXOLOTL + _bomb(),
}


def yaml_ok(found: list[dict]) -> bool:
    got = by_path(found)
    # what cannot be read is unknown (PFT904), never taken as absent (PFT205: "target_modules is empty")
    return (got.get("sexagesimal.yaml") == ["PFT904"] and got.get("hex.yaml") == ["PFT904"]
            and got.get("date.yaml") == ["PFT902", "PFT904"] and got.get("key.yaml") == ["PFT902"]
            and got.get("bomb.yaml") == ["PFT902", "PFT904"])


# -- files that are not what their name says: NUL bytes, weights that are not regular files ----------
NOT_TEXT: Files = {
    "utf16/adapter_config.json": json.dumps(ADAPTER).encode("utf-16-le"),  # no byte order mark
    "nul/train.py": b"\0" + CONFIG.encode(),
    "fifo/adapter_config.json": json.dumps(ADAPTER),
    "fifo/adapter_model.safetensors": lambda p: os.mkfifo(p),
    "diffusers/pytorch_lora_weights.safetensors": lambda p: os.mkfifo(p),  # opening it waited for a writer
}


def not_text_ok(found: list[dict]) -> bool:
    got = by_path(found)
    return (got.get("utf16/adapter_config.json") == ["PFT401"] and got.get("nul/train.py") == ["PFT902"]
            and got.get("fifo/adapter_model.safetensors") == ["PFT406"]
            and got.get("diffusers/pytorch_lora_weights.safetensors") == ["PFT406"])


MORE_CASES: dict[str, tuple[Callable[[Path], None], Callable[[list[dict]], bool]]] = {
    "coding cookies and nesting CPython refuses, computed values deep in lists": (lambda d: write(d, SOURCES), sources_ok),
    "2,100 configs in a file, a name bound and read thousands of times": (lambda d: write(d, MANY), many_ok),
    "150,000 findings of one rule on one config": (lambda d: write(d, FLOOD), flood_ok),
    "YAML values safe_load builds in quadratic time, too large or not at all": (lambda d: write(d, YAML), yaml_ok),
    "NUL bytes and weights that are FIFOs": (lambda d: write(d, NOT_TEXT), not_text_ok),
}
