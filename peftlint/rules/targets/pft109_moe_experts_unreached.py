"""PFT109 moe-experts-unreached."""

from __future__ import annotations

from typing import Iterator

from peftlint.codes import Code
from peftlint.diagnostics import Diagnostic, Severity
from peftlint.model import inventory as inv
from peftlint.rules._common import py_example
from peftlint.rules.base import Expect, Rule
from peftlint.rules.context import Context
from peftlint.rules.targets._common import backticked, list_entries
from peftlint.semantics.matching import ALL_LINEAR, entry_matches, layer_position, param_owner
from peftlint.spec import Value


def _short(names: list[str]) -> list[str]:
    """Distinct names with the block index stripped (``mlp.shared_expert.gate_proj``)."""
    out: dict[str, None] = {}
    for n in names:
        parts = n.split(".")
        idx = next((i for i, p in enumerate(parts) if p.isdigit()), None)
        out.setdefault(".".join(parts[idx + 1:]) if idx is not None else n, None)
    return list(out)[:4]


def _fused_expert_params(inventory: inv.Inventory) -> list[tuple[str, str]]:
    return [(m.name, p) for m in inventory.modules for p, shape in m.params.items() if len(shape) == 3]


def _relates_to(leaf: str, pnames: set[str]) -> bool:
    """An entry's leaf names an expert projection that lives in a fused parameter now."""
    if leaf in pnames:
        return True
    stem = leaf[:-5] if leaf.endswith("_proj") else leaf
    return any(stem in p.removesuffix("_proj").split("_") for p in pnames)


def _suggest_parameters(ctx: Context, fused: list[tuple[str, str]]) -> list[str]:
    assert ctx.inventory is not None  # needs_model: the engine runs this rule only with a model
    out: dict[str, None] = {}
    for name, p in fused:
        pos = layer_position(name, ctx.inventory)
        rel = name[len(f"{pos[0]}.{pos[1]}."):] if pos else name
        out.setdefault(f"{rel}.{p}", None)
    return sorted(out)  # cached inventories do not keep parameter order


