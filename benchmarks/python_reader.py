"""Benchmark: time the Python source reader (``extract_python``) per file, in process.

    python benchmarks/python_reader.py PATH [PATH ...] [--top 5] [--repeat 3]

Reads every ``.py`` file under the paths that passes the engine's text prefilter and prints the
total and median time per file and the slowest files (best of ``--repeat`` runs each, in CPU
time of this process, which a busy machine distorts less than wall time). Only the reader is
timed: no model resolution, no rules. ``--reader`` names another module with an
``extract_python`` function (to compare two versions of the reader).
"""

from __future__ import annotations

import argparse
import importlib
import statistics
import time
from pathlib import Path

from peftlint.engine.discover import PREFILTER, PYTHON

CLASSES = {
    "AdaLoraConfig", "BOFTConfig", "BoneConfig", "C3AConfig", "FourierFTConfig", "HRAConfig", "IA3Config",
    "LNTuningConfig", "LoHaConfig", "LoKrConfig", "LoraConfig", "MissConfig", "OFTConfig", "PolyConfig",
    "RandLoraConfig", "RoadConfig", "ShiraConfig", "VBLoRAConfig", "VeraConfig", "XLoraConfig",
}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("paths", nargs="+", type=Path)
    ap.add_argument("--top", type=int, default=5)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--reader", default="peftlint.sources.python")
    args = ap.parse_args()
    extract = importlib.import_module(args.reader).extract_python
    files = []
    for p in args.paths:
        files += [p] if p.is_file() else sorted(p.rglob("*.py"))
    times: list[tuple[float, Path, int, int]] = []
    for f in files:
        text = f.read_text(encoding="utf-8", errors="replace")
        if not any(s in text for s in PREFILTER[PYTHON]):
            continue
        best = float("inf")
        specs = 0
        for _ in range(args.repeat):
            t = time.process_time()
            specs = len(extract(text, str(f), str(f.resolve()), CLASSES).specs)
            best = min(best, time.process_time() - t)
        times.append((best, f, len(text.encode()), specs))
    total = sum(t for t, *_ in times)
    print(f"reader: {args.reader}")
    print(f"{len(times)} files read ({sum(s for *_, s in times)} configs): total {total:.2f} s, "
          f"median {statistics.median(t for t, *_ in times) * 1000:.1f} ms per file")
    for t, f, size, specs in sorted(times, reverse=True)[: args.top]:
        print(f"  {t * 1000:8.1f} ms  {size / 1000:7.1f} KB  {specs:3d} configs  {f}")


if __name__ == "__main__":
    main()
