"""peftlint's matching against real peft on diffusion models built by diffusers on the meta device.

For every bundled UNet and diffusion transformer and a matrix of targets (the names DreamBooth and
text-to-image scripts use, the `to_out` ModuleList, typos, names of the other family and of CLIP
text encoders, "all-linear", a regex, None), the verdict and the exact set of adapted modules must
agree with ``get_peft_model`` and with diffusers' own ``add_adapter``.
"""

from __future__ import annotations

import functools

import pytest

pytest.importorskip("diffusers")

from support.oracle import add_adapter_outcome, bundled_ids, fresh, peft_outcome, peftlint_outcome  # noqa: E402

from peftlint.semantics.matching import PeftView, compute_targeting  # noqa: E402

DIFFUSION_IDS = bundled_ids("diffusers")

TARGETS = [
    ["to_k", "to_q", "to_v", "to_out.0"],  # the DreamBooth / text-to-image LoRA scripts
    ["to_k", "to_q", "to_v", "to_out"],  # to_out is a ModuleList(Linear, Dropout)
    ["to_k", "to_q", "to_v", "proj_typo"],  # a typo next to real names: silently ignored
    ["attn.to_k", "attn.to_q", "attn.to_v", "attn.to_out.0", "attn.add_k_proj", "attn.add_q_proj", "attn.add_v_proj",
     "attn.to_add_out", "ff.net.0.proj", "ff.net.2", "ff_context.net.0.proj", "ff_context.net.2"],  # Flux/SD3 scripts
    ["to_q", "to_k", "to_v", "to_out.0", "proj_mlp", "proj_out"],
    ["attn1.to_q", "attn2.to_k", "ff.net.0.proj", "ff.net.2"],  # UNet-only names
    ["q_proj", "k_proj", "v_proj", "out_proj"],  # CLIP text-encoder names
    ["ff"],  # a FeedForward container
    ["norm1"],
    ["conv1", "conv2"],  # the UNet's resnet Conv2d layers
    "all-linear",
    r".*attn.*\.to_(q|k|v)",
    r".*\.to_out",
    None,
]


# injecting LoRA into the large models takes seconds per config: they get the cases that differ most
LARGE = ("stabilityai/stable-diffusion-xl-base-1.0:unet", "black-forest-labs/FLUX.1-dev:transformer")
CORE = [TARGETS[i] for i in (0, 1, 2, 3, 6)] + ["all-linear", r".*\.to_out", None]


@functools.lru_cache(maxsize=None)
def inventory(hub_id: str):
    from peftlint.model.build import build_inventory
    from peftlint.model.classes import pick_diffusers_class
    from peftlint.model.resolve import ResolveOptions, resolve

    res = resolve(hub_id, options=ResolveOptions())
    assert res.library == "diffusers"
    return build_inventory(res, pick_diffusers_class(res.config, None))


def _ours(hub_id: str, targets) -> tuple[str, set[str]]:
    inv = inventory(hub_id)
    return peftlint_outcome(compute_targeting(PeftView(method="LORA", target_modules=targets), inv), inv)


def _config(targets):
    from peft import LoraConfig

    return LoraConfig(r=2, target_modules=list(targets) if isinstance(targets, list) else targets)


@pytest.mark.parametrize("hub_id", DIFFUSION_IDS)
def test_matching_agrees_with_get_peft_model(hub_id):
    inv = inventory(hub_id)
    failures = []
    for targets in CORE if hub_id in LARGE else TARGETS:
        ours = _ours(hub_id, targets)
        verdict, targeted, _ = peft_outcome(fresh(hub_id, inv.model_class), _config(targets))
        theirs = (verdict, targeted if verdict == "ok" else set())
        if theirs != ours:
            failures.append(f"{targets!r}: peft={verdict} ({len(targeted)}) peftlint={ours[0]} ({len(ours[1])})")
    assert not failures, "\n".join(failures)


@pytest.mark.parametrize("hub_id", [h for h in DIFFUSION_IDS if h not in LARGE])
def test_matching_agrees_with_add_adapter(hub_id):
    """diffusers' ``unet.add_adapter`` / ``transformer.add_adapter`` (what the training scripts call)."""
    inv = inventory(hub_id)
    for targets in (TARGETS[0], TARGETS[1], TARGETS[2], TARGETS[6], "all-linear", None):
        assert add_adapter_outcome(fresh(hub_id, inv.model_class), _config(targets)) == _ours(hub_id, targets), targets


def test_the_matrix_exercises_every_verdict():
    seen = {_ours(h, t)[0] for h in DIFFUSION_IDS for t in TARGETS}
    assert seen == {"ok", "unmatched", "unsupported", "no-default"}


def test_unet_facts_behind_the_messages():
    """What the findings say about a UNet, shown on the real objects."""
    inv = inventory("stable-diffusion-v1-5/stable-diffusion-v1-5:unet")
    assert inv.library == "diffusers" and not inv.is_pretrained_model and inv.output_embedding is None
    assert inv.peft_model_type is False and inv.model_type == ""
    # to_out is a ModuleList(Linear, Dropout); to_out.0 is the Linear
    to_out = next(m for m in inv.modules if m.name.endswith("attn1.to_out"))
    assert to_out.kind == "modulelist" and inv.module(to_out.name + ".0").kind == "linear"
    # "all-linear" on a model that is not a PreTrainedModel excludes nothing: every nn.Linear
    t = compute_targeting(PeftView(target_modules="all-linear"), inv)
    assert set(t.targeted) == {m.name for m in inv.modules if m.kind == "linear"}
    assert not any(m.kind == "conv2d" for m in map(inv.module, t.targeted))
