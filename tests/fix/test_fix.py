"""--fix / --diff / --unsafe-fixes on real-looking files: format-preserving, atomic, idempotent."""

from __future__ import annotations

import json
import os
from pathlib import Path

from support.lintutil import lint, run_cli

from peftlint.diagnostics import Span
from peftlint.fix.edits import apply_edits, remove_item_edit
from peftlint.spec import Value

SCRIPT = '''\
"""Fine-tune SmolLM2 with LoRA."""
from peft import LoraConfig, get_peft_model
from transformers import AutoModelForCausalLM

model = AutoModelForCausalLM.from_pretrained("HuggingFaceTB/SmolLM2-135M")

inline = LoraConfig(r=8, target_modules=["q_proj", "k_proj", "q_proj"])  # keep me
trailing = LoraConfig(target_modules=["q_proj", "q_proj", "k_proj",])
commented = LoraConfig(
    r=16,
    target_modules=[
        "q_proj",  # first
        "v_proj",
        # the next one is repeated
        "q_proj",  # dup
    ],
    lora_dropout=0.05,
)
last = LoraConfig(target_modules=[
    "q_proj",
    "v_proj",
    "q_proj"
])
triple = LoraConfig(target_modules=["q_proj", "q_proj", "q_proj"])
single = LoraConfig(target_modules=['all-linear'])
multi = LoraConfig(target_modules=[  # everything
    "all-linear",
])
peft_model = get_peft_model(model, commented)
'''

FIXED = '''\
"""Fine-tune SmolLM2 with LoRA."""
from peft import LoraConfig, get_peft_model
from transformers import AutoModelForCausalLM

model = AutoModelForCausalLM.from_pretrained("HuggingFaceTB/SmolLM2-135M")

inline = LoraConfig(r=8, target_modules=["q_proj", "k_proj"])  # keep me
trailing = LoraConfig(target_modules=["q_proj", "k_proj",])
commented = LoraConfig(
    r=16,
    target_modules=[
        "q_proj",  # first
        "v_proj",
        # the next one is repeated
    ],
    lora_dropout=0.05,
)
last = LoraConfig(target_modules=[
    "q_proj",
    "v_proj"
])
triple = LoraConfig(target_modules=["q_proj"])
single = LoraConfig(target_modules='all-linear')
multi = LoraConfig(target_modules="all-linear")
peft_model = get_peft_model(model, commented)
'''


def _write(tmp: Path, name: str, text: str) -> Path:
    p = tmp / name
    p.write_bytes(text.encode("utf-8"))
    return p


def _codes(findings: list[dict]) -> list[str]:
    return sorted(f["code"] for f in findings)


def test_safe_fixes_keep_comments_and_layout(tmp_path: Path) -> None:
    p = _write(tmp_path, "train.py", SCRIPT)
    before = lint(tmp_path, ".")
    assert _codes(before).count("PFT204") == 6 and _codes(before).count("PFT202") == 2
    code, _ = run_cli(["check", "--fix", "."], tmp_path)
    assert p.read_text(encoding="utf-8") == FIXED
    compile(FIXED, "train.py", "exec")
    after = lint(tmp_path, ".")
    assert not {"PFT202", "PFT204"} & set(_codes(after))
    assert code == (1 if after else 0)


def test_second_fix_changes_nothing_and_untouched_files_stay(tmp_path: Path) -> None:
    p = _write(tmp_path, "train.py", SCRIPT)
    other = _write(tmp_path, "other.py", 'from peft import LoraConfig\n\n'
                   '# peftlint: model=HuggingFaceTB/SmolLM2-135M\ncfg = LoraConfig(target_modules=["qq_proj", "v_proj"])\n')
    other_stat = os.stat(other)
    run_cli(["check", "--fix", "."], tmp_path)
    first = os.stat(p)
    run_cli(["check", "--fix", "."], tmp_path)
    second = os.stat(p)
    assert (first.st_ino, first.st_mtime_ns) == (second.st_ino, second.st_mtime_ns)
    assert p.read_text(encoding="utf-8") == FIXED
    # other.py has only an unsafe fix: --fix does not touch it at all
    now = os.stat(other)
    assert (now.st_ino, now.st_mtime_ns) == (other_stat.st_ino, other_stat.st_mtime_ns)
    assert not list(tmp_path.glob(".*.peftlint"))  # no temporary files left behind


