"""PFT208 parameter-target-conflict."""

from __future__ import annotations

from typing import Iterator

from peftlint.codes import Code
from peftlint.diagnostics import Diagnostic, Severity
from peftlint.rules._common import py_example
from peftlint.rules.base import Expect, Rule
from peftlint.rules.context import Context
from peftlint.semantics.matching import param_owner
from peftlint.semantics.partial import is_partial


class ParameterTargetConflict(Rule):
    code = Code.PARAMETER_TARGET_CONFLICT
    name = "parameter-target-conflict"
    severity = Severity.ERROR
    summary = "`target_parameters` with dropout, `fan_in_fan_out`, DoRA, `lora_bias`, or given as a string."
    docs = """
    `target_parameters` wraps raw `nn.Parameter`s (MoE experts) in `lora.ParamWrapper`, which
    supports plain LoRA only: with `lora_dropout != 0`, `fan_in_fan_out=True`, `use_dora=True`,
    `lora_bias=True`, `velora_config` or `kasa_config`, `get_peft_model` raises
    `ValueError: lora.ParamWrapper does not work with ...` after the model is loaded. A string
    `target_parameters` is rejected at once (`must be a list of strings or None`).

    A parameter of a module that `target_modules` adapts as well cannot be wrapped: PEFT raises
    `Trying to wrap an nn.Parameter of layer ... which is not a valid target`.

    Fix: use `lora_dropout=0` and drop the other options for parameter targets, or train the
    experts with a separate adapter.

    `AdaLoraConfig` accepts `target_parameters` (it inherits the field from LoRA), but AdaLoRA
    cannot wrap parameters at all: `get_peft_model` crashes with
    `TypeError: AdaLoraModel._create_and_replace() got an unexpected keyword argument
    'parameter_name'`. Use `LoraConfig` for parameter targets.
    """
    bad = (py_example('config = LoraConfig(target_modules=["q_proj"], target_parameters=["mlp.experts.down_proj"],\n'
                             '                    lora_dropout=0.05)', model=None,
                      expect=(Expect(4, 34, "lora_dropout=0.05 with target_parameters: get_peft_model raises"),)),)
    good = (py_example('config = LoraConfig(target_modules=["q_proj"], target_parameters=["mlp.experts.down_proj"],\n'
                '                    lora_dropout=0.0)', model=None),)
    needs_model = False

    _CONFLICTS = (
        ("lora_dropout", lambda v: isinstance(v, (int, float)) and not isinstance(v, bool) and v != 0,
         "does not work with lora_dropout != 0", "lora_dropout=0"),
        ("fan_in_fan_out", lambda v: v is True, "does not work with fan_in_fan_out", "fan_in_fan_out=False"),
        ("use_dora", lambda v: v is True, "does not work with use_dora=True", "use_dora=False"),
        ("lora_bias", lambda v: v is True, "does not work with lora_bias=True", "lora_bias=False"),
        ("velora_config", lambda v: v is not None, "does not work when `velora_config` is set", "no velora_config"),
        ("kasa_config", lambda v: v is not None, "does not work when `kasa_config` is set", "no kasa_config"),
    )

    def check(self, ctx: Context) -> Iterator[Diagnostic]:
        tp = ctx.field("target_parameters")
        if tp is None and ctx.inventory is not None:
            yield from self._rewritten(ctx)
            return
        if tp is None or tp.dynamic or tp.value is None:
            return
        if tp.is_str:
            if "target_parameters" in ctx.peft_complaints:
                return  # PFT211 reports peft's own message
            yield self.diagnostic(
                ctx, tp.span,
                f"target_parameters is a string ({tp.value!r}); {ctx.spec.config_class} raises \"`target_parameters` "
                f"must be a list of strings or None\" — write [{tp.value!r}] (entries are names, not regexes)",
                subject="target_parameters")
            return
        if not tp.value:
            return
        if ctx.spec.method == "ADALORA":
            yield self.diagnostic(
                ctx, tp.span,
                f"{ctx.spec.config_class} accepts target_parameters but AdaLoRA cannot wrap parameters: get_peft_model "
                "crashes with \"TypeError: AdaLoraModel._create_and_replace() got an unexpected keyword argument "
                "'parameter_name'\". Remove target_parameters, or use LoraConfig to train these parameters",
                subject="target_parameters")
            return
        inventory = ctx.inventory
        t = ctx.targeting if inventory is not None else None
        if t is not None and inventory is not None:
            both = [k for k in t.parameters_targeted if param_owner(k) in t.targeted]
            if both:
                owner = param_owner(both[0])
                m = inventory.module(owner)
                yield self.diagnostic(
                    ctx, tp.span,
                    f"target_parameters reaches `{both[0]}`, a parameter of `{owner}`, which target_modules adapts too: "
                    f"get_peft_model raises ValueError (\"Trying to wrap an `nn.Parameter` of layer ... which is not a "
                    f"valid target\"); target either the module or its parameter",
                    subject=owner, detail=f"{m.cls if m else 'the module'} `{owner}` is already a LoRA layer when PEFT "
                                          "wraps the parameters.")
            flat = [(k, shape) for k in t.parameters_targeted
                    if (m := inventory.module(param_owner(k))) is not None
                    and (shape := m.params.get(k.rpartition(".")[2])) and len(shape) not in (2, 3)]
            if flat:
                k, shape = flat[0]
                yield self.diagnostic(
                    ctx, tp.span,
                    f"target_parameters reaches `{k}`, a {len(shape)}-D parameter ({len(flat)} such in all): get_peft_model "
                    f"raises ValueError (\"lora.ParamWrapper was initialized with {len(shape)} dimensional Parameter, but "
                    "only 2d and 3d are supported\"); name the 2-D/3-D parameters only",
                    subject=k)
            if not t.parameters_targeted and ctx.complete and not is_partial(ctx.inventory):
                return  # no parameter is wrapped, so none of the ParamWrapper limits below is reached
        yield from self._conflicts(ctx, "")

    def _rewritten(self, ctx: Context) -> Iterator[Diagnostic]:
        """The transformers-5 MoE rewrite moved targets into target_parameters (PFT109 describes it)."""
        t = ctx.targeting
        if t is None or not t.parameters_targeted:
            return
        if ctx.view.parameter_sources and (t.moe is None or not t.moe.moved):
            yield from self._conflicts(ctx, " (unsloth adds them for the MoE experts)")
            return
        if t.moe is None or t.moe.error:
            return
        yield from self._conflicts(ctx, " (PEFT's MoE rewrite put them there)", skip=("lora_dropout",))

    def _conflicts(self, ctx: Context, why: str, skip: tuple[str, ...] = ()) -> Iterator[Diagnostic]:
        for name, bad, text, fix in self._CONFLICTS:
            if name in skip:
                continue  # PFT109 reports it with the rewrite
            v = ctx.field(name)
            if v is None or v.dynamic or not bad(v.value):
                continue
            yield self.diagnostic(
                ctx, v.span,
                f"{name}={v.value!r} with target_parameters{why}: get_peft_model raises \"lora.ParamWrapper {text}\" when it "
                f"wraps the parameters; use {fix}",
                subject=name)
