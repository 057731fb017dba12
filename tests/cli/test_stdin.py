"""``peftlint check --stdin-filename PATH -`` through the real command line: the text on stdin is
linted as PATH (PATH's pyproject settings, model and per-file ignores), nothing is written, and
with ``--fix`` the fixed text goes to stdout and the report of what is left to stderr."""

from __future__ import annotations

import json
import os
from pathlib import Path

from click.testing import CliRunner

from peftlint.cli import main

SOURCE = ('from peft import LoraConfig\n# peftlint: model=gpt2\n'
          'c = LoraConfig(target_modules=["c_attn", "q_proj", "c_attn"])\n')
FIXED = 'from peft import LoraConfig\n# peftlint: model=gpt2\nc = LoraConfig(target_modules=["c_attn", "q_proj"])\n'


def _run(args: list[str], cwd: Path, stdin: str | bytes) -> tuple[int, str, str]:
    old = os.getcwd()
    os.chdir(cwd)
    try:
        res = CliRunner().invoke(main, args, input=stdin, catch_exceptions=False)
    finally:
        os.chdir(old)
    return res.exit_code, res.stdout, res.stderr


def _tree(root: Path) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in root.rglob("*"))


def test_stdin_is_linted_as_the_named_file(tmp_path: Path) -> None:
    code, out, _ = _run(["check", "--format", "json", "--stdin-filename", "proj/train.py", "-"], tmp_path, SOURCE)
    found = json.loads(out)
    assert code == 1
    assert [(f["code"], f["path"], f["line"], f["column"], f["subject"]) for f in found] == [
        ("PFT101", "proj/train.py", 3, 42, "q_proj"), ("PFT204", "proj/train.py", 3, 52, "c_attn")]
    assert found[0]["model"] == "gpt2"
    assert _tree(tmp_path) == []  # nothing written, the named file need not exist


def test_no_path_with_stdin_filename_reads_stdin(tmp_path: Path) -> None:
    code, out, _ = _run(["check", "--stdin-filename", "train.py"], tmp_path, SOURCE)
    assert code == 1 and "train.py:3:42: PFT101" in out


def test_settings_of_the_named_file(tmp_path: Path) -> None:
    proj = tmp_path / "proj"
    proj.mkdir()
    (proj / "pyproject.toml").write_text('[tool.peftlint]\nselect = ["PFT2"]\n', encoding="utf-8")
    # run from the parent: the settings are those of proj/ (where the named file lives)
    code, out, _ = _run(["check", "--format", "json", "--stdin-filename", "proj/train.py", "-"], tmp_path, SOURCE)
    assert [f["code"] for f in json.loads(out)] == ["PFT204"]
    code, out, _ = _run(["check", "--format", "json", "--stdin-filename", "train.py", "-"], tmp_path, SOURCE)
    assert [f["code"] for f in json.loads(out)] == ["PFT101", "PFT204"]


def test_per_file_ignores_as_for_the_file_on_disk(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text('[tool.peftlint]\nper-file-ignores = { "scripts/*.py" = ["PFT101"] }\n',
                                             encoding="utf-8")
    code, out, _ = _run(["check", "--format", "json", "--stdin-filename", "scripts/train.py", "-"], tmp_path, SOURCE)
    from_stdin = json.loads(out)
    assert [f["code"] for f in from_stdin] == ["PFT204"]
    (tmp_path / "scripts").mkdir()
    (tmp_path / "scripts" / "train.py").write_text(SOURCE, encoding="utf-8")
    code, out, _ = _run(["check", "--format", "json", "--no-result-cache", "scripts/train.py"], tmp_path, "")
    assert json.loads(out) == from_stdin


def test_fix_prints_the_fixed_text_and_writes_nothing(tmp_path: Path) -> None:
    (tmp_path / "train.py").write_text("# on disk\n", encoding="utf-8")
    code, out, err = _run(["check", "--fix", "--stdin-filename", "train.py", "-"], tmp_path, SOURCE)
    assert out == FIXED
    assert "train.py:3:42: PFT101" in err and "PFT204" not in err and "Fixed 1 finding." in err
    assert code == 1  # PFT101 is left
    assert (tmp_path / "train.py").read_text(encoding="utf-8") == "# on disk\n"
    assert _tree(tmp_path) == ["train.py"]


def test_fix_with_nothing_to_fix_echoes_the_input(tmp_path: Path) -> None:
    clean = SOURCE.replace(', "q_proj", "c_attn"', "")
    code, out, _ = _run(["check", "--fix", "--stdin-filename", "train.py", "-"], tmp_path, clean)
    assert (code, out) == (0, clean)


def test_fix_passes_undecodable_input_through(tmp_path: Path) -> None:
    data = SOURCE.encode() + b"# \xff\n"
    old = os.getcwd()
    os.chdir(tmp_path)
    try:
        res = CliRunner().invoke(main, ["check", "--fix", "--stdin-filename", "train.py", "-"], input=data)
    finally:
        os.chdir(old)
    assert res.stdout_bytes == data
    assert "PFT902" in res.stderr and "not text in its declared encoding (utf-8)" in res.stderr and res.exit_code == 1


def test_diff_shows_the_fix(tmp_path: Path) -> None:
    code, out, _ = _run(["check", "--diff", "--stdin-filename", "train.py", "-"], tmp_path, SOURCE)
    assert code == 1
    assert out.startswith("--- a/train.py\n+++ b/train.py\n")
    assert '+c = LoraConfig(target_modules=["c_attn", "q_proj"])\n' in out


def test_adapter_config_on_stdin(tmp_path: Path) -> None:
    cfg = json.dumps({"peft_type": "LORA", "base_model_name_or_path": "gpt2", "r": 8,
                      "target_modules": ["c_attn", "q_proj"]})
    code, out, _ = _run(["check", "--format", "json", "--stdin-filename", "out/adapter_config.json", "-"],
                        tmp_path, cfg)
    assert [(f["code"], f["subject"], f["path"]) for f in json.loads(out)] == [
        ("PFT101", "q_proj", "out/adapter_config.json")]


def test_dash_needs_a_filename_and_must_be_alone(tmp_path: Path) -> None:
    for args in (["check", "-"], ["check", "--stdin-filename", "a.py", "-", "b.py"],
                 ["check", "--stdin-filename", "a.py", "b.py"]):
        code, _, err = _run(args, tmp_path, SOURCE)
        assert code == 2 and "--stdin-filename" in err, args


def test_show_configs_of_stdin(tmp_path: Path) -> None:
    code, out, _ = _run(["check", "--show-configs", "--stdin-filename", "train.py", "-"], tmp_path, SOURCE)
    assert code == 0 and "train.py:3" in out and "gpt2" in out, out
