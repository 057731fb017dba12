"""PFT2xx: the form of the values, checkable without the model."""

from __future__ import annotations

import difflib
import re
from typing import Iterator

from peftlint.rules.context import Context
from peftlint.diagnostics import Diagnostic, Edit, Fix, Severity
from peftlint.fix.apply import remove_item_edit, span_text
from peftlint.semantics.matching import ALL_LINEAR
from peftlint.spec import Value
from peftlint.rules.base import Example, Rule

_REGEX_CHARS = re.compile(r"[*+?()|^$\\{}]")
_MALFORMED = re.compile(r"[\[\]'\",\s]")


def literal_problem(entry: str) -> str | None:
    """Why a list entry cannot be a literal module name ("regex", "shorthand", "malformed"), or None."""
    if entry.lower() == ALL_LINEAR:
        return "shorthand"
    if _REGEX_CHARS.search(entry):
        return "regex"
    if entry == "" or _MALFORMED.search(entry) or entry.startswith(".") or entry.endswith(".") or ".." in entry:
        return "malformed"
    return None


def _py(body: str) -> Example:
    return Example(f"from peft import LoraConfig\n\n{body}\n")


def _string_items(ctx: Context, field_name: str = "target_modules"):
    v = ctx.field(field_name)
    if v is None or v.dynamic or v.items is None:
        return
    for item in v.items:
        if not item.dynamic and isinstance(item.value, str):
            yield item


def _quote(ctx: Context, s: str) -> str:
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


class RegexInList(Rule):
    code = "PFT201"
    name = "regex-in-list"
    severity = Severity.ERROR
    summary = "A `target_modules` list entry contains regex syntax; list entries are literal names."
    docs = """
    Only a *string* `target_modules` is a regular expression. Inside a list every entry is a
    literal module name (exact, or a suffix at a dot boundary), so `".*q_proj"` or `"q_.*"`
    matches nothing — silently, if another entry matches. (Before PEFT 0.6 list entries were
    searched as regexes; scripts from that time break this way.)

    Fix: use a single string regex, or list the literal names.
    """
    bad = (_py('config = LoraConfig(target_modules=["q_proj", ".*v_proj"])'),)
    good = (_py('config = LoraConfig(target_modules=r".*\\.(q_proj|v_proj)")'),)
    needs_model = False

    def check(self, ctx: Context) -> Iterator[Diagnostic]:
        for item in _string_items(ctx):
            if literal_problem(item.value) == "regex":
                yield self.diagnostic(
                    ctx, item.span,
                    f"`{item.value}` is in a list, where entries are literal module names, not regexes: it matches "
                    "nothing. Use one string regex for target_modules (e.g. r\".*\\.(q_proj|v_proj)\") or literal names",
                    subject=item.value)


class ShorthandInList(Rule):
    code = "PFT202"
    name = "shorthand-in-list"
    severity = Severity.ERROR
    summary = '`"all-linear"` inside a list; PEFT expands only the bare string.'
    docs = """
    PEFT expands `target_modules="all-linear"` to every linear layer except the output head, but
    only when it is the bare string. In a list, `["all-linear"]` is a literal module name that
    matches nothing: `Target modules {'all-linear'} not found in the base model`.

    Fix (safe, automatic): `target_modules="all-linear"`.
    """
    bad = (_py('config = LoraConfig(target_modules=["all-linear"])'),)
    good = (_py('config = LoraConfig(target_modules="all-linear")'),)
    needs_model = False

    def check(self, ctx: Context) -> Iterator[Diagnostic]:
        v = ctx.field("target_modules")
        items = list(_string_items(ctx))
        for item in items:
            if literal_problem(item.value) != "shorthand":
                continue
            fix = None
            if len(v.items) == 1 and not v.origin:
                literal = span_text(ctx.text, item.span) if ctx.text else ""
                if not literal.endswith(('"', "'")):
                    literal = _quote(ctx, item.value)
                fix = Fix("safe", (Edit(ctx.spec.path, v.span, literal),),
                          f'replace the list with the string "{item.value}"')
            yield self.diagnostic(
                ctx, item.span,
                f'"{item.value}" inside a list is a literal module name and matches nothing; PEFT expands the shorthand '
                f'only as a bare string: target_modules="{item.value}"',
                subject=item.value, fix=fix)


