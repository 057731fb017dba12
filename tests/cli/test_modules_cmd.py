"""``peftlint modules MODEL``: the answer to "what do I put in target_modules?"."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from support.lintutil import lint, run_cli
from support.oracle import fresh, peft_outcome

SMOL = "HuggingFaceTB/SmolLM2-135M"
MODELS_DIR = Path(__file__).resolve().parents[2] / "peftlint" / "data" / "models"


def modules_json(tmp: Path, *args: str) -> dict:
    code, out = run_cli(["modules", "--format", "json", *args], tmp)
    assert code == 0, out
    return json.loads(out)


def group(report: dict, entry: str) -> dict:
    return next(g for g in report["groups"] if g["entry"] == entry)


def test_text_output_llama(tmp_path: Path) -> None:
    code, out = run_cli(["modules", SMOL], tmp_path)
    assert code == 0, out
    assert out.startswith(f"{SMOL} (llama, LlamaForCausalLM, 30 layers)\n")
    q_row = next(line for line in out.splitlines() if line.startswith("q_proj "))
    assert q_row.split()[:5] == ["q_proj", "Linear", "30", "30", "576->576"]
    assert "all-linear, default" in q_row and "query projection" in q_row
    assert 'PEFT default (target_modules omitted): ["q_proj", "v_proj"] (60 modules)' in out
    assert '"all-linear" selects 210 modules (every Linear/Conv1D, not lm_head)' in out
    assert 'attention only:   target_modules=["q_proj", "k_proj", "v_proj", "o_proj"]' in out
    assert ('attention + MLP:  target_modules=["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", '
            '"down_proj"]') in out


def test_json_gpt2_heads_tied_and_fused(tmp_path: Path) -> None:
    report = modules_json(tmp_path, "gpt2")
    assert (report["model_type"], report["model_class"]) == ("gpt2", "GPT2LMHeadModel")
    c_attn = group(report, "c_attn")
    assert (c_attn["kind"], c_attn["count"], c_attn["layers"], c_attn["shapes"]) == ("Conv1D (gpt2)", 12, 12, [[768, 2304]])
    assert (c_attn["role"], c_attn["all_linear"], c_attn["default"]) == ("qkv", "all", "all")
    head = group(report, "lm_head")
    assert head["head"] and head["tied"] and head["all_linear"] == "no"
    wte = group(report, "wte")
    assert wte["input_embedding"] and wte["kind"] == "Embedding"
    assert report["all_linear_skips"] == ["lm_head"]
    assert report["suggested"]["attention"] == ["c_attn", "attn.c_proj"]
    assert report["default_targets"] == ["c_attn"]


@pytest.mark.parametrize("model, model_class", [(SMOL, "AutoModelForCausalLM"), ("gpt2", "AutoModelForCausalLM"),
                                                ("tiiuae/falcon-7b", "AutoModelForCausalLM")])
def test_counts_and_suggestions_match_peft(tmp_path: Path, model: str, model_class: str) -> None:
    """What the command says "all-linear", the default and the pasted lists select is what PEFT selects."""
    from peft import LoraConfig

    report = modules_json(tmp_path, model)
    verdict, targeted, _ = peft_outcome(fresh(model, model_class), LoraConfig(target_modules="all-linear"))
    assert verdict == "ok" and len(targeted) == report["all_linear_count"]
    verdict, default, _ = peft_outcome(fresh(model, model_class), LoraConfig())
    assert verdict == "ok" and len(default) == report["default_count"]
    explicit = report["suggested"].get("all_linear_explicit")
    if explicit:
        _, same, _ = peft_outcome(fresh(model, model_class), LoraConfig(target_modules=explicit))
        assert same == targeted
    for key in ("attention", "attention_mlp"):
        if key in report["suggested"]:
            verdict, _, _ = peft_outcome(fresh(model, model_class), LoraConfig(target_modules=report["suggested"][key]))
            assert verdict == "ok"


def test_pasted_targets_lint_clean(tmp_path: Path) -> None:
    for model in (SMOL, "t5-small", "tiiuae/falcon-7b", "facebook/opt-350m"):
        report = modules_json(tmp_path, model)
        lists = [v for k, v in report["suggested"].items() if isinstance(v, list)]
        assert lists, model
        body = "\n".join(f"# peftlint: model={model}\nc{i} = LoraConfig(target_modules={json.dumps(v)})"
                         for i, v in enumerate(lists))
        (tmp_path / "train.py").write_text(f"from peft import LoraConfig\n\n{body}\n", encoding="utf-8")
        assert lint(tmp_path, ".") == [], model


def test_no_default_and_seq2seq(tmp_path: Path) -> None:
    report = modules_json(tmp_path, "microsoft/Phi-3-mini-4k-instruct")
    assert report["default_targets"] is None and report["default_count"] == 0
    assert any("no default target_modules" in n for n in report["notes"])
    assert report["suggested"]["attention"] == ["qkv_proj", "o_proj"]
    t5 = modules_json(tmp_path, "t5-small")
    assert group(t5, "q")["count"] == 18  # encoder self-attention, decoder self- and cross-attention
    assert t5["suggested"]["attention"] == ["q", "k", "v", "o"]


def test_alias_and_local_directory(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text('[tool.peftlint.models]\nbase = "gpt2"\n', encoding="utf-8")
    assert modules_json(tmp_path, "base")["model_type"] == "gpt2"
    local = tmp_path / "my-model"
    local.mkdir()
    shutil.copy(MODELS_DIR / "t5-small.json", local / "config.json")
    assert modules_json(tmp_path, "./my-model")["model_type"] == "t5"


def test_task_type_changes_the_class(tmp_path: Path) -> None:
    report = modules_json(tmp_path, "--task-type", "SEQ_CLS", SMOL)
    assert report["model_class"] == "LlamaForSequenceClassification"
    assert group(report, "score")["head"]


def test_unknown_model_is_a_usage_error(tmp_path: Path) -> None:
    code, out = run_cli(["modules", "no-such-org/no-such-model"], tmp_path)
    assert code == 2
    assert "no-such-org/no-such-model" in out


@pytest.mark.parametrize("model", ["gpt2", "stabilityai/stable-diffusion-xl-base-1.0:unet"])
def test_warm_modules_imports_no_torch(tmp_path: Path, model: str) -> None:
    if model.endswith(":unet"):
        pytest.importorskip("diffusers")
    first = modules_json(tmp_path, model)  # fills the session's inventory cache (conftest)
    env = dict(os.environ)
    probe = textwrap.dedent(f"""
        import sys
        from peftlint.cli import main
        try:
            main(["modules", "--format", "json", {model!r}])
        except SystemExit:
            pass
        heavy = ("torch", "transformers", "peft", "diffusers")
        print("HEAVY=" + ",".join(m for m in heavy if m in sys.modules), file=sys.stderr)
    """)
    warm = subprocess.run([sys.executable, "-c", probe], cwd=tmp_path, env=env, capture_output=True, text=True)
    assert warm.stderr.strip().endswith("HEAVY="), warm.stderr
    assert json.loads(warm.stdout)["model_type"] == first["model_type"]


def test_fused_moe_experts_point_to_target_parameters(tmp_path: Path) -> None:
    from peft import LoraConfig, get_peft_model

    model = "mistralai/Mixtral-8x7B-v0.1"
    report = modules_json(tmp_path, model)
    entries = [p["entry"] for p in report["parameters"]]
    assert sorted(entries) == ["experts.down_proj", "experts.gate_up_proj"]
    assert all(p["count"] == 32 and p["layers"] == 32 for p in report["parameters"])
    assert any(f"target_parameters={json.dumps(entries)}" in n for n in report["notes"])
    assert "all_linear_explicit" not in report["suggested"]  # all-linear also reaches the experts here
    assert sorted(report["all_linear_parameters"]) == ["down_proj", "gate.weight", "gate_up_proj"]
    pm = get_peft_model(fresh(model, "AutoModelForCausalLM"),
                        LoraConfig(target_modules=["q_proj"], target_parameters=entries))
    assert len(pm.base_model.targeted_parameter_names) == 64
