"""Configs applied to nn.Module classes defined in the linted code: the engine reads the class
statically (``ModelRef(library="local")``), and what peftlint says PEFT does must be what
``peft.get_peft_model`` does on the same class built for real on the meta device."""

from __future__ import annotations

import pytest
from support.claims import said_by
from support.custom_models import line_of, lint_local, real_model
from support.lintutil import lint, run_cli
from support.oracle import peft_outcome, peftlint_outcome, wrapped_parameters

MODELS = '''\
from collections import OrderedDict

import torch
import torch.nn as nn
from transformers.pytorch_utils import Conv1D
from peft import IA3Config, LoHaConfig, LoraConfig, get_peft_model


class Classifier(nn.Module):
    def __init__(self, bias=True):
        super().__init__()
        self.fc_in = nn.Linear(6, 12, bias=bias)
        self.act = nn.ReLU()
        self.dropout = nn.Dropout(0.1)
        self.fc_out = nn.Linear(12, 3, bias=bias)
        self.log_probs = nn.LogSoftmax(dim=-1)


class ConvNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.stem = nn.Conv2d(3, 8, 3)
        self.grouped = nn.Conv2d(8, 8, 3, groups=4)
        self.bn = nn.BatchNorm2d(8)
        self.temporal = nn.Conv1d(4, 6, 1)
        self.volume = nn.Conv3d(2, 4, 3)
        self.head = nn.Linear(8, 2)


class TokenModel(nn.Module):
    def __init__(self):
        super().__init__()
        self.tokens = nn.Embedding(40, 8)
        self.qkv = Conv1D(24, 8)
        self.norm = nn.LayerNorm(8)
        self.lm = nn.Linear(8, 40, bias=False)


class Stacks(nn.Module):
    def __init__(self):
        super().__init__()
        self.plain = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Sequential(nn.Linear(8, 4)))
        self.named = nn.Sequential(OrderedDict([("up", nn.Linear(4, 16)), ("down", nn.Linear(16, 4))]))
        self.heads = nn.ModuleDict({"sentiment": nn.Linear(4, 2), "topic": nn.Linear(4, 7)})
        self.towers = nn.ModuleDict(dict(left=nn.Linear(4, 4), right=nn.Conv1d(4, 4, 1)))


class Block(nn.Module):
    def __init__(self, dim):
        super().__init__()
        self.attn = nn.MultiheadAttention(dim, 2)
        self.up = nn.Linear(dim, 4 * dim)
        self.down = nn.Linear(4 * dim, dim)


class Encoder(nn.Module):
    def __init__(self, dim=8, depth=3):
        super().__init__()
        self.embed = nn.Embedding(20, dim)
        self.blocks = nn.ModuleList([Block(dim) for _ in range(depth)])
        self.out = nn.Linear(dim, 2)


class Experts(nn.Module):
    def __init__(self, n=4, d=6):
        super().__init__()
        self.gate_up = nn.Parameter(torch.empty(n, d, 2 * d))
        self.router = nn.Linear(d, n)


class MoE(nn.Module):
    def __init__(self):
        super().__init__()
        self.moe = Experts()
        self.proj = nn.Linear(6, 6)
'''