class MalformedName(Rule):
    code = "PFT203"
    name = "malformed-name"
    severity = Severity.ERROR
    summary = "An empty entry, or one with brackets, quotes, commas, spaces or stray dots."
    docs = """
    Module names never contain brackets, quotes, commas or spaces, and never start or end with a
    dot. Such entries usually come from a command-line string passed through unparsed
    (`--lora_target_modules '[Wqkv]'` becomes the single name `"[Wqkv]"`) or from splitting
    `"q_proj, v_proj"` on commas only. They match nothing.

    Fix: pass a real list of names.
    """
    bad = (_py('config = LoraConfig(target_modules=["q_proj, v_proj"])'),)
    good = (_py('config = LoraConfig(target_modules=["q_proj", "v_proj"])'),)
    needs_model = False

    def check(self, ctx: Context) -> Iterator[Diagnostic]:
        for field_name in ("target_modules", "modules_to_save", "exclude_modules"):
            for item in _string_items(ctx, field_name):
                if literal_problem(item.value) != "malformed":
                    continue
                parts = [p for p in re.split(r"[\[\]'\",\s]+", item.value) if p]
                hint = f"; did you mean the list {parts!r}?" if len(parts) > 1 or (parts and parts[0] != item.value) else ""
                what = "an empty name" if item.value == "" else f"`{item.value}` is not a module name"
                yield self.diagnostic(ctx, item.span, f"{what} in {field_name}: it matches nothing{hint}",
                                      subject=item.value)


class DuplicateEntry(Rule):
    code = "PFT204"
    name = "duplicate-entry"
    severity = Severity.WARNING
    summary = "The same entry appears twice."
    docs = """
    A repeated entry changes nothing (PEFT turns the list into a set) but usually hides a typo
    for the name that was meant, such as `["q_proj", "q_proj"]` for `["q_proj", "v_proj"]`.

    Fix (safe, automatic): remove the repetition — and check which name you meant.
    """
    bad = (_py('config = LoraConfig(target_modules=["q_proj", "k_proj", "q_proj"])'),)
    good = (_py('config = LoraConfig(target_modules=["q_proj", "k_proj", "v_proj"])'),)
    needs_model = False

    def check(self, ctx: Context) -> Iterator[Diagnostic]:
        for field_name in ("target_modules", "modules_to_save", "exclude_modules", "target_parameters"):
            v = ctx.field(field_name)
            if v is None or v.dynamic or v.items is None:
                continue
            seen: set[str] = set()
            prev: Value | None = None
            for item in v.items:
                if not item.dynamic and isinstance(item.value, str):
                    if item.value in seen:
                        fix = None
                        edits = (remove_item_edit(ctx.spec.path, ctx.text, v.items, v.items.index(item),
                                                  python=ctx.spec.source != "adapter_config", container=v.kind)
                                 if prev is not None and not v.origin and getattr(ctx, "text", None) else None)
                        if edits:
                            fix = Fix("safe", edits, f"remove the repeated `{item.value}`")
                        yield self.diagnostic(ctx, item.span, f"`{item.value}` appears twice in {field_name}; "
                                              "remove the repetition (did you mean another name?)",
                                              subject=item.value, fix=fix)
                    seen.add(item.value)
                prev = item


class EmptyTargets(Rule):
    code = "PFT205"
    name = "empty-targets"
    severity = Severity.ERROR
    summary = "`target_modules=[]` or `\"\"` and no `target_parameters`."
    docs = """
    An empty `target_modules` is not "use the defaults" (that is `None`): PEFT raises
    `No target_modules passed but also no target_parameters found`. It typically comes from a
    helper like `find_all_linear_names` that returned nothing for a quantized model.

    Fix: omit `target_modules` for PEFT's default, or name the targets.
    """
    bad = (_py('config = LoraConfig(target_modules=[])'),)
    good = (_py('config = LoraConfig(target_modules=["q_proj", "v_proj"])'),)
    needs_model = False

    def check(self, ctx: Context) -> Iterator[Diagnostic]:
        v = ctx.field("target_modules")
        if v is None or v.dynamic or v.value not in ([], "", (), set()) or v.value is None:
            return
        if v.items is not None and any(i.dynamic for i in v.items):
            return
        tp = ctx.field("target_parameters")
        if tp is not None and (tp.dynamic or tp.value):
            return
        yield self.diagnostic(ctx, v.span, "target_modules is empty and there are no target_parameters: PEFT raises "
                              "\"No `target_modules` passed but also no `target_parameters` found\". Omit it for "
                              "PEFT's default or name the layers", subject="target_modules")


