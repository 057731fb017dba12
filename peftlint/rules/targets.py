"""PFT1xx: where the targets land on the base model's module tree."""

from __future__ import annotations

from typing import Iterator

from peftlint.linter import inventory as inv
from peftlint.linter.context import Context
from peftlint.linter.diagnostics import Diagnostic, Severity
from peftlint.linter.matching import entry_matches, moe_rewrite_applies
from peftlint.linter.methods import describe_supported, supported_kinds
from peftlint.linter.diagnostics import Fix
from peftlint.linter.fix import remove_item_edit, replace_string_edit
from peftlint.linter.roles import role_targets
from peftlint.linter.suggest import adaptable_suffixes, closest_names, format_names, suggest_target
from peftlint.rules.base import Example, Rule
from peftlint.rules.form import literal_problem

SMOL = "HuggingFaceTB/SmolLM2-135M"


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
    equivalent, `--fix --unsafe-fixes` puts it in place (unsafe: it changes what is trained).

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
                subject=entry, fix=self._fix(ctx, item, hint.replacement, taken))

    @staticmethod
    def _fix(ctx: Context, item, replacement: str | None, taken: set[str]) -> Fix | None:
        """Unsafe: put the unique equivalent in place (or drop the entry when the list has it already)."""
        v = ctx.field("target_modules")
        text = getattr(ctx, "text", None)
        if replacement is None or v is None or v.origin or not text or ctx.spec.source not in ("python", "adapter_config"):
            return None
        if replacement in taken:
            edit = remove_item_edit(ctx.spec.path, text, v.items, v.items.index(item),
                                    python=ctx.spec.source == "python")
            what = f"remove `{item.value}` (`{replacement}` is already targeted)"
        else:
            edit = replace_string_edit(ctx.spec.path, text, item, replacement)
            what = f"replace `{item.value}` with `{replacement}`"
        if edit is None:
            return None
        taken.add(replacement)
        return Fix("unsafe", (edit,), what)


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
    descend into a matched container.

    Fix: name the layers inside the container instead.
    """
    bad = (_py('config = LoraConfig(target_modules=["q_proj", "mlp"])'),)
    good = (_py('config = LoraConfig(target_modules=["q_proj", "gate_proj", "up_proj", "down_proj"])'),)

    def check(self, ctx: Context) -> Iterator[Diagnostic]:
        t = ctx.targeting
        kinds = supported_kinds(ctx.spec.method)
        if t is None or kinds is None:
            return
        bad = t.unsupported(ctx.inventory, kinds)
        if not bad:
            return
        method = ctx.spec.config_class.replace("Config", "") or ctx.spec.method
        supported = describe_supported(ctx.spec.method)
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
            size = f"{m.in_features}x{m.out_features}" if m.in_features else ""
            yield self.diagnostic(
                ctx, span,
                f"`{name}` ({what}{', ' + size if size else ''}) gets an adapter; PEFT then saves the whole embedding "
                f"matrix into the adapter file.{tied} Remove it unless you are training new tokens "
                "(then consider trainable_token_indices)",
                subject=subject or name)
            return  # one finding per config is enough


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
        if t is None or t.mode != "default":
            return
        if v is not None and not (not v.dynamic and v.value is None):
            return
        if not t.no_default:
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