CASES = [
    ("Classifier", "LoraConfig", {"target_modules": ["fc_in"]}),
    ("Classifier", "LoraConfig", {"target_modules": ["fc_in", "fc_outt"]}),
    ("Classifier", "LoraConfig", {"target_modules": ["fcin", "fc_outt"]}),
    ("Classifier", "LoraConfig", {"target_modules": "fc_in"}),
    ("Classifier", "LoraConfig", {"target_modules": r".*\.fc_.*"}),
    ("Classifier", "LoraConfig", {"target_modules": r"fc_.*"}),
    ("Classifier", "LoraConfig", {"target_modules": "all-linear"}),
    ("Classifier", "LoraConfig", {"target_modules": ["fc_in", "dropout"]}),
    ("Classifier", "LoraConfig", {"target_modules": ["act"]}),
    ("Classifier", "LoraConfig", {}),
    ("Classifier", "LoraConfig", {"target_modules": ["fc_in", "fc_out"], "exclude_modules": ["fc_out"]}),
    ("Classifier", "IA3Config", {"target_modules": ["fc_in", "fc_out"], "feedforward_modules": ["fc_out"]}),
    ("ConvNet", "LoraConfig", {"target_modules": ["stem", "grouped", "temporal", "volume"]}),
    ("ConvNet", "LoraConfig", {"target_modules": ["bn", "head"]}),
    ("ConvNet", "LoHaConfig", {"target_modules": ["stem", "volume"]}),
    ("ConvNet", "LoraConfig", {"target_modules": "all-linear"}),
    ("TokenModel", "LoraConfig", {"target_modules": ["tokens", "qkv", "lm"]}),
    ("TokenModel", "LoraConfig", {"target_modules": ["norm"]}),
    ("TokenModel", "LoraConfig", {"target_modules": "all-linear"}),
    ("Stacks", "LoraConfig", {"target_modules": ["plain"]}),
    ("Stacks", "LoraConfig", {"target_modules": ["0", "up", "sentiment"]}),
    ("Stacks", "LoraConfig", {"target_modules": ["heads"]}),
    ("Stacks", "LoraConfig", {"target_modules": ["right", "plain.2.0"]}),
    ("Encoder", "LoraConfig", {"target_modules": ["up", "down"]}),
    ("Encoder", "LoraConfig", {"target_modules": ["attn", "embed"]}),
    ("Encoder", "LoraConfig", {"target_modules": ["attn"], "use_dora": True}),
    ("Encoder", "LoraConfig", {"target_modules": ["up"], "layers_to_transform": [0, 2], "layers_pattern": "blocks"}),
    ("Encoder", "LoraConfig", {"target_modules": ["up"], "layers_to_transform": [5], "layers_pattern": "blocks"}),
    ("Encoder", "LoraConfig", {"target_modules": ["blocks.1.up", "out"]}),
    ("MoE", "LoraConfig", {"target_modules": ["proj"], "target_parameters": ["moe.gate_up"]}),
    ("MoE", "LoraConfig", {"target_parameters": ["gate_up"]}),
]


def _config_src(config_class: str, kwargs: dict) -> str:
    return f"{config_class}({', '.join(f'{k}={v!r}' for k, v in kwargs.items())})"


@pytest.mark.parametrize("class_name, config_class, kwargs", CASES)
def test_verdict_and_adapted_modules_agree_with_peft(tmp_path, class_name, config_class, kwargs):
    import peft

    config = getattr(peft, config_class)(**kwargs)
    model = real_model(MODELS, f"{class_name}()")
    want_verdict, want_targeted, _ = peft_outcome(model, config)
    diags, outcome = lint_local(tmp_path, MODELS, class_name, _config_src(config_class, kwargs))
    assert outcome.inventory is not None and not outcome.skipped, outcome.skipped
    assert outcome.model == class_name
    t = outcome.ctx.targeting
    codes = {d.code for d in diags if d.severity.value == "error"}
    if t.mode == "parameters-only":  # no module is targeted: compare the wrapped parameters
        assert want_verdict == "ok" and not t.targeted
        fresh = real_model(MODELS, f"{class_name}()")
        assert set(t.parameters_targeted) == wrapped_parameters(peft.get_peft_model(fresh, config))
        return
    verdict, targeted = peftlint_outcome(t, outcome.inventory, config.peft_type.value)
    if "PFT103" in codes:  # e.g. DoRA on MultiheadAttention, which the oracle's kinds do not cover
        verdict, targeted = "unsupported", set()
    assert (verdict, targeted) == (want_verdict, want_targeted)
    if want_verdict == "unsupported":
        assert "PFT103" in codes
    if want_verdict == "no-default":
        assert "PFT106" in codes
    if want_verdict == "unmatched":
        assert codes & {"PFT101", "PFT102", "PFT301"}


@pytest.mark.parametrize("targets, code, fragment", [
    (["fc_in", "fc_outt"], "PFT101", "`fc_outt` matches no module of Classifier: PEFT ignores it silently"),
    (["fcin"], "PFT101", "`fcin` matches no module of Classifier: PEFT raises NoMatchingPeftModuleError"),
    (["fc_in", "dropout"], "PFT103", "matches 1 module of type Dropout"),
])
def test_messages_on_a_local_class(tmp_path, targets, code, fragment):
    diags, _ = lint_local(tmp_path, MODELS, "Classifier", f"LoraConfig(target_modules={targets!r})")
    assert any(d.code == code and fragment in d.message for d in diags), [d.message for d in diags]


