"""PFT103 unsupported-module."""

from __future__ import annotations

from typing import Iterator

from peftlint.codes import Code
from peftlint.diagnostics import Applicability, Diagnostic, Fix, Severity
from peftlint.fix.edits import replace_string_edit
from peftlint.fix.ops import Op, OpKind
from peftlint.model import inventory as inv
from peftlint.rules._common import py_example, py_text
from peftlint.rules.base import Expect, Rule
from peftlint.rules.callfix import call_fix
from peftlint.rules.context import Context
from peftlint.rules.targets._common import span_for
from peftlint.semantics.matching import entry_matches
from peftlint.semantics.methods import (
    SHAPE_FREE,
    SILENT_KINDS,
    describe_supported,
    display_name,
    supported_kinds,
    unsupported_raise,
)
from peftlint.semantics.peft_check import shape_probe
from peftlint.semantics.suggest import format_names

# peft's _check_lora_target_modules_mamba (tuners_utils.py, peft 0.21)
_MAMBA_METHODS = frozenset({"LORA", "ADALORA", "XLORA", "RANDLORA"})
_MAMBA_MODEL_TYPES = frozenset({"falcon_h1", "mamba", "mamba2", "falcon_mamba", "nemotron_h"})
_MAMBA_INCOMPATIBLE = frozenset({"out_proj", "conv1d"})


def _describe_kind(m: inv.ModuleInfo) -> str:
    return {
        inv.NORM: "a normalization layer",
        inv.DROPOUT: "a dropout layer",
        inv.CONTAINER: "a container of other modules",
        inv.MODULE_LIST: "a module list",
        inv.EMBEDDING: "an embedding",
        inv.MHA: "multi-head attention",
    }.get(m.kind, "not a supported layer type")


def _adaptable_children(ctx: Context, m: inv.ModuleInfo, kinds: frozenset[str]) -> list[str]:
    """Entries for the adaptable layers inside ``m``: their names below it, with ``m``'s own name in
    front when that starts with an index (the `0` of a `to_out` ModuleList is `to_out.0`)."""
    assert ctx.inventory is not None  # needs_model: the engine runs this rule only with a model
    prefix = m.name + "."
    found: dict[str, None] = {}
    for other in ctx.inventory.modules:
        if other.name.startswith(prefix) and other.kind in kinds:
            rel = other.name[len(prefix):]
            found.setdefault(f"{m.leaf}.{rel}" if rel.split(".", 1)[0].isdigit() else rel, None)
    return list(found)


_MAX_SHAPES = 6  # distinct layer shapes asked of peft per config


