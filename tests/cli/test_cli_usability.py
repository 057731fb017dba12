"""What a ruff user types by mistake is caught, never a silent pass (issue 23, items 1-3):
unknown rule codes, mistyped commands, configs that could not be checked."""

from __future__ import annotations

from pathlib import Path

import pytest
from support.lintutil import lint, run_cli

from peftlint.rules import all_rules
from peftlint.rules.selectors import known_codes, nearest

GPT2_TYPO = ("from peft import LoraConfig\n\n# peftlint: model=gpt2\n"
             "config = LoraConfig(target_modules=['c_atn'])\n")
# gpt2's fused attention name on a Qwen2.5 model that is not on this machine (issue 23, item 3)
QWEN = ("from transformers import AutoModelForCausalLM\nfrom peft import LoraConfig, get_peft_model\n"
        "model = AutoModelForCausalLM.from_pretrained('Qwen/Qwen2.5-0.5B')\n"
        "model = get_peft_model(model, LoraConfig(target_modules=['c_attn']))\n")


def test_known_codes_are_the_rules_codes() -> None:
    assert known_codes() == tuple(r.code for r in all_rules())


@pytest.mark.parametrize(("typo", "near"), [("PFT999X", "PFT999"), ("PTF1", "PFT1"), ("PFT1O1", "PFT101"),
                                            ("PF101", "PFT101"), ("PFT1011", "PFT101")])
def test_nearest_real_code(typo: str, near: str) -> None:
    assert nearest(typo) == near


@pytest.mark.parametrize("args", [["--select", "PFT999X"], ["--ignore", "PFT1,PTF2"], ["--extend-select", "PFT1O1"]])
def test_unknown_code_on_the_command_line_exits_2(tmp_path: Path, args: list[str]) -> None:
    (tmp_path / "train.py").write_text(GPT2_TYPO)
    code, out = run_cli(["check", *args, "."], tmp_path)
    assert code == 2, out
    assert "is not a peftlint rule code or prefix; did you mean" in out
    assert "All checks passed" not in out and "train.py" not in out  # nothing was linted


def test_unknown_code_message_names_option_and_nearest(tmp_path: Path) -> None:
    (tmp_path / "train.py").write_text(GPT2_TYPO)
    code, out = run_cli(["check", "--select", "PFT999X", "."], tmp_path)
    assert code == 2
    assert out.strip() == "peftlint: --select: `PFT999X` is not a peftlint rule code or prefix; did you mean `PFT999`?"


def test_unknown_code_in_pyproject_exits_2(tmp_path: Path) -> None:
    (tmp_path / "train.py").write_text(GPT2_TYPO)
    (tmp_path / "pyproject.toml").write_text('[tool.peftlint]\nselect = ["PTF1"]\n'
                                             'per-file-ignores = { "*.json" = ["PFT4O7"] }\n')
    code, out = run_cli(["check", "."], tmp_path)
    assert code == 2, out
    lines = out.strip().splitlines()
    assert lines == [
        f"peftlint: {tmp_path / 'pyproject.toml'}: [tool.peftlint] select: `PTF1` is not a peftlint rule code or "
        "prefix; did you mean `PFT1`?",
        f"peftlint: {tmp_path / 'pyproject.toml'}: [tool.peftlint] per-file-ignores '*.json': `PFT4O7` is not a "
        "peftlint rule code or prefix; did you mean `PFT407`?",
    ]


def test_real_codes_prefixes_and_all_are_accepted(tmp_path: Path) -> None:
    (tmp_path / "train.py").write_text(GPT2_TYPO)
    for sel in ("PFT101", "PFT1", "PFT10", "PFT", "ALL", "pft1"):
        assert [f["code"] for f in lint(tmp_path, "--select", sel, ".")] == ["PFT101"], sel


def test_unknown_code_in_noqa_is_pft905(tmp_path: Path) -> None:
    (tmp_path / "train.py").write_text(GPT2_TYPO.replace("])\n", "])  # noqa: PFT1O1, E501\n"))
    found = lint(tmp_path, ".")
    assert [(f["code"], f["line"], f["message"]) for f in found] == [
        ("PFT101", 4, found[0]["message"]),  # the typo suppresses nothing
        ("PFT905", 4, "`# noqa: PFT1O1` names no peftlint rule; did you mean `PFT101`?"),
    ]
    # other linters' codes (E501) are not peftlint's business; a real code suppresses
    (tmp_path / "train.py").write_text(GPT2_TYPO.replace("])\n", "])  # noqa: PFT101, E501\n"))
    assert lint(tmp_path, ".") == []


