"""PFT210/PFT211 take peft's own word: configs peft rejects when they are built are reported with
peft's message on the argument it names, and values peft accepts give nothing (each case is shown
with the real peft)."""

from __future__ import annotations

import warnings

import pytest
from support.lintutil import lint

VALUE_CODES = ("PFT210", "PFT211")


def lint_config(tmp_path, body: str, imports: str = "LoraConfig", model: str | None = None) -> list[dict]:
    hint = f"# peftlint: model={model}\n" if model else ""
    (tmp_path / "train.py").write_text(f"from peft import {imports}\n\n{hint}config = {body}\n")
    return [d for d in lint(tmp_path, ".") if d["code"] in VALUE_CODES]


def peft_error(cls_name: str, **kwargs) -> str:
    import peft

    with pytest.raises(Exception) as info:
        getattr(peft, cls_name)(**kwargs)
    return " ".join(str(info.value).split())


@pytest.mark.parametrize("cls,kwargs,body,subject", [
    ("LoraConfig", {"layers_pattern": "model.layers", "target_modules": ["q_proj", "v_proj"]},
     'LoraConfig(layers_pattern="model.layers", target_modules=["q_proj", "v_proj"])', "layers_pattern"),
    ("AdaLoraConfig", {"use_dora": True, "total_step": 1},
     "AdaLoraConfig(use_dora=True, total_step=1)", None),
    ("LoraConfig", {"target_modules": ["lin0"], "kasa_config": 123},
     'LoraConfig(target_modules=["lin0"], kasa_config=123)', "kasa_config"),
    ("LoraConfig", {"init_lora_weights": "loftq"},
     'LoraConfig(init_lora_weights="loftq")', "init_lora_weights"),
    ("OFTConfig", {"r": 8, "target_modules": ["q_proj"]},
     'OFTConfig(r=8, target_modules=["q_proj"])', "r"),
])
def test_peft_rejects_at_construction(tmp_path, cls, kwargs, body, subject):
    message = peft_error(cls, **kwargs)
    found = lint_config(tmp_path, body, imports=cls)
    assert [(d["code"], d["severity"], d["subject"]) for d in found] == [("PFT211", "error", subject)]
    assert message in found[0]["message"] and "raises" in found[0]["message"]


def test_finding_points_at_the_named_argument(tmp_path):
    found = lint_config(tmp_path, 'LoraConfig(target_modules=["q"],\n    kasa_config=123)')
    assert (found[0]["line"], found[0]["column"]) == (4, 5)  # `kasa_config=123`, not the call
    found = lint_config(tmp_path, "AdaLoraConfig(use_dora=True, total_step=1)", imports="AdaLoraConfig")
    assert (found[0]["line"], found[0]["column"]) == (3, 10)  # no field named: the call


def test_peft_warning_is_a_warning(tmp_path):
    import peft

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        peft.LoraConfig(loftq_config={"loftq_bits": 4})
    [text] = [str(w.message) for w in caught if "loftq_config" in str(w.message)]
    found = lint_config(tmp_path, 'LoraConfig(target_modules=["q"], loftq_config={"loftq_bits": 4})')
    assert [(d["code"], d["severity"], d["subject"]) for d in found] == [("PFT211", "warning", "loftq_config")]
    assert text in found[0]["message"]


VALID = [
    ("LoraConfig", 'LoraConfig(target_modules=["lin"], init_lora_weights="loftq", loftq_config={"loftq_bits": 4})'),
    ("LoraConfig, LoftQConfig", 'LoraConfig(target_modules=["lin"], init_lora_weights="loftq", '
                                "loftq_config=LoftQConfig(loftq_bits=4))"),
    ("LoraConfig", 'LoraConfig(target_modules=["lin"], init_lora_weights="orthogonal")'),
    ("LoraConfig", 'LoraConfig(target_modules=["lin"], init_lora_weights="mica")'),
    ("LoraConfig", 'LoraConfig(target_modules=["lin"], init_lora_weights="pissa_niter_4")'),
    ("LoraConfig", 'LoraConfig(target_modules=["lin"], init_lora_weights="lora_ga")'),
    ("OFTConfig", 'OFTConfig(target_modules=["lin"], r=0, oft_block_size=8)'),
    ("OFTConfig", 'OFTConfig(target_modules=["lin"], r=8, oft_block_size=0)'),
]


@pytest.mark.parametrize("imports,body", VALID)
def test_valid_values_give_nothing(tmp_path, imports, body):
    assert lint_config(tmp_path, body, imports=imports) == []


@pytest.mark.parametrize("body", [b for _, b in VALID if "loftq" not in b])
def test_valid_values_work_in_peft(body):
    """The same configs, built by peft and applied to a one-layer model with get_peft_model."""
    import peft
    import torch

    class Net(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.lin = torch.nn.Linear(16, 16)

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = peft.get_peft_model(Net(), eval(body, vars(peft)))
    assert model.base_model.targeted_module_names == ["lin"]


def test_loftq_with_config_is_accepted_by_peft():
    import peft

    cfg = peft.LoraConfig(target_modules=["lin"], init_lora_weights="loftq", loftq_config={"loftq_bits": 4})
    assert cfg.init_lora_weights == "loftq"


def test_unknown_init_is_reported_with_peft_message(tmp_path):
    import peft
    import torch

    with pytest.raises(ValueError) as info:
        peft.get_peft_model(torch.nn.Sequential(torch.nn.Linear(8, 8)),
                            peft.LoraConfig(target_modules=["0"], init_lora_weights="gausian"))
    found = lint_config(tmp_path, 'LoraConfig(target_modules=["q"], init_lora_weights="gausian")')
    assert [(d["code"], d["subject"]) for d in found] == [("PFT210", "init_lora_weights")]
    assert str(info.value) in found[0]["message"] and "'orthogonal', 'mica'" in found[0]["message"]


def test_one_finding_for_a_value_peft_rejects(tmp_path):
    """task_type: PFT210 would say it too; peft's own check (PFT211) is the one reported."""
    found = lint_config(tmp_path, 'LoraConfig(target_modules=["q"], task_type="causal_lm")')
    assert [(d["code"], d["subject"]) for d in found] == [("PFT211", "task_type")]
    # with a computed argument the config is not built: PFT210 says it instead
    found = lint_config(tmp_path, 'LoraConfig(target_modules=["q"], task_type="causal_lm", r=len("ab"))')
    assert [(d["code"], d["subject"]) for d in found] == [("PFT210", "task_type")]


def test_dynamic_or_opaque_configs_are_not_built(tmp_path, monkeypatch):
    from peftlint.semantics import peft_check

    calls: list[str] = []
    real = peft_check._run_construct
    monkeypatch.setattr(peft_check, "_run_construct", lambda *a: calls.append(a[0]) or real(*a))
    for body in ('LoraConfig(target_modules=["q"], layers_pattern=PATTERN)',
                 'LoraConfig(target_modules=["q"], layers_pattern="x", **extra)',
                 'LoraConfig(target_modules=["q"], layers_patern="x")'):
        (tmp_path / "train.py").write_text(
            f"import os\nfrom peft import LoraConfig\n\nPATTERN = os.environ['P']\nextra = dict(os.environ)\nconfig = {body}\n")
        assert not [d for d in lint(tmp_path, "--no-cache", ".") if d["code"] == "PFT211"]
    assert calls == []
