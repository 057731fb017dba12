"""PFT4xx: saved adapters (adapter_config.json + adapter_model.safetensors) against the base model."""

from __future__ import annotations

from pathlib import PurePosixPath
from typing import Any, Iterator

from peftlint.rules.context import Context
from peftlint.diagnostics import Diagnostic, Severity, Span
from peftlint.semantics.weights import (
    Mismatch, WeightReport, fmt_shape, group_keys, report_for,
)
from peftlint.rules.base import Example, Rule
from peftlint.rules.form import InvalidValue
from peftlint.rules.weights_examples import (
    BASE_DIR, BASE_FILE, GOOD_WEIGHTS, adapter_config, lora_shapes, safetensors_bytes,
)

WEIGHTS = "adapter_model.safetensors"


def _adapter(config: str, weights: bytes | None = GOOD_WEIGHTS, *extra: tuple[str, str | bytes],
             args: tuple[str, ...] = (), note: str = "") -> Example:
    files: tuple[tuple[str, str | bytes], ...] = (BASE_FILE, *extra)
    if weights is not None:
        files = ((WEIGHTS, weights), *files)
    return Example(config, kind="json", files=files, args=args, note=note)


def _span(ctx: Context, *names: str) -> Span:
    for n in names:
        v = ctx.spec.fields.get(n)
        if v is not None:
            return v.span
    return ctx.spec.span


def _weights_diag(rule: Rule, ctx: Context, rep: WeightReport, message: str, subject: str | None,
                  severity: Severity | None = None) -> Diagnostic:
    """A finding about the weights file itself, reported at its first byte."""
    path = rep.weights_path or rep.pickle_path or ""
    shown = str(PurePosixPath(ctx.spec.path).parent / PurePosixPath(path.replace("\\", "/")).name)
    d = rule.diagnostic(ctx, Span(1, 1, 1, 1), message, subject=subject, severity=severity)
    d.path = shown[2:] if shown.startswith("./") else shown
    return d


def _more(n: int) -> str:
    return f" (and {n} more like it)" if n > 0 else ""


def _names(keys: list[str], limit: int = 3) -> str:
    shown = ", ".join(f"`{k}`" for k in keys[:limit])
    return shown + (f" and {len(keys) - limit} more" if len(keys) > limit else "")


# -- PFT401 ---------------------------------------------------------------------------------------

_JSON_KIND = {str: "a string", bool: "a boolean", int: "an integer", float: "a number", list: "an array",
              dict: "an object", type(None): "null"}
_FLOAT_OK = ("alpha", "dropout", "scaling")  # int-annotated fields PEFT uses as plain numbers


def _split_top(s: str, sep: str) -> list[str]:
    parts, depth, cur = [], 0, ""
    for ch in s:
        depth += ch == "["
        depth -= ch == "]"
        if ch == sep and depth == 0:
            parts.append(cur)
            cur = ""
        else:
            cur += ch
    parts.append(cur)
    return [p.strip() for p in parts if p.strip()]


def accepts(value: Any, ann: str, float_ok: bool = False) -> bool:
    """Whether a JSON value fits a dataclass field annotation as peft declares it (lenient on unknowns)."""
    alts = _split_top(ann, "|")
    if len(alts) > 1:
        return any(accepts(value, a, float_ok) for a in alts)
    head, _, inner = ann.strip().partition("[")
    inner = inner[:-1] if inner.endswith("]") else inner
    head = head.strip().rsplit(".", 1)[-1]
    if head == "Optional":
        return value is None or accepts(value, inner, float_ok)
    if head == "Union":
        return any(accepts(value, a, float_ok) for a in _split_top(inner, ","))
    if head in ("list", "List", "Sequence", "set", "Set"):
        return isinstance(value, list) and (not inner or all(accepts(v, inner) for v in value))
    if head in ("tuple", "Tuple"):
        return isinstance(value, list)
    if head in ("dict", "Dict"):
        return isinstance(value, dict)
    if head == "Literal":
        return isinstance(value, str) if ("'" in inner or '"' in inner) else True
    if head == "str":
        return isinstance(value, str)
    if head == "bool":
        return isinstance(value, bool)
    if head == "int":
        ok = (int, float) if float_ok else (int,)
        return isinstance(value, ok) and not isinstance(value, bool)
    if head == "float":
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if head in ("None", "NoneType"):
        return value is None
    if head.endswith("Config"):
        return isinstance(value, dict)
    if head in ("TaskType", "PeftType"):
        return isinstance(value, str)
    return True  # an annotation peftlint does not model


