"""The command line as a user meets it: output, exit codes, configuration, suppression, bad input."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from support.lintutil import lint, run_cli

SMOL = "HuggingFaceTB/SmolLM2-135M"
TYPO = f"""\
from peft import LoraConfig

# peftlint: model={SMOL}
config = LoraConfig(target_modules=["q_proj", "vproj"])
"""


def write(p: Path, text: str | bytes) -> Path:
    p.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(text, bytes):
        p.write_bytes(text)
    else:
        p.write_text(textwrap.dedent(text), encoding="utf-8")
    return p


def test_text_output_has_path_line_col_code_and_summary(tmp_path):
    write(tmp_path / "train.py", TYPO)
    code, out = run_cli(["train.py"], tmp_path)
    assert code == 1
    first = out.splitlines()[0]
    assert first.startswith("train.py:4:47: PFT101 `vproj` matches no module of HuggingFaceTB/SmolLM2-135M")
    assert "did you mean" in first and "v_proj" in first
    assert out.splitlines()[-2:] == ["Found 1 error, 0 warnings, 0 notes. (1 hidden fix can be enabled with --unsafe-fixes)",
                                     "Checked 1 file: 1 config, 1 checked (100 %)."]


def test_json_output_fields_and_positions(tmp_path):
    write(tmp_path / "sub" / "train.py", TYPO)
    [d] = lint(tmp_path, ".")
    assert set(d) >= {"code", "name", "severity", "message", "path", "line", "column", "end_line",
                      "end_column", "subject", "model", "fix"}
    assert (d["code"], d["name"], d["severity"], d["path"]) == ("PFT101", "unmatched-target", "error", "sub/train.py")
    assert (d["line"], d["column"], d["end_line"], d["end_column"]) == (4, 47, 4, 54)
    assert d["subject"] == "vproj" and d["model"] == SMOL
    assert d["fix"]["applicability"] == "unsafe" and d["fix"]["edits"][0]["content"] == '"v_proj"'


def test_clean_file_exits_zero(tmp_path):
    write(tmp_path / "train.py", TYPO.replace("vproj", "v_proj"))
    code, out = run_cli(["train.py"], tmp_path)
    assert code == 0, out
    assert "All checks passed." in out


def test_exit_zero_and_usage_errors(tmp_path):
    write(tmp_path / "train.py", TYPO)
    assert run_cli(["--exit-zero", "train.py"], tmp_path)[0] == 0
    code, out = run_cli(["missing.py"], tmp_path)
    assert code == 2 and "no such file" in out
    assert run_cli(["check", "--format", "nope", "."], tmp_path)[0] == 2


def test_noqa_on_line_and_unused_noqa(tmp_path):
    write(tmp_path / "a.py", TYPO.replace('"vproj"])', '"vproj"])  # noqa: PFT101'))
    assert lint(tmp_path, "a.py") == []
    write(tmp_path / "b.py", TYPO.replace('"vproj"])', '"v_proj"])  # noqa: PFT101'))
    [d] = lint(tmp_path, "b.py")
    assert d["code"] == "PFT905" and d["severity"] == "warning"


def test_noqa_on_first_line_of_a_multiline_call(tmp_path):
    write(tmp_path / "a.py", f"""\
        from peft import LoraConfig

        # peftlint: model={SMOL}
        config = LoraConfig(  # noqa: PFT101
            target_modules=["q_proj", "vproj"],
        )
        """)
    assert lint(tmp_path, "a.py") == []


def test_file_level_noqa(tmp_path):
    write(tmp_path / "a.py", "# peftlint: noqa\n" + TYPO)
    assert lint(tmp_path, "a.py") == []


def test_select_ignore_and_prefixes(tmp_path):
    write(tmp_path / "a.py", TYPO.replace('"vproj"]', '"vproj", "q_proj"]'))
    assert {d["code"] for d in lint(tmp_path, "a.py")} == {"PFT101", "PFT204"}
    assert {d["code"] for d in lint(tmp_path, "--select", "PFT2", "a.py")} == {"PFT204"}
    assert {d["code"] for d in lint(tmp_path, "--ignore", "PFT101", "a.py")} == {"PFT204"}


def test_pyproject_settings_and_cli_precedence(tmp_path):
    write(tmp_path / "pyproject.toml", f'[tool.peftlint]\nignore = ["PFT101"]\nmodel = "{SMOL}"\n')
    write(tmp_path / "a.py", "from peft import LoraConfig\nconfig = LoraConfig(target_modules=['q_proj', 'vproj'])\n")
    assert lint(tmp_path, "a.py") == []  # model from the file, PFT101 ignored by the file
    assert {d["code"] for d in lint(tmp_path, "--select", "PFT101", "--ignore", "", "a.py")} == {"PFT101"}


def test_command_line_selection_layers_over_the_configuration_as_ruffs(tmp_path):
    # ruff 0.17: `--ignore` adds to the configuration's ignore, `--extend-select` enables again what it
    # ignores, `--select` starts afresh (the configuration's ignore dropped)
    write(tmp_path / "pyproject.toml", '[tool.peftlint]\nignore = ["PFT101"]\n')
    write(tmp_path / "a.py", TYPO.replace('"vproj"]', '"vproj", "q_proj"]'))
    assert {d["code"] for d in lint(tmp_path, "a.py")} == {"PFT204"}
    assert lint(tmp_path, "--ignore", "PFT204", "a.py") == []
    assert {d["code"] for d in lint(tmp_path, "--extend-select", "PFT1", "a.py")} == {"PFT101", "PFT204"}
    assert {d["code"] for d in lint(tmp_path, "--select", "PFT", "a.py")} == {"PFT101", "PFT204"}
    assert {d["code"] for d in lint(tmp_path, "--select", "PFT", "--ignore", "PFT204", "a.py")} == {"PFT101"}


@pytest.mark.parametrize(("config", "args", "expected"), [
    ('select = ["PFT101"]\nignore = ["PFT1"]', [], {"PFT101"}),  # the more specific selector decides
    ('ignore = ["PFT1"]', ["--extend-select", "PFT101"], {"PFT101", "PFT204"}),
    ('extend-select = ["PFT101"]\nignore = ["PFT1"]', [], {"PFT101", "PFT204"}),
    ('select = ["PFT1"]\nignore = ["PFT101"]', [], set()),
    ('select = ["PFT101"]\nignore = ["PFT101"]', [], set()),  # equally specific: ignore wins
])
def test_the_most_specific_selector_decides_as_in_ruff(tmp_path, config, args, expected):
    # checked against ruff 0.17 (E501 / E in place of PFT101 / PFT1)
    write(tmp_path / "pyproject.toml", f"[tool.peftlint]\n{config}\n")
    write(tmp_path / "a.py", TYPO.replace('"vproj"]', '"vproj", "q_proj"]'))
    assert {d["code"] for d in lint(tmp_path, *args, "a.py")} == expected


def test_bad_pyproject_is_a_usage_error(tmp_path):
    write(tmp_path / "pyproject.toml", "[tool.peftlint]\nselct = ['PFT1']\n")
    code, out = run_cli(["."], tmp_path)
    assert code == 2 and "unknown key 'selct'" in out


def test_model_option_wins_over_code(tmp_path):
    write(tmp_path / "a.py", """\
        from peft import LoraConfig, get_peft_model
        from transformers import AutoModelForCausalLM
        model = AutoModelForCausalLM.from_pretrained("gpt2")
        model = get_peft_model(model, LoraConfig(target_modules=["c_attn"]))
        """)
    assert lint(tmp_path, "a.py") == []
    [d] = lint(tmp_path, "--model", "facebook/opt-350m", "a.py")
    assert d["code"] == "PFT101" and d["model"] == "facebook/opt-350m"


def test_unresolved_model_is_a_note_and_strict_makes_it_fail(tmp_path):
    write(tmp_path / "a.py", "from peft import LoraConfig\nconfig = LoraConfig(target_modules=['q_proj'])\n")
    code, out = run_cli(["a.py"], tmp_path)
    assert code == 0 and "PFT901" not in out and "1 note (notes not shown: --show-notes)" in out
    code, out = run_cli(["--show-notes", "a.py"], tmp_path)
    assert code == 0 and "a.py:2:10: PFT901 base model unknown" in out and "1 config, 0 checked (0 %)" in out
    assert run_cli(["--strict", "a.py"], tmp_path)[0] == 1
    write(tmp_path / "b.py", "from peft import LoraConfig\n# peftlint: model=acme/not-a-model\nc = LoraConfig(target_modules=['q_proj'])\n")
    [d] = lint(tmp_path, "b.py")
    assert d["code"] == "PFT901" and "acme/not-a-model" in d["message"] and "--online" in d["detail"]
    assert (d["line"], d["column"]) == (3, 5)  # at the config call


def test_bad_inputs_become_diagnostics_and_the_run_goes_on(tmp_path):
    write(tmp_path / "broken.py", "from peft import LoraConfig\nconfig = LoraConfig(target_modules=['q_proj'\n")
    write(tmp_path / "latin1.py", "# peft\nx = 'caf\xe9'\n".encode("latin-1"))
    write(tmp_path / "adapter" / "adapter_config.json", '{"peft_type": "LORA", "r": 8,,}')
    write(tmp_path / "nopeft" / "adapter_config.json", '{"r": 8}')
    write(tmp_path / "good.py", TYPO)
    found = {(d["path"], d["code"]) for d in lint(tmp_path, ".")}
    assert found == {
        ("broken.py", "PFT902"),
        ("latin1.py", "PFT902"),
        ("adapter/adapter_config.json", "PFT401"),
        ("nopeft/adapter_config.json", "PFT401"),
        ("good.py", "PFT101"),
    }


def test_binary_file_named_explicitly(tmp_path):
    write(tmp_path / "blob.py", b"\x00\x01peft\x00")
    [d] = lint(tmp_path, "blob.py")
    assert d["code"] == "PFT902" and "binary" in d["message"]


def test_discovery_respects_gitignore_and_default_excludes(tmp_path):
    (tmp_path / ".git").mkdir()
    write(tmp_path / ".gitignore", "ignored/\n*.gen.py\n")
    for rel in ("ignored/a.py", "x.gen.py", ".venv/lib/a.py", "node_modules/a.py", "src/a.py"):
        write(tmp_path / rel, TYPO)
    assert [d["path"] for d in lint(tmp_path, ".")] == ["src/a.py"]
    # a file named explicitly is linted even when ignored
    assert [d["path"] for d in lint(tmp_path, "x.gen.py")] == ["x.gen.py"]
    # a line that does not compile (git matches nothing with it) leaves the other lines in force
    write(tmp_path / ".gitignore", "ignored/\n[z-a]\n*.gen.py\n")
    assert [d["path"] for d in lint(tmp_path, ".")] == ["src/a.py"]


def test_exclude_setting(tmp_path):
    write(tmp_path / "pyproject.toml", '[tool.peftlint]\nexclude = ["legacy/"]\n')
    write(tmp_path / "legacy" / "a.py", TYPO)
    write(tmp_path / "new" / "a.py", TYPO)
    assert [d["path"] for d in lint(tmp_path, ".")] == ["new/a.py"]


def test_output_is_deterministic(tmp_path):
    for name in ("b.py", "a.py", "c/d.py"):
        write(tmp_path / name, TYPO)
    first = lint(tmp_path, ".")
    assert [d["path"] for d in first] == ["a.py", "b.py", "c/d.py"]
    assert first == lint(tmp_path, ".")


def test_rule_command(tmp_path):
    code, out = run_cli(["rule", "PFT101"], tmp_path)
    assert code == 0 and "unmatched-target" in out and "vproj" in out
    code, out = run_cli(["rule"], tmp_path)
    assert code == 0 and "PFT101" in out and "PFT902" in out
    assert run_cli(["rule", "PFT000"], tmp_path)[0] == 2


def test_python_dash_m_entry_point(tmp_path):
    write(tmp_path / "train.py", TYPO)
    proc = subprocess.run([sys.executable, "-m", "peftlint", "--format", "json", "train.py"], cwd=tmp_path,
                          capture_output=True, text=True, env=os.environ.copy())
    assert proc.returncode == 1, proc.stderr
    assert json.loads(proc.stdout)[0]["code"] == "PFT101"


def test_warm_run_imports_no_torch_transformers_or_peft(tmp_path):
    """Once inventories and peft's facts are cached, a run reads JSON only (and the language server's
    libraries are never imported by `check`)."""
    write(tmp_path / "train.py", TYPO)
    write(tmp_path / "adapter" / "adapter_config.json", json.dumps(
        {"peft_type": "LORA", "base_model_name_or_path": "gpt2", "target_modules": ["c_attn"], "r": 8}))
    env = {**os.environ, "PEFTLINT_CACHE_DIR": str(tmp_path / "cache")}
    probe = textwrap.dedent("""
        import sys
        from peftlint.cli import main
        try:
            main(["--format", "json", "."])
        except SystemExit as e:
            code = e.code
        heavy = sorted(m for m in ("torch", "transformers", "peft", "pygls", "lsprotocol") if m in sys.modules)
        print("HEAVY=" + ",".join(heavy), file=sys.stderr)
    """)
    cold = lint(tmp_path, "--cache-dir", str(tmp_path / "cache"), ".")  # builds, in this process
    warm = subprocess.run([sys.executable, "-c", probe], cwd=tmp_path, env=env, capture_output=True, text=True)
    assert warm.stderr.strip().endswith("HEAVY="), warm.stderr
    assert [d["code"] for d in json.loads(warm.stdout)] == [d["code"] for d in cold] == ["PFT101"]


def test_jobs_give_the_same_report(tmp_path):
    for i in range(12):
        write(tmp_path / f"pkg{i % 3}" / f"t{i}.py", TYPO if i % 2 else TYPO.replace("vproj", "v_proj"))
    write(tmp_path / "broken.py", "from peft import LoraConfig\nLoraConfig(target_modules=[\n")
    serial = lint(tmp_path, "-j", "1", ".")
    assert len(serial) == 7
    assert lint(tmp_path, "-j", "2", ".") == serial
    code, out = run_cli(["-j", "2", "."], tmp_path)
    assert code == 1 and out.endswith("Checked 13 files: 12 configs, 12 checked (100 %).\n")


# What a warm one-file run (pre-commit's `peftlint check FILE`) has no use for; each is imported only by
# the run that needs it.
NOT_IMPORTED_BY_A_WARM_ONE_FILE_RUN = (
    "tempfile",  # a cache entry's temporary file is opened by store.write_entry itself
    "tomllib",  # only a configuration that names peftlint is parsed
    "peftlint.report.json_format", "peftlint.report.sarif", "peftlint.report.github",  # the other formats
    "yaml", "libcst", "filelock", "difflib.unified_diff",  # trainer YAML, fixes, cache locks (a build)
    "torch", "transformers", "peft", "huggingface_hub.file_download", "pygls", "lsprotocol",
)


def test_warm_one_file_run_leaves_the_modules_it_does_not_need_unimported(tmp_path):
    """`python -m peftlint check FILE` as pre-commit runs it, after a run that cached the inventory: the
    file is linted again (its text changed) and its findings stored, with none of the modules above."""
    write(tmp_path / "train.py", TYPO)
    cache = tmp_path / "cache"
    env = {**os.environ, "PEFTLINT_CACHE_DIR": str(cache)}
    cmd = [sys.executable, "-X", "importtime", "-m", "peftlint", "check", "train.py"]
    assert run_cli(["check", "--cache-dir", str(cache), "train.py"], tmp_path)[0] == 1  # cold, in this process
    [entry] = cache.glob("result-*.json")
    before = entry.read_bytes()
    write(tmp_path / "train.py", TYPO + "# changed\n")
    warm = subprocess.run(cmd, cwd=tmp_path, env=env, capture_output=True, text=True)
    assert warm.returncode == 1 and "PFT101 `vproj` matches no module" in warm.stdout, warm.stderr
    assert entry.read_bytes() != before  # the file's new findings replaced its cache entry
    imported = {line.rsplit("|", 1)[1].strip() for line in warm.stderr.splitlines() if line.startswith("import time:")}
    assert "peftlint.engine.run" in imported  # the probe sees the run's imports
    assert sorted(set(NOT_IMPORTED_BY_A_WARM_ONE_FILE_RUN) & imported) == []
