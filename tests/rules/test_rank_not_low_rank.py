"""PFT312 reports a written rank at or above a layer's smaller dimension on models built from their
config, never on a model class read from the linted code (a test suite's toy model), and its
remedy exists: a layer with one output gets "leave it out", not "a rank below 1"."""

from __future__ import annotations

from support.custom_models import lint_local
from support.lintutil import lint

TOY = '''\
import torch.nn as nn
from peft import LoraConfig, get_peft_model


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.lin0 = nn.Linear(10, 20)
        self.lin1 = nn.Linear(20, 2)
'''


def test_toy_model_of_the_linted_code_is_not_reported(tmp_path):
    findings, outcome = lint_local(tmp_path, TOY, "Net", 'LoraConfig(r=8, target_modules=["lin0", "lin1"])')
    assert outcome.inventory is not None and outcome.inventory.total_parameters is None  # read from code
    assert [d.code for d in findings if d.code == "PFT312"] == []


def test_a_gate_with_one_output_is_told_to_stay_out(tmp_path):
    (tmp_path / "train.py").write_text(
        "from peft import LoraConfig\n\n# peftlint: model=Qwen/Qwen1.5-MoE-A2.7B\n"
        'config = LoraConfig(r=32, target_modules=["shared_expert_gate", "q_proj"])\n')
    [d] = [d for d in lint(tmp_path, ".") if d["code"] == "PFT312"]
    assert "`shared_expert_gate`" in d["message"] and "2048->1" in d["message"]
    assert d["message"].endswith("leave these layers out (exclude_modules) or train them fully with modules_to_save")
    assert "rank below 1" not in d["message"]