class InvalidAdapterConfig(Rule):
    code = "PFT401"
    name = "invalid-adapter-config"
    severity = Severity.ERROR
    summary = "`adapter_config.json` is not valid JSON, lacks a known `peft_type`, or has fields of the wrong type."
    needs_model = False
    docs = """
    `PeftConfig.from_pretrained` reads `adapter_config.json`, looks up the config class from
    `peft_type` and passes every field to it **unchecked**. Broken JSON or a missing or unknown
    `peft_type` makes loading fail. A field of the wrong type is accepted by the config and fails
    later, while the layers are built, or silently means something else: `"target_modules":
    ["q_proj", 7]` fails inside the matcher, `"layers_to_transform": ["0", "1"]` never equals an
    integer layer index, a sub-config such as `"loftq_config": "none"` is not an object.

    The types are the field annotations of the installed peft's config class. Top-level types and
    values (`"r": "8"`, an unknown `bias`) are PFT210, for every source; PFT401 adds what a saved
    file gets wrong beyond that: the items of lists and sub-configs. Unknown keys are PFT209.

    Fix: write the value with the declared JSON type, or re-save the config with
    `config.save_pretrained(dir)`.
    """
    bad = (
        _adapter(adapter_config(layers_to_transform=["0", "1"]), note="layer indices written as strings"),
        _adapter('{\n  "r": 8,\n  "target_modules": ["q_proj", "v_proj"]\n}\n', note="no `peft_type`"),
    )
    good = (_adapter(adapter_config()),)

    def check(self, ctx: Context) -> Iterator[Diagnostic]:
        spec = ctx.spec
        if spec.source != "adapter_config" or ctx.facts is None:
            return
        info = ctx.facts.configs.get(spec.config_class)
        if info is None:
            return
        for name, v in spec.fields.items():
            f = info.fields.get(name)
            if f is None or name == "peft_type" or v.dynamic:
                continue
            ann = str(f.get("type") or "")
            if not ann or (v.value is None and f.get("default") is None):
                continue
            if accepts(v.value, ann, float_ok=any(s in name for s in _FLOAT_OK)):
                continue
            if InvalidValue()._problem(ctx, name, v.value, ann, ctx.facts.task_types):
                continue  # PFT210 reports it (top-level types and values, every source)
            kind = _JSON_KIND.get(type(v.value), type(v.value).__name__)
            yield self.diagnostic(
                ctx, v.span,
                f"`{name}` is {kind} ({_short(v.value)}) but {spec.config_class} declares `{ann}`: PEFT passes "
                "the value on unchecked, so loading this adapter fails while the layers are built or silently "
                f"does something else; write it as `{ann}`",
                subject=name)


def _short(value: Any) -> str:
    import json

    text = json.dumps(value)
    return text if len(text) <= 40 else text[:37] + "..."


# -- PFT402 ---------------------------------------------------------------------------------------

def _report(ctx: Context) -> WeightReport | None:
    rep = report_for(ctx)
    if rep is None or not rep.readable:
        return None
    return rep


def _mismatch_groups(items: list[Mismatch]) -> list[tuple[Mismatch, int]]:
    by_key = {mm.key: mm for mm in items}
    return [(by_key[keys[0]], len(keys) - 1) for keys in group_keys([mm.key for mm in items]).values()]


