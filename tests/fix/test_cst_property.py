"""Property: a call fix changes only the call, only the arguments it names, and gives the values
``apply_ops`` (the values peft is asked about) says it gives."""

from __future__ import annotations

import ast
import re

from hypothesis import given, settings
from hypothesis import strategies as st

from peftlint.diagnostics import Edit
from peftlint.fix.cst import rewrite_call
from peftlint.fix.edits import apply_edits
from peftlint.fix.ops import Op, OpKind, apply_ops
from peftlint.textpos import LineIndex

NAMES = st.sampled_from(["q_proj", "k_proj", "v_proj", "o_proj", "mlp", "lm_head", "gate_proj"])
GAP = st.sampled_from(["", " ", "  ", "\n    ", "  # note\n    ", "\n\n        ", "\n    # a comment line\n    "])
OTHER = st.sampled_from(["r=8", "r = 16  # rank\n    ", "lora_dropout=0.05,  # keep\n    bias='none'",
                         "modules_to_save=[\n        'score',  # head\n    ]"])


@st.composite
def calls(draw):
    names = draw(st.lists(NAMES, min_size=1, max_size=6))
    quote = draw(st.sampled_from(['"', "'"]))
    parts = [draw(GAP)]
    for k, n in enumerate(names):
        parts.append(f"{quote}{n}{quote}")
        if k < len(names) - 1 or draw(st.booleans()):
            parts.append("," + draw(GAP))
        else:
            parts.append(draw(st.sampled_from(["", "\n"])))
    target = "[" + "".join(parts) + "]"
    other = draw(OTHER)
    if draw(st.booleans()):
        call = f"LoraConfig(\n    target_modules={target},\n    {other}\n)"
    else:
        call = f"LoraConfig(target_modules={target}, {other})"
    return names, other, call


@st.composite
def ops_for(draw, names):
    kind = draw(st.sampled_from(["remove", "replace", "append", "set", "task"]))
    i = draw(st.integers(0, len(names) - 1))
    if kind == "remove" and len(names) > 1:
        return [Op(OpKind.REPLACE_ITEM, "target_modules", index=i)]
    if kind == "replace":
        return [Op(OpKind.REPLACE_ITEM, "target_modules", index=i, values=tuple(draw(st.lists(NAMES, min_size=1, max_size=3))))]
    if kind == "append":
        return [Op(OpKind.APPEND_ITEMS, "target_modules", values=(draw(NAMES),))]
    if kind == "set":
        return [Op(OpKind.SET_ARG, "target_modules", value=draw(st.lists(NAMES, min_size=1, max_size=3)))]
    return [Op(OpKind.SET_ARG, "task_type", value="SEQ_CLS")]


@settings(max_examples=150, deadline=None)
@given(st.data())
def test_fix_touches_only_the_call_and_its_arguments(data) -> None:
    names, other, call = data.draw(calls())
    ops = data.draw(ops_for(names))
    before, after = "import peft  # before\n\nconfig = peft.", "\nprint(config)  # after\n"
    text = before + call + after
    start = len(before)
    span = LineIndex.of(text).span(start, start + len(call))
    new_call = rewrite_call(call, ops)
    assert new_call is not None
    fixed = apply_edits(text, [Edit("t.py", span, new_call)])
    assert fixed.startswith(before) and fixed.endswith(after)  # no byte outside the call changes
    # the other argument keeps its text, comments and layout (a comma may follow it when one is added)
    for piece in re.split("[,#]", other):
        assert piece.strip(" \n") in new_call
    tree = ast.parse(fixed)
    node = next(n for n in ast.walk(tree) if isinstance(n, ast.Call) and getattr(n.func, "attr", "") == "LoraConfig")
    got = {k.arg: ast.literal_eval(k.value) for k in node.keywords if k.arg in ("target_modules", "task_type")}
    assert got == apply_ops({"target_modules": list(names)}, ops)
