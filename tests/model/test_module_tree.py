"""module_tree: the tree of an nn.Module class in the linted code, read without running it, must
be what torch builds (the classes are exec'd on the meta device and recorded like real models)."""

from __future__ import annotations

import textwrap

import pytest
from support.custom_models import (
    assert_known_part_agrees,
    assert_same_tree,
    line_of,
    real_model,
    static_tree,
)

HEADER = """\
import copy
import math
from collections import OrderedDict
from dataclasses import dataclass, field

import torch
import torch.nn as nn
from torch import nn as tnn
from torch.nn import Linear
from transformers.pytorch_utils import Conv1D

WIDTH = 12
DEPTH = 3
"""

MODELS = HEADER + '''

class TinyMLP(nn.Module):
    def __init__(self, bias=True, hidden=WIDTH):
        super().__init__()
        self.fc_in = nn.Linear(6, hidden, bias=bias)
        self.act = nn.GELU()
        self.dropout = nn.Dropout(p=0.2)
        self.fc_out = nn.Linear(hidden, 3, bias=bias)
        self.log_probs = nn.LogSoftmax(dim=-1)
        self.dtype = torch.float32


class ConvNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.stem = nn.Conv2d(3, 8, kernel_size=(3, 5), stride=2, padding=1)
        self.grouped = nn.Conv2d(8, 16, 3, groups=4, bias=False)
        self.bn = nn.BatchNorm2d(16)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.temporal = nn.Conv1d(in_channels=4, out_channels=6, kernel_size=1)
        self.volume = nn.Conv3d(2, 4, (1, 2, 3))
        self.flat = nn.Flatten()
        self.classifier = Linear(16, 10)


class TokenModel(nn.Module):
    def __init__(self, vocab=50, dim=8):
        super().__init__()
        self.tokens = nn.Embedding(vocab, dim, padding_idx=0)
        self.positions = tnn.Embedding(16, dim)
        self.norm = nn.LayerNorm(dim, eps=1e-6)
        self.proj = Conv1D(3 * dim, dim)
        self.lm = nn.Linear(dim, vocab, bias=False)
        self.lm.weight = self.tokens.weight


class Stacks(nn.Module):
    def __init__(self):
        super().__init__()
        self.plain = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Sequential(nn.Linear(8, 2), nn.Tanh()))
        self.named = nn.Sequential(OrderedDict([("up", nn.Linear(4, 16)), ("act", nn.SiLU()), ("down", nn.Linear(16, 4))]))
        self.heads = nn.ModuleDict({"sentiment": nn.Linear(4, 2), "topic": nn.Linear(4, 7)})
        self.towers = nn.ModuleDict(dict(left=nn.Linear(4, 4), right=nn.Conv1d(4, 4, 1)))
        layers = []
        for i, width in enumerate([4, 8]):
            layers.append(nn.Linear(width, width * 2))
            layers += [nn.ReLU()]
        self.built = nn.Sequential(*layers)


class Block(nn.Module):
    def __init__(self, dim, expand=4):
        super().__init__()
        self.norm = nn.LayerNorm(dim)
        self.attn = nn.MultiheadAttention(dim, num_heads=2, batch_first=True)
        self.up = nn.Linear(dim, dim * expand)
        self.down = nn.Linear(dim * expand, dim)


class Encoder(nn.Module):
    def __init__(self, dim=8, depth=DEPTH):
        super().__init__()
        self.blocks = nn.ModuleList([Block(dim) for _ in range(depth)])
        self.extra = nn.ModuleList()
        for i in range(2):
            self.extra.append(Block(dim, expand=2))
        self.final = nn.LayerNorm(dim)


class AttentionZoo(nn.Module):
    def __init__(self):
        super().__init__()
        self.self_attn = nn.MultiheadAttention(12, 3)
        self.cross_attn = nn.MultiheadAttention(8, 2, kdim=4, vdim=6, bias=False, add_bias_kv=True)
        self.gru = nn.GRU(4, 8, num_layers=2, bidirectional=True)
        self.lstm = nn.LSTM(input_size=4, hidden_size=8, proj_size=3)
        self.rnn = nn.RNN(4, 5, 1, "relu")


class RawParameters(nn.Module):
    def __init__(self, d_in=5, d_out=7):
        super().__init__()
        self.weight = nn.Parameter(torch.randn(d_out, d_in))
        self.bias = nn.Parameter(torch.zeros(d_out))
        self.register_parameter("scale", nn.Parameter(torch.ones(1)))
        self.register_buffer("steps", torch.zeros(1))
        self.experts = nn.Parameter(torch.empty((4, d_in, d_out)))
        self.bank = nn.ParameterList([nn.Parameter(torch.rand(2, 3)) for _ in range(2)])
        self.table = nn.ParameterDict({"a": nn.Parameter(torch.zeros(3))})


class ScaledLinear(nn.Linear):
    def __init__(self, d_in, d_out):
        super().__init__(d_in, d_out, bias=False)
        self.scale = 0.5


class Blocks(nn.ModuleList):
    def __init__(self, n):
        super().__init__([nn.Linear(2, 2) for _ in range(n)])
        self.append(nn.Linear(2, 3))


class UsesSubclasses(nn.Module):
    def __init__(self):
        super().__init__()
        self.blocks = Blocks(2)
        self.scaled = ScaledLinear(3, 3)
        self.scaled.reset_parameters()
        for block in self.blocks:
            block.weight.data.zero_()
        self.plain = nn.ModuleList([nn.Linear(2, 2) for _ in range(3)])
        self.pair = nn.Sequential(*self.plain[1:])
        self.ordered = nn.Sequential(OrderedDict([("a", nn.ReLU()), ("b", nn.Tanh()), ("c", nn.GELU())]))[1:]


class Base(nn.Module):
    def __init__(self, dim):
        super().__init__()
        self.inp = nn.Linear(dim, dim)


class Derived(Base):
    def __init__(self, dim=6):
        super().__init__(dim)
        self.out = ScaledLinear(dim, 2)
        self.sub = nn.Module()
        self.sub.q_proj = nn.Linear(dim, dim)
        self.sub.k_proj = nn.Linear(dim, dim)


class Sharing(nn.Module):
    def __init__(self):
        super().__init__()
        shared = nn.Linear(4, 4)
        self.first = shared
        self.second = shared
        self.repeated = nn.ModuleList([nn.Linear(2, 2)] * 3)
        self.copied = nn.ModuleList([copy.deepcopy(shared) for _ in range(2)])


class Dynamic(nn.Module):
    def __init__(self, n=2, use_norm=True, kind="mlp"):
        super().__init__()
        for i in range(n):
            self.add_module(f"branch_{i}", nn.Linear(3, 3))
            setattr(self, f"gate{i}", nn.Linear(3, 1))
        if use_norm:
            self.norm = nn.LayerNorm(3)
        else:
            self.norm = nn.Identity()
        self.mixer = nn.Linear(3, 3) if kind == "mlp" else nn.Conv1d(3, 3, 1)
        self.scale = math.sqrt(3)
        del self.gate1
        self.head = self._make_head(3, [4, 2])
        self.tail = make_tail(2)

    def _make_head(self, d, widths):
        return nn.Sequential(*[nn.Linear(a, b) for a, b in zip([d] + widths[:-1], widths)])


def make_tail(d, depth=2):
    return nn.Sequential(*[nn.Linear(d, d) for _ in range(depth)], nn.Softmax(dim=-1))


@dataclass
class Settings:
    dim: int = 8
    layers: int = 2
    bias: bool = False
    vocab: int = 30
    extra: list = field(default_factory=list)


class SettingsBlock(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.ln = nn.LayerNorm(cfg.dim, bias=cfg.bias)
        self.c_attn = Conv1D(3 * cfg.dim, cfg.dim)
        self.mlp = nn.ModuleDict(dict(c_fc=nn.Linear(cfg.dim, 4 * cfg.dim, bias=cfg.bias),
                                      c_proj=nn.Linear(4 * cfg.dim, cfg.dim, bias=cfg.bias)))


class SettingsModel(nn.Module):
    def __init__(self, cfg=Settings(layers=3)):
        super().__init__()
        self.transformer = nn.ModuleDict(dict(
            wte=nn.Embedding(cfg.vocab, cfg.dim),
            h=nn.ModuleList([SettingsBlock(cfg) for _ in range(cfg.layers)]),
            ln_f=nn.LayerNorm(cfg.dim, bias=cfg.bias),
        ))
        self.lm_head = nn.Linear(cfg.dim, cfg.vocab, bias=False)
        self.transformer.wte.weight = self.lm_head.weight
        self.apply(self._init_weights)
        for name, p in self.named_parameters():
            if name.endswith("c_proj.weight"):
                torch.nn.init.normal_(p, mean=0.0, std=0.02 / math.sqrt(2 * cfg.layers))

    def _init_weights(self, module):
        if isinstance(module, nn.Linear):
            torch.nn.init.normal_(module.weight, mean=0.0, std=0.02)


class Norms(nn.Module):
    def __init__(self):
        super().__init__()
        self.group = nn.GroupNorm(2, 4)
        self.rms = nn.RMSNorm(8)
        self.instance = nn.InstanceNorm1d(3, affine=True)
        self.frozen_ln = nn.LayerNorm((2, 3), elementwise_affine=False)
        self.drop2d = nn.Dropout2d()
        self.up = nn.ConvTranspose2d(4, 8, 3, groups=2)
        self.bag = nn.EmbeddingBag(10, 3)
        self.prelu = nn.PReLU(3)
        self.loss = nn.CrossEntropyLoss()


class HomeMadeRMSNorm(nn.Module):
    def __init__(self, dim):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(dim))


class ClassAttributes(nn.Module):
    hidden = 6

    def __init__(self):
        super().__init__()
        self.norm = HomeMadeRMSNorm(self.hidden)
        self.proj = nn.Linear(self.hidden, self.hidden * 2)
        del self.proj
        self.proj = nn.Linear(1, 1)
        self.names = ["not", "modules"]
        self.not_registered = [nn.Linear(2, 2)]
        self.lookup = {"k": nn.Linear(2, 2)}
'''