class WeightShapeMismatch(Rule):
    code = "PFT402"
    name = "weight-shape-mismatch"
    severity = Severity.ERROR
    summary = "A saved tensor does not fit the base model's module (adapter trained on another base)."
    docs = """
    A LoRA tensor's shape follows from the base module it was trained on: `lora_A` is
    `[r, in_features]`, `lora_B` is `[out_features, r]` (GPT-2 `Conv1D` the same; embeddings
    `lora_embedding_A [r, num_embeddings]`, `lora_embedding_B [embedding_dim, r]`; DoRA magnitudes
    `[out_features]`; `target_parameters` on fused experts `[r*E, in]`/`[out, r*E]`). When the
    feature sizes in `adapter_model.safetensors` differ from the base model's modules, the adapter
    was trained on another base: `PeftModel.from_pretrained` fails with
    `RuntimeError: Error(s) in loading state_dict for PeftModel: size mismatch for ...` only after
    the base model has been downloaded and loaded.

    peftlint reads only the safetensors header (no weights) and compares it with the base model's
    module tree. A whole saved embedding matrix that differs from the base means the vocabulary was
    resized during training: call `model.resize_token_embeddings(n)` before loading.

    Fix: load the adapter onto the model it was trained on (see `base_model_name_or_path`), or
    retrain it for this base.
    """
    bad = (_adapter(adapter_config(), safetensors_bytes(lora_shapes(hidden=96, kv=48)),
                    note="weights from a model with hidden size 96; the base has 64"),)
    good = (_adapter(adapter_config()),)

    def check(self, ctx: Context) -> Iterator[Diagnostic]:
        rep = _report(ctx)
        if rep is None:
            return
        for mm, more in _mismatch_groups(rep.shape):
            e = mm.expected
            if e.part == "embedding":
                why = ("the vocabulary was resized during training; call `model.resize_token_embeddings"
                       f"({mm.saved[0]})` on the base model before loading the adapter")
            elif e.part == "full" and len(mm.saved) >= 1 and mm.saved[1:] == e.shape[1:]:
                why = (f"if `{e.module}` is a classification head, load the base model with "
                       f"num_labels={mm.saved[0]}; otherwise the adapter was trained on another base model")
            else:
                why = ("this adapter was trained on another base model; load it onto the model it was trained "
                       "on (base_model_name_or_path) or retrain it for this one")
            yield self.diagnostic(
                ctx, _span(ctx, "base_model_name_or_path"),
                f"{WEIGHTS}: `{mm.key}` has shape {fmt_shape(mm.saved)}, but `{e.module}` of {ctx.model_label} "
                f"is {e.base} and needs {fmt_shape(e.shape)}{_more(more)}: PeftModel.from_pretrained raises "
                f"\"size mismatch for {mm.key}\"; {why}",
                subject=mm.key)


# -- PFT403 ---------------------------------------------------------------------------------------

