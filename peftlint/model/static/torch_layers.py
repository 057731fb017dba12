"""The torch.nn layers (and transformers' ``Conv1D``) a statically read ``__init__`` may build.

For each class: its constructor signature and what an instance holds (kind, features, own
parameters in registration order, children). Only classes written down here are understood; any
other class makes its subtree unknown. ``tests/model/test_torch_layers.py`` builds every row with
the installed torch and compares it with what ``peftlint.model.record`` records.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

from peftlint.model import inventory as inv

UNKNOWN_DIM = -1  # a dimension the static reader cannot know


@dataclass
class Layer:
    """What one constructor call builds: the instance's own facts (children are Layers too)."""

    cls: str
    kind: str | None  # None: decided by the children (container / other), as record.py does
    in_features: int | None = None
    out_features: int | None = None
    params: dict[str, list[int]] = field(default_factory=dict)
    kernel_size: list[int] | None = None
    groups: int | None = None
    children: list[tuple[str, "Layer"]] = field(default_factory=list)


class NotStatic(Exception):
    """An argument the layer's structure depends on is not known statically."""


def _dim(v: Any) -> int:
    if isinstance(v, bool) or not isinstance(v, int):
        return UNKNOWN_DIM
    return v


def _flag(v: Any) -> bool:
    if isinstance(v, (bool, int, float, str)) or v is None:
        return bool(v)
    raise NotStatic("a flag")


def _ntuple(v: Any, n: int) -> list[int]:
    if isinstance(v, (list, tuple)):
        if len(v) != n:
            raise NotStatic("a tuple size")
        return [_dim(x) for x in v]
    return [_dim(v)] * n


def _shape(v: Any) -> list[int]:
    return [_dim(x) for x in v] if isinstance(v, (list, tuple)) else [_dim(v)]


def _linear(cls: str, a: dict) -> Layer:
    i, o = _dim(a["in_features"]), _dim(a["out_features"])
    params = {"weight": [o, i]}
    if _flag(a["bias"]):
        params["bias"] = [o]
    return Layer(cls, inv.LINEAR, i, o, params)