# Keywords unsloth's FastLanguageModel/FastVisionModel.get_peft_model accepts besides LoraConfig's fields.
UNSLOTH_ONLY_ARGS = frozenset({
    "use_gradient_checkpointing", "random_state", "max_seq_length", "temporary_location",
    "finetune_vision_layers", "finetune_language_layers", "finetune_attention_modules", "finetune_mlp_modules",
    "qat_scheme",
})


class UnknownArgument(Rule):
    code = "PFT209"
    name = "unknown-argument"
    severity = Severity.ERROR
    summary = "A keyword the config class does not accept (typo such as `target_module=`)."
    docs = """
    PEFT config classes are dataclasses: an unknown keyword raises `TypeError: __init__() got an
    unexpected keyword argument` when the script starts. In a saved `adapter_config.json`, PEFT
    warns about unknown keys and ignores them, so a misspelled field has no effect.

    Fix: use the field name the installed peft defines.
    """
    bad = (_py('config = LoraConfig(target_module=["q_proj", "v_proj"])'),)
    good = (_py('config = LoraConfig(target_modules=["q_proj", "v_proj"])'),)
    needs_model = False

    def check(self, ctx: Context) -> Iterator[Diagnostic]:
        facts = ctx.facts
        info = ctx.config_info
        if info is None:
            return
        known = set(info.fields)
        is_json = ctx.spec.source != "python"
        if is_json:
            known |= {"peft_type", "auto_mapping", "peft_version", "base_model_name_or_path", "revision", "task_type",
                      "inference_mode"}
        if ctx.spec.extra.get("tool") == "unsloth":
            known |= UNSLOTH_ONLY_ARGS
        for name, v in ctx.spec.fields.items():
            if name in known:
                continue
            close = difflib.get_close_matches(name, sorted(known), n=1, cutoff=0.7)
            hint = f"; did you mean `{close[0]}`?" if close else ""
            span = ctx.spec.extra.get("keyword_spans", {}).get(name, v.span)
            if ctx.spec.source == "adapter_config":
                key = ctx.spec.extra.get("key_spans", {}).get(name)
                span = key or span
                yield self.diagnostic(ctx, span, f"`{name}` is not a field of {info.name} in peft {facts.version}: "
                                      f"PEFT warns and ignores it{hint}", subject=name, severity=Severity.WARNING)
            else:
                yield self.diagnostic(ctx, span, f"{info.name} has no argument `{name}`: the script fails with "
                                      f"TypeError: __init__() got an unexpected keyword argument '{name}'{hint}",
                                      subject=name)


# -- PFT206-PFT208, PFT210 ------------------------------------------------------------------------------

# Config classes whose __post_init__ rejects a str target_modules together with a layer filter
# (checked against the installed peft in tests/test_rules_fields.py); the others accept the config
# and then ignore the filter, because PEFT never applies it to a regex.
STR_TARGETS_WITH_LAYER_FILTER_RAISE = frozenset({
    "LoraConfig", "AdaLoraConfig", "C3AConfig", "DeftConfig", "DeloraConfig", "FourierFTConfig", "HRAConfig",
    "HiraConfig", "MissConfig", "PsoftConfig", "ShadowConfig", "UniLoraConfig", "WaveFTConfig",
})


def _set(v: Value | None) -> bool:
    """The field is given with a static value other than None."""
    return v is not None and not v.dynamic and v.value is not None


class RegexWithLayerFilter(Rule):
    code = "PFT206"
    name = "regex-with-layer-filter"
    severity = Severity.ERROR
    summary = "A string `target_modules` (regex or `\"all-linear\"`) together with `layers_to_transform`/`layers_pattern`."
    docs = """
    PEFT applies `layers_to_transform` only to list entries matched by suffix; a string
    `target_modules` (a regex, or `"all-linear"`) is never layer-filtered. `LoraConfig` and most
    other configs therefore reject the combination when the script starts
    (`ValueError: layers_to_transform cannot be used when target_modules is a str.`); configs
    without that check (LoHa, LoKr, OFT, VeRA, ...) accept it and adapt **every** layer.

    Fix: put the layer selection into the regex (`r".*\\.layers\\.(0|1)\\..*\\.(q_proj|v_proj)"`),
    or use a list of names with `layers_to_transform`.
    """
    bad = (_py('config = LoraConfig(target_modules=r".*\\.(q_proj|v_proj)", layers_to_transform=[0, 1])'),)
    good = (_py('config = LoraConfig(target_modules=["q_proj", "v_proj"], layers_to_transform=[0, 1])'),)
    needs_model = False

    def check(self, ctx: Context) -> Iterator[Diagnostic]:
        tm = ctx.field("target_modules")
        if tm is None or not tm.is_str:
            return
        raises = ctx.spec.config_class in STR_TARGETS_WITH_LAYER_FILTER_RAISE
        for name in ("layers_to_transform", "layers_pattern"):
            v = ctx.field(name)
            if not _set(v) or v.value == []:
                continue
            if raises:
                what = (f"{ctx.spec.config_class} raises \"`{name}` cannot be used when `target_modules` is a str.\" "
                        "when the script starts")
            else:
                what = (f"{ctx.spec.config_class} accepts it, but PEFT never layer-filters a string target_modules, "
                        "so every layer the regex matches is adapted")
            yield self.diagnostic(
                ctx, v.span,
                f"{name} with a string target_modules ({tm.value!r}): {what}. Put the layer selection into the regex, "
                f"or use a list of names with {name}",
                subject=name)


