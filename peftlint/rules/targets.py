"""PFT1xx: where the targets land on the base model's module tree."""

from __future__ import annotations

from dataclasses import replace
from typing import Iterator

from peftlint.model import inventory as inv
from peftlint.rules.context import Context
from peftlint.diagnostics import Diagnostic, Fix, Severity
from peftlint.semantics.matching import (
    ALL_LINEAR,
    SEQ_CLS_HEADS,
    entry_matches,
    layer_filter_active,
    layer_position,
    moe_rewrite_applies,
    param_owner,
)
from peftlint.semantics.methods import display_name, SILENT_KINDS, describe_supported, supported_kinds
from peftlint.fix.apply import remove_item_edit, replace_string_edit
from peftlint.semantics.roles import role_targets
from peftlint.semantics.suggest import adaptable_suffixes, format_names, suggest_target
from peftlint.rules.base import Example, Rule
from peftlint.rules.form import literal_problem

SMOL = "HuggingFaceTB/SmolLM2-135M"

# A tiny LLaVA (CLIP vision tower + Llama language model) written beside the examples of PFT108.
TINY_LLAVA = (
    '{"model_type": "llava", "architectures": ["LlavaForConditionalGeneration"], "image_token_index": 100, '
    '"vision_config": {"model_type": "clip_vision_model", "hidden_size": 32, "intermediate_size": 64, '
    '"num_hidden_layers": 2, "num_attention_heads": 2, "image_size": 32, "patch_size": 16, "projection_dim": 32}, '
    '"text_config": {"model_type": "llama", "hidden_size": 32, "intermediate_size": 64, "num_hidden_layers": 2, '
    '"num_attention_heads": 2, "num_key_value_heads": 2, "vocab_size": 128}}'
)


def _py(body: str, model: str = SMOL) -> Example:
    return Example(f"from peft import LoraConfig\n\n# peftlint: model={model}\n{body}\n")


def _list_entries(ctx: Context):
    """(entry text, Value) for each static item of a list target_modules that is a plain name."""
    v = ctx.field("target_modules")
    if v is None or v.dynamic or v.items is None:
        return
    for item in v.items:
        if item.dynamic or not isinstance(item.value, str):
            continue
        if literal_problem(item.value) is not None:
            continue  # reported by the PFT2xx form rules
        yield item.value, item


class UnmatchedTarget(Rule):
    code = "PFT101"
    name = "unmatched-target"
    severity = Severity.ERROR
    summary = "A `target_modules` list entry matches no module of the base model."
    docs = """
    PEFT matches each list entry against the full dotted module names: an entry matches a module
    whose name equals it or ends with `.` + entry. PEFT raises only when *no* entry matches
    anything; an entry that matches nothing next to one that does is ignored **silently**, so a
    typo (`vproj`) or a name from another architecture (`query_key_value` on Llama, `q` on OPT)
    trains a different adapter from the one you meant.

    peftlint suggests the model's own name by spelling and by role: the query/key/value/output
    projections and the MLP gate/up/down layers are recognised across architectures, so `q` on
    Llama points to `q_proj`, `q_proj` on Falcon to the fused `query_key_value`, and `c_attn`
    (GPT-2's fused qkv) on Qwen2 to `q_proj`, `k_proj`, `v_proj`. When there is exactly one such
    equivalent, or a fused name whose parts this model has separately, `--fix --unsafe-fixes`
    puts them in place (unsafe: it changes what is trained).

    Fix: use the names the model really has. `peftlint modules MODEL` lists them.
    """
    bad = (_py('config = LoraConfig(target_modules=["q_proj", "vproj"])'),
           _py('config = LoraConfig(target_modules=["q_proj", "v_proj"])', "tiiuae/falcon-7b"))
    good = (_py('config = LoraConfig(target_modules=["q_proj", "v_proj"])'),)

    def check(self, ctx: Context) -> Iterator[Diagnostic]:
        t = ctx.targeting
        if t is None or t.mode != "list":
            return
        entries = list(_list_entries(ctx))
        dead = [(e, item) for e, item in entries if not t.entry_hits.get(e)]
        if not dead:
            return
        all_dead = len(dead) == len(entries) and ctx.complete and not t.matched
        role_map = role_targets(ctx.inventory)
        taken = {e for e, _ in entries if t.entry_hits.get(e)}  # names the list keeps after the fixes
        for entry, item in dead:
            if all_dead:
                runtime = "no entry matches, so PEFT raises NoMatchingPeftModuleError (\"Target modules ... not found in the base model\")"
            else:
                runtime = "PEFT ignores it silently and adapts only the other entries"
            hint = suggest_target(entry, ctx.inventory, role_map)
            fix_hint = hint.describe() or (
                f"this model's adaptable layers are {format_names(adaptable_suffixes(ctx.inventory))}")
            yield self.diagnostic(
                ctx, item.span,
                f"`{entry}` matches no module of {ctx.model_label}: {runtime}; {fix_hint}",
                subject=entry, fix=self._fix(ctx, item, hint.replacements, taken))

    @staticmethod
    def _fix(ctx: Context, item, replacements: list[str], taken: set[str]) -> Fix | None:
        """Unsafe: put the equivalent names in place (or drop the entry when the list has them already)."""
        v = ctx.field("target_modules")
        text = ctx.text
        if not replacements or v is None or v.origin or not text or ctx.spec.source not in ("python", "adapter_config"):
            return None
        missing = [r for r in replacements if r not in taken]
        if not missing:
            edits = remove_item_edit(ctx.spec.path, text, v.items, v.items.index(item),
                                     python=ctx.spec.source == "python", container=v.kind)
            what = f"remove `{item.value}` ({format_names(replacements)} already targeted)"
        elif len(missing) > 1 and v.kind not in ("list", "tuple", "set"):
            return None
        else:
            edit = replace_string_edit(ctx.spec.path, text, item, missing[0])
            if edit is not None and len(missing) > 1:
                quote = edit.content[0]
                edit = replace(edit, content=", ".join(f"{quote}{r}{quote}" for r in missing))
            edits = (edit,) if edit else None
            what = f"replace `{item.value}` with {format_names(missing)}"
        if not edits:
            return None
        taken.update(missing)
        return Fix("unsafe", edits, what)


