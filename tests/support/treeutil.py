"""A small project tree with every kind of input (Python, notebook, YAML, shell, saved adapter, a file
without configs) against tiny local base models, for the result-cache and parallel tests."""

from __future__ import annotations

import json
from pathlib import Path

from support.adapterutil import LLAMA, model_dir, save_adapter

PY_TYPO = '''\
from peft import LoraConfig
from transformers import AutoModelForCausalLM

model = AutoModelForCausalLM.from_pretrained("{base}")
config = LoraConfig(r=4, target_modules=["q_proj", "vproj"], layers_to_transform=[{layer}])
'''
PY_OK = '''\
import peft

config = peft.LoraConfig(target_modules=["q_proj", "v_proj"])  # peftlint: model={base}
'''
PY_HUB = '''\
from peft import LoraConfig

# peftlint: model=acme/tiny-llama
config = LoraConfig(target_modules=["q_proj", "vproj"])
'''
PY_PLAIN = "import os\n\n\ndef helper(x):\n    return os.path.join(x, 'peft')\n"
YAML = '''\
base_model: {base}
adapter: lora
lora_r: 8
lora_target_modules:
  - q_proj
  - c_attn
'''


def notebook(base: str) -> str:
    cells = [
        {"cell_type": "markdown", "metadata": {}, "source": ["# LoRA\n"]},
        {"cell_type": "code", "execution_count": None, "metadata": {}, "outputs": [],
         "source": ["from peft import LoraConfig, get_peft_model\n", "from transformers import AutoModelForCausalLM\n",
                    f"model = AutoModelForCausalLM.from_pretrained({base!r})\n"]},
        {"cell_type": "code", "execution_count": None, "metadata": {}, "outputs": [],
         "source": ["config = LoraConfig(target_modules=[\"q_proj\", \"q_proj\", \"k_prj\"])\n"]},
    ]
    return json.dumps({"cells": cells, "metadata": {}, "nbformat": 4, "nbformat_minor": 5}, indent=1)


def make_tree(root: Path, copies: int = 1) -> Path:
    """``root`` with a tiny Llama in ``base/`` and ``copies`` sets of input files."""
    base = model_dir(root, "base", LLAMA)
    for i in range(copies):
        d = root / f"pkg{i}"
        d.mkdir(parents=True, exist_ok=True)
        (d / "train.py").write_text(PY_TYPO.format(base=base, layer=1 + i % 3), encoding="utf-8")
        (d / "ok.py").write_text(PY_OK.format(base=base), encoding="utf-8")
        (d / "hub.py").write_text(PY_HUB, encoding="utf-8")
        (d / "util.py").write_text(PY_PLAIN, encoding="utf-8")
        (d / "tune.ipynb").write_text(notebook(str(base)), encoding="utf-8")
        (d / "axolotl.yml").write_text(YAML.format(base=base), encoding="utf-8")
        (d / "run.sh").write_text(f"trl sft --model_name_or_path {base} --use_peft --lora_target_modules q_proj vprj\n",
                                  encoding="utf-8")
    return root


def add_adapter(root: Path, r: int = 4) -> Path:
    """A real adapter saved by peft for ``root/base``."""
    return save_adapter(root / "base", root / "adapters" / "qv", r=r, target_modules=["q_proj", "v_proj"])