def _conv(n: int, transposed: bool = False) -> Callable[[str, dict], Layer]:
    def build(cls: str, a: dict) -> Layer:
        i, o = _dim(a["in_channels"]), _dim(a["out_channels"])
        k = _ntuple(a["kernel_size"], n)
        g = _dim(a["groups"])
        per_group = (lambda c: c // g if c >= 0 and g > 0 else UNKNOWN_DIM)
        weight = [i, per_group(o), *k] if transposed else [o, per_group(i), *k]
        params = {"weight": weight}
        if _flag(a["bias"]):
            params["bias"] = [o]
        if transposed:  # not a ConvNd subclass: PEFT does not wrap it
            return Layer(cls, inv.OTHER, params=params)
        kind = {1: inv.CONV1D, 2: inv.CONV2D, 3: inv.CONV3D}[n]
        return Layer(cls, kind, i, o, params, kernel_size=k, groups=g)
    return build


def _embedding(cls: str, a: dict) -> Layer:
    if a.get("_weight") is not None:
        raise NotStatic("_weight")
    n, d = _dim(a["num_embeddings"]), _dim(a["embedding_dim"])
    in_out: tuple[int | None, int | None] = (n, d) if cls == "Embedding" else (None, None)
    return Layer(cls, inv.EMBEDDING if cls == "Embedding" else inv.OTHER, *in_out, params={"weight": [n, d]})


def _mha(cls: str, a: dict) -> Layer:
    e = _dim(a["embed_dim"])
    kdim = e if a["kdim"] is None else _dim(a["kdim"])
    vdim = e if a["vdim"] is None else _dim(a["vdim"])
    if e == UNKNOWN_DIM and (a["kdim"] is not None or a["vdim"] is not None):
        raise NotStatic("whether kdim/vdim equal embed_dim")
    bias = _flag(a["bias"])
    params: dict[str, list[int]] = {}
    if kdim == e and vdim == e:
        params["in_proj_weight"] = [3 * e if e >= 0 else UNKNOWN_DIM, e]
    else:
        params.update(q_proj_weight=[e, e], k_proj_weight=[e, kdim], v_proj_weight=[e, vdim])
    if bias:
        params["in_proj_bias"] = [3 * e if e >= 0 else UNKNOWN_DIM]
    out = _linear("NonDynamicallyQuantizableLinear", {"in_features": e, "out_features": e, "bias": bias})
    if _flag(a["add_bias_kv"]):
        params.update(bias_k=[1, 1, e], bias_v=[1, 1, e])
    return Layer(cls, inv.MHA, e, e, params, children=[("out_proj", out)])


def _gpt2_conv1d(cls: str, a: dict) -> Layer:
    nf, nx = _dim(a["nf"]), _dim(a["nx"])
    return Layer("Conv1D", inv.CONV1D_GPT2, nx, nf, {"weight": [nx, nf], "bias": [nf]})


def _norm(weight_arg: str, affine_arg: str, bias_arg: str | None = None) -> Callable[[str, dict], Layer]:
    def build(cls: str, a: dict) -> Layer:
        params: dict[str, list[int]] = {}
        shape = _shape(a[weight_arg])
        if _flag(a[affine_arg]):
            params["weight"] = shape
            if bias_arg is None or _flag(a[bias_arg]):
                if cls != "RMSNorm":
                    params["bias"] = list(shape)
        return Layer(cls, inv.NORM, params=params)
    return build


def _rnn(gates: int) -> Callable[[str, dict], Layer]:
    def build(cls: str, a: dict) -> Layer:
        inp, hid = _dim(a["input_size"]), _dim(a["hidden_size"])
        layers, proj = a["num_layers"], a.get("proj_size", 0)
        if not isinstance(layers, int) or not isinstance(proj, int):
            raise NotStatic("num_layers")
        dirs = 2 if _flag(a["bidirectional"]) else 1
        bias = _flag(a["bias"])
        g = gates * hid if hid >= 0 else UNKNOWN_DIM
        real_hidden = proj if proj > 0 else hid
        params: dict[str, list[int]] = {}
        for layer in range(layers):
            size_in = inp if layer == 0 else (real_hidden * dirs if real_hidden >= 0 else UNKNOWN_DIM)
            for d in range(dirs):
                sfx = f"_l{layer}" + ("_reverse" if d else "")
                params[f"weight_ih{sfx}"] = [g, size_in]
                params[f"weight_hh{sfx}"] = [g, real_hidden]
                if bias:
                    params[f"bias_ih{sfx}"] = [g]
                    params[f"bias_hh{sfx}"] = [g]
                if proj > 0:
                    params[f"weight_hr{sfx}"] = [proj, hid]
        return Layer(cls, inv.OTHER, params=params)
    return build


def _prelu(cls: str, a: dict) -> Layer:
    return Layer(cls, inv.OTHER, params={"weight": [_dim(a["num_parameters"])]})


def _bilinear(cls: str, a: dict) -> Layer:
    i1, i2, o = _dim(a["in1_features"]), _dim(a["in2_features"]), _dim(a["out_features"])
    params = {"weight": [o, i1, i2]}
    if _flag(a["bias"]):
        params["bias"] = [o]
    return Layer(cls, inv.OTHER, params=params)


def _plain(kind: str) -> Callable[[str, dict], Layer]:
    return lambda cls, a: Layer(cls, kind)


_CONV_SIG = ("in_channels", "out_channels", "kernel_size", ("stride", 1), ("padding", 0), ("dilation", 1),
             ("groups", 1), ("bias", True))
_CONVT_SIG = ("in_channels", "out_channels", "kernel_size", ("stride", 1), ("padding", 0), ("output_padding", 0),
              ("groups", 1), ("bias", True))
_RNN_SIG = ("input_size", "hidden_size", ("num_layers", 1), ("bias", True), ("batch_first", False),
            ("dropout", 0.0), ("bidirectional", False))

# class name -> (signature, builder); a signature item is a name (required) or (name, default)
LAYERS: dict[str, tuple[tuple, Callable[[str, dict], Layer]]] = {
    "Linear": (("in_features", "out_features", ("bias", True)), _linear),
    "NonDynamicallyQuantizableLinear": (("in_features", "out_features", ("bias", True)), _linear),
    "Bilinear": (("in1_features", "in2_features", "out_features", ("bias", True)), _bilinear),
    "Conv1d": (_CONV_SIG, _conv(1)),
    "Conv2d": (_CONV_SIG, _conv(2)),
    "Conv3d": (_CONV_SIG, _conv(3)),
    "ConvTranspose1d": (_CONVT_SIG, _conv(1, True)),
    "ConvTranspose2d": (_CONVT_SIG, _conv(2, True)),
    "ConvTranspose3d": (_CONVT_SIG, _conv(3, True)),
    "Embedding": (("num_embeddings", "embedding_dim", ("padding_idx", None), ("max_norm", None),
                   ("norm_type", 2.0), ("scale_grad_by_freq", False), ("sparse", False), ("_weight", None)),
                  _embedding),
    "EmbeddingBag": (("num_embeddings", "embedding_dim", ("max_norm", None), ("norm_type", 2.0),
                      ("scale_grad_by_freq", False), ("mode", "mean"), ("sparse", False), ("_weight", None)),
                     _embedding),
    "MultiheadAttention": (("embed_dim", "num_heads", ("dropout", 0.0), ("bias", True), ("add_bias_kv", False),
                            ("add_zero_attn", False), ("kdim", None), ("vdim", None), ("batch_first", False)),
                           _mha),
    "LayerNorm": (("normalized_shape", ("eps", 1e-5), ("elementwise_affine", True), ("bias", True)),
                  _norm("normalized_shape", "elementwise_affine", "bias")),
    "RMSNorm": (("normalized_shape", ("eps", None), ("elementwise_affine", True)),
                _norm("normalized_shape", "elementwise_affine")),
    "GroupNorm": (("num_groups", "num_channels", ("eps", 1e-5), ("affine", True)), _norm("num_channels", "affine")),
    "LocalResponseNorm": (("size",), _plain(inv.NORM)),
    "GRU": (_RNN_SIG, _rnn(3)),
    "LSTM": (_RNN_SIG + (("proj_size", 0),), _rnn(4)),
    "PReLU": ((("num_parameters", 1), ("init", 0.25)), _prelu),
}
for _n in ("BatchNorm1d", "BatchNorm2d", "BatchNorm3d", "SyncBatchNorm"):
    LAYERS[_n] = (("num_features", ("eps", 1e-5), ("momentum", 0.1), ("affine", True)), _norm("num_features", "affine"))
for _n in ("InstanceNorm1d", "InstanceNorm2d", "InstanceNorm3d"):
    LAYERS[_n] = (("num_features", ("eps", 1e-5), ("momentum", 0.1), ("affine", False)), _norm("num_features", "affine"))
for _n in ("Dropout", "Dropout1d", "Dropout2d", "Dropout3d", "AlphaDropout", "FeatureAlphaDropout"):
    LAYERS[_n] = ((("p", 0.5), ("inplace", False)), _plain(inv.DROPOUT))

# parameter-free leaves whose constructor arguments do not change what they hold
PARAM_FREE = (
    "Identity ReLU ReLU6 GELU SiLU Mish Tanh Sigmoid LogSigmoid Softplus Softsign Softmin Softmax Softmax2d "
    "LogSoftmax LeakyReLU ELU SELU CELU GLU Hardswish Hardsigmoid Hardtanh Hardshrink Softshrink Tanhshrink "
    "Threshold Flatten Unflatten MaxPool1d MaxPool2d MaxPool3d AvgPool1d AvgPool2d AvgPool3d AdaptiveAvgPool1d "
    "AdaptiveAvgPool2d AdaptiveAvgPool3d AdaptiveMaxPool1d AdaptiveMaxPool2d AdaptiveMaxPool3d LPPool1d LPPool2d "
    "Upsample UpsamplingNearest2d UpsamplingBilinear2d PixelShuffle PixelUnshuffle ChannelShuffle Fold Unfold "
    "ZeroPad1d ZeroPad2d ZeroPad3d ConstantPad1d ConstantPad2d ConstantPad3d ReflectionPad1d ReflectionPad2d "
    "ReflectionPad3d ReplicationPad1d ReplicationPad2d ReplicationPad3d CircularPad1d CircularPad2d CircularPad3d "
    "CosineSimilarity PairwiseDistance CrossEntropyLoss MSELoss L1Loss NLLLoss BCELoss BCEWithLogitsLoss "
    "KLDivLoss SmoothL1Loss HuberLoss CosineEmbeddingLoss MarginRankingLoss TripletMarginLoss CTCLoss "
    "MultiLabelSoftMarginLoss SoftMarginLoss HingeEmbeddingLoss PoissonNLLLoss GaussianNLLLoss"
).split()

# containers built by the reader itself (their children come from the arguments)
CONTAINERS = frozenset({"Module", "Sequential", "ModuleList", "ModuleDict", "ParameterList", "ParameterDict"})

# transformers.pytorch_utils.Conv1D (GPT-2's projection, weight stored [in, out])
GPT2_CONV1D = "transformers.Conv1D"
LAYERS[GPT2_CONV1D] = (("nf", "nx"), _gpt2_conv1d)
LAYERS["RNN"] = (_RNN_SIG, _rnn(1))


def bind(cls: str, args: list, kwargs: dict) -> dict:
    """Bind constructor arguments to ``cls``'s signature; raises NotStatic if they do not fit."""
    sig = LAYERS[cls][0]
    out: dict[str, Any] = {}
    names = [s if isinstance(s, str) else s[0] for s in sig]
    if cls == "RNN" and len(args) > 3:  # RNN takes nonlinearity as the fourth positional argument
        args = args[:3] + args[4:]
    if len(args) > len(names):
        raise NotStatic("too many positional arguments")
    for name, value in zip(names, args):
        out[name] = value
    for key, value in kwargs.items():
        if key in out:
            raise NotStatic(f"{key} given twice")
        out[key] = value
    for s in sig:
        if isinstance(s, tuple):
            out.setdefault(s[0], s[1])
        elif s not in out:
            raise NotStatic(f"missing argument {s}")
    return out


_KINDS = {"Linear": inv.LINEAR, "NonDynamicallyQuantizableLinear": inv.LINEAR, "Conv1d": inv.CONV1D,
          "Conv2d": inv.CONV2D, "Conv3d": inv.CONV3D, "Embedding": inv.EMBEDDING, "MultiheadAttention": inv.MHA,
          GPT2_CONV1D: inv.CONV1D_GPT2, "ModuleList": inv.MODULE_LIST, "ModuleDict": inv.MODULE_LIST,
          "ParameterList": inv.MODULE_LIST, "ParameterDict": inv.MODULE_LIST}


def kind_of(cls: str) -> str | None:
    """The kind an instance of ``cls`` (or of a subclass) has whatever its arguments; None when its
    children decide (``Module``, ``Sequential``)."""
    if cls in _KINDS:
        return _KINDS[cls]
    if cls in ("Module", "Sequential"):
        return None
    if cls.endswith("Norm") or cls.startswith(("BatchNorm", "InstanceNorm")):
        return inv.NORM
    if "Dropout" in cls:
        return inv.DROPOUT
    return inv.OTHER


def build_layer(cls: str, args: list, kwargs: dict) -> Layer:
    """The instance ``cls(*args, **kwargs)`` builds; raises NotStatic when that depends on unknown values."""
    if cls in PARAM_FREE:
        return Layer(cls, inv.OTHER)
    kwargs = {k: v for k, v in kwargs.items() if k not in ("device", "dtype", "nonlinearity")}
    bound = bind(cls, args, kwargs)
    return LAYERS[cls][1](cls, bound)


def is_layer(cls: str) -> bool:
    return cls in LAYERS or cls in PARAM_FREE