def test_typo_suggests_the_class_s_own_name(tmp_path):
    diags, _ = lint_local(tmp_path, MODELS, "Encoder", "LoraConfig(target_modules=['up', 'dwn'])")
    [d] = [d for d in diags if d.code == "PFT101"]
    assert "did you mean `down`?" in d.message


def test_sequential_container_is_unsupported(tmp_path):
    diags, _ = lint_local(tmp_path, MODELS, "Stacks", "LoraConfig(target_modules=['named'])")
    [d] = [d for d in diags if d.code == "PFT103"]
    assert "type Sequential (a container of other modules)" in d.message
    assert "target its layers instead: `up`, `down`" in d.message


def test_mha_out_proj_is_a_silent_no_op(tmp_path):
    diags, _ = lint_local(tmp_path, MODELS, "Encoder", "LoraConfig(target_modules=['out_proj'])")
    assert [d.code for d in diags if d.code.startswith("PFT1")] == ["PFT103"]
    assert "forward reads out_proj.weight directly" in said_by(diags[0])


# --------------------------------------------------------------------------- partial trees
PARTIAL = MODELS + '''
from model_zoo import make_backbone


class Backboned(nn.Module):
    def __init__(self):
        super().__init__()
        self.backbone = make_backbone()
        self.head = nn.Linear(4, 2)
        self.drop = nn.Dropout(0.1)
'''


# findings that say a name matches nothing or an index does not exist
NOT_FOUND_CODES = {"PFT101", "PFT102", "PFT106", "PFT107", "PFT110", "PFT301", "PFT302", "PFT304", "PFT306", "PFT308",
                   "PFT311"}


def _real_backboned():
    import torch.nn as nn

    def make_backbone():
        backbone = nn.Module()
        backbone.layers = nn.ModuleList([nn.Module() for _ in range(2)])
        for layer in backbone.layers:
            layer.fc = nn.Linear(4, 4)
        backbone.q_proj = nn.Linear(4, 4)
        return backbone

    return real_model(PARTIAL.replace("from model_zoo import make_backbone\n", ""), "Backboned()",
                      {"make_backbone": make_backbone})


@pytest.mark.parametrize("kwargs", [
    {"target_modules": ["q_proj", "head"]},
    {"target_modules": ["q_proj"]},
    {"target_modules": r".*q_proj"},
    {"target_modules": ["head"], "modules_to_save": ["q_proj"], "exclude_modules": ["layers"]},
    {"target_modules": ["fc"], "layers_to_transform": [1], "layers_pattern": "layers"},
    {"target_modules": ["fc", "head"], "layers_to_transform": [3], "layers_pattern": "blocks"},
])
def test_names_that_could_live_in_an_unknown_subtree_are_not_reported(tmp_path, kwargs):
    import peft

    want_verdict, want_targeted, _ = peft_outcome(_real_backboned(), peft.LoraConfig(**kwargs))
    assert want_verdict == "ok"
    diags, outcome = lint_local(tmp_path, PARTIAL, "Backboned", _config_src("LoraConfig", kwargs))
    assert outcome.inventory.unknown == ["backbone"]
    assert not {d.code for d in diags} & NOT_FOUND_CODES, [d.message for d in diags]
    assert set(outcome.ctx.targeting.targeted) <= want_targeted
    assert outcome.model_note.startswith("built statically from train.py; 1 subtree unknown: `backbone`")


def test_known_errors_are_still_reported_on_a_partial_tree(tmp_path):
    import peft

    config = peft.LoraConfig(target_modules=["q_proj", "drop"])
    assert peft_outcome(_real_backboned(), config)[0] == "unsupported"
    diags, _ = lint_local(tmp_path, PARTIAL, "Backboned", "LoraConfig(target_modules=['q_proj', 'drop'])")
    assert [d.code for d in diags] == ["PFT103"]  # the known Dropout raises whatever the backbone holds


def test_unreadable_class_is_a_pft901_note(tmp_path):
    source = MODELS + "\nfrom transformers import PreTrainedModel\n\nclass Remote(PreTrainedModel):\n    pass\n"
    diags, outcome = lint_local(tmp_path, source, "Remote", "LoraConfig(target_modules=['q'])")
    assert outcome.inventory is None
    [d] = diags
    assert d.code == "PFT901"
    assert d.message.startswith("base model 'Remote' could not be read statically")
    assert "Remote is built from code peftlint cannot read statically: Remote derives from " \
           "transformers.PreTrainedModel" in d.detail


