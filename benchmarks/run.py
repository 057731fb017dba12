"""Benchmark: cold and warm median wall times of `peftlint` runs, beside real peft on meta models.

    python benchmarks/run.py [--repeat 5] [--files 300]

Every peftlint run is a fresh `python -m peftlint` process (what a user or pre-commit pays).
"cold" starts from an empty inventory cache each time; "warm" reuses a filled one. The last
rows time what PEFT itself needs to find the same problems: import torch/transformers/peft, build
each base model on the meta device and call get_peft_model.
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MODELS = ["HuggingFaceTB/SmolLM2-135M", "gpt2", "facebook/opt-350m", "google/flan-t5-base", "tiiuae/falcon-7b"]
TARGETS = {
    "HuggingFaceTB/SmolLM2-135M": ["q_proj", "v_proj"],
    "gpt2": ["c_attn"],
    "facebook/opt-350m": ["q_proj", "v_proj"],
    "google/flan-t5-base": ["q", "v"],
    "tiiuae/falcon-7b": ["query_key_value"],
}


def generate_tree(root: Path, n: int, seed: int = 0) -> None:
    """n files: training scripts for five base models (some with typos), and files without configs."""
    rnd = random.Random(seed)
    for i in range(n):
        d = root / f"pkg{i % 10}"
        d.mkdir(parents=True, exist_ok=True)
        if i % 3 == 2:
            (d / f"util_{i}.py").write_text("import os\n\ndef helper(x):\n    return os.path.join(x, 'a')\n" * 20)
            continue
        model = rnd.choice(MODELS)
        targets = list(TARGETS[model])
        if rnd.random() < 0.3:
            targets.append(targets[0][:-1] + "x")
        (d / f"train_{i}.py").write_text(
            "from peft import LoraConfig, get_peft_model\n"
            "from transformers import AutoModelForCausalLM\n\n"
            f"MODEL = {model!r}\n"
            "model = AutoModelForCausalLM.from_pretrained(MODEL)\n"
            f"config = LoraConfig(r=8, lora_alpha=16, target_modules={targets!r})\n"
            "model = get_peft_model(model, config)\n")


def timed_run(target: Path, cache: Path, extra: tuple[str, ...] = ()) -> float:
    env = {**os.environ, "PEFTLINT_CACHE_DIR": str(cache), "HF_HUB_OFFLINE": "1"}
    t0 = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "peftlint", "--exit-zero", "--format", "json", *extra, str(target)],
                          cwd=ROOT, env=env, capture_output=True, text=True)
    elapsed = time.perf_counter() - t0
    if proc.returncode != 0:
        raise SystemExit(f"peftlint failed on {target}:\n{proc.stderr}")
    return elapsed


def peftlint_medians(target: Path, repeat: int, extra: tuple[str, ...] = ()) -> tuple[float, float]:
    colds, warms = [], []
    for _ in range(repeat):
        cache = Path(tempfile.mkdtemp(prefix="peftlint-bench-"))
        try:
            colds.append(timed_run(target, cache, extra))
        finally:
            shutil.rmtree(cache, ignore_errors=True)
    cache = Path(tempfile.mkdtemp(prefix="peftlint-bench-"))
    try:
        timed_run(target, cache, extra)
        warms = [timed_run(target, cache, extra) for _ in range(repeat)]
    finally:
        shutil.rmtree(cache, ignore_errors=True)
    return statistics.median(colds), statistics.median(warms)


PEFT_PROBE = r"""
import json, sys, time, warnings
t0 = time.perf_counter()
import torch, transformers, peft
from peft import LoraConfig, get_peft_model
from peftlint.model.resolve import ResolveOptions, resolve
t_import = time.perf_counter() - t0
warnings.simplefilter("ignore")
per = []
for model_id, targets in json.loads(sys.argv[1]).items():
    t1 = time.perf_counter()
    cfg = dict(resolve(model_id, options=ResolveOptions()).config)
    config = transformers.AutoConfig.for_model(cfg.pop("model_type"), **cfg)
    cls = transformers.AutoModelForSeq2SeqLM if config.model_type == "t5" else transformers.AutoModelForCausalLM
    with torch.device("meta"):
        model = cls.from_config(config)
    get_peft_model(model, LoraConfig(r=8, target_modules=targets))
    per.append(time.perf_counter() - t1)
print(json.dumps({"import": t_import, "per_model": per}))
"""


def peft_baseline(repeat: int) -> tuple[float, float]:
    import json

    imports, builds = [], []
    for _ in range(repeat):
        proc = subprocess.run([sys.executable, "-c", PEFT_PROBE, json.dumps(TARGETS)], cwd=ROOT, capture_output=True,
                              text=True, env={**os.environ, "HF_HUB_OFFLINE": "1"})
        if proc.returncode != 0:
            raise SystemExit(proc.stderr)
        data = json.loads(proc.stdout.strip().splitlines()[-1])
        imports.append(data["import"])
        builds.append(statistics.median(data["per_model"]))
    return statistics.median(imports), statistics.median(builds)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--files", type=int, default=300)
    args = ap.parse_args()
    rows = []
    ex_cold, ex_warm = peftlint_medians(ROOT / "examples", args.repeat)
    rows.append(("peftlint examples/", ex_cold, ex_warm))
    with tempfile.TemporaryDirectory(prefix="peftlint-tree-") as d:
        generate_tree(Path(d), args.files)
        tree_cold, tree_warm = peftlint_medians(Path(d), args.repeat)
        rows.append((f"peftlint on {args.files} generated files", tree_cold, tree_warm))
        par_cold, par_warm = peftlint_medians(Path(d), args.repeat, ("--jobs", "2"))
        rows.append((f"peftlint --jobs 2 on {args.files} generated files", par_cold, par_warm))
    imp, per_model = peft_baseline(max(1, args.repeat // 2))
    print(f"median of {args.repeat} runs, seconds ({sys.platform}, python {sys.version.split()[0]})\n")
    print(f"| {'what':<48} | {'cold':>7} | {'warm':>7} |")
    print(f"|{'-' * 50}|{'-' * 9}|{'-' * 9}|")
    for name, cold, warm in rows:
        print(f"| {name:<48} | {cold:7.2f} | {warm:7.2f} |")
    print(f"| {'peft: import torch+transformers+peft':<48} | {imp:7.2f} | {'':>7} |")
    print(f"| {'peft: meta build + get_peft_model, per model':<48} | {per_model:7.2f} | {'':>7} |")
    print(f"| {'peft: all 5 models of the tree (import+builds)':<48} | {imp + 5 * per_model:7.2f} | {'':>7} |")


if __name__ == "__main__":
    main()
