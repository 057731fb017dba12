"""PFT106 no-default-targets."""

from __future__ import annotations

from typing import Iterator

from peftlint.codes import Code
from peftlint.diagnostics import Diagnostic, Severity
from peftlint.rules._common import py_example
from peftlint.rules.base import Expect, Rule
from peftlint.rules.context import Context
from peftlint.rules.targets._common import backticked
from peftlint.semantics import roles
from peftlint.semantics.matching import moe_rewrite_applies
from peftlint.semantics.partial import is_partial
from peftlint.semantics.peft_errors import error_class, nothing_targeted
from peftlint.semantics.suggest import adaptable_suffixes


class NoDefaultTargets(Rule):
    code = Code.NO_DEFAULT_TARGETS
    name = "no-default-targets"
    severity = Severity.ERROR
    summary = "`target_modules` is omitted and PEFT has no default for this model type and method."
    docs = """
    Without `target_modules`, PEFT looks up a default in a per-method table keyed by the model's
    `model_type` (`llama` → `q_proj, v_proj`; `t5` → `q, v`). Many architectures are missing
    (phi3, qwen2_moe, gemma3 multimodal, gpt_oss, ...), and `get_peft_model` raises
    `ValueError: Please specify target_modules in peft_config`. On transformers-5 MoE models that
    PEFT rewrites (mixtral, qwen3_moe, deepseek_v3, ...) the default is lost even where the table
    has one. Diffusion models (a diffusers UNet or transformer) have no `model_type` at all: PEFT
    then fails with `KeyError: 'model_type'`.

    Fix: name the targets explicitly.
    """
    bad = (py_example("config = LoraConfig(r=8)", "microsoft/Phi-3-mini-4k-instruct",
                      expect=(Expect(4, 10, "no default target_modules for model_type `phi3`"),)),)
    good = (py_example('config = LoraConfig(r=8, target_modules=["qkv_proj", "o_proj"])', "microsoft/Phi-3-mini-4k-instruct"),)

    def check(self, ctx: Context) -> Iterator[Diagnostic]:
        assert ctx.inventory is not None  # needs_model: the engine runs this rule only with a model
        t = ctx.targeting
        v = ctx.field("target_modules")
        if t is None:
            return
        if ctx.inventory.library == "local" and not ctx.inventory.model_type:
            return  # a module read from code whose `config` (where PEFT looks the model type up) is not known
        yield from self._ia3_feedforward(ctx, t)
        if t.mode != "default":
            return
        if v is not None and not (not v.dynamic and v.value is None):
            return
        if not t.no_default:
            if not t.matched and not t.parameters_targeted and ctx.complete and not is_partial(ctx.inventory):
                raised = nothing_targeted(ctx.view, ctx.inventory, t)
                yield self.diagnostic(
                    ctx, v.span if v is not None else ctx.spec.span,
                    f"PEFT's default target_modules for {ctx.spec.config_class} match no module of {ctx.model_label}, "
                    f"so get_peft_model raises {error_class(raised)}; set target_modules explicitly",
                    subject="target_modules",
                    detail=f"PEFT's default target_modules for {ctx.spec.config_class} on {ctx.model_label} are "
                           f"{t.effective_targets!r}, which match no module, so get_peft_model raises {raised}.")
                return
            yield from self._stale_defaults(ctx, t)
            return
        lost = ctx.spec.method == "LORA" and moe_rewrite_applies(ctx.inventory) and \
            ctx.inventory.default_targets.get("LORA") is not None
        span = v.span if v is not None else ctx.spec.span
        by_role = roles.role_targets(ctx.inventory)
        attn = [n for r in (roles.Q, roles.K, roles.V, roles.O, roles.QKV) for n in by_role.get(r, [])]
        if not attn:
            attn = [s for s in adaptable_suffixes(ctx.inventory)
                    if any(k in s for k in ("q", "k", "v", "attn", "query", "key", "value"))]
        suggestion = attn[:4] or adaptable_suffixes(ctx.inventory)[:4]
        mt = ctx.inventory.model_type
        if not ctx.inventory.peft_model_type:
            short = f"the config of {ctx.model_label} has no model_type, so get_peft_model raises KeyError"
            why = (f"the config of {ctx.model_label} ({ctx.inventory.model_class}) has no model_type, which PEFT reads "
                   "to look up its default target_modules, so get_peft_model (and diffusers' add_adapter) raise "
                   "KeyError: 'model_type'")
        elif lost:
            short = f"PEFT's transformers-5 MoE rewrite leaves `{mt}` no default target_modules, so get_peft_model raises"
            why = (f"PEFT's transformers-5 MoE rewrite turns the missing target_modules of `{mt}` into an empty set "
                   "before the defaults apply, so get_peft_model raises \"No `target_modules` passed but also no "
                   "`target_parameters` found\"")
        else:
            text = ("Please specify `target_modules` or `target_parameters`" if ctx.spec.method in ("LORA", "ADALORA")
                    else "Please specify `target_modules` in `peft_config`")  # LoraModel (AdaLoRA too) words it its own way
            short = (f"PEFT has no default target_modules for model_type `{mt}` with {ctx.spec.config_class}, so "
                     "get_peft_model raises")
            why = (f"PEFT has no default target_modules for model_type `{mt}` with {ctx.spec.config_class}, so "
                   f"get_peft_model raises \"{text}\"")
        yield self.diagnostic(ctx, span, f"{short}; set target_modules explicitly, e.g. {suggestion!r}",
                              subject="target_modules", detail=f"{why}.")

    def _ia3_feedforward(self, ctx: Context, t) -> Iterator[Diagnostic]:
        """IA3 also needs ``feedforward_modules``; PEFT fills it from its own per-model_type table."""
        assert ctx.inventory is not None  # needs_model: the engine runs this rule only with a model
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
                f"feedforward_modules is not set and PEFT has no IA3 default for model_type `{mt}`, so "
                "get_peft_model raises; set it to the feed-forward layers among your target_modules (or [] for none)",
                subject="feedforward_modules",
                detail=f"PEFT has no IA3 feedforward default for model_type `{mt}`, so get_peft_model raises "
                       "\"Please specify `feedforward_modules` in `peft_config`\".")
            return

    def _stale_defaults(self, ctx: Context, t) -> Iterator[Diagnostic]:
        """A default table entry this model no longer has (IA3's mixtral `w2` in transformers 5)."""
        assert ctx.inventory is not None  # needs_model: the engine runs this rule only with a model
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
            ff = f" (and {backticked(default_ff)} is also IA3's default feedforward_modules, so no feed-forward layer is scaled)"
        yield self.diagnostic(
            ctx, v.span if v is not None else ctx.spec.span,
            f"PEFT's default target_modules for `{ctx.inventory.model_type}` name {backticked(dead)}, which matches no "
            f"module of {ctx.model_label}, so only {backticked(live)} is adapted, silently; set target_modules explicitly",
            subject="target_modules", severity=Severity.WARNING,
            detail=f"PEFT's default target_modules for `{ctx.inventory.model_type}` with {ctx.spec.config_class} are "
                   f"{targets!r}, but {backticked(dead)} matches no module of {ctx.model_label} (renamed in this "
                   f"transformers version), so only {backticked(live)} is adapted, silently{ff}.")
