"""A config.json asking for an absurd model is refused before (or while) it is built, with a note
that names the limit and how to raise it; nothing runs out of memory."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from support.lintutil import lint

from peftlint.model.build import BuildError, build_inventory
from peftlint.model.resolve import Resolved

TINY = {"model_type": "llama", "hidden_size": 16, "intermediate_size": 32, "num_attention_heads": 2,
        "num_key_value_heads": 2, "vocab_size": 64, "num_hidden_layers": 2}


def _resolved(config: dict) -> Resolved:
    text = json.dumps(config)
    return Resolved(ref="acme/tiny", label="acme/tiny", config=config, config_text=text, source="local",
                    location="/x/config.json")


def test_a_count_over_the_limit_is_refused_before_building() -> None:
    with pytest.raises(BuildError) as err:
        build_inventory(_resolved({**TINY, "num_hidden_layers": 10_000_000}), "AutoModelForCausalLM")
    assert "num_hidden_layers=10,000,000" in str(err.value) and "max-model-modules" in str(err.value)
    with pytest.raises(BuildError, match="depths adding up to"):
        build_inventory(_resolved({"model_type": "swin", "depths": [2, 10_000_000]}), "AutoModel")
    with pytest.raises(BuildError, match="num_local_experts"):
        build_inventory(_resolved({**TINY, "text_config": {"num_local_experts": 10**9}}), "AutoModelForCausalLM")


def test_the_build_stops_at_the_module_limit() -> None:
    config = {**TINY, "num_hidden_layers": 40}  # each count is small; the model is not
    with pytest.raises(BuildError, match="more than 100 modules"):
        build_inventory(_resolved(config), "AutoModelForCausalLM", max_modules=100)
    inv = build_inventory(_resolved(config), "AutoModelForCausalLM", max_modules=1000)
    assert 100 < len(inv.modules) <= 1000 and inv.layer_lists["model.layers"] == 40


def test_real_models_fit_the_default_limit() -> None:
    from support.helpers_hf import bundled_config

    from peftlint.config import DEFAULT_MAX_MODEL_MODULES
    from peftlint.model.limits import PROBE_ABOVE, _counts, check_config_size

    for name in ("meta-llama--Llama-3.3-70B-Instruct.json", "Qwen--Qwen1.5-MoE-A2.7B.json",
                 "mistralai--Mixtral-8x7B-v0.1.json", "google--flan-t5-xxl.json", "openai--whisper-small.json"):
        config = bundled_config(name)
        assert check_config_size(config, DEFAULT_MAX_MODEL_MODULES) == ""
        assert max(_counts(config)) <= PROBE_ABOVE  # built directly, no estimate


def test_an_absurd_count_is_estimated_from_two_tiny_builds() -> None:
    with pytest.raises(BuildError) as err:
        build_inventory(_resolved({**TINY, "num_hidden_layers": 5000}), "AutoModelForCausalLM")
    assert "(5,000 repeated blocks)" in str(err.value) and "max-model-modules" in str(err.value)
    inv = build_inventory(_resolved({**TINY, "num_hidden_layers": 600}), "AutoModelForCausalLM")
    assert inv.layer_lists["model.layers"] == 600  # estimated under the limit, then built for real


def test_lint_reports_the_refusal_as_a_note(tmp_path: Path) -> None:
    model = tmp_path / "huge"
    model.mkdir()
    (model / "config.json").write_text(json.dumps({**TINY, "num_hidden_layers": 10_000_000}))
    (tmp_path / "train.py").write_text("from peft import LoraConfig\n\n# peftlint: model=./huge\n"
                                       'config = LoraConfig(target_modules=["q_proj"])\n')
    found = lint(tmp_path, ".")
    assert [d["code"] for d in found] == ["PFT901"]
    text = found[0]["message"] + " " + found[0]["detail"]  # the one-line message; the reason in detail
    assert "max-model-modules" in text and "num_hidden_layers=10,000,000" in text
    (tmp_path / "pyproject.toml").write_text("[tool.peftlint]\nmax-model-modules = 50\n")
    (model / "config.json").write_text(json.dumps({**TINY, "num_hidden_layers": 20}))
    found = lint(tmp_path, ".")
    assert [d["code"] for d in found] == ["PFT901"] and "more than 50 modules" in found[0]["detail"]


@pytest.mark.skipif(not hasattr(__import__("os"), "mkfifo"), reason="FIFOs and /dev/zero are POSIX")
@pytest.mark.parametrize("kind", ["fifo", "dev-zero", "huge"])
def test_a_config_json_that_cannot_be_read_safely(tmp_path: Path, kind: str) -> None:
    import os

    model = tmp_path / "m"
    model.mkdir()
    cfg = model / "config.json"
    if kind == "fifo":
        os.mkfifo(cfg)
    elif kind == "dev-zero":
        cfg.symlink_to("/dev/zero")
    else:
        cfg.write_text(json.dumps({**TINY, "padding": "x" * (11 << 20)}))
    (tmp_path / "train.py").write_text("from peft import LoraConfig\n\n# peftlint: model=./m\n"
                                       'config = LoraConfig(target_modules=["q_proj"])\n')
    (found,) = lint(tmp_path, ".")
    assert found["code"] == "PFT901"
    expected = "over the 10 MB limit" if kind == "huge" else "has no config.json"
    assert expected in found["detail"], found
