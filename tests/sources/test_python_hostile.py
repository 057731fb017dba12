"""extract_python on hostile and generated input: never an exception, never an internal error."""

from __future__ import annotations

import subprocess
import sys
import warnings

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from peftlint.codes import Code
from peftlint.sources.python import extract_python

CLASSES = frozenset({"LoraConfig", "IA3Config"})
HEADER = "from peft import LoraConfig, get_peft_model\nfrom transformers import AutoModelForCausalLM\n"


def run(text: str):
    return extract_python(text, "x.py", "/x.py", CLASSES)


def test_int_literal_beyond_the_int_string_limit_is_cpythons_syntax_error() -> None:
    # CPython itself refuses to compile such a literal (sys.int_info.default_max_str_digits)
    result = run(HEADER + "cfg = LoraConfig(r=" + "1" * 5000 + ")\n")
    assert [p.code for p in result.problems] == ["PFT902"]
    assert "4300 digits" in result.problems[0].message and result.problems[0].span.line == 3


def test_int_literal_beyond_the_limit_with_the_limit_lifted_is_dynamic() -> None:
    old = sys.get_int_max_str_digits()
    sys.set_int_max_str_digits(0)
    try:
        result = run(HEADER + "cfg = LoraConfig(r=" + "1" * 5000 + ", lora_alpha=16)\n")
    finally:
        sys.set_int_max_str_digits(old)
    assert result.problems == []
    (spec,) = result.specs
    assert spec.fields["r"].dynamic and spec.fields["r"].reason == "the number is too large to evaluate statically"
    assert spec.fields["lora_alpha"].value == 16


def test_thousands_of_implicitly_concatenated_strings() -> None:
    parts = "\n".join(f'    "m{i}|"' for i in range(6000))
    result = run(HEADER + f"cfg = LoraConfig(target_modules=(\n{parts}\n    \"x\"))\n")
    assert result.problems == []
    value = result.specs[0].fields["target_modules"]
    assert value.is_str and value.value.startswith("m0|m1|") and value.value.endswith("m5999|x")


def test_a_string_too_long_to_evaluate_is_dynamic() -> None:
    result = run(HEADER + "A = 'x' * 10\nB = '" + "y" * 60_000 + "'\ncfg = LoraConfig(target_modules=B + B)\n")
    value = result.specs[0].fields["target_modules"]
    assert value.dynamic and value.reason == "the string is too long to evaluate statically"


def test_syntax_warnings_of_the_linted_file_are_not_shown(capfd: pytest.CaptureFixture[str]) -> None:
    text = HEADER + 'cfg = LoraConfig(target_modules="model\\.layers\\.\\d+\\.q_proj", layers_pattern="\\l")\n'
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = run(text)
    assert caught == []
    assert capfd.readouterr().err == ""
    assert result.specs[0].fields["target_modules"].value == "model\\.layers\\.\\d+\\.q_proj"


DEEP = {
    "parentheses": HEADER + "cfg = LoraConfig(r=" + "(" * 150 + "1" + ")" * 150 + ")\n",
    "lists": HEADER + "cfg = LoraConfig(target_modules=" + "[" * 150 + "]" * 150 + ")\n",
    "plus": HEADER + "cfg = LoraConfig(r=" + " + ".join(["a"] * 900) + ")\n",
    "or": HEADER + "cfg = LoraConfig(r=" + " or ".join(["a"] * 5000) + ")\n",
    "doubling strings": HEADER + "A0 = 'ab'\n" + "".join(f"A{i} = A{i - 1} + A{i - 1}\n" for i in range(1, 60))
    + "cfg = LoraConfig(target_modules=A59)\n",
    "doubling lists": HEADER + "A0 = ['q']\n" + "".join(f"A{i} = A{i - 1} + A{i - 1}\n" for i in range(1, 60))
    + "LoraConfig(target_modules=A59)\n",
    "recursion": HEADER + "def f(x):\n    return f(x)\nget_peft_model(f(f(1)), LoraConfig())\n",
}


@pytest.mark.parametrize("name", list(DEEP))
def test_deep_or_huge_expressions_are_analysed_or_left_dynamic(name: str) -> None:
    result = run(DEEP[name])
    assert result.problems == [] and len(result.specs) == 1


@pytest.mark.parametrize("text", [
    HEADER + "x = " + "-" * 100_000 + "1\nLoraConfig()\n",
    HEADER + "cfg = LoraConfig(r=" + " + ".join(["a"] * 20_000) + ")\n",
], ids=["unary", "binary"])
def test_nesting_too_deep_for_cpython_is_one_note(text: str) -> None:
    result = run(text)
    assert [p.code for p in result.problems] == [Code.SYNTAX_ERROR]  # as CPython refuses it, never an internal error


