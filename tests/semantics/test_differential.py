"""peftlint's matching against peft.get_peft_model on the same meta-device models.

For every bundled model (one per module tree: models whose trees differ only in how many times a
block repeats, like Llama-2-7b and Llama-2-70b, are checked once, on the smallest) and a matrix of targets (its own names, other architectures' names,
containers, norms, heads, regex strings, "all-linear", None), the verdict (ok / unmatched /
unsupported / no-default) and the exact set of adapted modules must agree with real peft.
"""

from __future__ import annotations

import functools
import json
import re
from pathlib import Path

import pytest
from support import shared
from support.oracle import bundled_ids, fresh, peft_outcome, peftlint_outcome

from peftlint.semantics.matching import PeftView, compute_targeting

FOREIGN = [
    ["q_proj", "v_proj"],
    ["query_key_value"],
    ["c_attn"],
    ["q", "v"],
    ["query", "value"],
    ["mlp"],
    ["self_attn"],
    ["input_layernorm"],
    ["LayerNorm"],
    ["lm_head"],
    ["embed_tokens"],
    r".*\.(q_proj|v_proj)",
    "q_proj",
    r".*attn.*",
    "all-linear",
    None,
]


@functools.lru_cache(maxsize=None)
def inventory(hub_id: str):
    from peftlint.model.build import build_inventory
    from peftlint.model.classes import pick_model_class
    from peftlint.model.resolve import ResolveOptions, resolve

    res = resolve(hub_id, options=ResolveOptions())
    cls = pick_model_class(res.config, None, None)
    return build_inventory(res, cls)


def _representatives() -> dict[str, str]:
    """Each bundled model's representative: among the models of the same class whose modules have the
    same names (block indices aside) and kinds, the one with the fewest modules. Built by
    transformers on meta, so the grouping is the real trees', not a guess from the configs."""
    groups: dict[tuple, list[tuple[int, str]]] = {}
    for hub_id in bundled_ids():
        inv = inventory(hub_id)
        shape = frozenset((re.sub(r"\.\d+(?=\.|$)", ".N", m.name), m.kind) for m in inv.modules)
        groups.setdefault((inv.model_class, inv.output_embedding, shape), []).append((len(inv.modules), hub_id))
    return {hub_id: min(group)[1] for group in groups.values() for _, hub_id in group}


@pytest.fixture(scope="session")
def representatives(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """The grouping, made once per session for every worker (it builds all 42 bundled models)."""
    def build(d: Path) -> None:
        (d / "representatives.json").write_text(json.dumps(_representatives()))

    return json.loads((shared.once(tmp_path_factory, "module-trees", build) / "representatives.json").read_text())


def cases(hub_id: str):
    inv = inventory(hub_id)
    leaves = [m.leaf for m in inv.modules if m.kind in ("linear", "gpt2-conv1d") and m.name != inv.output_embedding]
    own = list(dict.fromkeys(leaves))
    targets = [own[:2], [own[0], "nonexistent_proj"]] + FOREIGN
    if inv.output_embedding:
        targets.append([inv.output_embedding.rsplit(".", 1)[-1]])
    return targets


@pytest.mark.parametrize("hub_id", bundled_ids())
def test_matching_agrees_with_peft(hub_id, representatives):
    from peft import LoraConfig

    if (rep := representatives[hub_id]) != hub_id:
        pytest.skip(f"the same module tree as {rep}, which has fewer blocks")
    from peft.tuners.tuners_utils import BaseTunerLayer

    inv = inventory(hub_id)
    failures = []
    model = None
    for targets in cases(hub_id):
        view = PeftView(method="LORA", target_modules=targets)
        ours = peftlint_outcome(compute_targeting(view, inv), inv)
        cfg = LoraConfig(r=2, target_modules=list(targets) if isinstance(targets, list) else targets)
        model = model or fresh(hub_id, inv.model_class)
        verdict, targeted, _ = peft_outcome(model, cfg)
        # a config peft rejects leaves the model as it was (no module replaced, no attribute or hook
        # added: compared module by module when this was written), so the next config reuses it; one
        # that adapted anything gets a fresh copy
        if verdict == "ok" or any(isinstance(m, BaseTunerLayer) for m in model.modules()):
            model = None
        if (verdict, targeted if verdict == "ok" else set()) != ours:
            failures.append(f"{targets!r}: peft={verdict} ({len(targeted)} modules) peftlint={ours[0]} ({len(ours[1])})"
                            + (f" diff={sorted(targeted ^ ours[1])[:4]}" if verdict == ours[0] == "ok" else ""))
    assert not failures, "\n".join(failures)