class UnmatchedRegex(Rule):
    code = "PFT102"
    name = "unmatched-regex"
    severity = Severity.ERROR
    summary = "A string `target_modules` full-matches no module name."
    docs = """
    A string `target_modules` is a regular expression that PEFT applies with `re.fullmatch` to the
    *full* module name (`model.layers.0.self_attn.q_proj`), not a search and not a leaf name. A
    plain word such as `"q_proj"` therefore matches nothing on a transformers model, and
    `"q_proj|v_proj"` neither. PEFT raises NoMatchingPeftModuleError after loading the model.

    Fix: anchor the expression on the full name (`r".*\\.(q_proj|v_proj)"`) or use a list.
    """
    bad = (_py('config = LoraConfig(target_modules="q_proj|v_proj")'),)
    good = (_py('config = LoraConfig(target_modules=r".*\\.(q_proj|v_proj)")'),)

    def check(self, ctx: Context) -> Iterator[Diagnostic]:
        import re

        t = ctx.targeting
        v = ctx.field("target_modules")
        if t is None or t.mode != "regex" or v is None or t.matched:
            return
        pattern = t.effective_targets
        try:
            compiled = re.compile(pattern)
        except re.error as exc:
            yield self.diagnostic(ctx, v.span, f"`{pattern}` is not a valid regular expression ({exc}); PEFT raises re.error",
                                  subject=pattern)
            return
        names = ctx.inventory.names()
        example = next((n for n in names if ctx.inventory.module(n).kind in ("linear", "gpt2-conv1d")), names[0] if names else "")
        hint = ""
        searched = sorted({n.rsplit(".", 1)[-1] for n in names if compiled.search(n)})
        if searched:
            alt = "|".join(searched[:6])
            hint = f"; it would match {format_names(searched)} as a search — write r\".*\\.({alt})\" or the list {searched[:6]!r}"
        yield self.diagnostic(
            ctx, v.span,
            f"the regex `{pattern}` full-matches no module name of {ctx.model_label} (PEFT uses re.fullmatch on full "
            f"names such as `{example}`), so PEFT raises NoMatchingPeftModuleError{hint}",
            subject=pattern)