# --------------------------------------------------------------------------- users' own hint
def test_hint_comment_names_a_local_class(tmp_path):
    text = MODELS + "\n\n# peftlint: model=local:Stacks\nconfig = LoraConfig(target_modules=['named', 'topik'])\n"
    (tmp_path / "train.py").write_text(text)
    found = {(d["code"], d["line"]) for d in lint(tmp_path, ".")}
    line = line_of(text, "config = LoraConfig")
    assert found == {("PFT103", line), ("PFT101", line)}


def test_model_option_names_a_local_class(tmp_path):
    text = MODELS + "\n\nconfig = LoraConfig(target_modules=['fc_out', 'fc2'])\n"
    (tmp_path / "train.py").write_text(text)
    found = [d for d in lint(tmp_path, "--model", "local:Classifier", ".")]
    assert [(d["code"], d["subject"]) for d in found] == [("PFT101", "fc2")]


def test_text_summary_says_the_tree_is_partial(tmp_path):
    text = PARTIAL + "\n\n# peftlint: model=local:Backboned\nconfig = LoraConfig(target_modules=['q_proj'])\n"
    (tmp_path / "train.py").write_text(text)
    code, out = run_cli(["check", "."], tmp_path)
    assert code == 0, out
    line = line_of(text, "config = LoraConfig")
    assert (f"  LoraConfig at train.py:{line}: checked against Backboned (built statically from train.py; 1 subtree "
            "unknown: `backbone` (`model_zoo.make_backbone()` (line") in out
    assert "names that could be there are not reported" in out


def test_block_coverage_is_not_judged_when_a_block_is_unknown(tmp_path):
    import peft

    source = PARTIAL + '''

class Mixed(nn.Module):
    def __init__(self):
        super().__init__()
        self.blocks = nn.ModuleList([Block(8), Block(8), make_backbone()])
'''

    def make_backbone():
        import torch.nn as nn

        block = nn.Module()
        block.up = nn.Linear(8, 8)
        return block

    real = real_model(source.replace("from model_zoo import make_backbone\n", ""), "Mixed()",
                      {"make_backbone": make_backbone})
    config = peft.LoraConfig(target_modules=["blocks.0.up", "blocks.1.up", "blocks.2.up"])
    assert peft_outcome(real, config)[1] == {"blocks.0.up", "blocks.1.up", "blocks.2.up"}
    diags, outcome = lint_local(tmp_path, source, "Mixed", "LoraConfig(target_modules=['blocks.0.up', 'blocks.1.up'])")
    assert outcome.inventory.layer_lists == {"blocks": 3} and outcome.inventory.unknown == ["blocks.2"]
    assert [d.code for d in diags] == []  # PFT107 would say "reaches only blocks 0-1 of 3": not known here
    complete, _ = lint_local(tmp_path, MODELS, "Encoder", "LoraConfig(target_modules=['blocks.0.up', 'blocks.1.up'])")
    assert {d.code for d in complete} == {"PFT107"}


@pytest.mark.parametrize("config_src, code", [
    ("LoraConfig()", "PFT106"),
    ("IA3Config(target_modules=['fc_in'])", "PFT106"),
])
def test_no_defaults_for_a_custom_model_unless_its_config_is_unknown(tmp_path, config_src, code):
    import peft

    config = eval(config_src, vars(peft))
    assert peft_outcome(real_model(MODELS, "Classifier()"), config)[0] == "no-default"
    diags, _ = lint_local(tmp_path, MODELS, "Classifier", config_src)
    assert [d.code for d in diags] == [code]
    with_config = MODELS + "\n\nclass Configured(Classifier):\n    def __init__(self, config=None):\n" \
                           "        super().__init__()\n        self.config = config\n"
    diags, outcome = lint_local(tmp_path, with_config, "Configured", config_src)
    assert outcome.inventory.model_type == "" and [d.code for d in diags] == []


def test_an_alias_can_name_a_local_class(tmp_path):
    (tmp_path / "pyproject.toml").write_text('[tool.peftlint]\nmodels = { mlp = "local:Classifier" }\n')
    text = MODELS + "\n\n# peftlint: model=mlp\nconfig = LoraConfig(target_modules=['fc_in', 'fc_1'])\n"
    (tmp_path / "train.py").write_text(text)
    assert [(d["code"], d["subject"]) for d in lint(tmp_path, ".")] == [("PFT101", "fc_1")]
