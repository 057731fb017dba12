"""semantics/peft_check.py: peft's verdicts on literal arguments, cached so that warm runs import no peft."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from support.helpers_hf import REPO_ROOT

from peftlint.diagnostics import Span
from peftlint.semantics import peft_check
from peftlint.semantics.peft_check import CHECK_PREFIX, NotLiteral, Verdict, construct, literal, literal_args, probe
from peftlint.spec import Value

S = Span(1, 1, 1, 2)


def test_literals_keep_tuples_and_sets():
    items = [Value(1, S, kind="int"), Value(2, S, kind="int")]
    assert literal(Value([1, 2], S, kind="tuple", items=items)) == (1, 2)
    assert literal(Value([1, 2], S, kind="set", items=items)) == {1, 2}
    assert literal_args({"a": Value("x", S, kind="str"), "b": Value(None, S, dynamic=True)}) is None
    try:
        literal(Value(float("nan"), S, kind="float"))
    except NotLiteral:
        pass
    else:
        raise AssertionError("NaN has no JSON form")


def test_verdicts_are_cached(tmp_path, monkeypatch):
    calls: list[str] = []
    real = peft_check._run_construct
    monkeypatch.setattr(peft_check, "_run_construct", lambda *a: calls.append(a[0]) or real(*a))
    args = {"layers_pattern": "layers", "target_modules": ["q"]}
    first = construct("LoraConfig", args, tmp_path)
    second = construct("LoraConfig", args, tmp_path)
    assert calls == ["LoraConfig"] and first == second and first.raised.error == "ValueError"
    construct("LoraConfig", {**args, "layers_to_transform": (0,)}, tmp_path)  # a tuple is another key than a list
    construct("LoraConfig", {**args, "layers_to_transform": [0]}, tmp_path)
    assert len(calls) == 3
    assert all(p.name.startswith(CHECK_PREFIX) for p in tmp_path.iterdir()) and len(list(tmp_path.iterdir())) == 3


def test_unjudged_verdicts_are_not_cached(tmp_path, monkeypatch):
    monkeypatch.setattr(peft_check, "_run_construct", lambda *a: Verdict(judged=False))
    assert not construct("LoraConfig", {"r": 4}, tmp_path).judged
    assert list(tmp_path.iterdir()) == []


def test_probe_needs_the_value_alone_to_fail(tmp_path):
    assert probe("LoraConfig", "r", 0, {}, tmp_path).raised.message.startswith("`r` should be a positive integer")
    assert probe("OFTConfig", "r", 0, {"oft_block_size": 8}, tmp_path).raised is None
    # the toy model does not fit these arguments (oft_block_size 48 does not divide 64): no answer
    assert probe("OFTConfig", "r", 0, {"oft_block_size": 48}, tmp_path).complaints == []


def test_warm_check_imports_no_peft(tmp_path: Path) -> None:
    script = (
        "import json, sys\n"
        "from pathlib import Path\n"
        "from peftlint.semantics.peft_check import construct\n"
        "v = construct('LoraConfig', {'init_lora_weights': 'loftq'}, Path(sys.argv[1]))\n"
        "heavy = sorted(m for m in sys.modules if m.split('.')[0] in ('torch', 'transformers', 'peft'))\n"
        "print(json.dumps({'raised': v.raised.message, 'heavy': heavy}))\n"
    )
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}

    def run() -> dict:
        out = subprocess.run([sys.executable, "-c", script, str(tmp_path)], env=env, capture_output=True, text=True,
                             check=True)
        return json.loads(out.stdout.strip().splitlines()[-1])

    cold = construct("LoraConfig", {"init_lora_weights": "loftq"}, tmp_path)  # asks peft, in this process
    warm = run()
    assert cold.raised is not None
    assert warm["heavy"] == [] and warm["raised"] == cold.raised.message