class UnsupportedModule(Rule):
    code = "PFT103"
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

    Targeting the `out_proj` of a `torch.nn.MultiheadAttention` directly (which `"all-linear"`
    does, since it is an `nn.Linear`) is reported as a warning: PEFT wraps it without complaint,
    but MultiheadAttention's forward reads `out_proj.weight` itself and never calls
    `out_proj.forward`, so the adapter is a silent no-op. Target the MultiheadAttention module
    instead (LoRA then adapts both its `in_proj` and its `out_proj`).
    """
    bad = (_py('config = LoraConfig(target_modules=["q_proj", "mlp"])'),)
    good = (_py('config = LoraConfig(target_modules=["q_proj", "gate_proj", "up_proj", "down_proj"])'),)

    def check(self, ctx: Context) -> Iterator[Diagnostic]:
        t = ctx.targeting
        use_dora = ctx.spec.static("use_dora") is True
        kinds = supported_kinds(ctx.spec.method, use_dora=use_dora)
        if t is not None and kinds is None and ctx.spec.method in SILENT_KINDS:
            yield from self._silent(ctx, t)
            return
        if t is None or kinds is None:
            return
        yield from self._mha_out_proj(ctx, t)
        bad = t.unsupported(ctx.inventory, kinds)
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
            hint = (f"; target its layers instead: {format_names(children)}" if children
                    else "; remove it from the targets")
            how = "" if t.mode == "list" else f" ({'default targets' if t.mode == 'default' else t.mode} selects it)"
            yield self.diagnostic(
                ctx, span,
                f"`{entry}`{how} matches {len(mods)} module{'s' if len(mods) != 1 else ''} of type {first.cls} ({what}); "
                f"{method} can only wrap {supported}, so get_peft_model raises \"Target module {first.cls}(...) is not "
                f"supported\"{hint}",
                subject=entry)


    def _mha_out_proj(self, ctx: Context, t) -> Iterator[Diagnostic]:
        """``<mha>.out_proj`` wrapped on its own: MHA's forward uses the weight, never ``out_proj.forward``."""
        hit: list[str] = []
        for name in t.targeted:
            parent, _, leaf = name.rpartition(".")
            owner = ctx.inventory.module(parent) if parent else None
            if leaf == "out_proj" and owner is not None and owner.kind == inv.MHA and parent not in t.targeted:
                hit.append(name)
        if not hit:
            return
        span, subject = _span_for(ctx, hit[0])
        parents = [n.rpartition(".")[0] for n in hit]
        yield self.diagnostic(
            ctx, span,
            f"{format_names(hit, 3)} {'is the out_proj' if len(hit) == 1 else 'are the out_proj layers'} of "
            f"torch.nn.MultiheadAttention: PEFT wraps {'it' if len(hit) == 1 else 'them'}, but MultiheadAttention's "
            "forward reads out_proj.weight directly and never calls out_proj.forward, so the adapter has no effect "
            f"while still being trained and saved. Target the attention module itself ({format_names(parents, 3)}) "
            "instead",
            subject=subject or hit[0], severity=Severity.WARNING)

    def _silent(self, ctx: Context, t) -> Iterator[Diagnostic]:
        """OSF and LN-Tuning never raise: say what they silently do with the wrong kind of module."""
        method = ctx.spec.method
        wanted = SILENT_KINDS[method]
        odd = [m for n in t.targeted if (m := ctx.inventory.module(n)) is not None and m.kind not in wanted]
        if not odd:
            return
        span, subject = _span_for(ctx, odd[0].name)
        names = format_names([m.name for m in odd], 3)
        if method == "OSF":
            what = (f"OSF only adapts torch.nn.Linear: it skips {names} ({odd[0].cls}) silently, yet lists "
                    f"{'it' if len(odd) == 1 else 'them'} as targeted, so nothing is trained there")
        else:
            what = (f"LN-Tuning is meant for normalization layers, but {names} ({odd[0].cls}) "
                    f"{'is' if len(odd) == 1 else 'are'} not one: PEFT trains a full copy of "
                    f"{'it' if len(odd) == 1 else 'each'} instead, silently")
        yield self.diagnostic(ctx, span, f"{what}; target other modules", subject=subject,
                              severity=Severity.WARNING)


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
    prefix = m.name + "."
    found: dict[str, None] = {}
    for other in ctx.inventory.modules:
        if other.name.startswith(prefix) and other.kind in kinds:
            found.setdefault(other.name[len(prefix):], None)
    return list(found)


