"""Every rule's documented bad example triggers it and its good example does not (Fixit style)."""

import pytest
from support.lintutil import lint_example

from peftlint.rules import all_rules

CASES = [(r, "bad", i) for r in all_rules() for i in range(len(r.bad))] + [
    (r, "good", i) for r in all_rules() for i in range(len(r.good))
]


@pytest.mark.parametrize("rule,which,i", CASES, ids=[f"{r.code}-{w}{i}" for r, w, i in CASES])
def test_example(rule, which, i, tmp_path):
    ex = getattr(rule, which)[i]
    found = {d["code"] for d in lint_example(tmp_path, ex)}
    if which == "bad":
        assert rule.code in found, f"{rule.code} did not fire on its bad example; got {sorted(found)}"
    else:
        assert rule.code not in found, f"{rule.code} fired on its good example"


def test_codes_are_unique_and_documented():
    codes = [r.code for r in all_rules()]
    assert len(codes) == len(set(codes))
    for r in all_rules():
        assert r.summary and r.name and r.severity
        if r.code != "PFT999":
            assert r.bad and r.good, f"{r.code} needs a bad and a good example"
