"""Benchmark: reading hostile or oversized trainer configs (YAML and shell), in process.

    python benchmarks/trainer_inputs.py [--mb 5]

Rows: a trainer YAML whose bulk (a datasets list) peftlint never reads, at 1 MB and at --mb MB,
beside what building PyYAML's whole node tree (``yaml.compose``, libyaml when available) costs
for the same 1 MB; the "billion laughs" alias bomb in a key peftlint does not read and in one it
reads; 600-deep nesting; a shell script of 20,000 training commands with variables.
"""

from __future__ import annotations

import argparse
import time

import yaml

from peftlint.sources.trainer_shell import extract_trainer_shell
from peftlint.sources.trainer_yaml import extract_trainer_yaml

HEAD = "base_model: HuggingFaceTB/SmolLM2-135M\nadapter: lora\n"


def bulk(mb: float) -> str:
    rows, i = [], 0
    size = 0
    while size < mb * 1e6:
        row = f"  - path: data/file_{i}.jsonl\n    type: alpaca\n    tags: [a, b, {i}]\n"
        rows.append(row)
        size += len(row)
        i += 1
    return HEAD + "datasets:\n" + "".join(rows) + "lora_target_modules: [q_proj, vproj]\n"


def bomb(key: str) -> str:
    text = 'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]\n'
    for prev, cur in zip("abcdefgh", "bcdefghi"):
        text += f"{cur}: &{cur} [" + ",".join([f"*{prev}"] * 9) + "]\n"
    return HEAD + text + f"{key}: *i\n"


def shell(n: int) -> str:
    lines = ["MODEL=${MODEL:-HuggingFaceTB/SmolLM2-135M}", 'TARGETS="q_proj v_proj"']
    lines += [f"accelerate launch sft.py --model_name_or_path $MODEL --use_peft --lora_r {i % 64 + 1} \\\n"
              "    --lora_target_modules $TARGETS 2>&1 | tee log.txt" for i in range(n)]
    return "\n".join(lines) + "\n"


def timed(fn, repeat: int = 3) -> float:
    best = float("inf")
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t)
    return best


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--mb", type=float, default=5.0)
    args = ap.parse_args()
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    one, big = bulk(1), bulk(args.mb)
    rows = [
        ("YAML, 1 MB never read", len(one), lambda: extract_trainer_yaml(one, "a.yaml", "/tmp/a.yaml")),
        (f"  yaml.compose of the same ({loader.__name__})", len(one), lambda: yaml.compose(one, Loader=loader)),
        (f"YAML, {args.mb:g} MB never read", len(big), lambda: extract_trainer_yaml(big, "a.yaml", "/tmp/a.yaml")),
        ("alias bomb, key not read", len(bomb("zzz")), lambda: extract_trainer_yaml(bomb("zzz"), "a", "/tmp/a")),
        ("alias bomb, key read", len(bomb("lora_target_modules")),
         lambda: extract_trainer_yaml(bomb("lora_target_modules"), "a", "/tmp/a")),
        ("nesting 600 deep", 1230, lambda: extract_trainer_yaml(HEAD + "x: " + "[" * 600 + "]" * 600 + "\n", "a", "/tmp/a")),
        ("shell, 20,000 commands", len(shell(20000)), lambda: extract_trainer_shell(shell(20000), "a.sh", "/tmp/a.sh")),
    ]
    print(f"{'input':<40} {'bytes':>10} {'seconds':>9}")
    for name, size, fn in rows:
        print(f"{name:<40} {size:>10} {timed(fn, 1 if 'compose' in name or 'MB' in name else 3):>9.3f}")


if __name__ == "__main__":
    main()
