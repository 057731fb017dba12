"""Benchmark: peftlint beside ruff on real repositories, median of fresh processes.

    python benchmarks/run.py [--corpus DIR] [--repeat 5] [--cold-repeat 3] [--rows trl-hit,trl-warm,...]
    python benchmarks/run.py --breakdown      # where the time of one run goes
    python benchmarks/run.py --break-even     # -j 1 against -j 2 by number of files to lint

The corpus (``--corpus``, else ``$PEFTLINT_CORPUS``, else ``../shared/corpus`` beside the repository)
holds ``trl/`` and ``llamafactory/``. Every timed run is a fresh ``python -m peftlint`` process, as
a user or pre-commit pays it, with bytecode caching on (the first, untimed run writes the .pyc
files an installed package ships with); ruff checks the same files in the same run (its own cache
in a temporary directory, never in the corpus). Wall time is the median; CPU time (user + system,
the process and its workers) and peak memory (the largest process's maximum RSS, from ``wait4``)
are reported beside it because wall time on a shared machine includes waiting for a core.

Rows (targets on 2 cores in brackets):
  trl-hit       TRL, nothing changed since the last run: every file from the result cache  [0.4 s]
  trl-warm      TRL, inventories cached, ``--no-result-cache``: every file linted            [3 s]
  trl-cold      TRL, empty cache directory: peft facts and every model built (torch import) [10 s]
  precommit     one changed 200 KB file (TRL's tests/test_grpo_trainer.py plus a new comment),
                inventories cached (``--breakdown`` shows where its time goes)              [0.15 s]
  notebooks     1,000 notebooks made from TRL's, first run, inventories cached              [15 s]
  lf-hit, lf-warm, lf-cold   the same three runs on LLaMA-Factory
Peak memory of the warm run is the "MiB" column of trl-hit              [150 MiB]

The Hugging Face cache the runs see holds tiny stand-in configs (2 layers, hidden size 8, the shapes of
TRL's own tiny test models) for the 16 models the two corpora name most, so configs are checked
against real module trees as in a project whose models are downloaded (``--hf-cache empty``: none,
every config stays unchecked). Each cold row is printed with the time a bare
``import transformers.modeling_utils, peft`` takes in the same run (without the cyclic collector,
as peftlint runs): a cold run cannot be faster.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))
from support.helpers_hf import TINY_SHAPE, add_to_hf_cache  # noqa: E402

from peftlint.engine.results_cache import RESULT_PREFIX  # noqa: E402

ALL_ROWS = ("trl-hit", "trl-warm", "trl-cold", "precommit", "notebooks", "lf-hit", "lf-warm", "lf-cold")


_CAUSAL = {"qwen2": "Qwen2ForCausalLM", "qwen3": "Qwen3ForCausalLM", "llama": "LlamaForCausalLM",
           "mistral": "MistralForCausalLM"}
STAND_INS: dict[str, dict] = {
    **{repo: {"model_type": t, "architectures": [_CAUSAL[t]]} for repo, t in (
        ("trl-internal-testing/tiny-Qwen2ForCausalLM-2.5", "qwen2"), ("Qwen/Qwen2-7B-Instruct", "qwen2"),
        ("Qwen/Qwen2.5-0.5B-Instruct", "qwen2"), ("trl-internal-testing/tiny-Qwen3ForCausalLM", "qwen3"),
        ("Qwen/Qwen3-0.6B", "qwen3"), ("Qwen/Qwen3-1.7B", "qwen3"), ("Qwen/Qwen3-4B", "qwen3"),
        ("Qwen/Qwen3-4B-Instruct-2507", "qwen3"), ("llamafactory/tiny-random-qwen3", "qwen3"),
        ("trl-internal-testing/tiny-LlamaForCausalLM-3.2", "llama"), ("meta-llama/Llama-3.2-1B-Instruct", "llama"),
        ("meta-llama/Meta-Llama-3-8B-Instruct", "llama"), ("trl-internal-testing/tiny-MistralForCausalLM-0.2", "mistral"))},
    "trl-internal-testing/tiny-Qwen2ForSequenceClassification-2.5": {
        "model_type": "qwen2", "architectures": ["Qwen2ForSequenceClassification"], "num_labels": 1},
    "trl-internal-testing/tiny-GptOssForCausalLM": {
        "model_type": "gpt_oss", "architectures": ["GptOssForCausalLM"], "num_local_experts": 4, "num_experts_per_tok": 2},
    "trl-internal-testing/tiny-Qwen3MoeForCausalLM": {
        "model_type": "qwen3_moe", "architectures": ["Qwen3MoeForCausalLM"], "num_experts": 4,
        "num_experts_per_tok": 2, "head_dim": 128},
}
HF_CACHE: Path | None = None  # the Hugging Face cache every timed process sees (set in main)


def make_hf_cache(root: Path) -> Path:
    """A Hugging Face cache in its real layout holding the stand-ins (the tests' own writer)."""
    for repo_id, config in STAND_INS.items():
        add_to_hf_cache(root, repo_id, {"config.json": json.dumps({**config, **TINY_SHAPE})}, commit="1" * 40)
    return root


@dataclass
class Run:
    wall: float
    cpu: float
    rss_mib: float


def child_env(cache: Path | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env["HF_HUB_OFFLINE"] = "1"
    if HF_CACHE is not None:
        env["HF_HUB_CACHE"] = str(HF_CACHE)
    if cache is not None:
        env["PEFTLINT_CACHE_DIR"] = str(cache)
    return env


def measure(cmd: list[str], cwd: Path, env: dict[str, str], ok: tuple[int, ...] = (0, 1)) -> Run:
    """Wall time, CPU time and peak RSS of one process (and the workers it waited for)."""
    with tempfile.TemporaryFile() as err:
        t0 = time.perf_counter()
        proc = subprocess.Popen(cmd, cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=err)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - t0
        proc.returncode = os.waitstatus_to_exitcode(status)
        if proc.returncode not in ok:
            err.seek(0)
            raise SystemExit(f"{' '.join(cmd)} failed ({proc.returncode}):\n{err.read().decode()[-2000:]}")
    return Run(wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024)


def peftlint_cmd(*args: str) -> list[str]:
    return [sys.executable, "-m", "peftlint", "--exit-zero", *args]


def ruff_cmd(target: str, cache: Path | None) -> list[str]:
    exe = shutil.which("ruff")
    base = [exe] if exe else [sys.executable, "-m", "ruff"]
    opts = ["--cache-dir", str(cache)] if cache else ["--no-cache"]
    return [*base, "check", "--exit-zero", "-q", *opts, target]


def median(runs: list[Run]) -> Run:
    return Run(statistics.median(r.wall for r in runs), statistics.median(r.cpu for r in runs),
               max(r.rss_mib for r in runs))


class Bench:
    def __init__(self, corpus: Path, repeat: int, cold_repeat: int, work: Path) -> None:
        self.corpus, self.repeat, self.cold_repeat, self.work = corpus, repeat, cold_repeat, work
        self.rows: list[tuple[str, Run, Run]] = []
        self.caches: dict[str, Path] = {}

    def warm_cache(self, name: str, tree: Path) -> Path:
        """A cache directory filled by one untimed run over ``tree`` (inventories, facts, results)."""
        if name not in self.caches:
            cache = self.work / f"cache-{name}"
            measure(peftlint_cmd("--format", "json", "."), tree, child_env(cache))
            self.caches[name] = cache
        return self.caches[name]

    def ruff(self, target: str, cwd: Path, warm: bool) -> Run:
        cache = self.work / "ruff-cache" if warm else None
        env = child_env()
        if warm:
            measure(ruff_cmd(target, cache), cwd, env)
        return median([measure(ruff_cmd(target, cache), cwd, env) for _ in range(self.repeat)])

    def row(self, label: str, runs: list[Run], ruff: Run) -> None:
        self.rows.append((label, median(runs), ruff))
        r = self.rows[-1][1]
        print(f"  {label}: {r.wall:.2f} s wall, {r.cpu:.2f} s CPU, {r.rss_mib:.0f} MiB (ruff {ruff.wall:.3f} s)",
              file=sys.stderr)

    # -- the rows --------------------------------------------------------------------------------
    def tree_rows(self, key: str, tree: Path, wanted: set[str]) -> None:
        name = "TRL" if key == "trl" else "LLaMA-Factory"
        if {f"{key}-hit", f"{key}-warm"} & wanted:
            cache = self.warm_cache(key, tree)
            env = child_env(cache)
            if f"{key}-hit" in wanted:
                runs = [measure(peftlint_cmd("."), tree, env) for _ in range(self.repeat)]
                self.row(f"{name}: nothing changed (result cache)", runs, self.ruff(".", tree, warm=True))
            if f"{key}-warm" in wanted:
                runs = [measure(peftlint_cmd("--no-result-cache", "."), tree, env) for _ in range(self.repeat)]
                self.row(f"{name}: inventories cached, no result cache", runs, self.ruff(".", tree, warm=False))
        if f"{key}-cold" in wanted:
            runs = []
            for i in range(self.cold_repeat):
                cache = self.work / f"cold-{key}-{i}"
                runs.append(measure(peftlint_cmd("."), tree, child_env(cache)))
                shutil.rmtree(cache, ignore_errors=True)
            self.row(f"{name}: everything cold (empty cache)", runs, self.ruff(".", tree, warm=False))
            self.import_floor()

    def import_floor(self) -> None:
        """What importing the libraries a cold run needs costs alone, timed once per run."""
        if any(label.startswith("floor:") for label, _, _ in self.rows):
            return
        # as peftlint runs: without the cyclic collector (peftlint.__main__)
        code = ("import gc, warnings; gc.disable(); warnings.simplefilter('ignore'); "
                "import transformers.modeling_utils, peft")
        runs = [measure([sys.executable, "-c", code], ROOT, child_env()) for _ in range(self.cold_repeat)]
        self.row("floor: `import transformers.modeling_utils, peft` alone", runs, Run(float("nan"), 0.0, 0.0))

    def precommit_file(self, i: int = 0) -> Path:
        """TRL's tests/test_grpo_trainer.py with a new comment (changed, so linted again), in a folder
        of its own."""
        d = self.work / "precommit"
        d.mkdir(exist_ok=True)
        target = d / "test_grpo_trainer.py"
        text = (self.corpus / "trl" / "tests" / "test_grpo_trainer.py").read_text(encoding="utf-8")
        target.write_text(f"{text}\n# changed {time.time_ns()} {i}\n", encoding="utf-8")
        return target

    def precommit(self) -> None:
        env = child_env(self.warm_cache("trl", self.corpus / "trl"))
        runs = []
        for i in range(self.repeat + 1):
            target = self.precommit_file(i)
            d = target.parent
            run = measure(peftlint_cmd(target.name), d, env)
            if i:  # the first one builds what this file alone needs
                runs.append(run)
        size = target.stat().st_size // 1024
        self.row(f"pre-commit: one changed {size} KB file", runs, self.ruff(target.name, d, warm=True))

    def notebooks(self, n: int = 1000) -> None:
        d = self.work / "notebooks"
        sources = sorted((self.corpus / "trl").rglob("*.ipynb"))
        make_notebooks(sources, d, n)
        base = self.work / "cache-notebooks"
        # inventories and facts for these notebooks' models, no result entries
        measure(peftlint_cmd("--no-result-cache", "--format", "json", "."), d, child_env(base))
        for entry in base.glob(f"{RESULT_PREFIX}*"):  # --no-result-cache stores findings too: a first run has none
            entry.unlink()
        runs = []
        for i in range(self.cold_repeat):
            cache = self.work / f"nb-{i}"
            shutil.copytree(base, cache)
            runs.append(measure(peftlint_cmd("."), d, child_env(cache)))
            shutil.rmtree(cache, ignore_errors=True)
        self.row(f"{n:,} notebooks, first run, inventories cached", runs, self.ruff(".", d, warm=False))

    def table(self) -> str:
        lines = [f"median of {self.repeat} runs (cold rows: {self.cold_repeat}); {os.cpu_count()} CPUs; "
                 f"python {sys.version.split()[0]}; load average {os.getloadavg()[0]:.1f} at the end", "",
                 "| run | peftlint | CPU | peak RSS | ruff | ratio |", "|---|---:|---:|---:|---:|---:|"]
        for label, r, ruff in self.rows:
            if ruff.wall != ruff.wall:  # NaN: a row with no ruff counterpart
                lines.append(f"| {label} | {r.wall:.2f} s | {r.cpu:.2f} s | {r.rss_mib:.0f} MiB | | |")
                continue
            lines.append(f"| {label} | {r.wall:.2f} s | {r.cpu:.2f} s | {r.rss_mib:.0f} MiB | {ruff.wall:.3f} s | "
                         f"{r.wall / ruff.wall:.0f}x |")
        return "\n".join(lines)


def make_notebooks(sources: list[Path], out: Path, n: int) -> None:
    """``n`` notebooks, each one of ``sources`` with a small change: its own comment, another rank."""
    out.mkdir(parents=True, exist_ok=True)
    texts = [json.loads(p.read_text(encoding="utf-8")) for p in sources]
    for i in range(n):
        nb = json.loads(json.dumps(texts[i % len(texts)]))
        for cell in nb.get("cells", []):
            if cell.get("cell_type") == "code":
                src = cell["source"] if isinstance(cell["source"], list) else [cell["source"]]
                src = [re.sub(r"\br=(\d+)", f"r={4 + i % 60}", line) for line in src]
                cell["source"] = [f"# variant {i}\n", *src]
                break
        sub = out / f"d{i // 100:02d}"
        sub.mkdir(exist_ok=True)
        (sub / f"nb_{i:04d}.ipynb").write_text(json.dumps(nb, indent=1), encoding="utf-8")


# -- where the time goes ----------------------------------------------------------------------------

PROBE = r"""
import sys, time, json
T0 = time.perf_counter()
spent = {}
def _timed_call(f, label, *a, **k):
    t = time.perf_counter()
    try:
        return f(*a, **k)
    finally:
        spent[label] = spent.get(label, 0.0) + time.perf_counter() - t
def timed(owner, name, label, materialize=False):
    orig = getattr(owner, name)
    def wrapper(*a, **k):
        t = time.perf_counter()
        try:
            out = orig(*a, **k)
            return iter(list(out)) if materialize else out
        finally:
            spent[label] = spent.get(label, 0.0) + time.perf_counter() - t
    setattr(owner, name, wrapper)
import peftlint.cli, peftlint.engine.run as run, peftlint.engine.discover as disc, peftlint.report as report
from peftlint.engine.progress import Progress
T_IMPORT = time.perf_counter() - T0
timed(disc.Walker, "walk", "walking the tree", materialize=True)
timed(run.Linter, "_replay", "reading, prefilter, result cache")
import peftlint.engine.readers as readers
for kind in list(readers.READERS):
    readers.READERS[kind] = (lambda f: (lambda *a, **k: _timed_call(f, "parsing (source readers)", *a, **k)))(readers.READERS[kind])
import peftlint.engine.models as models
timed(models.ModelChoice, "_inventory_for", "models (resolve, inventory load/build)")
timed(run.Linter, "lint_spec", "_lint_spec")
orig_renderers = report.renderers
def renderers():
    out = dict(orig_renderers())
    for k, f in list(out.items()):
        def g(*a, _f=f, **kw):
            t = time.perf_counter()
            try:
                return _f(*a, **kw)
            finally:
                spent["rendering the report"] = spent.get("rendering the report", 0.0) + time.perf_counter() - t
        out[k] = g
    return out
report.renderers = renderers
try:
    peftlint.cli.main(sys.argv[1:])
except SystemExit:
    pass
spent["rules (lint_spec minus models)"] = spent.pop("_lint_spec", 0.0) - spent.get("models (resolve, inventory load/build)", 0.0)
spent["importing peftlint (click, engine)"] = T_IMPORT
spent["total in process"] = time.perf_counter() - T0
heavy = sorted(m for m in ("torch", "transformers", "peft", "huggingface_hub.file_download") if m in sys.modules)
print(json.dumps({"spent": spent, "heavy": heavy}), file=sys.stderr)
"""


def breakdown(bench: Bench) -> None:
    tree = bench.corpus / "trl"
    cache = bench.warm_cache("trl", tree)
    startup = statistics.median(measure([sys.executable, "-c", "pass"], ROOT, child_env()).wall for _ in range(5))
    one = bench.precommit_file()
    measure(peftlint_cmd(one.name), one.parent, child_env(cache))  # what this file alone needs (its resolutions)
    cases = [("TRL, nothing changed", cache, (), tree), ("TRL, no result cache", cache, ("--no-result-cache",), tree),
             ("TRL, everything cold", None, (), tree),
             ("pre-commit: one changed 214 KB file", cache, (one.name,), one.parent)]
    print(f"\nPython startup (python -c pass): {startup:.3f} s")
    for label, args, cwd, env in (("peftlint --version", ["--version"], ROOT, child_env()),
                                  ("peftlint . (nothing changed)", ["--exit-zero", "."], tree, child_env(cache)),
                                  ("peftlint FILE (pre-commit)", ["--exit-zero", one.name], one.parent,
                                   child_env(cache))):
        bench.precommit_file()  # changed again: the file is linted, not read from the result cache
        proc = subprocess.run([sys.executable, "-X", "importtime", "-m", "peftlint", *args], cwd=cwd, env=env,
                              capture_output=True, text=True)
        rows = [line.split("|") for line in proc.stderr.splitlines() if line.startswith("import time:")][1:]
        total = sum(int(r[0].split(":")[1]) for r in rows) / 1e6
        ours = sum(1 for r in rows if r[2].strip().startswith("peftlint"))
        print(f"{label}: {len(rows)} modules imported ({ours} of peftlint), {total:.3f} s of imports")
        top = sorted(rows, key=lambda r: -int(r[1]))[:12]
        print("  top cumulative: " + ", ".join(f"{r[2].strip()} {int(r[1]) / 1e3:.0f} ms" for r in top))
    print()
    for label, c, extra, cwd in cases:
        c = c or bench.work / "breakdown-cold"
        env = child_env(c)
        paths = list(extra) if cwd != tree else [*extra, "."]
        if cwd != tree:
            bench.precommit_file()
        t0 = time.perf_counter()
        proc = subprocess.run([sys.executable, "-c", PROBE, "check", "-j", "1", *paths], cwd=cwd, env=env,
                              capture_output=True, text=True)
        wall = time.perf_counter() - t0
        data = json.loads(proc.stderr.strip().splitlines()[-1])
        print(f"{label}: {wall:.2f} s wall (serial, -j 1); imported: {', '.join(data['heavy']) or 'none of the heavy'}")
        for k, v in sorted(data["spent"].items(), key=lambda kv: -kv[1]):
            print(f"  {k:<42} {v:7.3f} s")
        print()


def break_even(bench: Bench) -> None:
    """-j 1 against -j 2 on the first k TRL Python files that hold a PEFT config, inventories cached."""
    tree = bench.corpus / "trl"
    cache = bench.warm_cache("trl", tree)
    files = sorted(p for p in tree.rglob("*.py") if "LoraConfig" in p.read_text(encoding="utf-8", errors="replace"))
    print("\nfiles  -j 1    -j 2   (inventories cached, --no-result-cache, median wall)")
    for k in (2, 4, 8, 16, 32, 64):
        if k > len(files):
            break
        names = [str(p.relative_to(tree)) for p in files[:k]]
        one = statistics.median(measure(peftlint_cmd("--no-result-cache", "-j", "1", *names), tree,
                                        child_env(cache)).wall for _ in range(bench.repeat))
        two = statistics.median(measure(peftlint_cmd("--no-result-cache", "-j", "2", *names), tree,
                                        child_env(cache)).wall for _ in range(bench.repeat))
        print(f"{k:5d}  {one:5.2f}  {two:5.2f}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    default = os.environ.get("PEFTLINT_CORPUS") or str(ROOT.parent / "shared" / "corpus")
    ap.add_argument("--corpus", type=Path, default=Path(default), help="folder holding trl/ and llamafactory/")
    ap.add_argument("--repeat", type=int, default=5, help="runs per row (median)")
    ap.add_argument("--cold-repeat", type=int, default=3, help="runs per row that starts from an empty cache")
    ap.add_argument("--rows", default=",".join(ALL_ROWS), help=f"comma-separated subset of {', '.join(ALL_ROWS)}")
    ap.add_argument("--hf-cache", choices=("stand-ins", "empty"), default="stand-ins",
                    help="the Hugging Face cache the runs see: tiny stand-ins for the models the corpora name, or none")
    ap.add_argument("--breakdown", action="store_true", help="where the time of a run goes")
    ap.add_argument("--break-even", action="store_true", help="serial against two workers by number of files")
    args = ap.parse_args()
    if not (args.corpus / "trl").is_dir():
        raise SystemExit(f"no corpus at {args.corpus}: pass --corpus or set PEFTLINT_CORPUS")
    with tempfile.TemporaryDirectory(prefix="peftlint-bench-") as tmp:
        global HF_CACHE
        HF_CACHE = make_hf_cache(Path(tmp) / "hf") if args.hf_cache == "stand-ins" else Path(tmp) / "hf-empty"
        bench = Bench(args.corpus.resolve(), args.repeat, args.cold_repeat, Path(tmp))
        measure([sys.executable, "-m", "peftlint", "--version"], ROOT, child_env(), ok=(0,))  # writes .pyc files
        if args.breakdown or args.break_even:
            if args.breakdown:
                breakdown(bench)
            if args.break_even:
                break_even(bench)
            return
        wanted = set(args.rows.split(","))
        if unknown := wanted - set(ALL_ROWS):
            raise SystemExit(f"unknown rows: {', '.join(sorted(unknown))}")
        bench.tree_rows("trl", args.corpus / "trl", wanted)
        if "precommit" in wanted:
            bench.precommit()
        if "notebooks" in wanted:
            bench.notebooks()
        bench.tree_rows("lf", args.corpus / "llamafactory", wanted)
        print(bench.table())


if __name__ == "__main__":
    main()
