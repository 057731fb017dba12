"""torch_layers: every layer the static reader knows, built by the installed torch with the same
arguments, must record exactly as peftlint.model.record records the real module."""

from __future__ import annotations

import pytest

from peftlint.model.static import torch_layers as tl
from peftlint.model.static.static_exec import Interpreter
from peftlint.model.static.tree_record import module_info

SAMPLES: dict[str, list[tuple[tuple, dict]]] = {
    "Linear": [((4, 6), {}), ((4, 6), {"bias": False})],
    "NonDynamicallyQuantizableLinear": [((3, 3), {})],
    "Bilinear": [((2, 3, 4), {}), ((2, 3, 4, False), {})],
    "Conv1d": [((4, 8, 3), {}), ((4, 8, 3), {"groups": 2, "bias": False})],
    "Conv2d": [((3, 6, (1, 3)), {"stride": 2}), ((4, 4, 3), {"groups": 4})],
    "Conv3d": [((2, 4, 3), {}), ((2, 4, (1, 2, 3), 1, 0, 1, 2, False), {})],
    "ConvTranspose1d": [((4, 2, 3), {})],
    "ConvTranspose2d": [((4, 8, 3), {"groups": 2})],
    "ConvTranspose3d": [((2, 2, 1), {"bias": False})],
    "Embedding": [((10, 4), {}), ((10, 4, 0), {})],
    "EmbeddingBag": [((10, 4), {"mode": "sum"})],
    "MultiheadAttention": [((8, 2), {}), ((8, 2, 0.0, False, True, False, 4, 6), {})],
    "LayerNorm": [((5,), {}), (((2, 3),), {"elementwise_affine": False}), ((4,), {"bias": False})],
    "RMSNorm": [((6,), {}), ((6,), {"elementwise_affine": False})],
    "GroupNorm": [((2, 4), {}), ((2, 4), {"affine": False})],
    "LocalResponseNorm": [((2,), {})],
    "BatchNorm1d": [((3,), {})],
    "BatchNorm2d": [((3,), {"affine": False})],
    "BatchNorm3d": [((3,), {})],
    "SyncBatchNorm": [((3,), {})],
    "InstanceNorm1d": [((3,), {})],
    "InstanceNorm2d": [((3,), {"affine": True})],
    "InstanceNorm3d": [((3,), {})],
    "Dropout": [((), {}), ((0.1,), {})],
    "Dropout1d": [((), {})],
    "Dropout2d": [((), {})],
    "Dropout3d": [((), {})],
    "AlphaDropout": [((), {})],
    "FeatureAlphaDropout": [((), {})],
    "GRU": [((4, 8), {}), ((4, 8, 2), {"bidirectional": True, "bias": False})],
    "LSTM": [((4, 8), {"num_layers": 2, "proj_size": 3}), ((4, 8, 1, True, True, 0.0, True), {})],
    "RNN": [((4, 5, 2, "relu"), {}), ((4, 5), {"nonlinearity": "tanh", "bidirectional": True})],
    "PReLU": [((), {}), ((3,), {})],
}
PARAM_FREE_ARGS: dict[str, tuple] = {
    "Threshold": (0.1, 0.0), "Unflatten": (1, (2, 2)), "MaxPool1d": (2,), "MaxPool2d": (2,), "MaxPool3d": (2,),
    "AvgPool1d": (2,), "AvgPool2d": (2,), "AvgPool3d": (2,), "AdaptiveAvgPool1d": (1,), "AdaptiveAvgPool2d": (1,),
    "AdaptiveAvgPool3d": (1,), "AdaptiveMaxPool1d": (1,), "AdaptiveMaxPool2d": (1,), "AdaptiveMaxPool3d": (1,),
    "LPPool1d": (2, 2), "LPPool2d": (2, 2), "PixelShuffle": (2,), "PixelUnshuffle": (2,), "ChannelShuffle": (2,),
    "Fold": ((4, 4), 2), "Unfold": (2,), "ZeroPad1d": (1,), "ZeroPad2d": (1,), "ZeroPad3d": (1,),
    "ConstantPad1d": (1, 0.0), "ConstantPad2d": (1, 0.0), "ConstantPad3d": (1, 0.0), "ReflectionPad1d": (1,),
    "ReflectionPad2d": (1,), "ReflectionPad3d": (1,), "ReplicationPad1d": (1,), "ReplicationPad2d": (1,),
    "ReplicationPad3d": (1,), "CircularPad1d": (1,), "CircularPad2d": (1,), "CircularPad3d": (1,),
}


