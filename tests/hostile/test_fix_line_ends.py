"""Property: ``--fix`` changes only the bytes of the fix, whatever line ends the file uses.

Files are drawn with every kind of line end (``\\n``, ``\\r\\n``, a lone ``\\r``) and with characters
that some tools count as line breaks and Python does not (form feeds, U+2028, ``\\x85``, ``\\x1c``) in
comments and strings. A lone ``\\r`` once made ``--fix`` edit the line after the config (the reader
counted it as a line break, the fix code did not). The expected file is built independently: the
original bytes with exactly the duplicate entry taken out.
"""

from __future__ import annotations

import json
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from support.lintutil import run_cli

SETTINGS = settings(max_examples=20, deadline=None, derandomize=True,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])

_ENDS = st.sampled_from(["\n", "\r\n", "\r"])
_ODD = st.sampled_from(["\f", "\u2028", "\u2029", "\x85", "\x1c", "\x0b", "é", " "])
_NOISE = st.one_of(
    st.lists(_ODD, max_size=3).map(lambda cs: "# note" + "".join(cs) + "end"),
    st.lists(_ODD, max_size=3).map(lambda cs: "s = " + json.dumps("a" + "".join(cs) + "b", ensure_ascii=False)),
    st.just("\f"),
    st.just(""),
    st.just("x = [True, False]"),
    st.just("y = 'q_proj', 'q_proj'"),
)


def _fix(tmp: Path, name: str, data: bytes) -> bytes:
    (tmp / name).write_bytes(data)
    code, out = run_cli(["check", "--fix", "--format", "json", "--select", "PFT204", "."], tmp)
    assert code in (0, 1), out
    return (tmp / name).read_bytes()


@SETTINGS
@given(st.lists(st.tuples(_NOISE, _ENDS), max_size=6), st.integers(0, 6), _ENDS, st.lists(_ENDS, min_size=3, max_size=3),
       st.booleans(), st.booleans())
def test_python_fix_changes_only_the_duplicate(tmp_path_factory, noise, at: int, end: str, inner: list[str],
                                               multiline: bool, final_end: bool) -> None:
    tmp = tmp_path_factory.mktemp("fixends")
    if multiline:
        a, b, c = inner
        bad = f'config = LoraConfig(target_modules=[{a}    "q_proj",{b}    "q_proj",{c}])'
        good = f'config = LoraConfig(target_modules=[{a}    "q_proj",{b}])'
    else:
        bad = good = 'config = LoraConfig(target_modules=["q_proj", "q_proj"])'
        good = good.replace('"q_proj", "q_proj"', '"q_proj"')
    lines = [(t, e) for t, e in noise]
    at = min(at, len(lines))
    before = "from peft import LoraConfig" + end + "".join(t + e for t, e in lines[:at])
    after = "".join(t + e for t, e in lines[at:])
    old = (before + bad + (end if after or final_end else "") + after).encode()
    want = (before + good + (end if after or final_end else "") + after).encode()
    assert _fix(tmp, "train.py", old) == want


@SETTINGS
@given(st.lists(_ENDS, min_size=6, max_size=6), st.sampled_from(["", "\ufeff"]), st.booleans())
def test_json_fix_changes_only_the_duplicate(tmp_path_factory, ends: list[str], bom: str, inline: bool) -> None:
    tmp = tmp_path_factory.mktemp("fixjson")
    e = ends
    head = f'{bom}{{{e[0]}  "peft_type": "LORA",{e[1]}  "note": "a\u2028b\\f",{e[2]}  "target_modules": ['
    if inline:
        old, want = head + '"q_proj", "q_proj"]' + e[3] + "}" + e[4], head + '"q_proj"]' + e[3] + "}" + e[4]
    else:
        old = head + f'{e[3]}    "q_proj",{e[4]}    "q_proj"{e[5]}  ]' + e[0] + "}"
        want = head + f'{e[3]}    "q_proj"{e[4]}  ]' + e[0] + "}"
    assert _fix(tmp, "adapter_config.json", old.encode()) == want.encode()