def test_diff_writes_nothing(tmp_path: Path) -> None:
    p = _write(tmp_path, "train.py", SCRIPT)
    code, out = run_cli(["check", "--diff", "."], tmp_path)
    assert code == 1
    assert out.startswith("--- a/train.py\n+++ b/train.py\n")
    assert '-single = LoraConfig(target_modules=[\'all-linear\'])\n' in out
    assert "+single = LoraConfig(target_modules='all-linear')\n" in out
    assert p.read_text(encoding="utf-8") == SCRIPT
    _write(tmp_path, "train.py", FIXED)
    code, out = run_cli(["check", "--diff", "."], tmp_path)
    assert (code, out) == (0, "")


UNSAFE = '''\
from peft import LoraConfig

# peftlint: model=HuggingFaceTB/SmolLM2-135M
config = LoraConfig(
    r=8,
    target_modules=["q", 'value'],  # from a T5/BERT recipe
)
'''


def test_unsafe_fixes_only_with_the_flag(tmp_path: Path) -> None:
    p = _write(tmp_path, "train.py", UNSAFE)
    code, out = run_cli(["check", "."], tmp_path)
    assert "2 hidden fixes can be enabled with --unsafe-fixes" in out
    assert "[*]" not in out
    run_cli(["check", "--fix", "."], tmp_path)
    assert p.read_text(encoding="utf-8") == UNSAFE
    code, out = run_cli(["check", "--diff", "--unsafe-fixes", "."], tmp_path)
    assert "+    target_modules=[\"q_proj\", 'v_proj'],  # from a T5/BERT recipe\n" in out
    assert p.read_text(encoding="utf-8") == UNSAFE
    code, _ = run_cli(["check", "--fix", "--unsafe-fixes", "."], tmp_path)
    assert code == 0
    assert p.read_text(encoding="utf-8") == UNSAFE.replace('["q", \'value\']', '["q_proj", \'v_proj\']')
    assert lint(tmp_path, ".") == []


def test_unsafe_fix_on_fused_model_does_not_duplicate(tmp_path: Path) -> None:
    src = ('from peft import LoraConfig\n\n# peftlint: model=tiiuae/falcon-7b\n'
           'config = LoraConfig(target_modules=["q_proj", "k_proj", "v_proj"])\n')
    p = _write(tmp_path, "train.py", src)
    run_cli(["check", "--fix", "--unsafe-fixes", "."], tmp_path)
    assert p.read_text(encoding="utf-8") == src.replace('["q_proj", "k_proj", "v_proj"]', '["query_key_value"]')
    before = os.stat(p)
    run_cli(["check", "--fix", "--unsafe-fixes", "."], tmp_path)
    assert os.stat(p).st_mtime_ns == before.st_mtime_ns
    assert lint(tmp_path, ".") == []


ADAPTER = '''\
{
  "base_model_name_or_path": "HuggingFaceTB/SmolLM2-135M",
  "peft_type": "LORA",
  "r": 8,
  "target_modules": [
    "q_proj",
    "v_proj",
    "q_proj"
  ],
  "modules_to_save": null,
  "task_type": "CAUSAL_LM"
}
'''


def test_json_fix_keeps_formatting(tmp_path: Path) -> None:
    p = _write(tmp_path, "adapter_config.json", ADAPTER)
    assert _codes(lint(tmp_path, ".")) == ["PFT204"]
    run_cli(["check", "--fix", "."], tmp_path)
    text = p.read_text(encoding="utf-8")
    assert text == ADAPTER.replace('    "v_proj",\n    "q_proj"\n', '    "v_proj"\n')
    assert json.loads(text)["target_modules"] == ["q_proj", "v_proj"]
    assert lint(tmp_path, ".") == []


def test_json_compact_unsafe_and_shorthand(tmp_path: Path) -> None:
    src = ('{"base_model_name_or_path": "tiiuae/falcon-7b", "peft_type": "LORA", '
           '"target_modules": ["q_proj", "v_proj"], "task_type": "CAUSAL_LM"}\n')
    p = _write(tmp_path, "adapter_config.json", src)
    run_cli(["check", "--fix", "."], tmp_path)
    assert p.read_text(encoding="utf-8") == src
    run_cli(["check", "--fix", "--unsafe-fixes", "."], tmp_path)
    assert p.read_text(encoding="utf-8") == src.replace('["q_proj", "v_proj"]', '["query_key_value"]')

    _write(tmp_path, "adapter_config.json", src.replace('["q_proj", "v_proj"]', '["all-linear"]'))
    run_cli(["check", "--fix", "."], tmp_path)
    assert json.loads(p.read_text(encoding="utf-8"))["target_modules"] == "all-linear"