class MoeExpertsUnreached(Rule):
    code = Code.MOE_EXPERTS_UNREACHED
    name = "moe-experts-unreached"
    severity = Severity.WARNING
    summary = "MoE experts are fused parameters (transformers 5) or PEFT rewrites the names; says what is adapted."
    docs = """
    In transformers 5 the experts of MoE models are no longer one `nn.Linear` per expert: each
    layer has one `Experts` module holding fused 3-D parameters (`gate_up_proj`, `down_proj`).
    `target_modules` cannot reach them. Two things follow:

    - For some model types (mixtral, qwen3_moe, deepseek_v3, olmoe, ...) PEFT rewrites the v4
      names before matching: `w1`/`w3` or `gate_proj`/`up_proj` become
      `target_parameters=["gate_up_proj"]` (rank doubled), `w2`/`down_proj` become `down_proj`,
      `gate` becomes `gate.weight` (the router). Every name ending in those words is rewritten,
      so dense and shared-expert Linears with the same names are **dropped silently**; a single
      expert's name widens to all experts; naming only one half of a fused pair raises
      `Cannot convert PEFT target(s) w1 without also targeting w3 ...`.
    - For the others (qwen2_moe, gpt_oss, llama4, granitemoe, ...) nothing is rewritten:
      `gate_proj`/`up_proj`/`down_proj` adapt only the shared expert (or nothing), and the routed
      experts stay frozen without any message.

    Fix: target the experts explicitly with `target_parameters` (LoRA only), e.g.
    `target_parameters=["mlp.experts.gate_up_proj", "mlp.experts.down_proj"]`, and keep
    `target_modules` for attention and shared layers.
    """
    bad = (py_example('config = LoraConfig(target_modules=["q_proj", "gate_proj", "up_proj", "down_proj"])',
                             "Qwen/Qwen1.5-MoE-A2.7B",
                      expect=(Expect(4, 47, "the 60 routed experts of each layer are fused 3-D parameters"),)),)
    good = (py_example('config = LoraConfig(target_modules=["q_proj"],\n'
                '                    target_parameters=["mlp.experts.gate_up_proj", "mlp.experts.down_proj"])',
                "Qwen/Qwen1.5-MoE-A2.7B"),)

    def check(self, ctx: Context) -> Iterator[Diagnostic]:
        t = ctx.targeting
        if t is None:
            return
        if t.moe is not None and (t.moe.moved or t.moe.error):
            yield from self._rewritten(ctx, t)
        else:  # no rewrite, or one that finds none of its names in these targets
            yield from self._unreached(ctx, t)

    def _rewritten(self, ctx: Context, t) -> Iterator[Diagnostic]:
        assert ctx.inventory is not None  # needs_model: the engine runs this rule only with a model
        moe = t.moe
        v = ctx.field("target_modules")
        items = {i.value: i for i in (v.items or [])} if v is not None and not v.dynamic else {}
        field_span = v.span if v is not None else ctx.spec.span
        mt = ctx.inventory.model_type
        if moe.error:
            bad = next((e for e in moe.moved if e in items), None)
            span = items[bad].span if bad else field_span
            yield self.diagnostic(
                ctx, span,
                f"PEFT's transformers-5 MoE rewrite for `{mt}` raises ValueError; name both halves, or target the "
                "fused parameter directly with target_parameters",
                subject=bad, severity=Severity.ERROR,
                detail=f"PEFT's transformers-5 MoE rewrite for `{mt}` raises ValueError: {moe.error}")
            return
        if not moe.moved:
            return
        by_param: dict[str, list[str]] = {}
        for entry, new in moe.moved.items():
            by_param.setdefault(new, []).append(entry)
        parts = []
        for new, entries in by_param.items():
            hits = t.parameter_hits.get(new, [])
            owners = {param_owner(k) for k in hits}
            shape = ""
            if hits:
                m = ctx.inventory.module(param_owner(hits[0]))
                dims = (m.params.get(new.rsplit(".", 1)[-1]) if m else None) or []
                if len(dims) == 3:
                    shape = f", {dims[0]} experts each"
            mult = next((f", rank x{k}" for key, k in moe.pattern_keys.items() if key.endswith(new.rsplit('.', 1)[-1])), "")
            parts.append(f"{backticked(entries)} -> `{new}` ({len(owners)} module{'s' if len(owners) != 1 else ''}{shape}{mult})")
        dropped = []
        widened = []
        for entry in moe.moved:
            lin = [m.name for m in ctx.inventory.modules if m.kind in (inv.LINEAR, inv.CONV1D_GPT2)
                   and entry_matches(entry, m.name)]
            dropped += lin
            if ".experts." in f".{entry}." and any(seg.isdigit() for seg in entry.split(".")):
                widened.append(entry)
        how = {"list": "", "all-linear": ' ("all-linear" is first resolved to leaf names)',
               "regex": " (the regex is first resolved to leaf names)"}.get(t.mode, "")
        short = [f"PEFT's transformers-5 MoE rewrite turns {backticked(_short(list(moe.moved)))} into target_parameters"]
        msg = (f"on {ctx.model_label} (transformers 5, model_type `{mt}`) PEFT rewrites these targets{how} into "
               f"target_parameters: {'; '.join(parts)}.")
        if dropped:
            msg += (f" The Linear modules they also name ({backticked(_short(dropped))}, {len(dropped)} in all) are dropped "
                    "from the adapter silently.")
            short.append("the Linear modules they name are dropped silently")
        if widened:
            msg += f" {backticked(widened)} named one expert, but the fused parameter covers all experts of every layer."
            short.append(f"{backticked(_short(widened))} covers all experts")
        router = any(k.endswith("gate.weight") for k in moe.moved.values())
        if router:
            msg += " The router (`gate.weight`) is adapted too."
            short.append("the router is adapted too")
        dropout = ctx.spec.static("lora_dropout", 0) or 0
        # nothing lost, widened or added: the rewrite does what the names say, so this is a note
        sev = None if dropped or widened or router else Severity.INFO
        if isinstance(dropout, (int, float)) and dropout:
            msg += (f" With lora_dropout={dropout}, get_peft_model raises \"lora.ParamWrapper does not work with "
                    "lora_dropout != 0\"; set lora_dropout=0.")
            short.append(f"with lora_dropout={dropout} get_peft_model raises; set lora_dropout=0")
            sev = Severity.ERROR
        msg += " To say what you mean, put the expert parameters in target_parameters yourself."
        first = next((e for e in moe.moved if e in items), None)
        yield self.diagnostic(ctx, items[first].span if first else field_span,
                              "; ".join([*short, "put the expert parameters in target_parameters yourself"]),
                              subject=first, severity=sev, detail=msg)

    def _unreached(self, ctx: Context, t) -> Iterator[Diagnostic]:
        assert ctx.inventory is not None  # needs_model: the engine runs this rule only with a model
        if not ctx.inventory.is_pretrained_model:
            return  # a module of the linted code: PFT101 reports names that match nothing
        # Conv1d weights are 3-D too, and so are pooling probes of shape [1, 1, hidden]: not experts.
        fused = [(n, p) for n, p in _fused_expert_params(ctx.inventory)
                 if (m := ctx.inventory.module(n)) is not None and m.params[p][0] > 1
                 and m.kind not in (inv.CONV1D, inv.CONV2D, inv.CONV3D)]
        if not fused:
            return
        reached = {k for k in t.parameters_targeted}
        if any(f"{m.name}.{p}" in reached for m in ctx.inventory.modules for p in m.params if len(m.params[p]) == 3):
            return
        v = ctx.field("target_modules")
        related: list[tuple[str, Value]] = []
        if t.mode == "list":
            pnames = {p for _, p in fused}
            related = [(e, item) for e, item in list_entries(ctx) if _relates_to(e.rsplit(".", 1)[-1], pnames)]
        elif t.mode == ALL_LINEAR and v is not None:
            related = [("all-linear", v)]
        rule = ctx.spec.facts.target_rule
        if not related and rule is not None and v is not None:  # a trainer's own "every linear layer"
            related = [(rule.written, v)]
        if not related:
            return
        targeted = set(t.targeted)
        reach = []
        for e, _ in related:
            if t.mode != "list" or (rule is not None and e == rule.written):
                reach.append(f'"{e}" reaches only the {len(t.targeted)} nn.Linear modules')
                continue
            hits = [n for n in t.entry_hits.get(e, []) if n in targeted]
            blocks = {n.rsplit(".", 1)[0].split(".")[-1] for n in hits}
            reach.append(f"`{e}` reaches {len(hits)} Linear module{'s' if len(hits) != 1 else ''}"
                         + (f" (in {backticked(sorted(blocks))})" if hits else ""))
        suggestion = _suggest_parameters(ctx, fused)
        m0, p0 = fused[0]
        owner = ctx.inventory.module(m0)
        assert owner is not None  # a fused parameter's module, found in this inventory
        experts = owner.params[p0][0]
        tp = ("add" if ctx.spec.method == "LORA" else "switch to LoraConfig, which has")
        mt = ctx.inventory.model_type
        rewrite = (f"PEFT does not rewrite targets for model_type `{mt}`" if t.moe is None else
                   f"none of these targets is a name PEFT's transformers-5 rewrite for `{mt}` turns into expert "
                   "parameters")
        yield self.diagnostic(
            ctx, related[0][1].span,
            f"the {experts} routed experts of each layer are fused 3-D parameters no target reaches, so they stay "
            f"frozen silently; {tp} target_parameters={suggestion!r}",
            subject=related[0][0],
            detail=f"On {ctx.model_label} (transformers 5) the experts' {backticked(sorted({p for _, p in fused}))} of `{m0.rsplit('.', 1)[-1]}` are 3-D "
                   f"parameters, and {rewrite}: {'; '.join(reach)}, so the experts stay frozen without any message. "
                   f"To train them, {tp} target_parameters={suggestion!r}.")