class HeadTargeted(Rule):
    code = "PFT104"
    name = "head-targeted"
    severity = Severity.WARNING
    summary = "The output head (`lm_head`, `embed_out`, `proj_out`, ...) is adapted."
    docs = """
    `"all-linear"` deliberately skips the output embedding, but a list entry or regex that names
    it puts an adapter on the LM head. On models with tied input/output embeddings the head shares
    its weight with `embed_tokens`: PEFT warns about `tie_word_embeddings`, merging gets harder,
    and serving stacks such as vLLM reject adapters with head weights.

    Fix: drop the head from `target_modules`; if you really need to train it, put it in
    `modules_to_save` (and set `ensure_weight_tying=True` on tied models).
    """
    bad = (_py('config = LoraConfig(target_modules=["q_proj", "v_proj", "lm_head"])'),)
    good = (_py('config = LoraConfig(target_modules=["q_proj", "v_proj"])'),)

    def check(self, ctx: Context) -> Iterator[Diagnostic]:
        t = ctx.targeting
        head = ctx.inventory.output_embedding
        if t is None or head is None or head not in t.targeted:
            return
        span, subject = _span_for(ctx, head)
        tied = (" It is tied to the input embedding (tie_word_embeddings=True): PEFT warns, and merging or exporting "
                "the adapter can break the tie.") if ctx.inventory.tie_word_embeddings else ""
        yield self.diagnostic(
            ctx, span,
            f"the output head `{head}` of {ctx.model_label} gets an adapter.{tied} Remove it from target_modules, or "
            "train it fully with modules_to_save",
            subject=subject or head)


class EmbeddingTargeted(Rule):
    code = "PFT105"
    name = "embedding-targeted"
    severity = Severity.WARNING
    summary = "An input embedding is adapted (saved whole; tied weights)."
    docs = """
    Adapting an embedding creates `lora_embedding_A/B`, and at save time PEFT sets
    `save_embedding_layers=True` and writes the **full** embedding matrix into the adapter file
    (a 135M model's adapter grows by ~100 MB; a 1B model's by GBs). On tied models the
    adapter also touches the output head.

    PEFT warns about a tied embedding (`Model has tie_word_embeddings=True and a tied layer is
    part of the adapter ...`) only when it recognises it **by name**: a target whose last part is
    `embed_tokens` or `lm_head`. An embedding tied to the output head under another name (such as
    gpt2's `wte`) gets the adapter with no warning at all; the message then says so.

    Fix: remove the embedding unless you are adding tokens; for new tokens prefer
    `trainable_token_indices`.
    """
    bad = (_py('config = LoraConfig(target_modules=["q_proj", "v_proj", "embed_tokens"])'),)
    good = (_py('config = LoraConfig(target_modules=["q_proj", "v_proj"])'),)

    def check(self, ctx: Context) -> Iterator[Diagnostic]:
        t = ctx.targeting
        if t is None:
            return
        for name in t.targeted:
            m = ctx.inventory.module(name)
            if m is None or m.kind != inv.EMBEDDING or name == ctx.inventory.output_embedding:
                continue
            span, subject = _span_for(ctx, name)
            is_input = name == ctx.inventory.input_embedding
            what = "the input embedding" if is_input else "an embedding"
            tied = " It is tied to the output head." if is_input and ctx.inventory.tie_word_embeddings else ""
            shared = self._tied_partners(ctx, name)
            if shared and not self._tie_warning_by_name(t.targeted):
                tied = (f" Its weight is tied to {format_names(shared, 2)}, but PEFT detects tied layers only by the "
                        "names `embed_tokens`/`lm_head`, so it will NOT warn that the adapter touches a tied weight "
                        "(merging or exporting can break the tie).")
            size = f"{m.in_features}x{m.out_features}" if m.in_features else ""
            yield self.diagnostic(
                ctx, span,
                f"`{name}` ({what}{', ' + size if size else ''}) gets an adapter; PEFT then saves the whole embedding "
                f"matrix into the adapter file.{tied} Remove it unless you are training new tokens "
                "(then consider trainable_token_indices)",
                subject=subject or name)
            return  # one finding per config is enough

    # peft.utils.constants.EMBEDDING_LAYER_NAMES: the names PEFT's tie warning looks for.
    _TIE_WARNING_NAMES = ("embed_tokens", "lm_head")

    @staticmethod
    def _tied_partners(ctx: Context, module_name: str) -> list[str]:
        """Other parameters sharing storage with ``<module_name>.weight`` (from the inventory's tied groups)."""
        own = f"{module_name}.weight"
        for group in ctx.inventory.tied_weights:
            if own in group:
                return [p for p in group if p != own]
        return []

    @classmethod
    def _tie_warning_by_name(cls, targeted: list[str]) -> bool:
        return any(n.rsplit(".", 1)[-1] in cls._TIE_WARNING_NAMES for n in targeted)


def _span_for(ctx: Context, module_name: str):
    """The span of the list entry that reaches ``module_name``, else of the whole field."""
    v = ctx.field("target_modules")
    if v is None:
        return ctx.spec.span, None
    if v.items is not None:
        for item in v.items:
            if isinstance(item.value, str) and entry_matches(item.value, module_name):
                return item.span, item.value
    return v.span, None


