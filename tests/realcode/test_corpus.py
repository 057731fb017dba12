"""Real code pinned: files of TRL and LLaMA-Factory (copied at run time from the corpus next to the
repository, never committed) and the exact findings peftlint gives on them — code, line, column,
subject. A change to any of them is a change users see: read it, then update the pin.

The Hugging Face cache holds small stand-ins for the models these files load (2 layers, hidden size
8 — the shapes TRL's ``scripts/generate_tiny_models`` gives its tiny test models), so the
model-aware rules run on them; models not in it stay unresolved, as on a fresh checkout.

``KNOWN_FALSE`` lists findings that are wrong today, with the cause; they are pinned too, so fixing
one makes its test fail until the entry is removed.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest
from support.helpers_hf import REPO_ROOT, TINY_SHAPE, add_to_hf_cache
from support.lintutil import lint, run_cli


def _corpus() -> Path | None:
    env = os.environ.get("PEFTLINT_CORPUS")
    for cand in ([Path(env)] if env else []) + [REPO_ROOT.parent / "shared" / "corpus",
                                                 REPO_ROOT.parents[1] / "shared" / "corpus"]:
        if (cand / "trl").is_dir() and (cand / "llamafactory").is_dir():
            return cand
    return None


CORPUS = _corpus()
pytestmark = pytest.mark.skipif(CORPUS is None, reason="the corpus (../shared/corpus) is not here")

STAND_INS = {
    "trl-internal-testing/tiny-Qwen2ForCausalLM-2.5": {"model_type": "qwen2", "architectures": ["Qwen2ForCausalLM"]},
    "trl-internal-testing/tiny-Qwen2ForSequenceClassification-2.5": {
        "model_type": "qwen2", "architectures": ["Qwen2ForSequenceClassification"], "num_labels": 1},
    "trl-internal-testing/tiny-GptOssForCausalLM": {
        "model_type": "gpt_oss", "architectures": ["GptOssForCausalLM"], "num_local_experts": 4,
        "num_experts_per_tok": 2},
    "trl-internal-testing/tiny-Qwen3MoeForCausalLM": {
        "model_type": "qwen3_moe", "architectures": ["Qwen3MoeForCausalLM"], "num_experts": 4,
        "num_experts_per_tok": 2, "head_dim": 128},
    "Qwen/Qwen3-4B-Instruct-2507": {"model_type": "qwen3", "architectures": ["Qwen3ForCausalLM"]},
}


@pytest.fixture()
def stand_in_cache(tmp_path_factory, monkeypatch):
    from huggingface_hub import constants

    hf = tmp_path_factory.mktemp("hf-stand-ins")
    for repo_id, config in STAND_INS.items():
        add_to_hf_cache(hf, repo_id, {"config.json": json.dumps({**config, **TINY_SHAPE})}, commit="1" * 40)
    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(hf))
    return hf


def _copy(tmp: Path, project: str, files: list[str]) -> Path:
    for rel in files:
        dst = tmp / rel
        dst.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(CORPUS / project / rel, dst)
    return tmp


def _pinned(found: list[dict]) -> list[tuple]:
    return [(f["path"], f["line"], f["column"], f["code"], f["subject"]) for f in found]


TRL_NOTEBOOKS = ["examples/notebooks/sft_qwen_vl.ipynb", "examples/notebooks/grpo_trl_lora_qlora.ipynb",
                 "examples/notebooks/sft_nemotron_3.ipynb"]


def test_trl_notebooks_with_pip_cells_are_linted(tmp_path, stand_in_cache):
    """``!pip install ...`` cells and a cell with a real syntax error (a missing comma in cell 32)
    no longer hide the notebook: its config is found, the broken cell is one note."""
    found = lint(_copy(tmp_path, "trl", TRL_NOTEBOOKS), ".")
    assert _pinned(found) == [
        ("examples/notebooks/grpo_trl_lora_qlora.ipynb", 403, 20, "PFT901", None),
        ("examples/notebooks/sft_nemotron_3.ipynb", 342, 20, "PFT901", None),
        ("examples/notebooks/sft_qwen_vl.ipynb", 189, 20, "PFT901", None),
        ("examples/notebooks/sft_qwen_vl.ipynb", 483, 25, "PFT906", None),
    ]
    assert [f["model_source"] for f in found[:3]] == [
        "model= of GRPOTrainer() at cell 32, line 3",
        "AutoModelForCausalLM.from_pretrained() at cell 17, line 10",
        "Qwen3VLForConditionalGeneration.from_pretrained() at cell 12, line 6",
    ]
    assert found[3]["message"].endswith("(cell 32, line 5)") and "comma" in found[3]["message"]
    assert all(f["severity"] == "info" for f in found)


def test_trl_tests_against_their_tiny_models(tmp_path, stand_in_cache):
    files = ["tests/test_dpo_trainer.py", "tests/test_reward_trainer.py", "examples/scripts/rloo.py"]
    found = lint(_copy(tmp_path, "trl", files), ".")
    # among the configs without a finding: target_parameters=["mlp.experts.down_proj",
    # "mlp.experts.gate_up_proj"] on GptOss (line 734), checked against its fused expert parameters
    right = [
        ("examples/scripts/rloo.py", 88, 21, "PFT901", None),  # Qwen/Qwen3-0.6B is not in the cache
        # lm_head in target_modules, on purpose: the test expects DPOTrainer to refuse it
        ("tests/test_dpo_trainer.py", 929, 49, "PFT104", "lm_head"),
        # `**({"ensure_weight_tying": True} if <peft version test> else {})`: either key set, read as such
        ("tests/test_dpo_trainer.py", 930, 40, "PFT904", "ensure_weight_tying"),
        # LoraConfig() on a sequence classifier without task_type: the head `score` stays frozen
        ("tests/test_reward_trainer.py", 386, 23, "PFT310", "task_type"),
        ("tests/test_reward_trainer.py", 462, 25, "PFT310", "task_type"),
        # RewardTrainer(model="<id>") loads AutoModelForSequenceClassification; its LoraConfig()
        # has no task_type, so the new, randomly initialised head `score` stays frozen (TRL's own
        # docstring asks for modules_to_save=["score"])
        ("tests/test_reward_trainer.py", 327, 25, "PFT310", "task_type"),
        ("tests/test_reward_trainer.py", 425, 25, "PFT310", "task_type"),
        ("tests/test_reward_trainer.py", 895, 25, "PFT310", "task_type"),
        # ... and here LoRA goes on `score`, whose base weights the adapter does not save
        ("tests/test_reward_trainer.py", 358, 25, "PFT310", "task_type"),
        # PEFT rewrites the expert names onto the fused parameters, nothing lost: a note
        ("tests/test_reward_trainer.py", 358, 52, "PFT109", "gate_proj"),
    ]
    assert sorted(_pinned(found)) == sorted(right + KNOWN_FALSE["trl"])
    by_line = {(f["line"], f["code"]): f for f in found}
    assert by_line[(929, "PFT104")]["model"] == "trl-internal-testing/tiny-Qwen2ForCausalLM-2.5"
    assert by_line[(929, "PFT104")]["model_source"] == "model= of DPOTrainer() at line 933"
    assert by_line[(386, "PFT310")]["model_source"] == "AutoModelForSequenceClassification.from_pretrained() at line 378"
    assert by_line[(462, "PFT310")]["model"] == "trl-internal-testing/tiny-Qwen2ForSequenceClassification-2.5"
    sites = json.loads(run_cli(["check", "--show-configs", "--format", "json", "."], tmp_path)[1])
    moe = next(s for s in sites if (s["path"], s["line"]) == ("tests/test_dpo_trainer.py", 734))
    assert moe["checked"] and moe["model"] == "trl-internal-testing/tiny-GptOssForCausalLM"
    assert moe["model_source"] == "model= of DPOTrainer() at line 730"
    assert (len(sites), sum(s["checked"] for s in sites)) == COVERAGE


def test_llamafactory_yaml_script_and_shell(tmp_path, stand_in_cache):
    files = ["examples/train_lora/qwen3_lora_sft.yaml", "examples/train_lora/qwen3_lora_sft.sh",
             "scripts/loftq_init.py"]
    _copy(tmp_path, "llamafactory", files)
    found = lint(tmp_path, ".")
    right = [
        ("scripts/loftq_init.py", 52, 19, "PFT901", None),  # the model is a required argument
        ("scripts/loftq_init.py", 55, 11, "PFT904", "r"),
        ("scripts/loftq_init.py", 56, 20, "PFT904", "lora_alpha"),
        ("scripts/loftq_init.py", 57, 22, "PFT904", "lora_dropout"),
        ("scripts/loftq_init.py", 58, 24, "PFT904", "target_modules"),
        ("scripts/loftq_init.py", 60, 22, "PFT904", "loftq_config"),
        # the Qwen3 stand-in has TINY_SHAPE (hidden_size 8): lora_rank 8 is not low-rank on it
        ("examples/train_lora/qwen3_lora_sft.yaml", 9, 12, "PFT312", "r"),
        ("examples/train_lora/qwen3_lora_sft.sh", 13, 17, "PFT312", "r"),
    ]
    assert sorted(_pinned(found)) == sorted(right + KNOWN_FALSE["llamafactory"])
    # lora_target: all on Qwen3 is clean, and it was checked against the model
    code, out = run_cli(["check", "--show-configs", "examples/train_lora/qwen3_lora_sft.yaml"], tmp_path)
    assert out.splitlines()[0].startswith("examples/train_lora/qwen3_lora_sft.yaml:")
    assert "checked against Qwen/Qwen3-4B-Instruct-2507 (`model_name_or_path`" in out.splitlines()[0]
    assert out.splitlines()[-1] == "1 config, 1 checked (100 %)."
    # the shell script names its model through a variable (MODEL_PATH=...), so it is checked too
    code, out = run_cli(["check", "--show-configs", "examples/train_lora/qwen3_lora_sft.sh"], tmp_path)
    assert out.splitlines()[-1] == "1 config, 1 checked (100 %).", out


COVERAGE = (16, 15)  # (configs, checked) in the three TRL files: all but rloo.py

KNOWN_FALSE = {
    "trl": [
    ],
    "llamafactory": [],
}