class RankMismatch(Rule):
    code = "PFT403"
    name = "rank-mismatch"
    severity = Severity.ERROR
    summary = "The rank saved in the weights differs from `r`/`rank_pattern` in the config."
    docs = """
    PEFT builds the LoRA layers from `adapter_config.json` before it loads the weights: the rank
    of each module is the value of the **first** `rank_pattern` key (in the file's order) whose
    regex matches a dot-bounded suffix of the module name, otherwise `r`. When the saved tensors
    have another rank, `PeftModel.from_pretrained` fails with `size mismatch`.

    Common causes: the config was edited or regenerated after training, or `rank_pattern` keys
    overlap and `save_pretrained` sorted them alphabetically, so a different key now matches
    first (see PFT305).

    Fix: set `r` (or the `rank_pattern` entry named in the message) to the rank that was trained.
    """
    bad = (_adapter(adapter_config(r=4), safetensors_bytes(lora_shapes(r=8)),
                    note="trained with r=8, config says r=4"),)
    good = (_adapter(adapter_config(r=8), safetensors_bytes(lora_shapes(r=8))),)

    def check(self, ctx: Context) -> Iterator[Diagnostic]:
        rep = _report(ctx)
        if rep is None:
            return
        for mm, more in _mismatch_groups(rep.rank):
            e = mm.expected
            if e.rank_from == "r":
                src, span = f"`r` = {e.rank}", _span(ctx, "r")
                fix = f"set `r` to {mm.saved_rank}"
            else:
                src = f"`rank_pattern` key {e.rank_from!r} (the first key that matches) = {e.rank}"
                span = _pattern_key_span(ctx, e.rank_from)
                fix = f"set `rank_pattern[{e.rank_from!r}]` to {mm.saved_rank}, or reorder the keys"
            yield self.diagnostic(
                ctx, span,
                f"{WEIGHTS}: `{mm.key}` was saved with rank {mm.saved_rank} ({fmt_shape(mm.saved)}), but the "
                f"config gives `{e.module}` rank {e.rank} from {src}{_more(more)}: PEFT builds rank-{e.rank} "
                f"layers and PeftModel.from_pretrained raises \"size mismatch for {mm.key}\"; {fix}",
                subject=mm.key)


def _pattern_key_span(ctx: Context, key: str) -> Span:
    v = ctx.spec.fields.get("rank_pattern")
    if v is not None and v.keys and key in v.keys:
        return v.keys[key].span
    return _span(ctx, "rank_pattern", "r")


# -- PFT404 ---------------------------------------------------------------------------------------

class WeightKeyMismatch(Rule):
    code = "PFT404"
    name = "weight-key-mismatch"
    severity = Severity.ERROR
    summary = "Weights for modules the config does not target or the base lacks, or targets without weights."
    docs = """
    PEFT creates adapter layers for the modules the **config** targets and then copies the saved
    tensors into them by name:

    - a targeted module without saved tensors keeps its fresh initialisation (LoRA `B` is zero, so
      the layer does nothing); PEFT only warns `Found missing adapter keys while loading the
      checkpoint: [...]`;
    - saved tensors for modules the config does not target are **ignored silently**: the trained
      weights are not used;
    - tensors named after modules the base model does not have come from another architecture;
    - a `modules_to_save` module without its saved copy keeps the base model's weights.

    Fix: make `target_modules`/`modules_to_save` in `adapter_config.json` describe what was
    trained (re-save with `model.save_pretrained`), or load the adapter onto the base it was
    trained on.
    """
    bad = (_adapter(adapter_config(targets=("q_proj", "v_proj")),
                    safetensors_bytes(lora_shapes(modules=("q_proj",))),
                    note="`v_proj` is targeted but has no saved weights"),
           _adapter(adapter_config(targets=("q_proj",)), GOOD_WEIGHTS,
                    note="`v_proj` weights are saved but not targeted"))
    good = (_adapter(adapter_config(targets=("q_proj", "v_proj"))),)

    def check(self, ctx: Context) -> Iterator[Diagnostic]:
        rep = _report(ctx)
        if rep is None or not rep.checked_model:
            return
        label = ctx.model_label
        tspan = _span(ctx, "target_modules", "target_parameters")
        for keys in group_keys([e.key for e in rep.missing]).values():
            e = rep.expected[keys[0]]
            if e.part == "full":
                msg = (f"`{e.module}` is in modules_to_save but {WEIGHTS} has no `{keys[0]}`{_more(len(keys) - 1)}: "
                       "PEFT keeps the base model's weights for it, so the trained copy is lost; re-save the "
                       "adapter or remove the entry")
                span = _span(ctx, "modules_to_save")
            else:
                msg = (f"the config targets `{e.module}` but {WEIGHTS} has no `{keys[0]}`{_more(len(keys) - 1)}: "
                       "PEFT warns \"Found missing adapter keys while loading the checkpoint\" and leaves those "
                       "layers untrained; fix target_modules to what was trained, or re-save the adapter")
                span = tspan
            yield self.diagnostic(ctx, span, msg, subject=keys[0])
        for mods in group_keys(rep.missing_modules).values():
            yield self.diagnostic(
                ctx, tspan,
                f"the config targets `{mods[0]}`{_more(len(mods) - 1)} but {WEIGHTS} has no {rep.method} weights "
                "for it: PEFT warns about missing adapter keys and leaves that layer untrained; fix target_modules "
                "to what was trained, or re-save the adapter", subject=mods[0])
        for keys in group_keys(rep.untargeted).values():
            yield self.diagnostic(
                ctx, tspan,
                f"{WEIGHTS} has `{keys[0]}`{_more(len(keys) - 1)}, but the config does not target that module: "
                "PEFT ignores these weights silently; add the module to target_modules (or modules_to_save) as "
                "it was trained",
                subject=keys[0])
        for keys in group_keys(rep.absent).values():
            yield self.diagnostic(
                ctx, _span(ctx, "base_model_name_or_path"),
                f"{WEIGHTS} has `{keys[0]}`{_more(len(keys) - 1)}, but {label} has no such module: these weights "
                "come from another architecture and PEFT ignores them silently; load the adapter onto the base "
                "it was trained on",
                subject=keys[0])