@pytest.mark.parametrize(("word", "near"), [("chek", "check"), ("rules", "rule"), ("modules_", "modules")])
def test_mistyped_command(tmp_path: Path, word: str, near: str) -> None:
    code, out = run_cli([word, "."], tmp_path)
    assert code == 2
    assert f"`{word}` is neither a command nor a file or directory; did you mean `peftlint {near}`?" in out


def test_a_word_that_is_a_path_is_linted(tmp_path: Path) -> None:
    (tmp_path / "rules").mkdir()
    (tmp_path / "rules" / "train.py").write_text(GPT2_TYPO)
    code, out = run_cli(["rules"], tmp_path)
    assert code == 1 and "rules/train.py:4:" in out


def test_unchecked_configs_are_named_with_the_command_that_checks_them(tmp_path: Path) -> None:
    (tmp_path / "train.py").write_text(QWEN)
    (tmp_path / "other.py").write_text("from peft import LoraConfig\nconfig = LoraConfig(target_modules=['q'])\n")
    code, out = run_cli(["check", "train.py", "other.py"], tmp_path)
    assert code == 0  # notes do not fail the run; --strict does
    assert ("1 config not checked: its base model is not on this machine; `peftlint cache fetch train.py other.py` "
            "downloads the config.json files (or run with --online).") in out
    assert "1 config not checked against a base model: `peftlint check --show-configs train.py other.py` says why." in out
    # every time: with the notes shown too, and from the result cache
    for _ in range(2):
        code, out = run_cli(["check", "--show-notes", "train.py"], tmp_path)
        assert "`peftlint cache fetch train.py` downloads" in out
    assert run_cli(["check", "--strict", "train.py"], tmp_path)[0] == 1


def test_not_on_this_machine_is_what_resolve_says(tmp_path: Path) -> None:
    from peftlint.engine.results import NOT_ON_THIS_MACHINE
    from peftlint.model.resolve import ResolveOptions, resolve

    assert NOT_ON_THIS_MACHINE in resolve("Qwen/Qwen2.5-0.5B", options=ResolveOptions()).reason


def test_exclude_options_and_force_exclude(tmp_path: Path) -> None:
    (tmp_path / "legacy").mkdir()
    (tmp_path / "legacy" / "train.py").write_text(GPT2_TYPO)
    (tmp_path / "train.py").write_text(GPT2_TYPO)
    (tmp_path / "pyproject.toml").write_text('[tool.peftlint]\nexclude = ["legacy/"]\n')
    paths = {f["path"] for f in lint(tmp_path, ".")}
    assert paths == {"train.py"}
    # named on the command line: linted, unless force-exclude (ruff's semantics)
    assert {f["path"] for f in lint(tmp_path, "legacy/train.py", "train.py")} == {"legacy/train.py", "train.py"}
    assert {f["path"] for f in lint(tmp_path, "--force-exclude", "legacy/train.py", "train.py")} == {"train.py"}
    # --exclude replaces the setting, --extend-exclude adds to it
    assert {f["path"] for f in lint(tmp_path, "--exclude", "nothing/", ".")} == {"legacy/train.py", "train.py"}
    assert lint(tmp_path, "--extend-exclude", "train.py", ".") == []
    (tmp_path / "pyproject.toml").write_text('[tool.peftlint]\nexclude = ["legacy/"]\nforce-exclude = true\n')
    assert {f["path"] for f in lint(tmp_path, "legacy/train.py", "train.py")} == {"train.py"}
    assert {f["path"] for f in lint(tmp_path, "--no-force-exclude", "legacy/train.py")} == {"legacy/train.py"}


def test_unknown_code_in_file_level_noqa_is_pft905(tmp_path: Path) -> None:
    (tmp_path / "train.py").write_text("# peftlint: noqa: PFT1O1\n" + GPT2_TYPO)
    found = lint(tmp_path, ".")
    assert [(f["code"], f["line"], f["column"]) for f in found] == [("PFT905", 1, 1), ("PFT101", 5, 37)]
    assert found[0]["message"] == "`# peftlint: noqa: PFT1O1` names no peftlint rule; did you mean `PFT101`?"
    (tmp_path / "train.py").write_text("# peftlint: noqa: PFT101\n" + GPT2_TYPO)
    assert lint(tmp_path, ".") == []
