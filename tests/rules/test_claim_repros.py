"""Issue 21's repros of claims about PEFT (causes 4, 5, 7, 8): each finding's message is what peft
does in that very situation, shown by running peft on the same class or bundled model."""

from __future__ import annotations

import textwrap
import warnings

import pytest
from support.claims import said_by
from support.custom_models import lint_local, real_model
from support.lintutil import lint

LSTM_NET = '''\
import torch
import torch.nn as nn
from peft import LoraConfig, GraloraConfig, TrainableTokensConfig, get_peft_model


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.lin0 = nn.Linear(10, 12)
        self.lstm = nn.LSTM(12, 12)
        self.param = nn.Parameter(torch.ones(12, 12))
        self.lin1 = nn.Linear(12, 12)
'''


def _peft_raises(config) -> str:
    from peft import get_peft_model

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            get_peft_model(real_model(LSTM_NET, "Net()"), config)
        except Exception as exc:  # noqa: BLE001 - the text is what is compared
            return " ".join(str(exc).split())
    return ""


def _write(tmp_path, text: str) -> None:
    (tmp_path / "train.py").write_text(textwrap.dedent(text), encoding="utf-8")


# -- cause 4: custom layer registration ----------------------------------------------------------

REGISTERED = LSTM_NET + '''

class LoraLSTM(nn.Module):
    def __init__(self, base_layer, adapter_name, config, **kwargs):
        super().__init__()
        self.base_layer = base_layer
'''


def test_registered_custom_module_is_not_unsupported(tmp_path):
    text = REGISTERED + textwrap.dedent('''
        config = LoraConfig(target_modules=["lstm", "lin1"])
        config._register_custom_module({nn.LSTM: LoraLSTM})
        model = get_peft_model(Net(), config)
        ''')
    # peft wraps the LSTM with the registered class
    import peft
    from support.custom_models import real_model as build

    config = peft.LoraConfig(target_modules=["lstm", "lin1"])
    ns = {}
    exec(compile(REGISTERED, "<registered>", "exec"), ns)
    config._register_custom_module({ns["nn"].LSTM: ns["LoraLSTM"]})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        pm = peft.get_peft_model(build(REGISTERED, "Net()"), config)
    assert type(pm.base_model.model.lstm).__name__ == "LoraLSTM"
    diags, _ = lint_local(tmp_path, REGISTERED, "Net", 'LoraConfig(target_modules=["lstm", "lin1"])')
    assert [d.code for d in diags] == ["PFT103"]  # without the registration peft refuses the LSTM
    _write(tmp_path, text)
    assert lint(tmp_path, ".") == []


# -- cause 5: the quoted text is what peft raises ------------------------------------------------


@pytest.mark.parametrize("config_src, code, quote", [
    ('LoraConfig(target_modules=["lin1"], target_parameters=["param"])', "PFT311",
     "Targeting an nn.Parameter on the top-level module is not supported (parameter 'param')"),
    ('LoraConfig(target_modules=["lin0", "lin1"], exclude_modules=["lin0", "lin1", "lstm"])', "PFT110",
     "All modules were excluded"),
    ('LoraConfig(target_modules=["lin0"], exclude_modules=["lin0"])', "PFT110",
     "No modules were targeted for adaptation"),
    ('LoraConfig(target_modules=["lin2"], modules_to_save=["lin1"])', "PFT101",
     "No modules were targeted for adaptation"),
    ('LoraConfig(target_modules=["lin2"])', "PFT101", "not found in the base model"),
    ('TrainableTokensConfig(token_indices=[0])', "PFT106", "not found in the base model"),
    ('GraloraConfig(r=6, gralora_k=3, target_modules=["lin0"])', "PFT103", "in_features should be divisible by gralora_k, but got 10 and 3"),
])
def test_quoted_text_is_what_peft_raises(tmp_path, config_src, code, quote):
    import peft

    raised = _peft_raises(eval(config_src, vars(peft)))
    assert quote.replace("...", "") in raised
    diags, _ = lint_local(tmp_path, LSTM_NET, "Net", config_src)
    assert [d.code for d in diags if d.severity.value == "error"] == [code], [(d.code, d.message) for d in diags]
    [d] = [d for d in diags if d.code == code]
    assert quote in said_by(d)  # the one-line message names the error, its detail quotes peft


# -- cause 7: intent -----------------------------------------------------------------------------


def test_inside_pytest_raises_findings_are_notes(tmp_path):
    _write(tmp_path, '''\
        import pytest
        from peft import LoraConfig, get_peft_model
        from transformers import AutoModelForCausalLM


        def test_bad_target():
            model = AutoModelForCausalLM.from_pretrained("HuggingFaceTB/SmolLM2-135M")
            config = LoraConfig(target_modules=["not_there"])
            with pytest.raises(ValueError, match="not found"):
                get_peft_model(model, config)
        ''')
    [d] = lint(tmp_path, ".")
    assert (d["code"], d["severity"]) == ("PFT101", "info")
    assert d["message"].endswith('(expected: peft raises here as the enclosing `pytest.raises(ValueError, '
                                 'match="not found")` at line 9 expects)')


def test_outside_the_block_the_finding_stays_an_error(tmp_path):
    _write(tmp_path, '''\
        import pytest
        from peft import LoraConfig, get_peft_model
        from transformers import AutoModelForCausalLM


        def test_bad_target():
            model = AutoModelForCausalLM.from_pretrained("HuggingFaceTB/SmolLM2-135M")
            config = LoraConfig(target_modules=["not_there"])
            with pytest.raises(ValueError):
                int("x")
            get_peft_model(model, config)
        ''')
    [d] = lint(tmp_path, ".")
    assert (d["code"], d["severity"]) == ("PFT101", "error")


# -- cause 8: axolotl's lora_target_linear on Mixtral (transformers 5) -----------------------------


def test_lora_target_linear_on_mixtral_leaves_the_experts_frozen(tmp_path):
    from peft import LoraConfig, get_peft_model
    from support.oracle import fresh, wrapped_parameters

    (tmp_path / "train.yml").write_text("base_model: mistralai/Mixtral-8x7B-v0.1\nadapter: lora\nlora_r: 8\n"
                                        "lora_target_linear: true\n", encoding="utf-8")
    [d] = lint(tmp_path, ".")
    assert d["code"] == "PFT109"
    assert '"lora_target_linear: true" reaches only the 128 nn.Linear modules, so the experts stay frozen' in d["detail"]
    assert "experts of each layer are fused 3-D parameters no target reaches, so they stay frozen" in d["message"]
    # what axolotl passes: the leaf names of every Linear but lm_head; peft adapts no expert parameter
    model = fresh("mistralai/Mixtral-8x7B-v0.1", "MixtralForCausalLM")
    leaves = sorted({n.rsplit(".", 1)[-1] for n, m in model.named_modules()
                     if type(m).__name__ == "Linear" and n != "lm_head"})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        pm = get_peft_model(model, LoraConfig(r=8, target_modules=leaves))
    assert len(pm.base_model.targeted_module_names) == 128
    assert not [p for p in wrapped_parameters(pm) if ".experts." in p]
    assert not [n for n in pm.base_model.targeted_module_names if ".experts" in n]
