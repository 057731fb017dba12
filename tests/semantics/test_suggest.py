"""Suggestions across architectures (PFT101) and the structural roles they rest on."""

from __future__ import annotations

from pathlib import Path

import pytest
from support.lintutil import lint

from peftlint.config import Settings
from peftlint.model.load import load_inventory
from peftlint.semantics import roles
from peftlint.semantics.suggest import suggest_target
from peftlint.store import default_cache_dir

SMOL = "HuggingFaceTB/SmolLM2-135M"
MODELS = [SMOL, "gpt2", "t5-small", "google/flan-t5-base", "facebook/opt-350m", "EleutherAI/pythia-160m",
          "bigscience/bloom-560m", "tiiuae/falcon-7b", "Qwen/Qwen2-7B", "microsoft/Phi-3-mini-4k-instruct",
          "microsoft/phi-2", "bert-base-uncased", "openai/whisper-small", "google/vit-base-patch16-224"]


def inventory(model: str):
    got = load_inventory(model, Settings(), default_cache_dir())
    assert got.inventory is not None, got.why
    return got.inventory


@pytest.mark.parametrize("model, entry, expected", [
    (SMOL, "q", ["q_proj"]),
    (SMOL, "query", ["q_proj"]),
    (SMOL, "value", ["v_proj"]),
    (SMOL, "vproj", ["v_proj"]),
    (SMOL, "Q_PROJ", ["q_proj"]),
    (SMOL, "c_attn", ["q_proj", "k_proj", "v_proj"]),
    (SMOL, "fc1", ["up_proj"]),
    (SMOL, "dense_4h_to_h", ["down_proj"]),
    ("tiiuae/falcon-7b", "q_proj", ["query_key_value"]),
    ("tiiuae/falcon-7b", "v_proj", ["query_key_value"]),
    ("Qwen/Qwen2-7B", "c_attn", ["q_proj", "k_proj", "v_proj"]),
    ("Qwen/Qwen2-7B", "query_key_value", ["q_proj", "k_proj", "v_proj"]),
    ("gpt2", "q_proj", ["c_attn"]),
    ("t5-small", "q_proj", ["q"]),
    ("t5-small", "v_proj", ["v"]),
    ("facebook/opt-350m", "o_proj", ["out_proj"]),
    ("facebook/opt-350m", "up_proj", ["fc1"]),
    ("bert-base-uncased", "q_proj", ["query"]),
    ("microsoft/Phi-3-mini-4k-instruct", "q_proj", ["qkv_proj"]),
    ("microsoft/Phi-3-mini-4k-instruct", "gate_proj", ["gate_up_proj"]),
    ("microsoft/phi-2", "o_proj", ["dense"]),
])
def test_role_based_suggestion(model: str, entry: str, expected: list[str]) -> None:
    s = suggest_target(entry, inventory(model))
    assert list(s.by_role) == expected
    assert s.replacement == (expected[0] if len(expected) == 1 else None)


def test_unknown_name_falls_back_to_spelling() -> None:
    s = suggest_target("lm_haed", inventory(SMOL))
    assert s.role is None and s.by_role == () and "lm_head" in s.spelling
    assert suggest_target("completely_unrelated", inventory(SMOL)).describe() == ""


@pytest.mark.parametrize("model", MODELS)
def test_name_table_agrees_with_structural_roles(model: str) -> None:
    """The one hand-written table (roles.ROLE_NAMES) must not contradict what the structure says."""
    inv = inventory(model)
    derived = roles.derive_roles(inv)
    assert derived, model
    for e in derived:
        by_table = roles.role_of_name(e.pattern.rsplit(".", 1)[-1])
        assert by_table in (None, e.role), (model, e.pattern, e.role, by_table)


