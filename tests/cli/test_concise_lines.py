"""Issue 23 item 7: a concise finding is one short line, the finding and its fix hint; the longer
explanation (what PEFT does, peft's own words) is in ``--output-format full`` and JSON's ``detail``.

Every rule's bad examples are linted through the command line. The bound: 200 characters for the
message after ``path:line:col: CODE``, so that with a typical path a finding stays within about two
terminal widths (the issue saw up to 477); names from the model and the file (a 63-character
weight key) are part of the finding and take most of what is left."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from support.lintutil import run_cli, write_example

from peftlint.rules import all_rules

BOUND = 200
LINE = re.compile(r"^(?P<path>[^:]+):(?:cell \d+:)?\d+:\d+: (?P<code>PFT\d{3})(?: \[\*\])? (?P<message>.*)$")
CASES = [(r.code, i, ex) for r in all_rules() for i, ex in enumerate(r.bad)]


def _findings(out: str) -> list[re.Match]:
    return [m for line in out.split("\n\n", 1)[0].splitlines() if (m := LINE.match(line))]


@pytest.mark.parametrize("code,i,ex", CASES, ids=[f"{c}-bad{i}" for c, i, _ in CASES])
def test_concise_lines_are_short_and_full_keeps_the_explanation(code, i, ex, tmp_path: Path) -> None:
    write_example(tmp_path, ex)
    _, concise = run_cli(["check", "--output-format", "concise", "--show-notes", *ex.args, "."], tmp_path)
    found = _findings(concise)
    assert code in {m["code"] for m in found}, concise
    long = [m.group(0) for m in found if len(m["message"]) > BOUND]
    assert long == [], f"{len(long)} concise lines longer than {BOUND} characters after the code"

    _, raw = run_cli(["check", "--output-format", "json", *ex.args, "."], tmp_path)
    _, full = run_cli(["check", "--output-format", "full", *ex.args, "."], tmp_path)
    flat = " ".join(full.split())
    for d in json.loads(raw):
        if d["detail"]:  # every explanation JSON carries is shown by `full`, and left out of concise
            assert " ".join(d["detail"].split()) in flat, d["detail"]
            assert d["detail"] not in concise


def test_the_peft_quote_is_in_the_explanation_not_the_line(tmp_path: Path) -> None:
    (tmp_path / "a.py").write_text("from peft import LoraConfig\n\n# peftlint: model=gpt2\n"
                                   "config = LoraConfig(target_modules=['c_atn'])\n")
    quote = 'NoMatchingPeftModuleError ("Target modules'
    _, concise = run_cli(["check", "a.py"], tmp_path)
    (line,) = _findings(concise)
    assert line["message"].startswith("`c_atn` matches no module of gpt2: PEFT raises NoMatchingPeftModuleError")
    assert "did you mean `c_attn`?" in line["message"] and quote not in concise
    _, full = run_cli(["check", "--output-format", "full", "a.py"], tmp_path)
    assert quote in " ".join(full.split())  # the explanation is wrapped under the finding
    _, raw = run_cli(["check", "--output-format", "json", "a.py"], tmp_path)
    (d,) = json.loads(raw)
    assert quote in d["detail"] and quote not in d["message"]
