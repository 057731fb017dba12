"""Benchmark: reading the module trees of nn.Module classes in the linted code (module_tree).

    python benchmarks/module_tree.py [--classes 300] [--repeat 3] [--dir PATH]

Generates one file in the style of a big test module (``--classes`` model classes, each with a
``# peftlint: model=local:...`` config) and times (1) the static reader in process, per class,
and (2) a whole ``python -m peftlint`` run on the file (warm: peft's facts are cached). ``--dir``
additionally times the reader on every nn.Module class of the .py files in PATH (e.g. a peft
checkout's tests/).
"""

from __future__ import annotations

import argparse
import ast
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

VARIANTS = [
    """class Model{i}(nn.Module):
    def __init__(self, bias=True):
        super().__init__()
        self.lin0 = nn.Linear(10, 20, bias=bias)
        self.relu = nn.ReLU()
        self.drop = nn.Dropout(0.5)
        self.lin1 = nn.Linear(20, 2, bias=bias)
""",
    """class Model{i}(nn.Module):
    def __init__(self, dim=16, depth=4):
        super().__init__()
        self.embed = nn.Embedding(100, dim)
        self.blocks = nn.ModuleList([Block(dim) for _ in range(depth)])
        self.head = nn.Linear(dim, 2)
""",
    """class Model{i}(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 8, 3)
        self.seq = nn.Sequential(OrderedDict([("fc", nn.Linear(8, 8)), ("act", nn.GELU())]))
        self.heads = nn.ModuleDict({{"a": nn.Linear(8, 2), "b": nn.Linear(8, 3)}})
""",
]
HEADER = """from collections import OrderedDict

import torch.nn as nn
from peft import LoraConfig


class Block(nn.Module):
    def __init__(self, dim):
        super().__init__()
        self.attn = nn.MultiheadAttention(dim, 2)
        self.up = nn.Linear(dim, 4 * dim)
        self.down = nn.Linear(4 * dim, dim)

"""


def generate(n: int) -> str:
    parts = [HEADER]
    for i in range(n):
        parts.append("\n" + VARIANTS[i % len(VARIANTS)].format(i=i))
        parts.append(f"\n# peftlint: model=local:Model{i}\nconfig{i} = LoraConfig(target_modules=['lin0', 'up', 'fc'])\n")
    return "".join(parts)


def classes_of(tree: ast.Module) -> list[ast.ClassDef]:
    return [n for n in ast.walk(tree) if isinstance(n, ast.ClassDef)
            and any("Module" in ast.unparse(b) for b in n.bases)]


def time_reader(path: Path, text: str) -> tuple[float, float, int]:
    """(seconds for the first class incl. parsing and indexing the file, median seconds per further class, count)"""
    from peftlint.model.static.module_tree import local_tree

    classes = classes_of(ast.parse(text))
    memo: dict = {}
    times = []
    for c in classes:
        start = time.perf_counter()
        local_tree(str(path), text, c.name, line=c.lineno, memo=memo)
        times.append(time.perf_counter() - start)
    return (times[0] if times else 0.0), (statistics.median(times[1:]) if len(times) > 1 else 0.0), len(classes)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--classes", type=int, default=300)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--dir", type=Path)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        target = Path(tmp) / "test_models.py"
        text = generate(args.classes)
        target.write_text(text)
        first, per_class, n = time_reader(target, text)
        print(f"reader, generated file ({len(text) // 1024} KB, {n} classes): first class {first * 1000:.0f} ms "
              f"(parse + index), then median {per_class * 1000:.1f} ms per class")
        env = {**os.environ, "PEFTLINT_CACHE_DIR": str(Path(tmp) / "cache"), "HF_HUB_OFFLINE": "1"}
        walls = []
        for _ in range(args.repeat + 1):  # the first run fills peft's facts cache
            start = time.perf_counter()
            subprocess.run([sys.executable, "-m", "peftlint", "--exit-zero", "--format", "json", str(target)],
                           cwd=ROOT, env=env, capture_output=True, check=True)
            walls.append(time.perf_counter() - start)
        print(f"peftlint run on it ({n} configs, warm): median {statistics.median(walls[1:]):.2f} s")
    if args.dir:
        total, classes = 0.0, 0
        for path in sorted(args.dir.glob("*.py")):
            text = path.read_text(encoding="utf-8", errors="replace")
            start = time.perf_counter()
            _, _, n = time_reader(path, text)
            total += time.perf_counter() - start
            classes += n
        print(f"reader on {args.dir}: {classes} classes in {total:.1f} s ({total / max(classes, 1) * 1000:.0f} ms each,"
              " parsing included)")


if __name__ == "__main__":
    main()