ALL = [
    "TinyMLP", "ConvNet", "TokenModel", "Stacks", "Block", "Encoder", "AttentionZoo", "RawParameters", "Derived",
    "Sharing", "Dynamic", "SettingsModel", "Norms", "ClassAttributes", "UsesSubclasses",
]
CALLS = {"Block": "Block(8)"}


@pytest.mark.parametrize("name", ALL)
def test_static_tree_is_what_torch_builds(tmp_path, name):
    source = MODELS + f"\nmodel = {CALLS.get(name, name + '()')}\n"
    tree = static_tree(tmp_path, source, name)
    assert_same_tree(tree, real_model(source, "model"))
    assert tree.inventory.is_pretrained_model is False
    assert tree.inventory.model_class == name
    assert tree.inventory.model_id == "train.py"


@pytest.mark.parametrize("call", ["TinyMLP(bias=False)", "TinyMLP(False, 4)", "Encoder(depth=1)",
                                  "Dynamic(n=3, use_norm=False, kind='conv')",
                                  "SettingsModel(Settings(dim=4, layers=1, bias=True))"])
def test_call_site_arguments(tmp_path, call):
    source = MODELS + f"\n\ndef main():\n    model = {call}\n    return model\n"
    name = call.split("(")[0]
    tree = static_tree(tmp_path, source, name, line=line_of(source, f"model = {call}"))
    assert_same_tree(tree, real_model(source, call))