class FeedforwardNotSubset(Rule):
    code = "PFT207"
    name = "feedforward-not-subset"
    severity = Severity.ERROR
    summary = "IA3 `feedforward_modules` is not a subset of `target_modules` (exact strings)."
    docs = """
    `IA3Config` requires every `feedforward_modules` entry to appear in `target_modules`, and it
    compares the **strings**, not the modules they match: `["down_proj"]` against
    `["mlp.down_proj"]` fails although both name the same layers. The script stops with
    `ValueError: feedforward_modules should be a subset of target_modules`. (With a regex on
    either side, or tuples, PEFT checks nothing.)

    Fix: write each feed-forward entry exactly as it appears in `target_modules`.
    """
    bad = (Example('from peft import IA3Config\n\nconfig = IA3Config(target_modules=["k_proj", "v_proj", "mlp.down_proj"], '
                   'feedforward_modules=["down_proj"])\n'),)
    good = (Example('from peft import IA3Config\n\nconfig = IA3Config(target_modules=["k_proj", "v_proj", "down_proj"], '
                    'feedforward_modules=["down_proj"])\n'),)
    needs_model = False

    def check(self, ctx: Context) -> Iterator[Diagnostic]:
        if ctx.spec.method != "IA3":
            return
        tm, ff = ctx.field("target_modules"), ctx.field("feedforward_modules")
        if tm is None or ff is None or not tm.fully_static or not ff.fully_static:
            return
        # IA3Config turns lists into sets and checks only when both are sets (saved JSON lists too)
        if tm.kind not in ("list", "set") or ff.kind not in ("list", "set") or tm.items is None or ff.items is None:
            return
        targets = {i.value for i in tm.items}
        for item in ff.items:
            if item.value in targets:
                continue
            same = [t for t in targets if isinstance(t, str) and isinstance(item.value, str)
                    and (t.endswith("." + item.value) or item.value.endswith("." + t))]
            hint = (f"; it names the same layers as `{same[0]}`, but PEFT compares the strings — write `{same[0]}`"
                    if same else "; add it to target_modules or remove it")
            yield self.diagnostic(
                ctx, item.span,
                f"feedforward_modules entry `{item.value}` is not in target_modules, so IA3Config raises "
                f"\"`feedforward_modules` should be a subset of `target_modules`\"{hint}",
                subject=str(item.value))