class NoDefaultTargets(Rule):
    code = "PFT106"
    name = "no-default-targets"
    severity = Severity.ERROR
    summary = "`target_modules` is omitted and PEFT has no default for this model type and method."
    docs = """
    Without `target_modules`, PEFT looks up a default in a per-method table keyed by the model's
    `model_type` (`llama` → `q_proj, v_proj`; `t5` → `q, v`). Many architectures are missing
    (phi3, qwen2_moe, gemma3 multimodal, gpt_oss, ...), and `get_peft_model` raises
    `ValueError: Please specify target_modules in peft_config`. On transformers-5 MoE models that
    PEFT rewrites (mixtral, qwen3_moe, deepseek_v3, ...) the default is lost even where the table
    has one.

    Fix: name the targets explicitly.
    """
    bad = (_py("config = LoraConfig(r=8)", "microsoft/Phi-3-mini-4k-instruct"),)
    good = (_py('config = LoraConfig(r=8, target_modules=["qkv_proj", "o_proj"])', "microsoft/Phi-3-mini-4k-instruct"),)

    def check(self, ctx: Context) -> Iterator[Diagnostic]:
        t = ctx.targeting
        v = ctx.field("target_modules")
        if t is None:
            return
        yield from self._ia3_feedforward(ctx, t)
        if t.mode != "default":
            return
        if v is not None and not (not v.dynamic and v.value is None):
            return
        if not t.no_default:
            yield from self._stale_defaults(ctx, t)
            return
        lost = ctx.spec.method == "LORA" and moe_rewrite_applies(ctx.inventory) and \
            ctx.inventory.default_targets.get("LORA") is not None
        span = v.span if v is not None else ctx.spec.span
        attn = [s for s in adaptable_suffixes(ctx.inventory) if any(k in s for k in ("q", "k", "v", "attn", "query", "key", "value"))]
        suggestion = attn[:4] or adaptable_suffixes(ctx.inventory)[:4]
        mt = ctx.inventory.model_type
        if lost:
            why = (f"PEFT's transformers-5 MoE rewrite turns the missing target_modules of `{mt}` into an empty set "
                   "before the defaults apply, so get_peft_model raises \"No `target_modules` passed but also no "
                   "`target_parameters` found\"")
        else:
            why = (f"PEFT has no default target_modules for model_type `{mt}` with {ctx.spec.config_class}, so "
                   "get_peft_model raises \"Please specify `target_modules` in `peft_config`\"")
        yield self.diagnostic(ctx, span, f"{why}; set target_modules explicitly, e.g. {suggestion!r}",
                              subject="target_modules")

    def _ia3_feedforward(self, ctx: Context, t) -> Iterator[Diagnostic]:
        """IA3 also needs ``feedforward_modules``; PEFT fills it from its own per-model_type table."""
        if ctx.spec.method != "IA3" or t.no_default:
            return
        ff = ctx.field("feedforward_modules")
        if ff is not None and not (not ff.dynamic and ff.value is None):
            return
        mt = ctx.inventory.model_type
        span = ff.span if ff is not None else ctx.spec.span
        default = ctx.inventory.ia3_default_feedforward
        if default is None:
            yield self.diagnostic(
                ctx, span,
                f"feedforward_modules is not set and PEFT has no IA3 feedforward default for model_type `{mt}`, so "
                "get_peft_model raises \"Please specify `feedforward_modules` in `peft_config`\"; set it to the "
                "feed-forward layers among your target_modules (or [] for none)",
                subject="feedforward_modules")
            return

    def _stale_defaults(self, ctx: Context, t) -> Iterator[Diagnostic]:
        """A default table entry this model no longer has (IA3's mixtral `w2` in transformers 5)."""
        targets = t.effective_targets
        if not isinstance(targets, list):
            return
        dead = [e for e in targets if not t.entry_hits.get(e)]
        if not dead or len(dead) == len(targets):
            return
        v = ctx.field("target_modules")
        live = [e for e in targets if e not in dead]
        ff = ""
        default_ff = ctx.inventory.ia3_default_feedforward
        if ctx.spec.method == "IA3" and isinstance(default_ff, list) and set(default_ff) <= set(dead):
            ff = f" (and {_names(default_ff)} is also IA3's default feedforward_modules, so no feed-forward layer is scaled)"
        yield self.diagnostic(
            ctx, v.span if v is not None else ctx.spec.span,
            f"PEFT's default target_modules for `{ctx.inventory.model_type}` with {ctx.spec.config_class} are "
            f"{targets!r}, but {_names(dead)} matches no module of {ctx.model_label} (renamed in this transformers "
            f"version), so only {_names(live)} is adapted, silently{ff}; set target_modules explicitly",
            subject="target_modules", severity=Severity.WARNING)