def test_the_lint_path_does_not_import_libcst() -> None:
    code = (
        "import sys\n"
        "from peftlint.sources.python import extract_python\n"
        "r = extract_python('from peft import LoraConfig\\nLoraConfig(r=8)\\n', 'a.py', '/a.py', {'LoraConfig'})\n"
        "assert r.specs and not r.problems\n"
        "print('libcst' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


# ----------------------------------------------------------------------------- generated code
# hypothesmith writes whole modules from Python's grammar; the strategies below write programs
# around config calls (constants, functions, classes, loops, parameters) so that the scope and
# value analysis runs on them.
FAST = settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
NAMES = st.sampled_from(["x", "y", "C0", "C1", "model", "self", "args", "os", "cfg", "LoraConfig", "f", "K"])
ATOMS = st.one_of(
    st.integers(-10**6, 10**6).map(repr), st.floats(allow_nan=False).map(repr), st.text(max_size=6).map(repr),
    NAMES, st.sampled_from(["None", "True", "...", "b'x'", "1j", "'q_proj'", "TaskType.CAUSAL_LM"]),
)


def _compound(children: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    many = st.lists(children, max_size=3)
    return st.one_of(
        many.map(lambda xs: "[" + ", ".join(xs) + "]"),
        many.map(lambda xs: "(" + ", ".join(xs) + ",)"),
        many.map(lambda xs: "{" + ", ".join(xs) + "}" if xs else "set()"),
        st.tuples(children, children).map(lambda t: f"{{{t[0]}: {t[1]}, **{{}}}}"),
        st.tuples(children, st.sampled_from(["+", "-", "*", "%", "|", "and", "or", "==", "is"]), children).map(
            lambda t: f"({t[0]} {t[1]} {t[2]})"),
        st.tuples(NAMES, many).map(lambda t: f"{t[0]}({', '.join(t[1])})"),
        st.tuples(NAMES, st.sampled_from(["from_pretrained", "get", "environ", "param"]), many).map(
            lambda t: f"{t[0]}.{t[1]}({', '.join(t[2])})"),
        st.tuples(children, children).map(lambda t: f"{t[0]}[{t[1]}]"),
        st.tuples(children, st.sampled_from(["", "!r", ":>5", "!s:^3"])).map(lambda t: f'f"{{{t[0]}{t[1]}}}_x"'),
        st.tuples(children, children, children).map(lambda t: f"({t[0]} if {t[1]} else {t[2]})"),
        children.map(lambda c: f"[*{c}]"),
        st.tuples(NAMES, children).map(lambda t: f"[{t[0]} for {t[0]} in {t[1]}]"),
        st.tuples(NAMES, children).map(lambda t: f"({t[0]} := {t[1]})"),
        children.map(lambda c: f"lambda q={c}: q"),
    )


EXPRS = st.recursive(ATOMS, _compound, max_leaves=12)
STATEMENTS = st.one_of(
    st.tuples(NAMES, EXPRS).map(lambda t: f"{t[0]} = {t[1]}"),
    st.tuples(NAMES, EXPRS).map(lambda t: f"{t[0]} += {t[1]}"),
    st.tuples(NAMES, NAMES, EXPRS).map(lambda t: f"{t[0]}, *{t[1]} = {t[2]}"),
    st.tuples(NAMES, EXPRS).map(lambda t: f"for {t[0]} in {t[1]}:\n    pass"),
    st.tuples(EXPRS, NAMES, EXPRS).map(lambda t: f"if {t[0]}:\n    {t[1]} = {t[2]}"),
    st.tuples(NAMES, EXPRS, EXPRS).map(lambda t: f"def {t[0]}(self, a={t[1]}, *r, **kw):\n    return {t[2]}"),
    st.tuples(NAMES, EXPRS).map(lambda t: f"class {t[0]}(nn.Module):\n    model_id = {t[1]}\n"
                                          f"    def setUp(self):\n        self.model = {t[1]}"),
    st.tuples(NAMES, EXPRS).map(lambda t: f"@pytest.mark.parametrize('{t[0]}', [{t[1]}])\n"
                                          f"def test_{t[0]}({t[0]}):\n    return {t[0]}"),
    st.tuples(NAMES, NAMES).map(lambda t: f"global {t[0]}" if t[0] != t[1] else f"import {t[0]} as {t[1]}"),
    EXPRS.map(lambda e: f"get_peft_model({e}, cfg)"),
)


def _check(text: str) -> None:
    result = run(text)
    # PFT908: generated f-strings nest their own quotes, valid from Python 3.12 on
    assert all(p.code in ("PFT902", "PFT908") for p in result.problems), result.problems


def _grammar() -> st.SearchStrategy[str]:
    """hypothesmith's strategy, made when first drawn: building it compiles Python's grammar (seconds),
    which a worker that never runs this test should not pay while collecting."""
    import hypothesmith

    return hypothesmith.from_grammar()


@FAST
@given(st.deferred(_grammar))
def test_generated_modules(source: str) -> None:
    _check(source)
    _check(HEADER + source + "\ncfg = LoraConfig(target_modules=x, r=y)\nget_peft_model(model, cfg)\n")


@FAST
@given(st.lists(STATEMENTS, max_size=8), st.lists(EXPRS, min_size=1, max_size=4), st.booleans())
def test_generated_programs_around_config_calls(statements: list[str], values: list[str], nested: bool) -> None:
    kwargs = ", ".join(f"k{i}={e}" for i, e in enumerate(values))
    body = "\n".join(statements) + f"\ncfg = LoraConfig({kwargs}, target_modules=[x, y, C0])\n"
    body += f"get_peft_model(AutoModelForCausalLM.from_pretrained({values[0]}), cfg)\n"
    if nested:  # the same program inside a test method
        body = "class TestG:\n" + "".join(f"    {line}\n" for line in body.splitlines())
    _check(HEADER + "import pytest\nfrom torch import nn\n" + body)


@pytest.mark.parametrize("declaration", ["global x", "nonlocal x"])
def test_declarations_at_module_level_are_harmless(declaration: str) -> None:
    result = run(HEADER + f"{declaration}\nx = ['q']\ncfg = LoraConfig(target_modules=x)\n")
    if result.problems:  # CPython rejects nonlocal at module level
        assert [p.code for p in result.problems] == ["PFT902"]
    else:
        assert result.specs[0].fields["target_modules"].value == ["q"]