class ParameterTargetConflict(Rule):
    code = "PFT208"
    name = "parameter-target-conflict"
    severity = Severity.ERROR
    summary = "`target_parameters` with dropout, `fan_in_fan_out`, DoRA, `lora_bias`, or given as a string."
    docs = """
    `target_parameters` wraps raw `nn.Parameter`s (MoE experts) in `lora.ParamWrapper`, which
    supports plain LoRA only: with `lora_dropout != 0`, `fan_in_fan_out=True`, `use_dora=True`,
    `lora_bias=True`, `velora_config` or `kasa_config`, `get_peft_model` raises
    `ValueError: lora.ParamWrapper does not work with ...` after the model is loaded. A string
    `target_parameters` is rejected at once (`must be a list of strings or None`).

    Fix: use `lora_dropout=0` and drop the other options for parameter targets, or train the
    experts with a separate adapter.

    `AdaLoraConfig` accepts `target_parameters` (it inherits the field from LoRA), but AdaLoRA
    cannot wrap parameters at all: `get_peft_model` crashes with
    `TypeError: AdaLoraModel._create_and_replace() got an unexpected keyword argument
    'parameter_name'`. Use `LoraConfig` for parameter targets.
    """
    bad = (_py('config = LoraConfig(target_modules=["q_proj"], target_parameters=["mlp.experts.down_proj"],\n'
               '                    lora_dropout=0.05)'),)
    good = (_py('config = LoraConfig(target_modules=["q_proj"], target_parameters=["mlp.experts.down_proj"],\n'
                '                    lora_dropout=0.0)'),)
    needs_model = False

    _CONFLICTS = (
        ("lora_dropout", lambda v: isinstance(v, (int, float)) and not isinstance(v, bool) and v != 0,
         "does not work with lora_dropout != 0", "lora_dropout=0"),
        ("fan_in_fan_out", lambda v: v is True, "does not work with fan_in_fan_out", "fan_in_fan_out=False"),
        ("use_dora", lambda v: v is True, "does not work with use_dora=True", "use_dora=False"),
        ("lora_bias", lambda v: v is True, "does not work with lora_bias=True", "lora_bias=False"),
        ("velora_config", lambda v: v is not None, "does not work when `velora_config` is set", "no velora_config"),
        ("kasa_config", lambda v: v is not None, "does not work when `kasa_config` is set", "no kasa_config"),
    )

    def check(self, ctx: Context) -> Iterator[Diagnostic]:
        tp = ctx.field("target_parameters")
        if tp is None or tp.dynamic or tp.value is None:
            return
        if tp.is_str:
            yield self.diagnostic(
                ctx, tp.span,
                f"target_parameters is a string ({tp.value!r}); {ctx.spec.config_class} raises \"`target_parameters` "
                f"must be a list of strings or None\" — write [{tp.value!r}] (entries are names, not regexes)",
                subject="target_parameters")
            return
        if not tp.value:
            return
        if ctx.spec.method == "ADALORA":
            yield self.diagnostic(
                ctx, tp.span,
                f"{ctx.spec.config_class} accepts target_parameters but AdaLoRA cannot wrap parameters: get_peft_model "
                "crashes with \"TypeError: AdaLoraModel._create_and_replace() got an unexpected keyword argument "
                "'parameter_name'\". Remove target_parameters, or use LoraConfig to train these parameters",
                subject="target_parameters")
            return
        for name, bad, text, fix in self._CONFLICTS:
            v = ctx.field(name)
            if v is None or v.dynamic or not bad(v.value):
                continue
            yield self.diagnostic(
                ctx, v.span,
                f"{name}={v.value!r} with target_parameters: get_peft_model raises \"lora.ParamWrapper {text}\" when it "
                f"wraps the parameters; use {fix}",
                subject=name)


_LITERAL = re.compile(r"Literal\[([^\]]*)\]")
_SIMPLE_TYPES = {"int": (int,), "float": (int, float), "bool": (bool,), "str": (str,), "dict": (dict,),
                 "list": (list,), "tuple": (list,), "set": (list,)}


def _allowed_types(type_name: str) -> tuple[set[type], bool] | None:
    """(Python types a field accepts, whether None is allowed) from peft's annotation, or None when
    the annotation names anything this simple reader does not know (sub-configs, enums...)."""
    text = _LITERAL.sub("str", type_name)
    text = text.replace("Optional[", "None|").replace("Union[", "")
    tokens = [t for t in re.split(r"[\[\],|\s]+", text) if t]
    allowed: set[type] = set()
    none_ok = False
    for tok in tokens:
        if tok in ("None", "NoneType"):
            none_ok = True
        elif tok in _SIMPLE_TYPES:
            allowed |= set(_SIMPLE_TYPES[tok])
        elif tok in ("TaskType", "PeftType"):
            allowed.add(str)
        else:
            return None
    return allowed, none_ok


def _type_ok(name: str, value: object, allowed: set[type]) -> bool:
    if isinstance(value, bool):
        return bool in allowed
    if isinstance(value, int) and bool in allowed and value in (0, 1):
        return True  # truthiness works the same
    if isinstance(value, float) and int in allowed and name != "r":
        return True  # e.g. lora_alpha=16.0 works; only a float rank breaks the layer shapes
    return isinstance(value, tuple(allowed))


# List fields whose items PEFT uses as names or layer indices.
_ITEM_TYPES = {"target_modules": str, "modules_to_save": str, "exclude_modules": str, "target_parameters": str,
               "layers_to_transform": int, "layers_pattern": str}


