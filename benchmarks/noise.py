"""Noise benchmark: errors, warnings and notes per rule code on real trees, and how many configs
were checked against their base model. A change in noise shows up as a change in this table.

    python benchmarks/noise.py [TREE ...] [--stand-ins] [--list] [-j N]

Default trees: the TRL and LLaMA-Factory copies in ``../shared/corpus`` next to the repository
(``PEFTLINT_CORPUS`` overrides the folder). Runs offline with an empty Hugging Face cache, as a
fresh checkout would; ``--stand-ins`` fills a temporary cache with small configs (2 layers,
hidden size 8, the shapes TRL's ``scripts/generate_tiny_models`` gives its test models) under the
names of the tiny models TRL's tests load, so the model-aware rules run on those configs too.
``--list`` prints every error and warning (``path:line:col: CODE message``) to read them one by one.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))
from support.helpers_hf import TINY_SHAPE, add_to_hf_cache  # noqa: E402

# name of a tiny test model -> (model_type, architecture, extra config keys)
STAND_INS = {
    "trl-internal-testing/tiny-Qwen2ForCausalLM-2.5": ("qwen2", "Qwen2ForCausalLM", {}),
    "trl-internal-testing/tiny-Qwen2ForSequenceClassification-2.5": ("qwen2", "Qwen2ForSequenceClassification",
                                                                     {"num_labels": 1}),
    "trl-internal-testing/tiny-Qwen3ForCausalLM": ("qwen3", "Qwen3ForCausalLM", {}),
    "trl-internal-testing/tiny-LlamaForCausalLM-3.2": ("llama", "LlamaForCausalLM", {}),
    "trl-internal-testing/tiny-LlamaForCausalLM-3.1": ("llama", "LlamaForCausalLM", {}),
    "trl-internal-testing/tiny-MistralForCausalLM-0.2": ("mistral", "MistralForCausalLM", {}),
    "trl-internal-testing/tiny-GPTNeoXForCausalLM": ("gpt_neox", "GPTNeoXForCausalLM", {}),
    "trl-internal-testing/tiny-GptOssForCausalLM": ("gpt_oss", "GptOssForCausalLM",
                                                    {"num_local_experts": 4, "num_experts_per_tok": 2}),
    "trl-internal-testing/tiny-Qwen3MoeForCausalLM": ("qwen3_moe", "Qwen3MoeForCausalLM",
                                                      {"num_experts": 4, "num_experts_per_tok": 2, "head_dim": 128}),
}


def corpus_dir() -> Path | None:
    env = os.environ.get("PEFTLINT_CORPUS")
    for cand in ([Path(env)] if env else []) + [ROOT.parent / "shared" / "corpus",
                                                 ROOT.parents[1] / "shared" / "corpus"]:
        if cand.is_dir():
            return cand
    return None


def write_stand_ins(hf_cache: Path) -> None:
    """A Hugging Face cache (its real layout, written by the tests' own helper) holding each stand-in."""
    for repo_id, (model_type, arch, extra) in STAND_INS.items():
        config = {"model_type": model_type, "architectures": [arch], **TINY_SHAPE, **extra}
        add_to_hf_cache(hf_cache, repo_id, {"config.json": json.dumps(config)}, commit="0" * 40)


def lint_tree(tree: Path, jobs: int):
    from peftlint.config import load_settings
    from peftlint.engine.run import Linter

    old = Path.cwd()
    os.chdir(tree)
    try:
        settings = load_settings(tree, None)
        return Linter(settings, tree).lint_paths([Path(".")], jobs=jobs)
    finally:
        os.chdir(old)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("trees", nargs="*", type=Path)
    ap.add_argument("--stand-ins", action="store_true", help="a Hugging Face cache with TRL's tiny test models")
    ap.add_argument("--list", action="store_true", help="print every error and warning")
    ap.add_argument("-j", "--jobs", type=int, default=1)
    args = ap.parse_args(argv)
    trees = args.trees
    if not trees:
        corpus = corpus_dir()
        if corpus is None:
            print("no corpus found (../shared/corpus or PEFTLINT_CORPUS); name the trees to lint", file=sys.stderr)
            return 2
        trees = [corpus / "trl", corpus / "llamafactory"]
    tmp = Path(tempfile.mkdtemp(prefix="peftlint-noise-"))
    os.environ["HF_HUB_OFFLINE"] = "1"
    os.environ["HF_HUB_CACHE"] = str(tmp / "hf")  # read when huggingface_hub is first imported
    (tmp / "hf").mkdir()
    if args.stand_ins:
        write_stand_ins(tmp / "hf")

    counts: dict[tuple[str, str, str], Counter] = {}
    totals: dict[str, Counter] = {}
    coverage: dict[str, str] = {}
    for tree in trees:
        result = lint_tree(tree.resolve(), args.jobs)
        label = tree.name
        checked = sum(1 for o in result.outcomes if not o.skipped)
        pct = f"{100 * checked // result.specs} %" if result.specs else "-"
        coverage[label] = f"{result.files} files, {result.specs} configs, {checked} checked ({pct})"
        totals[label] = Counter(d.severity.value for d in result.diagnostics)
        for d in result.diagnostics:
            counts.setdefault((d.code, d.name, d.severity.value), Counter())[label] += 1
            if args.list and d.severity.value != "info":
                print(f"{label}/{d.path}:{d.span.line}:{d.span.column}: {d.code} {d.message}")
    labels = [t.name for t in trees]
    if args.list:
        print()
    width = max(8, *(len(x) for x in labels))
    print(f"{'code':<8}{'name':<30}{'severity':<10}" + "".join(f"{x:>{width + 2}}" for x in labels))
    for (code, name, sev), c in sorted(counts.items()):
        print(f"{code:<8}{name:<30}{sev:<10}" + "".join(f"{c.get(x, 0):>{width + 2}}" for x in labels))
    for sev in ("error", "warning", "info"):
        print(f"{'':<8}{'total':<30}{sev:<10}" + "".join(f"{totals[x].get(sev, 0):>{width + 2}}" for x in labels))
    for x in labels:
        print(f"{x}: {coverage[x]}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