def test_call_site_without_line_uses_the_only_call(tmp_path):
    source = MODELS + "\nnet = TinyMLP(hidden=5)\n"
    tree = static_tree(tmp_path, source, "TinyMLP")
    assert_same_tree(tree, real_model(source, "net"))


def test_different_calls_leave_arguments_unknown(tmp_path):
    source = MODELS + "\na = TinyMLP(bias=False)\nb = TinyMLP()\n"
    tree = static_tree(tmp_path, source, "TinyMLP")
    # whether the Linear layers have a bias is not known, so neither are those subtrees
    assert tree.inventory.unknown == ["fc_in", "fc_out"]
    assert_known_part_agrees(tree, real_model(source, "a"))


def test_embedding_methods_and_peft_defaults(tmp_path):
    source = HEADER + '''
class WithEmbeddings(nn.Module):
    def __init__(self):
        super().__init__()
        self.embed_in = nn.Embedding(10, 4)
        self.body = nn.Linear(4, 4)
        self.unembed = nn.Linear(4, 10)

    def get_input_embeddings(self):
        return self.embed_in

    def get_output_embeddings(self):
        return self.unembed


class Plain(nn.Module):
    def __init__(self):
        super().__init__()
        self.score = nn.Linear(4, 2)
'''
    got = static_tree(tmp_path, source, "WithEmbeddings").inventory
    assert (got.input_embedding, got.output_embedding) == ("embed_in", "unembed")
    assert got.model_type == "custom"  # peft.utils.constants.DUMMY_MODEL_CONFIG
    assert got.default_targets == {"OSF": "all-linear", "TRAINABLE_TOKENS": "embed_in"}
    plain = static_tree(tmp_path, source, "Plain").inventory
    assert plain.input_embedding is None and plain.seq_cls_head == "score"
    assert plain.default_targets["TRAINABLE_TOKENS"] == "embed_tokens"


