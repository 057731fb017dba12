"""PFT211 rejected-by-peft."""

from __future__ import annotations

from typing import Iterator

from peftlint.codes import Code
from peftlint.diagnostics import Diagnostic, Severity
from peftlint.rules._common import argument_span, py_example
from peftlint.rules.base import Expect, Rule
from peftlint.rules.context import Context


class RejectedByPeft(Rule):
    code = Code.REJECTED_BY_PEFT
    name = "rejected-by-peft"
    severity = Severity.ERROR
    summary = "The installed peft raises (or warns) when this config is created, with every argument a literal."
    docs = """
    When every argument of a config call is a literal (a string, number, bool, None, or a
    list/tuple/dict of those, also through constants), peftlint builds the config with the
    installed peft's own class, exactly as the script will, and reports what peft's checks say:

    - an exception is an **error**: the script stops at this line. Examples:
      `LoraConfig(layers_pattern="model.layers")` without `layers_to_transform`,
      `LoraConfig(init_lora_weights="loftq")` without `loftq_config`,
      `AdaLoraConfig(use_dora=True)`, `OFTConfig(r=8)` with the default `oft_block_size`.
    - a warning peft emits is a **warning** (for instance a `loftq_config` that is ignored
      because `init_lora_weights` is not `"loftq"`).

    peft checks some optional packages before the config itself (`init_lora_weights="loftq"`
    asks for scipy first). Where such a package is not installed, the check is run again with the
    package stood in for, so the verdict is the one peft gives where it is installed. When even
    that gives no answer from peft's own code, a **note** names the package: the config was not
    checked, and the file is linted again on the next run.

    The message is peft's own, on the argument it names. A saved `adapter_config.json` is checked
    the way `PeftConfig.from_pretrained` loads it (keys the class does not know are dropped; PFT209
    reports them). Configs with a computed argument, `**kwargs` from elsewhere, or built by another
    tool (unsloth, trainer YAML) are not built. The linted code is never run: only peft's config
    class, on the literal values. Verdicts are cached per config class, arguments and peft version;
    a run that meets new arguments imports peft once to ask.
    """
    bad = (py_example('config = LoraConfig(target_modules=["q_proj", "v_proj"], layers_pattern="layers")', model=None,
                      expect=(Expect(3, 58, "When `layers_pattern` is specified, `layers_to_transform` must also"),)),)
    good = (py_example('config = LoraConfig(target_modules=["q_proj", "v_proj"], layers_pattern="layers", '
                       'layers_to_transform=[0, 1])', model=None),)
    needs_model = False

    def check(self, ctx: Context) -> Iterator[Diagnostic]:
        verdict = ctx.peft_verdict
        if verdict is None:
            return
        cls = ctx.spec.config_class
        when = "loading this adapter_config.json" if ctx.spec.source == "adapter_config" else f"{cls}(...)"
        if not verdict.judged and verdict.missing:
            names = ", ".join(f"`{m}`" for m in verdict.missing)
            yield self.diagnostic(ctx, argument_span(ctx, None),
                                  f"not checked by peft: its check of {when} needs {names}, which is not installed "
                                  "here; install it to have this config checked", severity=Severity.INFO)
        for complaint in verdict.complaints:
            name = ctx.field_named_by(complaint.message)
            span = argument_span(ctx, name)
            if complaint.kind == "raises":
                yield self.diagnostic(ctx, span, f"peft {_version(ctx)} raises on {when}: {complaint.text()}",
                                      subject=name)
            else:
                if any(f".{attr}" in complaint.message for attr in ctx.spec.facts.changed_later):
                    continue  # the warning asks for ``config.<attr> = ...``, which the code does after the call
                yield self.diagnostic(ctx, span, f"peft {_version(ctx)} warns on {when}: {complaint.text()}",
                                      subject=name, severity=Severity.WARNING)


def _version(ctx: Context) -> str:
    return ctx.facts.version if ctx.facts is not None else ""