class InvalidValue(Rule):
    code = "PFT210"
    name = "invalid-value"
    severity = Severity.ERROR
    summary = "A value of the wrong type or out of range (`r<=0`, unknown `bias`, `task_type`, `init_lora_weights`)."
    docs = """
    PEFT checks few values when the config is created; most bad values fail only inside
    `get_peft_model`, after the model is loaded:

    - `r <= 0`: `` ValueError: `r` should be a positive integer value but the value passed is 0 ``.
    - an unknown `bias`: `NotImplementedError: Requested bias: ..., is not implemented.`
    - an unknown `task_type` (it is case-sensitive): `ValueError: Invalid task type: 'causal_lm'`.
    - an unknown `init_lora_weights` string: `ValueError: Unknown initialization init_lora_weights='...'`.
    - a value of the wrong type (`r=8.0`, `lora_dropout="0.1"`, `target_modules=5`) fails with a
      TypeError deep inside torch.

    The accepted values and types are read from the installed peft's config classes.
    """
    bad = (_py('config = LoraConfig(r=0, target_modules=["q_proj", "v_proj"], bias="lora")'),)
    good = (_py('config = LoraConfig(r=8, target_modules=["q_proj", "v_proj"], bias="lora_only")'),)
    needs_model = False

    def check(self, ctx: Context) -> Iterator[Diagnostic]:
        facts = ctx.facts
        info = ctx.config_info
        if info is None:
            return
        for name, v in ctx.spec.fields.items():
            meta = info.fields.get(name)
            if meta is None or not v.fully_static:
                continue
            msg = self._problem(ctx, name, v.value, meta.get("type") or "", facts.task_types)
            if msg:
                yield self.diagnostic(ctx, v.span, msg, subject=name)
            elif v.items is not None and ctx.spec.source != "adapter_config":  # saved configs: PFT401
                yield from self._items(ctx, name, v)

    def _items(self, ctx: Context, name: str, v) -> Iterator[Diagnostic]:
        want = _ITEM_TYPES.get(name)
        if want is None:
            return
        for item in v.items:
            if item.dynamic or (isinstance(item.value, want) and not isinstance(item.value, bool)):
                continue
            effect = ("PEFT compares layer indices with ints, so this entry never matches a layer"
                      if want is int else "PEFT formats it into a name that matches nothing useful")
            yield self.diagnostic(ctx, item.span, f"{name} entry {item.value!r} has type {type(item.value).__name__}, "
                                  f"not {want.__name__}: {effect}", subject=name)

    def _problem(self, ctx: Context, name: str, value: object, type_name: str, task_types: list[str]) -> str | None:
        cls = ctx.spec.config_class
        if name == "task_type":
            if value is not None and value not in task_types:
                close = [t for t in task_types if t.lower() == str(value).lower()]
                hint = f"; did you mean {close[0]!r}?" if close else f"; use one of {', '.join(task_types)}"
                return f"task_type={value!r} is not a peft TaskType: {cls} raises \"Invalid task type\"{hint}"
            return None
        if name == "r" and isinstance(value, int) and not isinstance(value, bool) and value <= 0:
            if ctx.spec.method == "LORA":
                return (f"r={value}: get_peft_model raises \"`r` should be a positive integer value but the value "
                        f"passed is {value}\"; use a positive rank such as 8")
            return f"r={value} is not a positive rank: {cls} cannot build a useful adapter with it; use a positive rank"
        literal = _LITERAL.search(type_name)
        choices = [c.strip().strip("'\"") for c in literal.group(1).split(",")] if literal else []
        if isinstance(value, str) and choices and name == "bias" and value not in choices:
            return (f"bias={value!r} is not one of {choices}: get_peft_model raises \"Requested bias: {value}, is not "
                    "implemented.\"")
        if isinstance(value, str) and choices and name.startswith("init_") and name.endswith("_weights"):
            ok = {c.lower() for c in choices} | {"lora_ga"}  # lora_ga is accepted but missing from the annotation
            if value.lower() not in ok and not value.startswith(("pissa", "corda")):
                shown = [c for c in choices if "[" not in c]
                return (f"{name}={value!r} is not a known initialization: get_peft_model raises \"Unknown initialization "
                        f"{name}='{value}'\"; use True, False or one of {shown}")
            return None
        allowed = _allowed_types(type_name)
        if allowed is None or value is None and allowed[1]:
            return None
        types, _ = allowed
        if value is None or not types or _type_ok(name, value, types):
            return None
        want = " or ".join(sorted({t.__name__ for t in types} | ({"None"} if allowed[1] else set())))
        return (f"{name}={value!r} has type {type(value).__name__}, but {cls} expects {want}: PEFT does not convert "
                "it and fails later (usually with a TypeError inside get_peft_model)")
