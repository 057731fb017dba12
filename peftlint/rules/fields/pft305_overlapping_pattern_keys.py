"""PFT305 overlapping-pattern-keys."""

from __future__ import annotations

from typing import Iterator

from peftlint.codes import Code
from peftlint.diagnostics import Diagnostic, Severity
from peftlint.rules._common import py_example
from peftlint.rules.base import Expect, Rule
from peftlint.rules.context import Context
from peftlint.rules.fields._common import key_span, pattern_dicts, plural
from peftlint.semantics.matching import pattern_key
from peftlint.semantics.suggest import format_names


class OverlappingPatternKeys(Rule):
    code = Code.OVERLAPPING_PATTERN_KEYS
    name = "overlapping-pattern-keys"
    severity = Severity.WARNING
    summary = "Two pattern keys match the same module (first match wins; saving sorts keys)."
    docs = """
    For each module PEFT takes the **first** key of `rank_pattern`/`alpha_pattern` (in dict
    order) that matches — not the most specific one. `{"q_proj": 4, "layers.0.self_attn.q_proj":
    16}` gives layer 0 rank 4. Worse, `save_pretrained` writes the config with sorted keys, so
    the reloaded adapter can pick the other key: for `rank_pattern` that is a different shape,
    and `PeftModel.from_pretrained` fails with `size mismatch`.

    Fix: make the keys disjoint, e.g. with a regex that excludes the special case.
    """
    bad = (py_example('config = LoraConfig(target_modules=["q_proj", "v_proj"],\n'
                             '                    rank_pattern={"q_proj": 4, "layers.0.self_attn.q_proj": 16})',
                      expect=(Expect(5, 48, "keys `q_proj` and `layers.0.self_attn.q_proj` both match"),)),)
    good = (py_example('config = LoraConfig(target_modules=["q_proj", "v_proj"],\n'
                '                    rank_pattern={"q_proj": 4, "v_proj": 16})'),)

    def check(self, ctx: Context) -> Iterator[Diagnostic]:
        t = ctx.targeting
        if t is None:
            return
        targets = list(t.targeted) + list(t.parameters_targeted)
        for field_name, v, keys in pattern_dicts(ctx):
            pairs: dict[tuple[str, str], list[str]] = {}
            for n in targets:
                hits = [k for k in keys if pattern_key([k], n)]
                if len(hits) < 2:
                    continue
                for later in hits[1:]:
                    if v.value[hits[0]] != v.value[later]:
                        pairs.setdefault((hits[0], later), []).append(n)
            for (first, later), mods in pairs.items():
                after_save = pattern_key(sorted(keys), mods[0])
                if after_save != first:
                    reload = (f"save_pretrained sorts the keys, so the reloaded adapter uses `{after_save}`="
                              f"{v.value[after_save]!r} there"
                              + (" and loading fails with a size mismatch" if field_name == "rank_pattern" else ""))
                else:
                    reload = f"`{later}` never applies to {'it' if len(mods) == 1 else 'them'}"
                yield self.diagnostic(
                    ctx, key_span(v, later),
                    f"{field_name} keys `{first}` and `{later}` both match {plural(len(mods), 'module')}: PEFT uses "
                    f"`{first}`" + (", the reloaded adapter another" if after_save != first else "")
                    + "; make the keys disjoint",
                    subject=later,
                    detail=f"Both match {format_names(mods, 2)}. PEFT uses the first key in dict order (`{first}`="
                           f"{v.value[first]!r}), and {reload}.")
