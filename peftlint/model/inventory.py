"""A base model's module tree as data: what the meta-device build records and the cache stores.

This module must never import torch, transformers or peft: a run whose inventories are cached reads
them from JSON through these classes only. ``peftlint.model.record`` fills them from a real model.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from peftlint import typedjson
from peftlint.strenum import StrEnum

SCHEMA_VERSION = 7  # 3: auto_classes; 4: entries validated by typedjson; 5: root_params; 6: total_parameters, embedding_tied;
# 7: is_encoder_decoder

class ModuleKind(StrEnum):
    """What a module is, for PEFT (``ModuleInfo.kind``)."""

    LINEAR = "linear"  # torch.nn.Linear and subclasses
    CONV1D_GPT2 = "gpt2-conv1d"  # transformers.pytorch_utils.Conv1D (weight stored [in, out])
    CONV1D = "conv1d"
    CONV2D = "conv2d"
    CONV3D = "conv3d"
    EMBEDDING = "embedding"
    MHA = "mha"  # torch.nn.MultiheadAttention
    NORM = "norm"
    DROPOUT = "dropout"
    CONTAINER = "container"  # a module with children (mlp, self_attn, decoder layer, ...)
    MODULE_LIST = "modulelist"  # ModuleList / ModuleDict / ParameterList / ParameterDict
    OTHER = "other"  # a leaf that is none of the above (activation, rotary embedding, router, ...)


# the kinds by their old module-level names (``inv.LINEAR``)
LINEAR, CONV1D_GPT2, CONV1D, CONV2D, CONV3D = (ModuleKind.LINEAR, ModuleKind.CONV1D_GPT2, ModuleKind.CONV1D,
                                              ModuleKind.CONV2D, ModuleKind.CONV3D)
EMBEDDING, MHA, NORM, DROPOUT = ModuleKind.EMBEDDING, ModuleKind.MHA, ModuleKind.NORM, ModuleKind.DROPOUT
CONTAINER, MODULE_LIST, OTHER = ModuleKind.CONTAINER, ModuleKind.MODULE_LIST, ModuleKind.OTHER


@dataclass
class ModuleInfo:
    name: str  # full dotted name as in model.named_modules()
    cls: str  # class name, e.g. "Linear", "LlamaRMSNorm"
    kind: ModuleKind
    in_features: int | None = None  # Linear/Conv1D: in; Embedding: num_embeddings; Conv: in_channels
    out_features: int | None = None  # Linear/Conv1D: out; Embedding: embedding_dim; Conv: out_channels
    bias: bool = False
    # own parameters (recurse=False); a tree read statically from code (is_pretrained_model False)
    # writes -1 for a dimension it cannot know, [] when not even the rank is known
    params: dict[str, list[int]] = field(default_factory=dict)
    kernel_size: list[int] | None = None
    groups: int | None = None
    is_transposed: bool | None = None  # fused MoE experts' attribute, None when absent
    children: list[str] = field(default_factory=list)  # direct child names (last segment)

    @property
    def leaf(self) -> str:
        return self.name.rsplit(".", 1)[-1]


@dataclass
class AllLinearRewrite:
    """What ``"all-linear"`` becomes under the MoE rewrite (leaf names)."""

    target_modules: list[str] = field(default_factory=list)
    target_parameters: list[str] = field(default_factory=list)


@dataclass
class MoeConversion:
    """What PEFT's transformers-5 MoE rewrite (``convert_peft_config_for_transformers`` in
    ``peft.utils.transformers_weight_conversion``) does to a LoRA config for this model type; read
    from peft's own tables and checked by running the rewrite on probe configs (``record.py``)."""

    available: bool = False  # the conversion module could be imported (transformers >= 5)
    methods: list[str] = field(default_factory=lambda: ["LORA"])  # the rewrite runs for these peft types
    has_checkpoint_conversion: bool = False  # transformers.conversion_mapping knows the model_type
    base_model_type: str | None = None  # peft's conversion pattern for the model_type
    applies: bool = False  # the rewrite changes configs for this model_type
    # target_modules entry (exact or ".old" suffix) -> target_parameters entry, e.g. {"w1": "gate_up_proj"}
    target_map: dict[str, str] = field(default_factory=dict)
    fused: dict[str, list[str]] = field(default_factory=dict)  # halves fused into one parameter
    rank_multiplier: dict[str, int] = field(default_factory=dict)  # rank_pattern[".*\\.new"] = n * r
    pattern_keys: dict[str, str] = field(default_factory=dict)  # the rank/alpha_pattern key PEFT adds
    none_targets_become_empty: bool = False  # target_modules=None turns into set() (default targets lost)
    all_linear: AllLinearRewrite | None = None
    error: str = ""  # a probe peft rejected; the rewrite is then treated as not applying

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> "MoeConversion":
        return typedjson.load(cls, data, "moe")