# -- PFT405 ---------------------------------------------------------------------------------------

class EmptyTensor(Rule):
    code = "PFT405"
    name = "empty-tensor"
    severity = Severity.ERROR
    summary = "A zero-sized tensor in the adapter file."
    needs_model = False
    docs = """
    A tensor with a zero dimension (shape `[0]`, `[0, 4096]`) holds no weights. It is what a
    DeepSpeed ZeRO-3 (or FSDP) run writes when the adapter is saved from a rank that holds only a
    shard, without gathering the parameters first. Loading it raises `size mismatch` (the layer
    expects `[r, in]`), or, for a tensor PEFT does not look at, the trained weights are simply lost.

    Fix: save with the trainer (`trainer.save_model()`, which gathers ZeRO-3 parameters) or
    gather the state dict before `model.save_pretrained`.
    """
    bad = (_adapter(adapter_config(), safetensors_bytes({**lora_shapes(), **{
        "base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight": (0,)}}),
        note="a ZeRO-3 shard saved without gathering"),)
    good = (_adapter(adapter_config()),)

    def check(self, ctx: Context) -> Iterator[Diagnostic]:
        rep = report_for(ctx)
        if rep is None or not rep.readable or not rep.zero:
            return
        assert rep.file is not None
        for keys in group_keys(rep.zero).values():
            shape = rep.file.tensors[keys[0]].shape
            yield _weights_diag(
                self, ctx, rep,
                f"`{keys[0]}` has shape {fmt_shape(shape)} and holds no weights{_more(len(keys) - 1)}: this is "
                "what a DeepSpeed ZeRO-3/FSDP shard saved without gathering looks like; loading fails with "
                "\"size mismatch\" or loses the weights; re-save with the parameters gathered "
                "(trainer.save_model())",
                keys[0])


# -- PFT406 ---------------------------------------------------------------------------------------

_TRUNCATED = safetensors_bytes(lora_shapes())[:-100]