# -- PFT107-PFT110 -----------------------------------------------------------------------------------


def _blocks(ctx: Context, names: list[str]) -> dict[str, set[int]]:
    """{numbered ModuleList: indices} of the repeated blocks ``names`` lie in."""
    out: dict[str, set[int]] = {}
    for n in names:
        pos = layer_position(n, ctx.inventory)
        if pos is not None:
            out.setdefault(pos[0], set()).add(pos[1])
    return out


def _in_block(name: str, pos: tuple[str, int]) -> str:
    return name[len(f"{pos[0]}.{pos[1]}."):]


def _ranges(indices: set[int]) -> str:
    xs = sorted(indices)
    if len(xs) > 6:
        return f"{', '.join(map(str, xs[:5]))}, ... ({len(xs)} blocks)"
    return ", ".join(map(str, xs))


class PartialCoverage(Rule):
    code = "PFT107"
    name = "partial-coverage"
    severity = Severity.WARNING
    summary = "A `target_modules` entry reaches only some of the repeated blocks."
    docs = """
    A list entry matches every module whose full name ends with `.` + entry. An entry that carries
    a block index (`layers.0.mlp.down_proj`) or names a layer that exists only in some blocks
    (dense layers of a MoE model, a layer type that alternates) adapts only those blocks, without
    any message from PEFT. That is rarely intended: usually the entry was copied from one
    module's printed name.

    Fix: use the leaf name (`down_proj`) for every block; to select blocks on purpose, use
    `layers_to_transform` (with suffix entries, which the layer filter applies to).
    """
    bad = (_py('config = LoraConfig(target_modules=["q_proj", "v_proj", "layers.0.mlp.down_proj"])'),)
    good = (_py('config = LoraConfig(target_modules=["q_proj", "v_proj", "down_proj"])'),)

    def check(self, ctx: Context) -> Iterator[Diagnostic]:
        t = ctx.targeting
        if t is None or t.mode != "list" or layer_filter_active(ctx.view.layers_to_transform):
            return
        lists = ctx.inventory.extra.get("layer_lists") or {}
        # what all entries together reach, per (block list, path inside the block): full names
        # saved for every block (an expanded "all-linear") cover each other
        union: dict[tuple[str, str], set[int]] = {}
        for hits in t.entry_hits.values():
            for n in hits:
                pos = layer_position(n, ctx.inventory)
                if pos is not None:
                    union.setdefault((pos[0], _in_block(n, pos)), set()).add(pos[1])
        for entry, item in _list_entries(ctx):
            for lst, idx in _blocks(ctx, t.entry_hits.get(entry, [])).items():
                total = lists.get(lst)
                if not total or len(idx) >= total:
                    continue
                paths = {_in_block(n, pos) for n in t.entry_hits.get(entry, [])
                         if (pos := layer_position(n, ctx.inventory)) is not None and pos[0] == lst}
                if all(len(union.get((lst, p), ())) >= total for p in paths):
                    continue
                leaf = entry.rsplit(".", 1)[-1]
                yield self.diagnostic(
                    ctx, item.span,
                    f"`{entry}` reaches only block{'s' if len(idx) > 1 else ''} {_ranges(idx)} of the {total} blocks "
                    f"of `{lst}`; PEFT adapts just those, silently. Use `{leaf}` for every block, or "
                    f"`{leaf}` with layers_to_transform to choose blocks on purpose",
                    subject=entry)
                break


