"""[tool.peftlint] values are checked against the Settings field types (typedjson), not by text."""

from __future__ import annotations

from pathlib import Path

import pytest

from peftlint.config import SettingsError, settings_from_table

PATH = Path("pyproject.toml")


@pytest.mark.parametrize("key, value", [
    ("select", ["PFT101", "PFT2"]),
    ("per-file-ignores", {"tests/*": ["PFT904"]}),
    ("models", {"my-org/model": "gpt2"}),
    ("model", "gpt2"),
    ("strict", True),
])
def test_values_of_the_declared_type_are_kept(key: str, value: object) -> None:
    settings = settings_from_table({key: value}, PATH)
    assert getattr(settings, key.replace("-", "_")) == value


@pytest.mark.parametrize("key, value, got", [
    ("select", ["PFT101", 3], "list"),
    ("select", "PFT101", "str"),
    ("per-file-ignores", {"tests/*": "PFT904"}, "dict"),
    ("models", {"my-org/model": ["gpt2"]}, "dict"),
    ("model", 3, "int"),
    ("strict", "yes", "str"),
])
def test_a_value_of_another_type_is_a_settings_error(key: str, value: object, got: str) -> None:
    with pytest.raises(SettingsError, match=rf"^pyproject.toml: \[tool.peftlint\] {key} has the wrong type \({got}\)$"):
        settings_from_table({key: value}, PATH)


def test_the_option_table_in_the_docs_is_generated_from_the_schema() -> None:
    import importlib.util

    root = Path(__file__).resolve().parents[1]
    spec = importlib.util.spec_from_file_location("gen_config_doc", root / "scripts" / "gen_config_doc.py")
    assert spec is not None and spec.loader is not None
    gen = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(gen)
    for path, text in gen.expected(root).items():
        assert path.read_text(encoding="utf-8") == text, f"{path} is stale: run `python scripts/gen_config_doc.py`"
    table = gen.options_table()
    assert "| `per-file-ignores` | table of string arrays | `{}` |" in table  # a type read from Settings
    assert "| `trust-remote-code` | boolean | `false` | [not read from the repository]" in table