def test_a_config_attribute_hides_the_model_type(tmp_path):
    source = HEADER + '''
class HasConfig(nn.Module):
    def __init__(self, config):
        super().__init__()
        self.config = config
        self.lin = nn.Linear(2, 2)
'''
    got = static_tree(tmp_path, source, "HasConfig").inventory
    assert got.model_type == "" and got.default_targets == {}


# --------------------------------------------------------------------------- which class
def test_class_nested_in_a_function_is_picked_by_line(tmp_path):
    source = HEADER + textwrap.dedent('''
        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                self.module_level = nn.Linear(2, 2)


        def test_one():
            width = 5

            class Net(nn.Module):
                def __init__(self):
                    super().__init__()
                    self.inner = nn.Linear(width, width)

            model = Net()
            return model


        def test_two():
            class Net(nn.Module):
                def __init__(self, d=3):
                    super().__init__()
                    self.other = nn.Conv1d(d, d, 1)

            model = Net(d=4)
            return model
        ''')
    one = static_tree(tmp_path, source, "Net", line=line_of(source, "model = Net()"))
    assert [m.name for m in one.inventory.modules] == ["inner"]
    assert one.inventory.modules[0].in_features == 5
    two = static_tree(tmp_path, source, "Net", line=line_of(source, "model = Net(d=4)"))
    assert_same_tree(two, real_model(source, "test_two()"))
    top = static_tree(tmp_path, source, "Net")
    assert [m.name for m in top.inventory.modules] == ["module_level"]


def test_nested_classes_of_the_same_name_without_a_line_are_ambiguous(tmp_path):
    source = HEADER + textwrap.dedent('''
        def a():
            class Net(nn.Module):
                pass

        def b():
            class Net(nn.Module):
                pass
        ''')
    got = static_tree(tmp_path, source, "Net")
    assert got.inventory is None and "several classes are named Net" in got.reason


@pytest.mark.parametrize("imports, call", [
    ("from models import Tower", "Tower()"),
    ("from .models import Tower", "Tower()"),
    ("import models", "models.Tower()"),
    ("from pkg.layers import Tower", "Tower()"),
    ("from pkg import layers", "layers.Tower()"),
])
def test_class_from_a_sibling_module(tmp_path, imports, call):
    sibling = HEADER + '''
class Tower(nn.Module):
    def __init__(self, depth=DEPTH):
        super().__init__()
        self.levels = nn.ModuleList(nn.Linear(WIDTH, WIDTH) for _ in range(depth))
'''
    (tmp_path / "models.py").write_text(sibling)
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "layers.py").write_text(sibling)
    source = f"{imports}\n\nmodel = {call}\n"
    tree = static_tree(tmp_path, source, "Tower")
    assert_same_tree(tree, real_model(sibling, "Tower()"))
    assert any(f.endswith(("models.py", "layers.py")) for f in tree.files)
    assert tree.inventory.model_id in ("models.py", "pkg/layers.py")