class SeveralTowers(Rule):
    code = "PFT108"
    name = "several-towers"
    severity = Severity.WARNING
    summary = "In a composite model, an entry matches in more than one sub-model (language model, vision tower, ...)."
    docs = """
    Multimodal models (LLaVA, Qwen2-VL, Gemma 3, ...) contain several sub-models: a language
    model, a vision or audio tower, a projector. Their layers often share names (`q_proj`,
    `fc1`, `out_proj`), so a suffix entry adapts **every** tower — fine-tuning the vision encoder
    when you meant to tune the language model, with more memory and a different result. (The
    encoder and decoder of a seq2seq model such as T5 are one model; they never trigger this.)

    Fix: qualify the entry with the tower (`language_model.layers.0...` is too narrow; a regex
    such as `r".*language_model.*\\.(q_proj|v_proj)"` selects one tower), or exclude the other
    tower with `exclude_modules`.
    """
    bad = (Example(
        "from peft import LoraConfig\n\n# peftlint: model=./tiny-llava\n"
        'config = LoraConfig(target_modules=["q_proj", "v_proj"])\n',
        files=(("tiny-llava/config.json", TINY_LLAVA),)),)
    good = (Example(
        "from peft import LoraConfig\n\n# peftlint: model=./tiny-llava\n"
        'config = LoraConfig(target_modules=r".*language_model.*\\.(q_proj|v_proj)")\n',
        files=(("tiny-llava/config.json", TINY_LLAVA),)),)

    def check(self, ctx: Context) -> Iterator[Diagnostic]:
        t = ctx.targeting
        towers = ctx.inventory.towers
        if t is None or len(towers) < 2 or t.mode not in ("list", "regex"):
            return
        targeted = set(t.targeted)
        groups: list[tuple[str, list[str], object]] = []
        if t.mode == "list":
            for entry, item in _list_entries(ctx):
                groups.append((entry, [n for n in t.entry_hits.get(entry, []) if n in targeted], item.span))
        else:
            v = ctx.field("target_modules")
            groups.append((str(t.effective_targets), t.targeted, v.span if v else ctx.spec.span))
        for entry, hits, span in groups:
            found: dict[str, int] = {}
            for n in hits:
                tower = _tower_of(n, towers)
                if tower is not None:
                    found[tower] = found.get(tower, 0) + 1
            if len(found) < 2:
                continue
            where = ", ".join(f"{towers[p]} (`{p}`, {c} module{'s' if c != 1 else ''})" for p, c in found.items())
            first = next((p for p in found if "language" in towers[p]), next(iter(found)))
            yield self.diagnostic(
                ctx, span,
                f"`{entry}` adapts modules in {len(found)} sub-models of {ctx.model_label}: {where}. If you meant one "
                f"of them, select it with a regex on the full name (e.g. r\".*{first.rsplit('.', 1)[-1]}.*\\.{entry.rsplit('.', 1)[-1]}\") "
                "or exclude the others with exclude_modules",
                subject=entry)


def _tower_of(name: str, towers: dict[str, str]) -> str | None:
    best = None
    for prefix in towers:
        if (name == prefix or name.startswith(prefix + ".")) and (best is None or len(prefix) > len(best)):
            best = prefix
    return best


class MoeExpertsUnreached(Rule):
    code = "PFT109"
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
    bad = (_py('config = LoraConfig(target_modules=["q_proj", "gate_proj", "up_proj", "down_proj"])',
               "Qwen/Qwen1.5-MoE-A2.7B"),)
    good = (_py('config = LoraConfig(target_modules=["q_proj"],\n'
                '                    target_parameters=["mlp.experts.gate_up_proj", "mlp.experts.down_proj"])',
                "Qwen/Qwen1.5-MoE-A2.7B"),)

    def check(self, ctx: Context) -> Iterator[Diagnostic]:
        t = ctx.targeting
        if t is None:
            return
        if t.moe is not None:
            yield from self._rewritten(ctx, t)
        else:
            yield from self._unreached(ctx, t)

    def _rewritten(self, ctx: Context, t) -> Iterator[Diagnostic]:
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
                f"PEFT's transformers-5 MoE rewrite for `{mt}` raises ValueError: {moe.error} Name both halves, or "
                f"target the fused parameter directly with target_parameters",
                subject=bad, severity=Severity.ERROR)
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
            parts.append(f"{_names(entries)} -> `{new}` ({len(owners)} module{'s' if len(owners) != 1 else ''}{shape}{mult})")
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
        msg = (f"on {ctx.model_label} (transformers 5, model_type `{mt}`) PEFT rewrites these targets{how} into "
               f"target_parameters: {'; '.join(parts)}.")
        if dropped:
            msg += (f" The Linear modules they also name ({_names(_short(dropped))}, {len(dropped)} in all) are dropped "
                    "from the adapter silently.")
        if widened:
            msg += f" {_names(widened)} named one expert, but the fused parameter covers all experts of every layer."
        if any(k.endswith("gate.weight") for k in moe.moved.values()):
            msg += " The router (`gate.weight`) is adapted too."
        dropout = ctx.spec.static("lora_dropout", 0) or 0
        sev = None
        if isinstance(dropout, (int, float)) and dropout:
            msg += (f" With lora_dropout={dropout}, get_peft_model raises \"lora.ParamWrapper does not work with "
                    "lora_dropout != 0\"; set lora_dropout=0.")
            sev = Severity.ERROR
        msg += " To say what you mean, put the expert parameters in target_parameters yourself"
        first = next((e for e in moe.moved if e in items), None)
        yield self.diagnostic(ctx, items[first].span if first else field_span, msg, subject=first, severity=sev)

    def _unreached(self, ctx: Context, t) -> Iterator[Diagnostic]:
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
        related: list[tuple[str, object]] = []
        if t.mode == "list":
            pnames = {p for _, p in fused}
            related = [(e, item) for e, item in _list_entries(ctx) if _relates_to(e.rsplit(".", 1)[-1], pnames)]
        elif t.mode == ALL_LINEAR and v is not None:
            related = [("all-linear", v)]
        if not related:
            return
        targeted = set(t.targeted)
        reach = []
        for e, _ in related:
            if t.mode != "list":
                reach.append(f'"all-linear" reaches only the {len(t.targeted)} nn.Linear modules')
                continue
            hits = [n for n in t.entry_hits.get(e, []) if n in targeted]
            blocks = {n.rsplit(".", 1)[0].split(".")[-1] for n in hits}
            reach.append(f"`{e}` reaches {len(hits)} Linear module{'s' if len(hits) != 1 else ''}"
                         + (f" (in {_names(sorted(blocks))})" if hits else ""))
        suggestion = _suggest_parameters(ctx, fused)
        m0, p0 = fused[0]
        experts = ctx.inventory.module(m0).params[p0][0]
        tp = ("add" if ctx.spec.method == "LORA" else "switch to LoraConfig, which has")
        yield self.diagnostic(
            ctx, related[0][1].span,
            f"on {ctx.model_label} (transformers 5) the {experts} routed experts of each layer are fused 3-D parameters "
            f"({_names(sorted({p for _, p in fused}))} of `{m0.rsplit('.', 1)[-1]}`) that no module name reaches, and "
            f"PEFT does not rewrite targets for model_type `{ctx.inventory.model_type}`: {'; '.join(reach)}, so the "
            f"experts stay frozen without any message. To train them, {tp} target_parameters={suggestion!r}",
            subject=related[0][0])


