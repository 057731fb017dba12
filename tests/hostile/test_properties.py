"""Property-based: whatever a reader is given, the run ends with findings, not a crash.

Generated adapter_config.json files (checked with positions), notebooks, safetensors headers
(truncated, lying, garbage) and ``[tool.peftlint]`` tables: no traceback, no PFT999, exit 0 or 1
(2 only for a configuration error, with a one-line message), and every finding points into its file.
Sizes are small and the example counts modest so the suite stays CI-friendly.
"""

from __future__ import annotations

import json
import struct
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from peftlint.cli import main

SMOL = "HuggingFaceTB/SmolLM2-135M"
SETTINGS = settings(max_examples=25, deadline=None, derandomize=True,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture,
                                           HealthCheck.data_too_large])

_NAMES = st.sampled_from(["q_proj", "v_proj", "k_proj", "o_proj", "down_proj", "lm_head", "embed_tokens", "mlp",
                          "model.layers.0.self_attn.q_proj", "all-linear", "", ".", "q_proj ", "(.*)*z",
                          r".*\.q_proj", "layers", "weight", "0", "\u00e9", "a" * 300])
_SCALARS = st.one_of(st.none(), st.booleans(), st.integers(-10**30, 10**30), st.floats(allow_nan=True),
                     _NAMES, st.text(max_size=20))
_JSON = st.recursive(_SCALARS, lambda inner: st.one_of(st.lists(inner, max_size=5),
                                                       st.dictionaries(st.text(max_size=8), inner, max_size=4)),
                     max_leaves=12)
_FIELDS = ["target_modules", "modules_to_save", "exclude_modules", "target_parameters", "layers_to_transform",
           "layers_pattern", "rank_pattern", "alpha_pattern", "r", "lora_alpha", "lora_dropout", "bias",
           "task_type", "fan_in_fan_out", "use_dora", "init_lora_weights", "feedforward_modules", "revision",
           "base_model_name_or_path", "auto_mapping", "peft_type", "unknown_field"]
_FIELD_VALUES = st.one_of(_JSON, st.lists(_NAMES, max_size=6), st.dictionaries(_NAMES, st.integers(-3, 64), max_size=3))


def _run(cwd: Path, *args: str) -> tuple[int, str, str]:
    import os

    old = os.getcwd()
    os.chdir(cwd)
    try:
        res = CliRunner().invoke(main, ["check", "--format", "json", *args], catch_exceptions=True)
    finally:
        os.chdir(old)
    if res.exception is not None and not isinstance(res.exception, SystemExit):
        raise res.exception  # a traceback: the property fails with it
    return res.exit_code, res.stdout, res.stderr


def _check(cwd: Path, *args: str) -> list[dict]:
    code, out, err = _run(cwd, *args)
    assert code in (0, 1), (code, out, err)
    found = json.loads(out)
    assert "PFT999" not in {d["code"] for d in found}, found
    for d in found:  # every finding points into its file
        p = cwd / d["path"]
        if p.is_file():
            lines = p.read_text(encoding="utf-8", errors="replace").split("\n")
            assert 1 <= d["line"] <= d["end_line"] <= len(lines), d
            assert 1 <= d["column"] <= len(lines[d["line"] - 1]) + 1, d
    return found


@SETTINGS
@given(st.dictionaries(st.sampled_from(_FIELDS), _FIELD_VALUES, max_size=8),
       st.sampled_from(["LORA", "IA3", "LOHA", "PROMPT_TUNING", "NOPE", 3]), st.booleans(), st.integers(0, 4))
def test_adapter_config(tmp_path_factory, fields: dict, peft_type: object, with_model: bool, indent: int) -> None:
    d = tmp_path_factory.mktemp("adapter")
    doc = {"peft_type": peft_type, **({"base_model_name_or_path": SMOL} if with_model else {}), **fields}
    (d / "adapter_config.json").write_text(json.dumps(doc, indent=indent or None))
    _check(d)


_CELL_SOURCES = st.sampled_from([
    "from peft import LoraConfig\n", "%pip install peft\n", "!ls\n", "x = 1\n", f'MODEL = "{SMOL}"\n',
    "config = LoraConfig(target_modules=['q_proj', 'q_proj'])\n", "config = LoraConfig(target_modules='(.*)*z')\n",
    f"# peftlint: model={SMOL}\n", "def f(:\n", "%%bash\necho hi\n", "obj?\n", "LoraConfig(**kw)\n", "\ufeff\r\n",
])
_CELLS = st.one_of(
    st.fixed_dictionaries({"cell_type": st.sampled_from(["code", "markdown", "raw", 5]),
                           "source": st.one_of(st.lists(_CELL_SOURCES, max_size=4), _CELL_SOURCES.map(str), _JSON),
                           "metadata": st.just({})}),
    _JSON,
)


@SETTINGS
@given(st.one_of(st.lists(_CELLS, max_size=4), _JSON), st.sampled_from([4, 3, "4", None]), st.integers(0, 2),
       st.booleans())