class UnsupportedModule(Rule):
    code = Code.UNSUPPORTED_MODULE
    name = "unsupported-module"
    severity = Severity.ERROR
    summary = "A target matches a module the method cannot wrap (norm, dropout, router, container)."
    docs = """
    Each PEFT method wraps only some layer types (LoRA: Linear, Embedding, Conv1d/2d/3d,
    transformers Conv1D, MultiheadAttention; AdaLoRA, LoHa, IA3, VeRA, OFT, ... fewer). A target
    that lands on anything else — a norm, a dropout, a MoE router, or a container such as `mlp` or
    `self_attn` — makes `get_peft_model` raise `ValueError: Target module ... is not supported`
    (or a TypeError), aborting the whole call even if other entries are fine. PEFT does not
    descend into a matched container. With `use_dora=True`, LoRA cannot wrap MultiheadAttention.

    Two methods never raise and are reported as warnings instead: OSF adapts only `nn.Linear`
    and silently skips anything else it matches, and LN-Tuning (meant for norms) trains a full
    copy of any other module.

    Fix: name the layers inside the container instead.

    Module classes registered on the config with `config._register_custom_module({nn.LSTM:
    MyLoraLSTM})` are wrapped by the registered class, so they are not reported (nor anything
    else, when the mapping cannot be read or names a class the model does not hold by name).

    ## Fix safety

    When every module a list entry matches is a container holding the same adaptable layers, the
    fix (unsafe: the layers it names may be more than you meant to adapt) puts those layers in
    place of the entry, `mlp` -> `mlp.gate_proj`, `mlp.up_proj`, `mlp.down_proj` (in a saved
    `adapter_config.json`, only when there is one such layer).

    Targeting the `out_proj` of a `torch.nn.MultiheadAttention` directly (which `"all-linear"`
    does, since it is an `nn.Linear`) is reported as a warning: PEFT wraps it without complaint,
    but MultiheadAttention's forward reads `out_proj.weight` itself and never calls
    `out_proj.forward`, so the adapter is a silent no-op. Target the MultiheadAttention module
    instead (LoRA then adapts both its `in_proj` and its `out_proj`).

    On Mamba-based models (model types `mamba`, `mamba2`, `falcon_mamba`, `falcon_h1`, `nemotron_h`)
    LoRA, AdaLoRA, X-LoRA and RandLoRA refuse any targeted `out_proj` or `conv1d` (their fused
    kernels read those weights directly): `get_peft_model` raises `ValueError`, also for
    `"all-linear"`, which selects the mixers' `out_proj`.

    Some methods check a layer's dimensions only while building it (GraLoRA: `in_features`
    divisible by `gralora_k`; OFT: by the block size; ...). For those, peftlint asks the
    installed peft once per targeted Linear shape (on a meta-device toy layer of that shape, with
    the config's literal arguments; cached) and reports what it raises.
    """
    bad = (py_example('config = LoraConfig(target_modules=["q_proj", "mlp"])',
                      expect=(Expect(4, 47, "`mlp` matches 30 modules of type LlamaMLP",
                                     fixed=py_text('config = LoraConfig(target_modules=["q_proj", "mlp.gate_proj", '
                                                   '"mlp.up_proj", "mlp.down_proj"])')),)),)
    good = (py_example('config = LoraConfig(target_modules=["q_proj", "gate_proj", "up_proj", "down_proj"])'),)

    def check(self, ctx: Context) -> Iterator[Diagnostic]:
        assert ctx.inventory is not None  # needs_model: the engine runs this rule only with a model
        t = ctx.targeting
        use_dora = ctx.spec.static("use_dora") is True
        kinds = supported_kinds(ctx.spec.method, use_dora=use_dora)
        if t is not None and kinds is None and ctx.spec.method in SILENT_KINDS:
            yield from self._silent(ctx, t)
            return
        if t is None or kinds is None:
            return
        yield from self._mha_out_proj(ctx, t)
        yield from self._mamba(ctx, t)
        yield from self._shapes(ctx, t)
        bad = t.unsupported(ctx.inventory, kinds)
        registered = ctx.spec.facts.custom_modules
        if bad and registered is None:
            return  # a registration whose mapping was not read: peft may wrap any of them
        if bad and registered:
            if not set(registered) <= {m.cls for m in ctx.inventory.modules}:
                return  # a registered class the model does not hold by name may be a base of these
            bad = [m for m in bad if m.cls not in registered]
        if not bad:
            return
        method = display_name(ctx.spec.method, ctx.spec.config_class)
        supported = describe_supported(ctx.spec.method, use_dora=use_dora)
        if use_dora:
            method += " with use_dora=True"
        field_v = ctx.field("target_modules")
        groups: dict[str, list[inv.ModuleInfo]] = {}
        if t.mode == "list":
            for m in bad:
                entry = next((e for e in t.effective_targets if entry_matches(e, m.name)), m.leaf)
                groups.setdefault(entry, []).append(m)
        else:
            groups[str(t.effective_targets if t.mode == "regex" else t.mode)] = bad
        items = {i.value: i for i in (field_v.items or [])} if field_v is not None else {}
        for entry, mods in groups.items():
            span = items[entry].span if entry in items else (field_v.span if field_v else ctx.spec.span)
            first = mods[0]
            what = _describe_kind(first)
            children = _adaptable_children(ctx, first, kinds)
            hint = (f"; target its layers instead: {format_names(children, 4)}" if children
                    else "; remove it from the targets")
            how = "" if t.mode == "list" else f" ({'default targets' if t.mode == 'default' else t.mode} selects it)"
            fix = None
            if entry in items and children and all(_adaptable_children(ctx, m, kinds) == children for m in mods):
                fix = self._fix(ctx, items[entry], children)
            text = unsupported_raise(ctx.spec.method, first.cls)
            quoted = f"\"{text}\"" if text else "an error"
            yield self.diagnostic(
                ctx, span,
                f"`{entry}`{how} matches {len(mods)} module{'s' if len(mods) != 1 else ''} of type {first.cls} ({what}), "
                f"which {method} cannot wrap, so PEFT raises{hint}",
                subject=entry, fix=fix,
                detail=f"PEFT raises {quoted}. {method} can only wrap {supported}; get_peft_model, add_adapter and "
                       "inject_adapter_in_model raise on any other module a target names.")

    @staticmethod
    def _fix(ctx: Context, item, children: list[str]) -> Fix | None:
        """Unsafe: name the adaptable layers inside the container (`to_out` -> `to_out.0`)."""
        v = ctx.field("target_modules")
        if v is None or v.origin or not ctx.text or ctx.spec.source not in ("python", "adapter_config"):
            return None
        head, _, leaf = item.value.rpartition(".")
        news = []
        for child in children:
            # children of a module list already carry its name (`to_out.0`); others are relative (`gate_proj`)
            inner = child if child.startswith(leaf + ".") else f"{leaf}.{child}"
            news.append(f"{head}.{inner}" if head else inner)
        taken = {i.value for i in v.items or ()}
        news = [n for n in news if n not in taken]
        if ctx.spec.source == "python":
            if v.items is None or not news:
                return None
            return call_fix(ctx, Applicability.UNSAFE, f"replace `{item.value}` with {', '.join(news)}",
                            [Op(OpKind.REPLACE_ITEM, "target_modules", index=v.items.index(item), values=tuple(news))])
        if len(news) != 1:
            return None
        new = news[0]
        edit = replace_string_edit(ctx.spec.path, ctx.text, item, new)
        return Fix(Applicability.UNSAFE, (edit,), f"replace `{item.value}` with `{new}`") if edit else None


    def _mha_out_proj(self, ctx: Context, t) -> Iterator[Diagnostic]:
        """``<mha>.out_proj`` wrapped on its own: MHA's forward uses the weight, never ``out_proj.forward``."""
        assert ctx.inventory is not None  # needs_model: the engine runs this rule only with a model
        hit: list[str] = []
        for name in t.targeted:
            parent, _, leaf = name.rpartition(".")
            owner = ctx.inventory.module(parent) if parent else None
            if leaf == "out_proj" and owner is not None and owner.kind == inv.MHA and parent not in t.targeted:
                hit.append(name)
        if not hit:
            return
        span, subject = span_for(ctx, hit[0])
        parents = [n.rpartition(".")[0] for n in hit]
        yield self.diagnostic(
            ctx, span,
            f"{format_names(hit, 2)} {'is the out_proj' if len(hit) == 1 else 'are the out_proj layers'} of "
            f"torch.nn.MultiheadAttention: its adapter has no effect; target the attention module itself "
            f"({format_names(parents, 2)})",
            subject=subject or hit[0], severity=Severity.WARNING,
            detail=f"PEFT wraps {'it' if len(hit) == 1 else 'them'}, but MultiheadAttention's forward reads "
                   "out_proj.weight directly and never calls out_proj.forward, so the adapter has no effect while "
                   "still being trained and saved.")

    def _mamba(self, ctx: Context, t) -> Iterator[Diagnostic]:
        """peft's ``_check_lora_target_modules_mamba``: LoRA-like methods refuse ``out_proj``/``conv1d``
        of Mamba-based model types, whatever selected them ("all-linear" too)."""
        assert ctx.inventory is not None  # needs_model: the engine runs this rule only with a model
        mt = ctx.inventory.model_type
        if ctx.spec.method not in _MAMBA_METHODS or mt not in _MAMBA_MODEL_TYPES:
            return
        hit = next((n for n in t.targeted if n.rpartition(".")[2] in _MAMBA_INCOMPATIBLE), None)
        if hit is None:
            return
        leaf = hit.rpartition(".")[2]
        span, subject = span_for(ctx, hit)
        yield self.diagnostic(
            ctx, span,
            f"`{leaf}` ({hit}) is incompatible with Mamba-based models (model_type='{mt}'): get_peft_model raises "
            f"ValueError; leave every `{leaf}` out of the targets",
            subject=subject or hit,
            detail=f"PEFT raises ValueError (\"Module '{leaf}' is incompatible with Mamba-based models "
                   f"(model_type='{mt}')\") for LoRA, AdaLoRA, X-LoRA and RandLoRA on {', '.join(sorted(_MAMBA_MODEL_TYPES))}: "
                   f"their fused kernels read the weights of {', '.join(sorted(_MAMBA_INCOMPATIBLE))} directly.")

    def _shapes(self, ctx: Context, t) -> Iterator[Diagnostic]:
        """Dimension checks peft makes only while it builds a layer (GraLoRA's ``gralora_k``, OFT's
        block size, ...): peft itself is asked on one Linear of each targeted shape."""
        assert ctx.inventory is not None  # needs_model: the engine runs this rule only with a model
        if ctx.spec.method in SHAPE_FREE or ctx.literal_args is None or ctx.config_info is None:
            return
        verdict = ctx.peft_verdict
        if verdict is None or verdict.raised is not None:
            return
        shapes: dict[tuple[int, int], list[str]] = {}
        for name in t.targeted:
            m = ctx.inventory.module(name)
            if m is not None and m.kind in (inv.LINEAR, inv.CONV1D_GPT2) and (m.in_features or 0) > 0 \
                    and (m.out_features or 0) > 0:  # a GPT-2 Conv1D is checked like a Linear of its shape
                shapes.setdefault((m.in_features or 0, m.out_features or 0), []).append(name)
        for (fan_in, fan_out), names in list(shapes.items())[:_MAX_SHAPES]:
            raised = shape_probe(ctx.spec.config_class, ctx.literal_args, fan_in, fan_out,
                                 ctx.settings.cache_directory(), offload=ctx.offload).raised
            if raised is None:
                continue
            span, subject = span_for(ctx, names[0])
            method = display_name(ctx.spec.method, ctx.spec.config_class)
            yield self.diagnostic(
                ctx, span,
                f"{format_names(names, 2)} ({fan_in} in, {fan_out} out) cannot be wrapped by {method} with these "
                f"arguments: get_peft_model raises {raised.error}",
                subject=subject or names[0],
                detail=f"get_peft_model raises {raised.error} (\"{raised.message}\") while it builds the layer.")
            return

    def _silent(self, ctx: Context, t) -> Iterator[Diagnostic]:
        """OSF and LN-Tuning never raise: say what they silently do with the wrong kind of module."""
        assert ctx.inventory is not None  # needs_model: the engine runs this rule only with a model
        method = ctx.spec.method
        wanted = SILENT_KINDS[method]
        odd = [m for n in t.targeted if (m := ctx.inventory.module(n)) is not None and m.kind not in wanted]
        if not odd:
            return
        span, subject = span_for(ctx, odd[0].name)
        names = format_names([m.name for m in odd], 2)
        if method == "OSF":
            what = (f"OSF only adapts torch.nn.Linear: it skips {names} ({odd[0].cls}) silently, yet lists "
                    f"{'it' if len(odd) == 1 else 'them'} as targeted, so nothing is trained there")
        else:
            what = (f"LN-Tuning is meant for normalization layers, but {names} ({odd[0].cls}) "
                    f"{'is' if len(odd) == 1 else 'are'} not one: PEFT trains a full copy of "
                    f"{'it' if len(odd) == 1 else 'each'} instead, silently")
        yield self.diagnostic(ctx, span, f"{what}; target other modules", subject=subject,
                              severity=Severity.WARNING)