class UnreadableWeights(Rule):
    code = "PFT406"
    name = "unreadable-weights"
    severity = Severity.ERROR
    summary = "Truncated or corrupt safetensors; pickle files are never loaded (noted)."
    needs_model = False
    docs = """
    peftlint reads `adapter_model.safetensors` with the safetensors library's own header reader,
    which checks the header size, the offsets and that the data covers the file exactly. A file
    that fails these checks (an interrupted upload or copy, a Git LFS pointer, a file from a
    different format) makes `PeftModel.from_pretrained` fail with the same reason.

    An adapter saved as `adapter_model.bin` (a pickle, `safe_serialization=False`) is never opened
    by peftlint, because unpickling runs code: the folder gets an info note and its weights are not
    checked. PEFT loads it with `torch.load`.

    Fix: re-download or re-save the adapter (`model.save_pretrained(dir)` writes safetensors).
    """
    bad = (_adapter(adapter_config(), _TRUNCATED, note="the last 100 bytes are missing"),)
    good = (_adapter(adapter_config()),)

    def check(self, ctx: Context) -> Iterator[Diagnostic]:
        rep = report_for(ctx)
        if rep is None:
            return
        if rep.file is not None and rep.file.error:
            yield _weights_diag(
                self, ctx, rep,
                f"cannot read {WEIGHTS}: {rep.file.error}; PeftModel.from_pretrained fails on this file too; "
                "re-download or re-save the adapter",
                WEIGHTS)
        elif rep.pickle_path is not None:
            name = PurePosixPath(rep.pickle_path.replace("\\", "/")).name
            yield _weights_diag(
                self, ctx, rep,
                f"{name} is a pickle: peftlint never loads pickles (unpickling runs code), so these weights were "
                "not checked; PEFT loads it with torch.load. Re-save with model.save_pretrained(dir) to get "
                f"{WEIGHTS}",
                name, severity=Severity.INFO)


# -- PFT407 ---------------------------------------------------------------------------------------

def _same_model(a: str, b: str, aliases: dict[str, str]) -> bool:
    def norm(s: str) -> str:
        return aliases.get(s, s).replace("\\", "/").rstrip("/").lower()

    na, nb = norm(a), norm(b)
    return na == nb or na.rsplit("/", 1)[-1] == nb.rsplit("/", 1)[-1]


class BaseModelMismatch(Rule):
    code = "PFT407"
    name = "base-model-mismatch"
    severity = Severity.WARNING
    summary = "`base_model_name_or_path` differs from the base model the project declares."
    needs_model = False
    docs = """
    `adapter_config.json` records the model the adapter was trained on in
    `base_model_name_or_path`. When the project declares another base (`--model`,
    `[tool.peftlint] model`), peftlint checks the adapter against the declared one, as your code
    will load it: `PeftModel.from_pretrained(base, dir)` uses whatever base you pass and ignores
    the recorded name. If the two really differ, the adapter fails with `size mismatch` or, on a
    same-shaped model, loads and silently produces wrong outputs.

    Names are compared after `[tool.peftlint] models` aliases; a local directory and a hub id
    with the same last path component (`/models/SmolLM2-135M` and `HuggingFaceTB/SmolLM2-135M`)
    count as the same model.

    Fix: load the adapter onto the model it was trained on, or correct `base_model_name_or_path`.
    """
    bad = (_adapter(adapter_config(base="HuggingFaceTB/SmolLM2-360M"), args=("--model", f"./{BASE_DIR}")),)
    good = (_adapter(adapter_config(), args=("--model", f"./{BASE_DIR}")),)

    def check(self, ctx: Context) -> Iterator[Diagnostic]:
        spec = ctx.spec
        if spec.source != "adapter_config":
            return
        v = spec.fields.get("base_model_name_or_path")
        if v is None or not isinstance(v.value, str) or not v.value:
            return
        s = ctx.settings
        declared, how = (s.cli_model, "--model") if s.cli_model else (s.model, "[tool.peftlint] model")
        if not declared or _same_model(v.value, declared, dict(s.models)):
            return
        yield self.diagnostic(
            ctx, v.span,
            f"this adapter was trained on `{v.value}` but the project declares `{declared}` ({how}); peftlint "
            f"checked it against `{declared}`, the base your code passes to PeftModel.from_pretrained. If they "
            "really differ, loading fails with \"size mismatch\" or silently gives wrong outputs; load it onto "
            "the model it was trained on or correct base_model_name_or_path",
            subject=v.value)
