"""PFT9xx: what peftlint itself could not do (most are emitted by the engine)."""

from __future__ import annotations

from typing import Iterator

from peftlint.rules.context import Context
from peftlint.diagnostics import Diagnostic, Severity
from peftlint.rules.base import Example, Rule


class _EngineRule(Rule):
    """Documentation of a code the engine emits itself."""

    needs_model = False

    def check(self, ctx: Context) -> Iterator[Diagnostic]:
        return iter(())


class UnresolvedModel(_EngineRule):
    code = "PFT901"
    name = "unresolved-model"
    severity = Severity.INFO
    summary = "The base model could not be resolved; model-aware rules were skipped (error with `--strict`)."
    docs = """
    peftlint looks for the base model in this order: a `# peftlint: model=ID` comment on or above
    the config, `--model`, what the code says (`from_pretrained(...)` reaching
    `get_peft_model`, a trainer's `model=`, argparse/dataclass defaults), `[tool.peftlint] model`;
    then resolves it offline: local directory, the Hugging Face cache, the configs bundled with
    peftlint, and with `--online` a download of `config.json` alone.

    Fix: add a hint comment, pass `--model`, or `--online`.
    """
    bad = (Example("from peft import LoraConfig\n\nconfig = LoraConfig(target_modules=['q_proj'])\n"),)
    good = (Example("from peft import LoraConfig\n\n# peftlint: model=gpt2\nconfig = LoraConfig(target_modules=['c_attn'])\n"),)


class SyntaxProblem(_EngineRule):
    code = "PFT902"
    name = "syntax-error"
    severity = Severity.ERROR
    summary = "A file cannot be parsed (or read); the other files are still linted."
    bad = (Example("from peft import LoraConfig\nconfig = LoraConfig(target_modules=['q_proj'\n"),)
    good = (Example("from peft import LoraConfig\nconfig = LoraConfig(target_modules=['q_proj'])\n"),)


class RemoteCodeRequired(_EngineRule):
    code = "PFT903"
    name = "remote-code-required"
    severity = Severity.INFO
    summary = "The model needs `trust_remote_code`; not executed unless `--trust-remote-code`."
    docs = """
    A config whose `model_type` the installed transformers does not know (its `auto_map` points
    at Python files shipped with the model) can only be built by running that code. peftlint
    never does that unless you pass `--trust-remote-code`; the model-aware rules are skipped for
    that config.
    """
    bad = (Example(
        "from peft import LoraConfig\n\n# peftlint: model=./acme-7b\nconfig = LoraConfig(target_modules=['q_proj'])\n",
        files=(("acme-7b/config.json",
                '{"model_type": "acme", "auto_map": {"AutoModelForCausalLM": "modeling_acme.AcmeForCausalLM"}}'),)),)
    good = (Example("from peft import LoraConfig\n\n# peftlint: model=gpt2\nconfig = LoraConfig(target_modules=['c_attn'])\n"),)


class DynamicValue(Rule):
    code = "PFT904"
    name = "dynamic-value"
    severity = Severity.INFO
    summary = "A field's value is computed at runtime and cannot be checked."
    docs = """
    peftlint reads literals and constants (module or function level, concatenations, argparse
    and dataclass defaults). A value computed by a call (`find_all_linear_names(model)`) or read
    from elsewhere is not guessed; it is reported once so you know what was not checked.

    Fix: nothing is wrong; use a literal or a constant if you want it checked.
    """
    bad = (Example("from peft import LoraConfig\n\ndef build(names):\n    return LoraConfig(target_modules=names())\n"),)
    good = (Example("from peft import LoraConfig\n\nTARGETS = ['q_proj', 'v_proj']\nconfig = LoraConfig(target_modules=TARGETS)\n"),)
    needs_model = False

    def check(self, ctx: Context) -> Iterator[Diagnostic]:
        for name, v in ctx.spec.fields.items():
            dyn = [v] if v.dynamic else [i for i in (v.items or []) if i.dynamic]
            for d in dyn:
                why = f": {d.reason}" if d.reason else ""
                yield self.diagnostic(ctx, d.span, f"`{name}` is computed at runtime{why}; it was not checked",
                                      subject=name)


class UnusedSuppression(_EngineRule):
    code = "PFT905"
    name = "unused-suppression"
    severity = Severity.WARNING
    summary = "A `# noqa: PFTxxx` that suppresses nothing."
    bad = (Example("from peft import LoraConfig\n\n# peftlint: model=gpt2\nconfig = LoraConfig(target_modules=['c_attn'])  # noqa: PFT101\n"),)
    good = (Example("from peft import LoraConfig\n\n# peftlint: model=gpt2\nconfig = LoraConfig(target_modules=['c_attn'])\n"),)


class InternalError(_EngineRule):
    code = "PFT999"
    name = "internal-error"
    severity = Severity.ERROR
    summary = "peftlint failed on one spec or file; reported, and the rest of the run continues."
