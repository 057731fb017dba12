"""A finding's severity agrees with its message: a finding that says PEFT (or the script) raises is an
error. Scanned over every rule example and the repros of the rules that ask peft. (A finding about
something PEFT does silently keeps its rule's severity: an entry that matches nothing is still a
mistake in the config.)"""

from __future__ import annotations

import re

import pytest
from support.lintutil import lint_example

from peftlint.rules import all_rules
from peftlint.rules.base import Example

EXTRA = [
    Example("from peft import LoraConfig, AdaLoraConfig, OFTConfig\n\n"
            "a = LoraConfig(layers_pattern='model.layers', target_modules=['q_proj'])\n"
            "b = AdaLoraConfig(use_dora=True, total_step=1)\n"
            "c = LoraConfig(target_modules=['q'], loftq_config={'loftq_bits': 4})\n"
            "d = LoraConfig(target_modules=['q'], r=0, bias='lora', init_lora_weights='gausian')\n"
            "e = OFTConfig(target_modules=['q'], alpha_pattern={'q': 2})\n"),
]
CASES = [(f"{r.code}-{w}{i}", ex) for r in all_rules() for w in ("bad", "good")
         for i, ex in enumerate(getattr(r, w))] + [(f"extra{i}", ex) for i, ex in enumerate(EXTRA)]
RAISES = re.compile(r"\braises\b")


@pytest.mark.parametrize("ex", [ex for _, ex in CASES], ids=[c for c, _ in CASES])
def test_severity_matches_message(tmp_path, ex):
    for d in lint_example(tmp_path, ex):
        says_raises = RAISES.search(d["message"]) is not None
        if says_raises:
            assert d["severity"] == "error", (d["code"], d["message"])