def _record_real(module):
    from peftlint.model import record

    return record._module_info("m", module)


def _static_node(cls: str, args: tuple, kwargs: dict):
    return Interpreter().layer_node(tl.build_layer(cls, list(args), dict(kwargs)))


def _static(cls: str, args: tuple, kwargs: dict):
    return module_info(_static_node(cls, args, kwargs), "m")


def test_every_layer_has_samples():
    assert set(tl.LAYERS) - {tl.GPT2_CONV1D} == set(SAMPLES)


@pytest.mark.parametrize("cls, args, kwargs", [(c, a, k) for c, variants in SAMPLES.items() for a, k in variants])
def test_layer_records_like_torch(cls, args, kwargs):
    import torch

    with torch.device("meta"):
        real = getattr(torch.nn, cls, None) or getattr(torch.nn.modules.linear, cls)
        module = real(*args, **kwargs)
    want = _record_real(module)
    got = _static(cls, args, kwargs)
    assert got == want
    assert tl.kind_of(cls) == want.kind
    for name, child in module.named_children():  # MultiheadAttention's out_proj
        static_child = _static_node(cls, args, kwargs).children[name]
        assert module_info(static_child, "m") == _record_real(child)


def test_transformers_conv1d_records_like_transformers():
    import torch
    from transformers.pytorch_utils import Conv1D

    with torch.device("meta"):
        module = Conv1D(12, 4)
    assert _static(tl.GPT2_CONV1D, (12, 4), {}) == _record_real(module)


@pytest.mark.parametrize("cls", tl.PARAM_FREE)
def test_parameter_free_layers_hold_nothing(cls):
    import torch

    with torch.device("meta"):
        module = getattr(torch.nn, cls)(*PARAM_FREE_ARGS.get(cls, ()))
    want = _record_real(module)
    assert (want.kind, want.params, want.children) == ("other", {}, [])
    assert _static(cls, PARAM_FREE_ARGS.get(cls, ()), {}) == want


@pytest.mark.parametrize("cls, args, kwargs", [
    ("Linear", (4, 6), {"bias": object()}),  # not a static flag
    ("LSTM", (4, 8), {"num_layers": object()}),
    ("Linear", (4,), {}),  # a required argument is missing
])
def test_arguments_that_change_the_structure_must_be_static(cls, args, kwargs):
    with pytest.raises(tl.NotStatic):
        tl.build_layer(cls, list(args), kwargs)


def test_unknown_dimensions_keep_the_parameter_names():
    got = _static("Linear", (object(), 6), {})
    assert got.params == {"weight": [6, -1], "bias": [6]} and got.in_features is None and got.out_features == 6


COMPOSITES = [
    "nn.TransformerEncoderLayer(8, 2)",
    "nn.TransformerEncoderLayer(8, 2, dim_feedforward=16, activation=nn.GELU(), bias=False)",
    "nn.TransformerEncoderLayer(d_model=8, nhead=2, activation='gelu', batch_first=True)",
    "nn.TransformerDecoderLayer(8, 2, 32)",
    "nn.TransformerEncoder(nn.TransformerEncoderLayer(8, 2, 16), num_layers=3)",
    "nn.TransformerDecoder(nn.TransformerDecoderLayer(8, 2, 16), 2, norm=nn.LayerNorm(8))",
    "nn.Transformer(d_model=8, nhead=2, num_encoder_layers=2, num_decoder_layers=1, dim_feedforward=16)",
]


@pytest.mark.parametrize("expr", COMPOSITES)
def test_transformer_composites_record_like_torch(tmp_path, expr):
    from support.custom_models import assert_same_tree, real_model, static_tree

    source = f"import torch.nn as nn\n\nmodel = {expr}\n"
    tree = static_tree(tmp_path, source, expr.split("(")[0], line=3)
    assert_same_tree(tree, real_model(source, "model"))