def test_sibling_modules_are_never_imported(tmp_path):
    (tmp_path / "models.py").write_text(HEADER + "raise SystemExit('imported!')\n\nclass Net(nn.Module):\n"
                                        "    def __init__(self):\n        super().__init__()\n"
                                        "        self.lin = nn.Linear(2, 2)\n")
    tree = static_tree(tmp_path, "from models import Net\nmodel = Net()\n", "Net")
    assert [m.name for m in tree.inventory.modules] == ["lin"]


# --------------------------------------------------------------------------- what is not known
PARTIAL = HEADER + '''
from elsewhere import make_backbone, init_weights
from transformers import AutoModel


class Backboned(nn.Module):
    def __init__(self):
        super().__init__()
        self.backbone = make_backbone()
        self.head = nn.Linear(4, 2)


class Conditional(nn.Module):
    def __init__(self, flag):
        super().__init__()
        self.always = nn.Linear(2, 2)
        if flag:
            self.sometimes = nn.Linear(2, 2)
        self.factor = 1.0 if flag else 2.0
        self.later = nn.Linear(2, 2)


class EarlyReturn(nn.Module):
    def __init__(self, flag):
        super().__init__()
        self.first = nn.Linear(2, 2)
        if flag:
            return
        self.second = nn.Linear(2, 2)


class DynamicLoop(nn.Module):
    def __init__(self, widths):
        super().__init__()
        self.fixed = nn.Linear(2, 2)
        self.layers = nn.ModuleList()
        for w in widths:
            self.layers.append(nn.Linear(w, w))


class Mutated(nn.Module):
    def __init__(self):
        super().__init__()
        self.kept = nn.Linear(2, 2)
        self.changed = nn.Linear(2, 2)
        init_weights(self.changed)


class Pretrained(nn.Module):
    def __init__(self, name="gpt2"):
        super().__init__()
        self.encoder = AutoModel.from_pretrained(name)
        self.classifier = nn.Linear(768, 2)
'''


def _fake_backbone():
    import torch.nn as nn

    backbone = nn.Module()
    backbone.q_proj = nn.Linear(4, 4)
    return backbone


@pytest.mark.parametrize("name, call, unknown", [
    ("Backboned", "Backboned()", ["backbone"]),
    ("Conditional", "Conditional(True)", ["sometimes"]),
    ("EarlyReturn", "EarlyReturn(False)", ["second"]),
    ("DynamicLoop", "DynamicLoop([3, 4])", ["layers"]),
    ("Mutated", "Mutated()", ["changed"]),
])
def test_what_is_not_read_becomes_unknown(tmp_path, name, call, unknown):
    tree = static_tree(tmp_path, PARTIAL, name)
    assert tree.inventory.unknown == unknown, tree.reason
    extra = {"make_backbone": _fake_backbone, "init_weights": lambda m: None}
    source = PARTIAL.replace("from elsewhere import make_backbone, init_weights\n", "")
    assert_known_part_agrees(tree, real_model(source, call, extra))


def test_reasons_name_the_statement(tmp_path):
    tree = static_tree(tmp_path, PARTIAL, "Conditional")
    line = line_of(PARTIAL, "if flag:")
    assert tree.reason == f"1 subtree unknown: `sometimes` (the condition `flag` (line {line}) is not static)"
    assert "`factor`" not in tree.reason  # a float either way: not a module


