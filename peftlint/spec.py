"""AdapterSpec: one PEFT config found in a source (a Python call, an adapter_config.json, a YAML)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from peftlint.diagnostics import Span
from peftlint.strenum import StrEnum


@dataclass
class Value:
    """A field value as written in the source.

    ``value`` is the plain Python value (str, int, float, bool, None, list, dict). For lists, tuples
    and sets ``items`` holds one ``Value`` per element (with its own span); for dicts ``keys`` maps
    each key to the ``Value`` of the key itself (its span is the key's position) and ``value`` holds
    the plain dict. ``dynamic`` marks a value computed at runtime (``value`` is then None); a list
    may be static while some of its items are dynamic.
    """

    value: Any
    span: Span
    dynamic: bool = False
    kind: str = ""  # "str", "list", "tuple", "set", "dict", "int", "float", "bool", "none", "dynamic"
    items: list["Value"] | None = None
    keys: dict[str, "Value"] | None = None
    members: dict[str, "Value"] | None = None  # dicts: key -> the member's value (with its span)
    reason: str = ""  # for dynamic values: why it could not be resolved (shown in PFT904)
    origin: str = ""  # e.g. "constant TARGETS (line 3)" when resolved through a name

    @property
    def is_str(self) -> bool:
        return not self.dynamic and isinstance(self.value, str)

    @property
    def is_sequence(self) -> bool:
        return not self.dynamic and self.items is not None

    @property
    def fully_static(self) -> bool:
        if self.dynamic:
            return False
        if self.items is not None and any(not i.fully_static for i in self.items):
            return False
        return True


@dataclass
class ModelRef:
    """Where the base model of a spec came from, before resolution."""

    ref: str  # hub id, local path, or alias
    how: str  # human explanation: "from_pretrained(...) at line 12", "--model", "default of --model_id"
    span: Span | None = None
    revision: str | None = None
    base_dir: str | None = None  # directory a relative local path is relative to
    model_class: str | None = None  # transformers class named in the code, e.g. "AutoModelForCausalLM"
    from_default: bool = False  # True when taken from an argparse/dataclass/parameter default
    trust_remote_code: bool = False  # the code itself passes trust_remote_code=True
    class_from_code: bool = False  # model_class is the transformers class the code loads with (not a guess)
    # a model stored in a folder of its repository (diffusers: "unet", "transformer", "text_encoder")
    subfolder: str | None = None
    # who builds it: "transformers", "diffusers", or "local" (an nn.Module class defined in the
    # linted code; ``ref`` is then the class name and the tree is read statically)
    library: str = "transformers"


@dataclass
class TargetRule:
    """A trainer computes ``target_modules`` from the model itself (axolotl's
    ``lora_target_linear: true``, LLaMA-Factory's ``lora_target: all``): the reader cannot list the
    names, so ``target_modules`` holds a dynamic item for them until ``semantics.trainer_targets``
    applies the trainer's rule to the model's inventory."""

    trainer: str  # "axolotl" | "llama-factory" | "llama-factory-v1" | "xtuner": whose rule
    written: str  # what the config says, for messages: "lora_target_linear: true", "lora_target: all"
    span: Span  # where it is written (the document start for a default)


@dataclass
class SourceFacts:
    """What the reader saw besides the field values."""

    # field -> where it is named: ``name=value`` at a Python call, a JSON/YAML key, a command-line flag
    key_spans: dict[str, Span] = field(default_factory=dict)
    # Python: field -> the argument expression at the call (a field's ``Value.span`` points at the
    # literal, which may be a constant defined elsewhere)
    arg_spans: dict[str, Span] = field(default_factory=dict)
    opaque_args: list[str] = field(default_factory=list)  # Python: what made the spec opaque (``**kw``, ...)
    model_unresolved: str = ""  # why ``spec.model`` is None
    model_class: str | None = None  # the model class the source implies when it names no model
    tool: str = ""  # "unsloth", "axolotl", "llama-factory", "trl"; "" for plain peft
    call: str = ""  # the call that builds the config when it is not a config class
    trainer_keys: dict[str, str] = field(default_factory=dict)  # trainer configs: PEFT field -> trainer key
    target_rule: TargetRule | None = None  # trainer configs whose trainer lists target_modules itself
    # trainer configs: field -> what the trainer does with it, said instead of the key's name in messages
    trainer_notes: dict[str, str] = field(default_factory=dict)
    notebook: bool = False  # read from a notebook's cells
    # Python: fields set on the config object after the call (``config.x = ...``): unknown values
    changed_later: dict[str, Value] = field(default_factory=dict)
    # Python: why any field may have been changed after the call (``setattr(config, name, ...)``), or ""
    changed_unknown: str = ""
    # the repository folder of the model this config is for when the source names the component but
    # not the model (a diffusers LoRA file's ``unet.`` weights, ``from_pretrained(args.model,
    # subfolder="unet")``): ``--model`` or a ``# peftlint: model=`` comment then means that folder of it
    subfolder: str | None = None
    # who builds that component ("transformers", "diffusers") when the source says so; None: unknown
    library: str | None = None
    # Python: the file calls ``resize_token_embeddings`` (new tokens: targeting the embedding and
    # head is then PEFT's documented recipe, not a mistake)
    resizes_embeddings: bool = False
    # Python: the ``with pytest.raises(...)``/``pytest.warns(...)`` block that runs this config into
    # peft, as written (``pytest.raises(ValueError)``), with its line; findings there are expected
    expects: str = ""
    expects_line: int = 0
    expects_kind: str = ""  # "raises" | "warns"
    # Python: module classes registered with ``config._register_custom_module({nn.LSTM: ...})`` (the
    # class names as written); None when a registration's mapping could not be read
    custom_modules: list[str] | None = field(default_factory=list)


class SourceKind(StrEnum):
    """Which reader found a spec (``AdapterSpec.source``); notebooks' specs come from their Python."""

    PYTHON = "python"  # a config call in Python code (a .py file or a notebook's cells)
    ADAPTER_CONFIG = "adapter_config"  # a saved adapter_config.json
    YAML = "yaml"  # a trainer config (axolotl, LLaMA-Factory)
    SHELL = "shell"  # a trainer command line in a shell script
    DIFFUSERS_LORA = "diffusers_lora"  # one component's LoRA in a diffusers pytorch_lora_weights file


@dataclass
class AdapterSpec:
    """One PEFT config as a source wrote it: its class, its arguments and where it is."""

    path: str  # display path, relative to the cwd, '/'-separated
    source: SourceKind
    config_class: str  # "LoraConfig", "IA3Config", ...
    method: str  # peft_type: "LORA", "IA3", ...
    span: Span  # the config call (or the file start for JSON)
    fields: dict[str, Value] = field(default_factory=dict)
    model: ModelRef | None = None
    # further models the same config is applied to (pytest parameters, subclasses that override a
    # model id): the config is checked against ``model`` and each of these
    other_models: list[ModelRef] = field(default_factory=list)
    task_type: str | None = None
    # keyword arguments that are passed as **kwargs or positionally and could not be read
    opaque: bool = False
    # adapter folder of a saved adapter (for weight checks), if any
    adapter_dir: str | None = None
    # absolute file path, for fixes and model-relative resolution
    abspath: str = ""
    facts: SourceFacts = field(default_factory=SourceFacts)

    def get(self, name: str) -> Value | None:
        return self.fields.get(name)

    def static(self, name: str, default: Any = None) -> Any:
        """The plain value of a field if it is present and fully static, else ``default``."""
        v = self.fields.get(name)
        if v is None or not v.fully_static:
            return default
        return v.value

    def has(self, name: str) -> bool:
        return name in self.fields

    def label(self) -> str:
        return f"{self.config_class} at {self.path}:{self.span.line}"


# task_type -> the transformers auto class PEFT's task implies (used when the code names no class)
TASK_TYPE_TO_AUTO_CLASS = {
    "CAUSAL_LM": "AutoModelForCausalLM",
    "SEQ_2_SEQ_LM": "AutoModelForSeq2SeqLM",
    "SEQ_CLS": "AutoModelForSequenceClassification",
    "TOKEN_CLS": "AutoModelForTokenClassification",
    "QUESTION_ANS": "AutoModelForQuestionAnswering",
    "FEATURE_EXTRACTION": "AutoModel",
}
