"""Which module kinds each PEFT method can wrap (docs/peft-behaviour.md#layer-types), in one place.

peft exposes these facts only as isinstance checks inside each tuner's dispatch code, so they are
written down here; tests/test_differential_methods.py checks every row against the installed peft.
"""

from __future__ import annotations

from peftlint.model import inventory as inv

_LINEAR_ONLY = frozenset({inv.LINEAR})
_LINEAR_CONV1D = frozenset({inv.LINEAR, inv.CONV1D_GPT2})

SUPPORTED_KINDS: dict[str, frozenset[str]] = {
    "LORA": frozenset(
        {inv.LINEAR, inv.CONV1D_GPT2, inv.CONV1D, inv.CONV2D, inv.CONV3D, inv.EMBEDDING, inv.MHA}
    ),
    "HIRA": frozenset({inv.LINEAR, inv.CONV1D_GPT2, inv.CONV1D, inv.CONV2D, inv.CONV3D, inv.EMBEDDING}),
    "ADALORA": frozenset({inv.LINEAR, inv.CONV1D_GPT2, inv.CONV2D}),
    "LOHA": frozenset({inv.LINEAR, inv.CONV1D, inv.CONV2D}),
    "LOKR": frozenset({inv.LINEAR, inv.CONV1D, inv.CONV2D}),
    "IA3": frozenset({inv.LINEAR, inv.CONV1D_GPT2, inv.CONV2D, inv.CONV3D}),
    "OFT": frozenset({inv.LINEAR, inv.CONV2D, inv.EMBEDDING}),
    "BOFT": frozenset({inv.LINEAR, inv.CONV2D}),
    "HRA": frozenset({inv.LINEAR, inv.CONV2D}),
    "TINYLORA": frozenset({inv.LINEAR, inv.CONV1D_GPT2, inv.EMBEDDING}),
    # TrainableTokens wraps Linear too (a tied output head shares the embedding's rows)
    "TRAINABLE_TOKENS": frozenset({inv.EMBEDDING, inv.LINEAR}),
    **{m: _LINEAR_CONV1D for m in ("VERA", "RANDLORA", "PVERA", "FROD", "FOURIERFT", "VBLORA",
                                    "DEFT", "GRALORA", "UNILORA", "WAVEFT")},
    **{m: _LINEAR_ONLY for m in ("BEFT", "C3A", "DELORA", "MISS", "POLY", "SHIRA", "SUPERTUNING",
                                 "ROAD", "PSOFT", "GLORA", "LILY", "PEANUT", "ADAMSS")},
}

# Methods that never raise on an unsupported module (LN-Tuning trains a copy of anything, OSF skips
# silently) or whose targets mean something else (Shadow targets blocks, AdaptionPrompt attention).
NEVER_RAISES = frozenset({"LN_TUNING", "OSF", "SHADOW", "ADAPTION_PROMPT", "XLORA"})

# What the methods that never raise do with a module: OSF creates an adapter only on these kinds and
# skips the others silently (still listing them as targeted); LN-Tuning is meant for norms and trains
# a full copy of any other module. Checked in tests/test_differential_methods.py.
SILENT_KINDS: dict[str, frozenset[str]] = {
    "OSF": frozenset({inv.LINEAR}),
    "LN_TUNING": frozenset({inv.NORM}),
}

# Methods whose purpose is to train embedding rows: adapting the input embedding is what they are
# for (TrainableTokens trains the selected token rows only and saves just those).
EMBEDDING_METHODS = frozenset({"TRAINABLE_TOKENS"})

KIND_LABELS = {
    inv.LINEAR: "torch.nn.Linear",
    inv.CONV1D_GPT2: "transformers Conv1D",
    inv.CONV1D: "torch.nn.Conv1d",
    inv.CONV2D: "torch.nn.Conv2d",
    inv.CONV3D: "torch.nn.Conv3d",
    inv.EMBEDDING: "torch.nn.Embedding",
    inv.MHA: "torch.nn.MultiheadAttention",
}


# LoRA variants that narrow the kinds (docs/peft-behaviour.md#layer-types): DoRA rejects MultiheadAttention.
DORA_UNSUPPORTED = frozenset({inv.MHA})


def supported_kinds(method: str, *, use_dora: bool = False) -> frozenset[str] | None:
    """The kinds ``method`` can wrap, or None when peftlint does not judge module types for it."""
    if method in NEVER_RAISES:
        return None
    kinds = SUPPORTED_KINDS.get(method)
    if kinds is not None and use_dora and method == "LORA":
        kinds = kinds - DORA_UNSUPPORTED
    return kinds


def describe_supported(method: str, *, use_dora: bool = False) -> str:
    kinds = supported_kinds(method, use_dora=use_dora) or frozenset()
    order = list(KIND_LABELS)
    return ", ".join(KIND_LABELS[k] for k in order if k in kinds)


_DISPLAY = {"LORA": "LoRA", "ADALORA": "AdaLoRA", "LOHA": "LoHa", "LOKR": "LoKr", "VERA": "VeRA",
            "VBLORA": "VBLoRA", "FOURIERFT": "FourierFT", "LN_TUNING": "LN-Tuning", "RANDLORA": "RandLoRA"}


def display_name(method: str, config_class: str = "") -> str:
    """How people write the method's name ("LoRA", "AdaLoRA"), for messages."""
    return _DISPLAY.get(method) or config_class.removesuffix("Config") or method


# What get_peft_model raises on a module kind the method cannot wrap ("{cls}": the module's class),
# checked against peft in tests/semantics/test_claims_differential.py; methods absent here raise
# the common "Target module {cls}(...) is not supported". None: the text depends on more than the
# module (VeRA-like methods raise only when no targeted module fits at all).
UNSUPPORTED_RAISE: dict[str, str | None] = {
    "LOHA": "Target module of type ... not supported",
    "LOKR": "Target module of type ... not supported",
    "LILY": "Lily does not support target modules of type",
    "PEANUT": "PEANuT does not support target modules of type",
    "TRAINABLE_TOKENS": None,
    "TINYLORA": None,
    **{m: None for m in ("VERA", "PVERA", "RANDLORA", "FROD")},
}


def unsupported_raise(method: str, cls: str) -> str | None:
    """The text (``...`` for any text) peft raises when ``method`` targets a module of class ``cls``."""
    text = UNSUPPORTED_RAISE.get(method, "Target module {cls}(...) is not supported")
    return text.format(cls=cls) if text else None


# Methods whose layers fit any Linear shape: peft is not asked about the targeted shapes for them
# (rules/targets/pft103_unsupported_module.py asks the others, see peft_check.shape_probe).
SHAPE_FREE = frozenset({"LORA", "LOHA", "LOKR", "IA3", "ADALORA", "TRAINABLE_TOKENS", "LN_TUNING", "OSF", "VERA",
                        "XLORA", "ADAPTION_PROMPT", "SHADOW"})