def test_notebook(tmp_path_factory, cells: object, nbformat: object, indent: int, ascii_only: bool) -> None:
    d = tmp_path_factory.mktemp("nb")
    nb = {"cells": cells, "metadata": {}, "nbformat": nbformat, "nbformat_minor": 5}
    (d / "train.ipynb").write_text(json.dumps(nb, indent=indent or None, ensure_ascii=ascii_only))
    code, _, err = _run(d, "--diff")  # the fixes of a generated notebook apply (or are refused) cleanly
    assert code in (0, 1), err
    _check(d)


_TENSOR = st.fixed_dictionaries({
    "dtype": st.sampled_from(["F32", "F16", "BF16", "I64", "XX", 3]),
    "shape": st.one_of(st.lists(st.integers(-2, 70), max_size=3), _JSON),
    "data_offsets": st.one_of(st.tuples(st.integers(-5, 5000), st.integers(-5, 5000)).map(list), _JSON),
})
_KEYS = st.sampled_from(["base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight",
                         "base_model.model.model.layers.0.self_attn.q_proj.lora_B.weight",
                         "base_model.model.lm_head.weight", "__metadata__", "x" * 2000, ""])


@SETTINGS
@given(st.one_of(st.dictionaries(_KEYS, st.one_of(_TENSOR, _JSON), max_size=4).map(lambda h: json.dumps(h).encode()),
                 st.binary(max_size=64)),
       st.one_of(st.just(None), st.integers(0, 2**64 - 1)), st.integers(0, 4096), st.booleans())
def test_safetensors_header(tmp_path_factory, header: bytes, lying_length: int | None, data: int, cut: bool) -> None:
    d = tmp_path_factory.mktemp("weights")
    (d / "adapter_config.json").write_text(json.dumps({
        "peft_type": "LORA", "base_model_name_or_path": SMOL, "r": 8, "lora_alpha": 16,
        "target_modules": ["q_proj"], "task_type": "CAUSAL_LM"}))
    length = len(header) if lying_length is None else lying_length
    blob = struct.pack("<Q", length) + header + b"\0" * data
    (d / "adapter_model.safetensors").write_bytes(blob[: len(blob) // 2] if cut else blob)
    _check(d)


class _Raw(str):
    """TOML text written as is: values tomllib itself fails on beyond TOMLDecodeError."""


# an integer over Python's 4,300 digits (ValueError), nesting past the recursion limit (RecursionError),
# glob patterns that do not compile (re.error when the walker compiles them)
_RAW = [_Raw("9" * 5000), _Raw("[" * 3000 + "]" * 3000), _Raw("{a = " * 2000 + "1" + "}" * 2000), _Raw('["[z-a]"]'),
        _Raw('["a", "[!-]"]')]


_TOML_VALUES = st.one_of(st.sampled_from(_RAW), st.booleans(), st.integers(-5, 10**9), st.floats(-10, 10, allow_nan=False),
                         st.text(alphabet="abcPFT0123456789-_/.* ", max_size=12),
                         st.lists(st.text(alphabet="PFT0123456789", max_size=6), max_size=3),
                         st.dictionaries(st.text(alphabet="abc*./", min_size=1, max_size=6),
                                         st.text(alphabet="abcPFT01", max_size=6), max_size=2))
_TOML_KEYS = st.sampled_from(["select", "extend-select", "ignore", "per-file-ignores", "exclude", "model", "models",
                              "online", "strict", "cache-dir", "trust-remote-code", "max-file-size",
                              "regex-timeout", "max-model-modules", "bogus"])


def _toml(value: object) -> str:
    if isinstance(value, _Raw):
        return str(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value)
    if isinstance(value, list):
        return "[" + ", ".join(_toml(v) for v in value) + "]"
    return "{" + ", ".join(f"{json.dumps(k)} = {_toml(v)}" for k, v in value.items()) + "}"


@pytest.mark.parametrize(("key", "value"), list(zip(["max-model-modules", "exclude", "select", "exclude", "extend-exclude"],
                                                     _RAW)),
                         ids=["5000-digit int", "deep array", "deep table", "bad range", "bad range 2"])
def test_pyproject_value_the_parser_or_walker_rejects(tmp_path_factory, key: str, value: _Raw) -> None:
    _check_table(tmp_path_factory.mktemp("pyproject"), {key: value})


@SETTINGS
@given(st.dictionaries(_TOML_KEYS, _TOML_VALUES, max_size=5))
def test_pyproject_table(tmp_path_factory, table: dict) -> None:
    _check_table(tmp_path_factory.mktemp("pyproject"), table)


def _check_table(d: Path, table: dict) -> None:
    (d / "pyproject.toml").write_text("[tool.peftlint]\n" + "".join(f"{k} = {_toml(v)}\n" for k, v in table.items()))
    (d / "train.py").write_text(f"from peft import LoraConfig\n\n# peftlint: model={SMOL}\n"
                                "config = LoraConfig(target_modules=['q_proj', 'q_proj'])\n")
    code, out, err = _run(d)
    if code == 2:  # a configuration error: one clear line naming the file, no report
        assert err.startswith("peftlint: ") and "pyproject.toml" in err and "Traceback" not in err, err
        return
    assert code in (0, 1), (code, out, err)
    assert "PFT999" not in {x["code"] for x in json.loads(out)}
    if "cache-dir" in table:  # never taken from the repository
        assert "ignoring `cache-dir" in err
