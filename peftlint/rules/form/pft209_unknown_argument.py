"""PFT209 unknown-argument."""

from __future__ import annotations

import difflib
from typing import Iterator

from peftlint.codes import Code
from peftlint.diagnostics import Diagnostic, Severity
from peftlint.rules._common import py_example
from peftlint.rules.base import Expect, Rule
from peftlint.rules.context import Context
from peftlint.semantics import unsloth


class UnknownArgument(Rule):
    code = Code.UNKNOWN_ARGUMENT
    name = "unknown-argument"
    severity = Severity.ERROR
    summary = "A keyword the config class does not accept (typo such as `target_module=`)."
    docs = """
    PEFT config classes are dataclasses: an unknown keyword raises `TypeError: __init__() got an
    unexpected keyword argument` when the script starts. In a saved `adapter_config.json`, PEFT
    warns about unknown keys and ignores them, so a misspelled field has no effect.

    A name is suggested only when it is a plausible typo of a field (one or two characters off);
    a field that other PEFT methods have (`alpha_pattern` on `OFTConfig`) is named as such.

    unsloth's `get_peft_model` takes keywords of its own besides `LoraConfig`'s (see
    `peftlint/semantics/unsloth.py` for the release modelled); a keyword neither knows is only a
    note there, since a newer unsloth may accept it.

    Fix: use the field name the installed peft defines.
    """
    bad = (py_example('config = LoraConfig(target_module=["q_proj", "v_proj"])', model=None,
                      expect=(Expect(3, 21, "LoraConfig has no argument `target_module`"),)),)
    good = (py_example('config = LoraConfig(target_modules=["q_proj", "v_proj"])', model=None),)
    needs_model = False

    def check(self, ctx: Context) -> Iterator[Diagnostic]:
        facts = ctx.facts
        info = ctx.config_info
        if info is None or facts is None:  # info comes from the facts
            return
        known = set(info.fields)
        is_json = ctx.spec.source != "python"
        if is_json:
            known |= {"peft_type", "auto_mapping", "peft_version", "base_model_name_or_path", "revision", "task_type",
                      "inference_mode"}
        call = ctx.spec.facts.call if ctx.spec.facts.tool == "unsloth" else ""
        if call:
            known |= unsloth.keywords(call)
        for name, v in ctx.spec.fields.items():
            if name in known:
                continue
            hint = _hint(name, info.name, known, facts.configs)
            span = ctx.spec.facts.key_spans.get(name, v.span)
            if call:
                yield self.diagnostic(
                    ctx, span,
                    f"`{name}` is neither a {info.name} field nor a keyword of unsloth's {call} (as of unsloth "
                    f"{unsloth.RELEASE}); if your unsloth does not accept it either, it is lost or fails{hint}",
                    subject=name, severity=Severity.INFO)
            elif ctx.spec.source == "adapter_config":
                yield self.diagnostic(ctx, span, f"`{name}` is not a field of {info.name} in peft {facts.version}: "
                                      f"PEFT warns and ignores it{hint}", subject=name, severity=Severity.WARNING)
            else:
                yield self.diagnostic(ctx, span, f"{info.name} has no argument `{name}`: the script fails with "
                                      f"TypeError: __init__() got an unexpected keyword argument '{name}'{hint}",
                                      subject=name)


def _hint(name: str, cls: str, known: set[str], configs: dict) -> str:
    """A did-you-mean only for a plausible typo; a real field of other PEFT configs is said to be one."""
    owners = sorted(c for c, info in configs.items() if c != cls and name in info.fields and info.peft_type)
    if owners:
        shown = ", ".join(owners[:3]) + (f" and {len(owners) - 3} more" if len(owners) > 3 else "")
        return f"; `{name}` is a field of {shown}, not of {cls}"
    close = difflib.get_close_matches(name, sorted(known), n=1, cutoff=0.8)
    if close and _typo(name, close[0]):
        return f"; did you mean `{close[0]}`?"
    return ""


def _typo(a: str, b: str) -> bool:
    """At most two single-character edits (insert, delete, replace, swap of neighbours) apart."""
    if abs(len(a) - len(b)) > 2:
        return False
    prev2: list[int] = []
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        cur = [i] + [0] * len(b)
        for j, cb in enumerate(b, 1):
            cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (ca != cb))
            if i > 1 and j > 1 and ca == b[j - 2] and a[i - 2] == cb:
                cur[j] = min(cur[j], prev2[j - 2] + 1)
        prev2, prev = prev, cur
    return prev[len(b)] <= 2