@dataclass
class Inventory:
    model_id: str  # what the model was resolved from (hub id or path)
    model_type: str  # config.model_type of the top-level config ("" for diffusers models)
    model_class: str  # the class that was built, e.g. "LlamaForCausalLM", "UNet2DConditionModel"
    config_hash: str
    modules: list[ModuleInfo]  # named_modules() order, root excluded
    output_embedding: str | None = None  # name of model.get_output_embeddings(), if any
    input_embedding: str | None = None  # name of model.get_input_embeddings(), if any
    tie_word_embeddings: bool = False
    tied_weights: list[list[str]] = field(default_factory=list)  # groups of parameter names sharing storage
    seq_cls_head: str | None = None  # first of ("score", "classifier") that is a top-level attribute
    num_hidden_layers: int | None = None
    is_pretrained_model: bool = True
    # PEFT's default target_modules for this model_type, per peft_type ("LORA" -> ["q_proj", "v_proj"]);
    # a method absent from the dict has no default for this model type.
    default_targets: dict[str, Any] = field(default_factory=dict)
    ia3_default_feedforward: Any = None
    # Sub-models (towers) of a composite model: prefix -> label ("language_model", "vision_tower", ...)
    towers: dict[str, str] = field(default_factory=dict)
    versions: dict[str, str] = field(default_factory=dict)  # torch / transformers / peft
    requested_class: str = ""  # the class that was asked for
    class_note: str = ""  # why another class was built (e.g. AutoModelForCausalLM on t5)
    # modules reachable under a second name (T5's ``encoder.embed_tokens`` is ``shared``): name ->
    # canonical name; PEFT, like ``named_modules()``, only sees the first
    module_aliases: dict[str, str] = field(default_factory=dict)
    layer_lists: dict[str, int] = field(default_factory=dict)  # numbered ModuleLists: name -> length
    moe: MoeConversion = field(default_factory=MoeConversion)
    # modules whose subtree could not be read (a tree built statically from code): a name that
    # could live under one of them is never reported as missing
    unknown: list[str] = field(default_factory=list)
    # who built the model: "transformers", "diffusers" (a UNet or diffusion transformer), or "local"
    # (an nn.Module class of the linted code, read statically)
    library: str = "transformers"
    # the config PEFT reads (``BaseTuner.get_model_config``) has a model_type; diffusers configs do
    # not, and ``target_modules=None`` then makes PEFT raise ``KeyError: 'model_type'``
    peft_model_type: bool = True
    # transformers auto classes whose model mapping lists ``model_class`` ("AutoModelForCausalLM"),
    # read from transformers.models.auto.modeling_auto: the tasks this class is built for
    auto_classes: list[str] = field(default_factory=list)
    # parameters registered on the model itself (``named_parameters(recurse=False)`` of the root):
    # PEFT refuses to target them ("Targeting an nn.Parameter on the top-level module is not supported")
    root_params: list[str] = field(default_factory=list)
    # model.named_parameters() summed as peft's get_nb_trainable_parameters() does (shared storage
    # once); None for a tree read statically from code
    total_parameters: int | None = None
    # peft's ``_get_module_names_tied_with_embedding``: module names tied to the input embedding
    # (TrainableTokens puts a layer sharing the embedding's delta on each)
    embedding_tied: list[str] = field(default_factory=list)
    # ``config.is_encoder_decoder``: transformers also lists decoder-only audio LLMs (Voxtral, Audio
    # Flamingo 3, Qwen2-Audio) under AutoModelForSeq2SeqLM, but peft's SEQ_2_SEQ_LM is for encoder-decoders
    is_encoder_decoder: bool = False
    schema: int = SCHEMA_VERSION

    # -- lookups (not serialised) ----------------------------------------------------------
    def __post_init__(self) -> None:
        self._by_name: dict[str, ModuleInfo] = {m.name: m for m in self.modules}

    def auto_class_refused(self) -> bool:
        """The auto class asked for exists in the installed transformers but maps no model for this
        config's type, so another class was built (``AutoModelForCausalLM.from_pretrained`` on a T5
        config raises ValueError); not a class this transformers lacks (an older name). The build
        writes that into ``class_note`` (``model/build.py``)."""
        asked = self.requested_class
        return f"{asked} cannot build this config: {asked} (no " in self.class_note

    def module(self, name: str) -> ModuleInfo | None:
        return self._by_name.get(name)

    def names(self) -> list[str]:
        return [m.name for m in self.modules]

    def leaves(self) -> list[ModuleInfo]:
        return [m for m in self.modules if not m.children]

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> "Inventory":
        """Read back :meth:`to_json`; ``typedjson.ShapeError`` (a ValueError) unless every field has
        its declared type and the module names are unique."""
        if not isinstance(data, dict) or data.get("schema") != SCHEMA_VERSION:
            got = data.get("schema") if isinstance(data, dict) else None
            raise ValueError(f"inventory schema {got!r} is not {SCHEMA_VERSION}")
        inv = typedjson.load(cls, data, "inventory")
        if len(inv._by_name) != len(inv.modules):
            raise typedjson.ShapeError("inventory: a module name appears twice")
        return inv