def _items(text: str, names: list[str]) -> list[Value]:
    """Values with spans of each quoted name, in order of appearance."""
    out, pos = [], 0
    lines = text.split("\n")
    for name in names:
        needle = f'"{name}"'
        flat = text.index(needle, pos)
        pos = flat + len(needle)
        line = text.count("\n", 0, flat) + 1
        col = flat - (text.rfind("\n", 0, flat) + 1) + 1
        assert lines[line - 1][col - 1:col - 1 + len(needle)] == needle
        out.append(Value(name, Span(line, col, line, col + len(needle))))
    return out


def test_remove_item_edge_cases() -> None:
    cases = [
        ('["a", "b"]', 1, '["a"]'),
        ('["a", "b"]', 0, '["b"]'),
        ('["a",\n "b",\n]', 1, '["a",\n]'),
        ('[\n  "a",\n  "b"\n]', 1, '[\n  "a"\n]'),
        ('[\n  "a",\n  "b"\n]', 0, '[\n  "b"\n]'),
        ('[\n  "a",  # keep\n  "b"  # gone\n]', 1, '[\n  "a"  # keep\n]'),
    ]
    for text, index, expected in cases:
        items = _items(text, ["a", "b"])
        edits = remove_item_edit("x", text, items, index)
        assert edits is not None, text
        assert apply_edits(text, list(edits)) == expected, text
    assert remove_item_edit("x", '["a"]', _items('["a"]', ["a"]), 0) is None


def test_tuples_stay_tuples(tmp_path: Path) -> None:
    src = ('from peft import LoraConfig\n\n# peftlint: model=HuggingFaceTB/SmolLM2-135M\n'
           'a = LoraConfig(target_modules=("q_proj", "q_proj"))\n'
           '# peftlint: model=HuggingFaceTB/SmolLM2-135M\n'
           'b = LoraConfig(target_modules=("q_proj", "v_proj", "q_proj"))\n')
    p = _write(tmp_path, "train.py", src)
    run_cli(["check", "--fix", "."], tmp_path)
    # removing from a pair keeps a one-element tuple: ("q_proj",), never the string ("q_proj")
    assert p.read_text(encoding="utf-8") == src.replace('("q_proj", "v_proj", "q_proj")', '("q_proj", "v_proj")'
                                                        ).replace('("q_proj", "q_proj")', '("q_proj",)')


def test_a_fix_that_would_not_parse_is_not_applied(tmp_path: Path) -> None:
    from peftlint.config import Settings
    from peftlint.diagnostics import Diagnostic, Edit, Fix, Severity
    from peftlint.engine.run import Linter, RunResult
    from peftlint.fix.apply import apply_fixes

    p = _write(tmp_path, "train.py", "x = [1, 2]\n")
    bad = Diagnostic("PFT204", "duplicate-entry", Severity.WARNING, "m", "train.py", Span(1, 5, 1, 6),
                     fix=Fix("safe", (Edit("train.py", Span(1, 5, 1, 6), "("),)))
    outcome, _ = apply_fixes(Linter(Settings(), tmp_path), RunResult([bad]), [tmp_path], write=True, unsafe=False)
    assert outcome.rejected == ["train.py"] and outcome.files == []
    assert p.read_text(encoding="utf-8") == "x = [1, 2]\n"


def test_unsafe_fix_splits_a_fused_name_into_the_models_projections(tmp_path: Path) -> None:
    """`c_attn` (GPT-2's fused qkv) on Qwen2 becomes q_proj, k_proj, v_proj — in Python and in JSON."""
    py = _write(tmp_path, "train.py", 'from peft import LoraConfig\n\n# peftlint: model=Qwen/Qwen2-7B\n'
                'config = LoraConfig(target_modules=["c_attn", "o_proj", "k_proj"])\n')
    adapter = tmp_path / "adapter"
    adapter.mkdir()
    cfg = adapter / "adapter_config.json"
    cfg.write_text(json.dumps({"peft_type": "LORA", "base_model_name_or_path": "Qwen/Qwen2-7B",
                               "target_modules": ["c_attn"], "r": 8}, indent=2) + "\n")
    assert run_cli(["--fix", "."], tmp_path)[0] == 1  # unsafe: not applied without the flag
    assert '"c_attn"' in py.read_text()
    code, _ = run_cli(["--fix", "--unsafe-fixes", "."], tmp_path)
    assert code == 0
    assert 'target_modules=["q_proj", "v_proj", "o_proj", "k_proj"]' in py.read_text()
    assert json.loads(cfg.read_text())["target_modules"] == ["q_proj", "k_proj", "v_proj"]
    assert lint(tmp_path, ".") == []