def test_a_pretrained_model_is_an_unknown_subtree_or_grafted(tmp_path):
    tree = static_tree(tmp_path, PARTIAL, "Pretrained")
    assert tree.inventory.unknown == ["encoder"]
    assert tree.pretrained["encoder"].ref == "gpt2" and tree.pretrained["encoder"].model_class == "AutoModel"

    from peftlint.config import Settings
    from peftlint.model.load import load_inventory

    def resolve(p):
        return load_inventory(p.ref, Settings(), None, model_class=p.model_class).inventory

    grafted = static_tree(tmp_path, PARTIAL, "Pretrained", pretrained=resolve)
    assert grafted.grafted == {"encoder": "gpt2"}
    from support.oracle import fresh

    def fake_from_pretrained(name):
        return fresh("gpt2", "AutoModel")

    import types

    source = PARTIAL.replace("from elsewhere import make_backbone, init_weights\n", "")
    source = source.replace("from transformers import AutoModel\n", "")
    extra = {"AutoModel": types.SimpleNamespace(from_pretrained=fake_from_pretrained)}
    assert_same_tree(grafted, real_model(source, "Pretrained()", extra))


@pytest.mark.parametrize("source, reason", [
    (HEADER + "from elsewhere import init_weights\nclass M(nn.Module):\n    def __init__(self):\n"
     "        super().__init__()\n        self.a = nn.Linear(2, 2)\n        init_weights(self)\n",
     "`init_weights(self)` (line 19) is not read statically"),
    (HEADER + "from transformers import PreTrainedModel\nclass M(PreTrainedModel):\n    def __init__(self, c):\n"
     "        super().__init__(c)\n", "M derives from transformers.PreTrainedModel, which peftlint does not read"),
    (HEADER + "class M(nn.Module):\n    def __init__(self, names):\n        super().__init__()\n"
     "        for n in names:\n            setattr(self, n, nn.Linear(2, 2))\n", "the loop over `names`"),
    (HEADER + "class Other(nn.Module):\n    pass\n", "no class M is defined in train.py"),
    (HEADER + "from transformers import GPT2Model as M\n", "M comes from transformers.GPT2Model"),
    (HEADER + "class M:\n    pass\n", "M(...) is not an nn.Module"),
])
def test_nothing_known(tmp_path, source, reason):
    tree = static_tree(tmp_path, source, "M")
    assert tree.inventory is None
    assert reason in tree.reason


def test_syntax_error_in_the_file(tmp_path):
    tree = static_tree(tmp_path, "class M(nn.Module:\n", "M")
    assert tree.inventory is None and "cannot be parsed" in tree.reason


def test_recursion_and_huge_loops_stop(tmp_path):
    source = HEADER + '''
class Loop(nn.Module):
    def __init__(self, n=3):
        super().__init__()
        self.child = Loop(n - 1)


class Huge(nn.Module):
    def __init__(self):
        super().__init__()
        self.layers = nn.ModuleList([nn.Linear(2, 2) for _ in range(10 ** 9)])
'''
    loop = static_tree(tmp_path, source, "Loop")
    assert loop.inventory is None and "too complex" in loop.reason
    huge = static_tree(tmp_path, source, "Huge")
    assert huge.inventory.unknown == ["layers"]


def test_the_call_at_the_line_decides(tmp_path):
    (tmp_path / "models.py").write_text(MODELS)
    source = "import torch.nn as nn\nimport models\n\nnet = models.Encoder(depth=2)\n" \
             "seq = nn.Sequential(nn.Linear(2, 4), models.TinyMLP(bias=False))\n"
    real = MODELS + "\n" + source.split("import models\n")[1].replace("models.", "")
    for name, expr in (("models.Encoder", "net"), ("nn.Sequential", "seq")):
        tree = static_tree(tmp_path, source, name, line=line_of(source, f"{expr} = "))
        assert_same_tree(tree, real_model(real, expr))
    assert static_tree(tmp_path, source, "nn.Sequential").inventory is None


def test_hostile_arithmetic_is_not_computed(tmp_path):
    source = HEADER + '''
class Bomb(nn.Module):
    def __init__(self):
        super().__init__()
        self.a = 10 ** 10 ** 10
        self.b = "x" * 10 ** 12
        self.c = f"{1:999999999d}"
        self.d = [0] * 10 ** 12
        self.e = 1 << 10 ** 9
        self.lin = nn.Linear(2, 2)
'''
    tree = static_tree(tmp_path, source, "Bomb")
    assert [m.name for m in tree.inventory.modules] == ["lin"] and tree.inventory.unknown == []
