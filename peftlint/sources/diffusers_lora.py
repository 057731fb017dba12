"""A diffusers LoRA file (``pytorch_lora_weights.safetensors``) → one AdapterSpec per component.

diffusers' ``save_lora_weights`` (``StableDiffusionLoraLoaderMixin`` and the other pipelines'
loaders) writes no adapter_config.json: one safetensors file holds every component's LoRA weights,
each key prefixed with the component (``unet.``, ``transformer.``, ``text_encoder.``), in PEFT's
format (``...to_q.lora_A.weight``, what ``get_peft_model_state_dict`` returns) or converted by
``convert_state_dict_to_diffusers`` (``...to_q.lora.down.weight``). When the training script
passed the LoraConfig (``unet_lora_adapter_metadata=...``), the header's ``lora_adapter_metadata``
holds it as JSON, keyed ``<component>.<field>``. The file never names its base model: ``--model``
(or ``[tool.peftlint] model``) names the pipeline, and each component's config is checked against
that folder of it. Only the header is read (no tensor data, no torch).
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from peftlint.codes import Code
from peftlint.diagnostics import Span
from peftlint.sources import Problem, SourceResult
from peftlint.sources.adapter_weights import AdapterWeights, TensorInfo, WeightFile, read_weights
from peftlint.spec import AdapterSpec, SourceKind, Value

WEIGHTS_NAME = "pytorch_lora_weights.safetensors"
PICKLE_NAME = "pytorch_lora_weights.bin"
METADATA_KEY = "lora_adapter_metadata"  # diffusers.loaders.lora_base.LORA_ADAPTER_METADATA_KEY

# diffusers' key format back to PEFT's (the inverse of state_dict_utils.PEFT_TO_DIFFUSERS)
_DIFFUSERS_SUFFIXES = (
    (re.compile(r"\.lora(?:_linear_layer)?\.down\.weight$"), ".lora_A.weight"),
    (re.compile(r"\.lora(?:_linear_layer)?\.up\.weight$"), ".lora_B.weight"),
    (re.compile(r"\.lora(?:_linear_layer)?\.up\.bias$"), ".lora_B.bias"),
)
_FIRST = Span(1, 1, 1, 1)


def peft_key(key: str) -> str:
    """A saved key in PEFT's naming (``to_q.lora.down.weight`` -> ``to_q.lora_A.weight``)."""
    for pattern, new in _DIFFUSERS_SUFFIXES:
        if pattern.search(key):
            return pattern.sub(new, key)
    return key


def components(tensors: dict[str, TensorInfo]) -> list[str]:
    """The components a file has weights for, in key order (``unet``, ``text_encoder``, ...)."""
    return list(dict.fromkeys(k.split(".", 1)[0] for k in tensors if "." in k))


def component_weights(path: str, component: str, file: WeightFile | None = None) -> AdapterWeights:
    """The weights of one component, keys in PEFT's naming, as the weight checks read them."""
    file = file or read_weights(path)
    own = WeightFile(file.path, metadata=file.metadata, error=file.error)
    head = component + "."
    own.tensors = {peft_key(k): t for k, t in file.tensors.items() if k.startswith(head)}
    return AdapterWeights(str(Path(path).parent), weights_path=path, file=own, base=head)


def extract_diffusers_lora(path: str, abspath: str, peft_types: dict[str, str]) -> SourceResult:
    if abspath.endswith(".bin"):
        return SourceResult(problems=[Problem(
            Code.UNRESOLVED_MODEL, f"{Path(path).name} is a pickle, never opened by peftlint: save the LoRA with "
            "safe_serialization=True (the default) to have its weights checked")])
    file = read_weights(abspath)
    if file.error:
        return SourceResult(problems=[Problem(Code.UNREADABLE_WEIGHTS, f"{Path(path).name} cannot be read: {file.error}")])
    parts = components(file.tensors)
    meta = _metadata(file)
    if isinstance(meta, str):
        return SourceResult(problems=[Problem(Code.INVALID_ADAPTER_CONFIG, meta)])
    missing = [c for c in parts if c not in meta]
    result = SourceResult()
    if missing:
        shown = ", ".join(f"`{c}`" for c in missing)
        result.problems.append(Problem(
            Code.UNRESOLVED_MODEL, f"{Path(path).name} holds diffusers LoRA weights for {shown} but not their LoraConfig (saved "
            "without `<component>_lora_adapter_metadata`); diffusers rebuilds a config from the weight names when it "
            "loads them, so there is no config here to check. Pass the LoraConfig to save_lora_weights "
            "(e.g. unet_lora_adapter_metadata=unet.peft_config['default'].to_dict()) to have it linted"))
    lora = next((p for p, cls in peft_types.items() if cls == "LoraConfig"), "LORA")
    for comp in parts:
        if comp not in meta:
            continue
        spec = AdapterSpec(path=path, source=SourceKind.DIFFUSERS_LORA, config_class="LoraConfig", method=lora, span=_FIRST,
                           fields={k: _value(v) for k, v in meta[comp].items()}, abspath=abspath,
                           adapter_dir=str(Path(abspath).parent))
        tt = meta[comp].get("task_type")
        spec.task_type = tt if isinstance(tt, str) else None
        spec.facts.subfolder = comp
        spec.facts.model_unresolved = (f"the `{comp}` weights of a diffusers LoRA file name no base model; pass "
                                       "--model <pipeline> to check them")
        result.specs.append(spec)
    return result


def _metadata(file: WeightFile) -> dict[str, dict] | str:
    """component -> LoraConfig fields from the header's ``lora_adapter_metadata``, or why it is unusable."""
    raw = (file.metadata or {}).get(METADATA_KEY)
    if raw is None:
        return {}
    try:
        flat = json.loads(raw)
    except ValueError as exc:
        return f"the `{METADATA_KEY}` in the safetensors header is not valid JSON: {exc}"
    except RecursionError:  # json.loads recurses once per level: 100,000 nested arrays
        return f"the `{METADATA_KEY}` in the safetensors header nests too deeply to be read as JSON"
    if not isinstance(flat, dict):
        return f"the `{METADATA_KEY}` in the safetensors header is not a JSON object"
    out: dict[str, dict] = {}
    for key, value in flat.items():
        comp, sep, name = str(key).partition(".")
        if sep:
            out.setdefault(comp, {})[name] = value
    return out


def _value(v: object) -> Value:
    """A field value read from the header (no positions inside a binary file: all at 1:1)."""
    if isinstance(v, list):
        return Value(v, _FIRST, kind="list", items=[_value(i) for i in v])
    if isinstance(v, dict):
        return Value(v, _FIRST, kind="dict", keys={str(k): Value(k, _FIRST, kind="str") for k in v},
                     members={str(k): _value(x) for k, x in v.items()})
    kind = {bool: "bool", int: "int", float: "float", str: "str", type(None): "none"}.get(type(v), "dynamic")
    return Value(v, _FIRST, kind=kind)
