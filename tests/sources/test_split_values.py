"""``"c_proj,c_attn,q_attn".split(",")`` read statically: Python's own ``str.split`` is the oracle for
the pieces, and each piece of a plainly written literal is found at its place in the source.

Before, such a list was "computed at runtime" and nothing in it was checked: the cookbook's
fine_tuning_code_llm_on_single_gpu notebooks (`LORA_TARGET_MODULES="c_proj,c_attn,q_attn,c_fc,c_proj"`)
target `q_attn`, which starcoderbase-1b does not have (PEFT ignores it; the notebook's own
`print_trainable_parameters()` shows the count without it), and repeat `c_proj`."""

from __future__ import annotations

import textwrap

from hypothesis import given
from hypothesis import strategies as st
from support.lintutil import lint

from peftlint.sources.python import extract_python

HEADER = "from peft import LoraConfig\n"
NAME = st.text(st.sampled_from("abcq_01."), min_size=0, max_size=6)
SEP = st.sampled_from([",", ";", ", ", "|", None])


def _targets(text: str):
    result = extract_python(text, "x.py", "/x.py", frozenset({"LoraConfig"}))
    (spec,) = result.specs
    return spec.fields["target_modules"]


@given(st.lists(NAME, max_size=6), SEP, st.sampled_from(['"', "'"]), st.integers(-1, 3), st.booleans())
def test_split_is_pythons(names, sep, quote, maxsplit, through_a_name):
    joined = (sep or " ").join(names)
    literal = f"{quote}{joined}{quote}"
    args = ", ".join(([] if sep is None else [repr(sep)]) + ([] if maxsplit == -1 else [f"maxsplit={maxsplit}"]))
    if through_a_name:
        text = HEADER + f"T = {literal}\nc = LoraConfig(target_modules=T.split({args}))\n"
        line, col = 2, 5
    else:
        text = HEADER + f"c = LoraConfig(target_modules={literal}.split({args}))\n"
        line, col = 2, len("c = LoraConfig(target_modules=") + 1
    v = _targets(text)
    assert not v.dynamic and v.value == joined.split(sep, maxsplit)
    lines = text.splitlines()
    for item in v.items or []:
        assert item.span.line == line
        if item.span.end_column > item.span.column or item.value == "":
            assert lines[line - 1][item.span.column - 1:item.span.end_column - 1] == item.value
        else:  # whitespace split: a piece that starts past the literal's start
            assert item.span.column >= col


def test_a_dynamic_or_odd_split_stays_dynamic():
    for call in ("X.split(',')", "'a,b'.split(SEP)", "'a,b'.split('')", "'a,b'.split(',', 1, 2)", "'a,b'.rsplit(',')"):
        v = _targets(HEADER + f"import os\nX = os.environ['T']\nSEP = os.sep\nc = LoraConfig(target_modules={call})\n")
        assert v.dynamic, call


def test_the_cookbook_notebook_pattern(tmp_path):
    (tmp_path / "train.py").write_text(textwrap.dedent("""\
        from peft import LoraConfig, get_peft_model
        from transformers import AutoModelForCausalLM

        LORA_TARGET_MODULES="c_proj,c_attn,q_attn,c_fc,c_proj"    # lora_target_modules
        model = AutoModelForCausalLM.from_pretrained("gpt2")
        config = LoraConfig(target_modules=LORA_TARGET_MODULES.split(","))
        model = get_peft_model(model, config)
        """))
    found = [(d["code"], d["line"], d["column"], d["subject"], d["fix"]) for d in lint(tmp_path, "train.py")
             if d["severity"] != "info"]
    line = 'LORA_TARGET_MODULES="c_proj,c_attn,q_attn,c_fc,c_proj"'
    assert found == [("PFT101", 4, line.index("q_attn") + 1, "q_attn", None),
                     ("PFT204", 4, line.rindex("c_proj") + 1, "c_proj", None)]


def test_peft_ignores_the_missing_name_silently():
    import warnings

    from peft import LoraConfig, get_peft_model
    from support.oracle import fresh

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        pm = get_peft_model(fresh("gpt2", "GPT2LMHeadModel"),
                            LoraConfig(target_modules="c_proj,c_attn,q_attn,c_fc,c_proj".split(",")))
    assert {n.rsplit(".", 1)[-1] for n in pm.base_model.targeted_module_names} == {"c_proj", "c_attn", "c_fc"}
    assert not [w for w in caught if "q_attn" in str(w.message)]
