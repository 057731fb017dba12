"""User regexes are matched with re's own answers, under a time budget per pattern (PFT212)."""

from __future__ import annotations

import re
import threading
import time

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from support.lintutil import lint

from peftlint.semantics import regex_budget as budgeted
from peftlint.semantics.matching import modules_to_save_excludes, modules_to_save_pattern

NAMES = ["model.layers.0.self_attn.q_proj", "model.embed_tokens", "lm_head", "model.layers.11.mlp.down_proj",
         "model.norm", "encoder.block.3.layer.0.SelfAttention.q", "transformer.h.0.attn.c_attn", "a.b", ""]
EVIL = "(.*)*z"  # exponential backtracking on every name above that has no "z"


@pytest.fixture(autouse=True)
def _fresh_budget():
    budgeted.configure(0.3)
    yield
    budgeted.configure(budgeted.DEFAULT_BUDGET)


def test_catastrophic_pattern_is_stopped_and_stays_stopped() -> None:
    start = time.perf_counter()
    with pytest.raises(budgeted.RegexTooSlow) as err:
        budgeted.fullmatch(EVIL, NAMES[0])
    assert err.value.pattern == EVIL and time.perf_counter() - start < 5
    start = time.perf_counter()
    with pytest.raises(budgeted.RegexTooSlow):  # no second budget for the same pattern
        budgeted.fullmatch(EVIL, NAMES[3])
    assert time.perf_counter() - start < 0.1


def test_the_budget_is_summed_over_names() -> None:
    budgeted.configure(0.2)
    slow = r"(x+x+)+y"  # a few milliseconds per name (each name is new: no memo), but it adds up
    calls = 0
    with pytest.raises(budgeted.RegexTooSlow):
        for n in range(5000):
            calls += 1
            budgeted.search(slow, "x" * 15 + f"-{n}")
    assert calls < 5000


def test_invalid_patterns_are_re_errors() -> None:
    assert budgeted.compile_error("(") is not None
    assert budgeted.compile_error("(" * 5000 + ")" * 5000) is not None  # nesting deeper than re's parser
    with pytest.raises(re.error):
        budgeted.fullmatch("[", "a")


def test_other_threads_use_the_timeout_of_the_regex_module() -> None:
    out: list[object] = []

    def work() -> None:
        try:
            out.append(budgeted.fullmatch(r".*\.(q_proj|v_proj)", NAMES[0]) is not None)
            budgeted.fullmatch(r"(a|aa)*b", "a" * 200 + "c")  # no re-style shortcut here either
            out.append("finished")
        except budgeted.RegexTooSlow:
            out.append("stopped")

    t = threading.Thread(target=work)
    t.start()
    t.join(30)
    assert not t.is_alive() and out[0] is True and out[1] in ("finished", "stopped")


_ATOMS = st.sampled_from(["a", "b", ".", r"\.", r"\d", "_", "proj", "q", "layers", "0", "[ab]", "[^.]", "(?:a|b)"])
_QUANTIFIERS = st.sampled_from(["*", "+", "?", "{1,2}", "*?"])


@st.composite
def _pattern(draw: st.DrawFn, depth: int = 0, quantified: bool = False) -> str:
    """A regex over module-name characters. No quantifier is applied to a part that already holds
    one: ``(?:(?:.)*)*a`` backtracks exponentially, so plain ``re`` (the reference this test
    compares against) would run for minutes on a 30-character string. Patterns whose reference
    answer is unbounded are what the budget is for, and are tested above with a budget."""
    if depth >= 3:
        return draw(_ATOMS)
    kind = draw(st.sampled_from(["atom", "concat", "quantify", "alternate"]))
    if kind == "atom" or (kind == "quantify" and quantified):
        return draw(_ATOMS)
    if kind == "concat":
        return draw(_pattern(depth + 1, quantified)) + draw(_pattern(depth + 1, quantified))
    if kind == "quantify":
        return f"(?:{draw(_pattern(depth + 1, True))}){draw(_QUANTIFIERS)}"
    return f"({draw(_pattern(depth + 1, quantified))}|{draw(_pattern(depth + 1, quantified))})"


_PATTERNS = _pattern()
_STRINGS = st.one_of(st.sampled_from(NAMES), st.text(alphabet="ab._q0123456789jorpslyet", max_size=30))


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_PATTERNS, _STRINGS)
def test_same_answers_as_re(pattern: str, string: str) -> None:
    """Differential: the budgeted matcher says what ``re`` says, in the main thread and in a
    worker thread (where the ``regex`` module does the matching)."""
    budgeted.configure(5.0)
    for op in ("fullmatch", "match", "search"):
        want = getattr(re, op)(pattern, string)
        got = getattr(budgeted, op)(pattern, string)
        assert (got is None) == (want is None), (op, pattern, string)
        if want is not None:
            assert got.span() == want.span()
    results: list[object] = []
    t = threading.Thread(target=lambda: results.append(budgeted.fullmatch(pattern, string)))
    t.start()
    t.join()
    assert (results[0] is None) == (re.fullmatch(pattern, string) is None), (pattern, string)


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet="abc_019.", min_size=1, max_size=8), st.sampled_from(NAMES + ["abc", "x.abc", "abc.x"]))
def test_plain_modules_to_save_entries_match_as_peft_does(entry: str, key: str) -> None:
    want = re.match(modules_to_save_pattern(entry), key) is not None
    assert modules_to_save_excludes(entry, key) is want


@pytest.mark.parametrize("body, subject", [
    ('config = LoraConfig(target_modules="(.*)*z")', "(.*)*z"),
    ('config = LoraConfig(target_modules=["q_proj"], rank_pattern={"(.*)*z": 4, "q_proj": 8})', "(.*)*z"),
    ('config = LoraConfig(target_modules=["q_proj"], modules_to_save=["(.*)*z"])', "(.*)*z"),
    ('config = LoraConfig(target_modules=r".*\\.q_proj", exclude_modules="(.*)*z")', "(.*)*z"),
])
def test_pft211_reports_the_pattern_instead_of_hanging(tmp_path, body: str, subject: str) -> None:
    (tmp_path / "pyproject.toml").write_text("[tool.peftlint]\nregex-timeout = 0.3\n")
    (tmp_path / "train.py").write_text(
        f"from peft import LoraConfig\n\n# peftlint: model=HuggingFaceTB/SmolLM2-135M\n{body}\n")
    found = lint(tmp_path, ".")
    slow = [d for d in found if d["code"] == "PFT212"]
    assert len(slow) == 1 and slow[0]["subject"] == subject
    assert "get_peft_model would hang" in slow[0]["message"] and "regex-timeout" in slow[0]["detail"]
    assert not {"PFT999", "PFT102", "PFT304"} & {d["code"] for d in found}