@pytest.mark.parametrize("model, expected", [
    (SMOL, {"q": ["q_proj"], "k": ["k_proj"], "v": ["v_proj"], "o": ["o_proj"], "gate": ["gate_proj"],
            "up": ["up_proj"], "down": ["down_proj"]}),
    ("tiiuae/falcon-7b", {"qkv": ["query_key_value"], "o": ["dense"], "up": ["dense_h_to_4h"],
                          "down": ["dense_4h_to_h"]}),
    ("gpt2", {"qkv": ["c_attn"], "o": ["attn.c_proj"], "up": ["c_fc"], "down": ["mlp.c_proj"]}),
    ("facebook/opt-350m", {"q": ["q_proj"], "k": ["k_proj"], "v": ["v_proj"], "o": ["out_proj"], "up": ["fc1"],
                           "down": ["fc2"]}),
    ("google/flan-t5-base", {"q": ["q"], "k": ["k"], "v": ["v"], "o": ["o"], "gate": ["wi_0"], "up": ["wi_1"],
                             "down": ["wo"]}),
    ("microsoft/Phi-3-mini-4k-instruct", {"qkv": ["qkv_proj"], "o": ["o_proj"], "gate_up": ["gate_up_proj"],
                                          "down": ["down_proj"]}),
])
def test_structural_roles(model: str, expected: dict) -> None:
    assert roles.role_targets(inventory(model)) == expected


def _script(tmp: Path, model: str, targets: str) -> None:
    (tmp / "train.py").write_text(f"from peft import LoraConfig\n\n# peftlint: model={model}\n"
                                  f"config = LoraConfig(target_modules={targets})\n", encoding="utf-8")


def test_pft101_message_names_the_equivalent(tmp_path: Path) -> None:
    _script(tmp_path, "tiiuae/falcon-7b", '["q_proj", "v_proj"]')
    found = [f for f in lint(tmp_path, ".") if f["code"] == "PFT101"]
    assert [f["subject"] for f in found] == ["q_proj", "v_proj"]
    assert "query_key_value" in found[0]["message"]
    assert "NoMatchingPeftModuleError" in found[0]["message"]
    assert found[0]["fix"]["applicability"] == "unsafe"
    assert found[0]["fix"]["edits"][0]["content"] == '"query_key_value"'


def test_pft101_no_fix_when_ambiguous(tmp_path: Path) -> None:
    _script(tmp_path, SMOL, '["mlp_proj"]')
    (f,) = [f for f in lint(tmp_path, ".") if f["code"] == "PFT101"]
    assert "did you mean `up_proj`, `v_proj`, `q_proj`?" in f["message"]
    assert f["fix"] is None


def test_pft101_fused_name_on_a_split_model_offers_all_parts(tmp_path: Path) -> None:
    _script(tmp_path, "Qwen/Qwen2-7B", '["c_attn"]')
    (f,) = [f for f in lint(tmp_path, ".") if f["code"] == "PFT101"]
    assert "`q_proj`, `k_proj`, `v_proj`" in f["message"]
    assert f["fix"]["applicability"] == "unsafe"
    assert [e["content"] for e in f["fix"]["edits"]] == ['"q_proj", "k_proj", "v_proj"']


@pytest.mark.parametrize("model, entry", [("tiiuae/falcon-7b", "q_proj"), (SMOL, "q"), ("gpt2", "q_proj"),
                                          ("t5-small", "v_proj")])
def test_replacement_is_what_peft_needs(model: str, entry: str) -> None:
    """PEFT finds nothing for the borrowed name and adapts every layer of that role with the replacement."""
    from peft import LoraConfig
    from support.oracle import fresh, peft_outcome

    cls = "AutoModelForSeq2SeqLM" if model == "t5-small" else "AutoModelForCausalLM"
    replacement = suggest_target(entry, inventory(model)).replacement
    assert peft_outcome(fresh(model, cls), LoraConfig(target_modules=[entry]))[0] == "unmatched"
    verdict, targeted, _ = peft_outcome(fresh(model, cls), LoraConfig(target_modules=[replacement]))
    assert verdict == "ok"
    role = roles.role_of_name(replacement) or roles.role_of_name(entry)
    expected = {n for e in roles.derive_roles(inventory(model)) if e.role in (role, roles.QKV) for n in e.modules
                if n.rsplit(".", 1)[-1] == replacement}
    assert targeted == expected and targeted