def _names(xs) -> str:
    return ", ".join(f"`{x}`" for x in xs)


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
    out: dict[str, None] = {}
    for name, p in fused:
        pos = layer_position(name, ctx.inventory)
        rel = name[len(f"{pos[0]}.{pos[1]}."):] if pos else name
        out.setdefault(f"{rel}.{p}", None)
    return sorted(out)  # cached inventories do not keep parameter order


class AllExcluded(Rule):
    code = "PFT110"
    name = "all-excluded"
    severity = Severity.ERROR
    summary = "Every matched module is removed by `exclude_modules`/`modules_to_save`."
    docs = """
    PEFT checks `exclude_modules` and `modules_to_save` before the targets: a module named there
    is never adapted (`modules_to_save` also removes everything below it). When that removes
    every module the targets matched, `get_peft_model` raises `No modules were targeted for
    adaptation. This might be caused by a combination of mismatched target modules and excluded
    modules.` — after the model is loaded.

    Fix: narrow `exclude_modules`/`modules_to_save`, or target other modules.
    """
    bad = (_py('config = LoraConfig(target_modules=["q_proj", "v_proj"], exclude_modules=["q_proj", "v_proj"])'),)
    good = (_py('config = LoraConfig(target_modules=["q_proj", "v_proj"], exclude_modules=["layers.0.self_attn.q_proj"])'),)

    def check(self, ctx: Context) -> Iterator[Diagnostic]:
        t = ctx.targeting
        if t is None or not ctx.complete or not t.excluded or t.targeted or t.parameters_targeted:
            return
        if t.moe is not None and t.moe.error:
            return
        by: dict[str, int] = {}
        for reason in t.excluded.values():
            by[reason] = by.get(reason, 0) + 1
        how = " and ".join(f"{reason} removes {n}" for reason, n in by.items())
        v = ctx.field("exclude_modules") if "exclude_modules" in by else ctx.field("modules_to_save")
        span = v.span if v is not None else ctx.spec.span
        heads = ""
        if "modules_to_save" in by and ctx.field("modules_to_save") is None:
            heads = f" (task_type={ctx.view.task_type} adds {list(SEQ_CLS_HEADS)} to modules_to_save)"
        yield self.diagnostic(
            ctx, span,
            f"the targets match {len(t.excluded)} module{'s' if len(t.excluded) != 1 else ''}, and {how}{heads}: "
            "nothing is left, so get_peft_model raises \"No modules were targeted for adaptation\". Narrow the "
            "exclusions or target other modules",
            subject=None)
