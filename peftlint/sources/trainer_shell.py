"""Trainer command lines in shell scripts → AdapterSpecs: TRL and LLaMA-Factory flags
(``--lora_target_modules q_proj v_proj``, ``--lora_target q_proj,v_proj``), mapped onto the same
``LoraConfig`` fields as their YAML configs (see ``trainer_yaml.py``).

Words come from ``shell_words.py`` (variables assigned in the script expanded, positions kept).
Any launcher works — ``accelerate launch [opts] sft.py``, ``torchrun``, ``deepspeed``,
``python -m trl.scripts.sft``, ``trl sft``, ``llamafactory-cli train`` — because only the
trainers' own flags are read: TRL's need ``--use_peft``; LLaMA-Factory's are recognised by its
command or its own flags (``--finetuning_type``, ``--lora_target``, ``--lora_rank``) and default
to LoRA with ``lora_target: all``; a command that also has a flag LLaMA-Factory rejects
(``--lora_target_modules``, ``--target_modules``, any ``--*lora*`` flag it does not define such as
LLaVA's ``--lora_enable``, ...) or is ms-swift's is another trainer's. A command that hands the trainer a YAML file instead
(``llamafactory-cli train cfg.yaml``, ``--config cfg.yaml``) is left to that file's own check.
"""

from __future__ import annotations

from pathlib import Path

from peftlint.diagnostics import Span
from peftlint.sources import SourceResult
from peftlint.sources.shell_commands import Command, read_commands
from peftlint.sources.shell_words import Field
from peftlint.sources.trainer_keys import SHELL_FIELDS
from peftlint.sources.trainer_rule import placeholder
from peftlint.sources.trainer_values import comma_value, trl_single
from peftlint.spec import TASK_TYPE_TO_AUTO_CLASS as _TASK_CLASSES
from peftlint.spec import AdapterSpec, ModelRef, SourceKind, TargetRule, Value
from peftlint.textpos import LineIndex

_LF_PROGRAMS = {"llamafactory-cli", "lmf"}
_LF_FLAGS = {"--finetuning_type", "--lora_target", "--lora_rank", "--additional_target"}
# Flags LLaMA-Factory's HfArgumentParser does not know (it raises on them) besides the ``--*lora*``
# ones below: TRL's `--use_peft`, and the `--target_modules` of other trainers (ms-swift, verl,
# DiffSynth-Studio all take `--lora_rank` too).
_NOT_LF_FLAGS = {"--use_peft", "--target_modules"}
# LLaMA-Factory's own flags with "lora" in the name (hparams/*.py, also v0's ``lora_bf16_mode``): any other
# ``--*lora*`` flag (TRL's ``--lora_r``/``--lora_target_modules``, LLaVA's ``--lora_enable``,
# Qwen2-VL-Finetune's ``--lora_namespan_exclude``, ...) is another script's, which HfArgumentParser in
# LLaMA-Factory would reject.
_LF_LORA_FLAGS = {"--lora_alpha", "--lora_dropout", "--lora_rank", "--lora_target", "--loraplus_lr_embedding",
                  "--loraplus_lr_ratio", "--use_rslora", "--vllm_max_lora_rank", "--sglang_lora_backend",
                  "--kt_lora_expert_intermediate_size", "--kt_lora_expert_num", "--kt_use_lora_experts",
                  "--lora_bf16_mode"}
_OTHER_PROGRAMS = {"swift", "megatron"}  # ms-swift's commands (`swift sft --lora_rank 8 ...`)
_TRUE = {"true", "1", "yes", "y", "t"}  # transformers' HfArgumentParser string_to_bool
_FALSE = {"false", "0", "no", "n", "f"}


def looks_like_trainer_shell(text: str) -> bool:
    return "--lora_target" in text or "--use_peft" in text or "llamafactory-cli" in text or "lmf " in text


def extract_trainer_shell(text: str, path: str, abspath: str) -> SourceResult:
    """One spec per TRL command with ``--use_peft`` and per LLaMA-Factory LoRA command line."""
    result = SourceResult()
    lines = LineIndex(text)
    for cmd in read_commands(text):
        spec = _shell_spec(cmd, lines, path, abspath)
        if spec is not None:
            result.specs.append(spec)
    return result


def _options(cmd: Command) -> tuple[dict[str, tuple[Field, list[Field]]], list[Field]]:
    """``--name`` -> (the flag's field, its values: ``--name=v`` or the words up to the next option),
    and the positional words."""
    opts: dict[str, tuple[Field, list[Field]]] = {}
    positional: list[Field] = []
    fields = cmd.fields
    i = 0
    while i < len(fields):
        f = fields[i]
        if f.text is not None and f.text.startswith("--") and len(f.text) > 2:
            name, eq, rest = f.text.partition("=")
            if eq:
                at = f.offsets[len(name) + 1:] if len(f.offsets) == len(f.text) else []
                opts[name] = (f, [Field(rest, f.start, f.end, origin=f.origin, from_default=f.from_default, offsets=at)])
            else:
                j = i + 1
                vals = []
                while j < len(fields) and not (fields[j].text or "").startswith("-"):
                    vals.append(fields[j])
                    j += 1
                opts[name] = (f, vals)
                i = j - 1
        else:
            positional.append(f)
        i += 1
    return opts, positional


def _bool_flag(opt: tuple[Field, list[Field]] | None) -> bool | None:
    """A boolean dataclass field on the command line: bare ``--flag`` is True (None: dynamic)."""
    if opt is None:
        return False
    _, vals = opt
    if not vals:
        return True
    v = vals[0]
    if v.dynamic:
        return None
    assert v.text is not None  # not dynamic
    if v.text.lower() in _TRUE:
        return True
    return False if v.text.lower() in _FALSE else True


def _program(cmd: Command) -> tuple[str, list[Field]]:
    """The program's base name (after ``VAR=value`` prefixes) and its arguments."""
    fields = list(cmd.fields)
    while fields and fields[0].text is not None and "=" in fields[0].text and not fields[0].text.startswith("-"):
        fields = fields[1:]
    if not fields or fields[0].text is None:
        return "", fields
    return Path(fields[0].text).name, fields[1:]


def _shell_spec(cmd: Command, lines: LineIndex, path: str, abspath: str) -> AdapterSpec | None:
    program, args = _program(cmd)
    opts, positional = _options(Command(args, cmd.start))
    use_peft = _bool_flag(opts.get("--use_peft"))
    lf_command = program in _LF_PROGRAMS and any(p.text == "train" for p in positional[:1])
    lf = lf_command or (any(k in opts for k in _LF_FLAGS) and not any(k in opts for k in _NOT_LF_FLAGS)
                        and not any("lora" in k and k not in _LF_LORA_FLAGS for k in opts)
                        and program not in _OTHER_PROGRAMS)
    if lf and any((p.text or "").endswith((".yaml", ".yml", ".json")) for p in positional):
        return None  # the trainer reads that file (checked on its own); key=value words override it
    ft = opts.get("--finetuning_type")
    if lf and ft is not None and ft[1] and (ft[1][0].dynamic or ft[1][0].text != "lora"):
        return None
    if not lf and use_peft is not True:
        return None
    flavour = "llama-factory" if lf else "trl"
    head = cmd.fields[0]
    first = lines.span(head.start, head.end)
    spec = AdapterSpec(path=path, source=SourceKind.SHELL, config_class="LoraConfig", method="LORA",
                       span=Span(first.line, first.column, first.line, first.column + 1), abspath=abspath)
    spec.facts.tool = flavour
    for opt, (field_name, how) in SHELL_FIELDS.items():
        got = opts.get(opt)
        if got is None or not got[1]:
            continue
        flag, vals = got
        spec.facts.key_spans[field_name] = lines.span(flag.start, flag.start + len(opt))
        spec.facts.trainer_keys[field_name] = opt
        spec.fields[field_name] = _value(flavour, opt, how, vals, lines)
        if field_name == "task_type" and spec.fields[field_name].is_str:
            spec.task_type = spec.fields[field_name].value
    if flavour == "llama-factory":
        tm = spec.fields.get("target_modules")
        if tm is None or (tm.items is not None and [i.value for i in tm.items] == ["all"]):
            written = "--lora_target all" if tm is not None else "--lora_target all (its default)"
            rule = TargetRule("llama-factory", written, tm.span if tm is not None else first)
            spec.facts.target_rule = rule
            spec.fields["target_modules"] = Value(None, rule.span, kind="list", items=[placeholder(rule)],
                                                  origin=written)
    _link_model(spec, opts, lines, abspath)
    return spec


def _item(f: Field, lines: LineIndex) -> Value:
    a, b = f.source_range()
    span = lines.span(a, b)
    if f.dynamic:
        return Value(None, span, dynamic=True, kind="dynamic", reason=f.reason)
    return Value(f.text, span, kind="str", origin=f.origin)


def _value(flavour: str, opt: str, how: str, vals: list[Field], lines: LineIndex) -> Value:
    items: list[Value] = []
    for f in vals:
        it = _item(f, lines)
        if how == "comma" and not it.dynamic:
            parts = comma_value(it.value, it.span, lines.slice(it.span)).items or []
            for p in parts:
                p.origin = f.origin
            items.extend(parts)
        else:
            items.append(it)
    whole = lines.span(vals[0].start, vals[-1].end)
    if how in ("list", "comma"):
        if flavour == "trl" and opt == "--lora_target_modules" and len(items) == 1 and items[0].is_str:
            return trl_single(items[0])
        return Value(None if any(i.dynamic for i in items) else [i.value for i in items], whole, kind="list",
                     items=items, origin="command-line words")
    it = items[0]
    if it.dynamic or how == "str":
        return it
    try:
        num = int(it.value) if how == "int" else float(it.value)
    except ValueError:
        return it
    return Value(num, it.span, kind="int" if how == "int" else "float", origin=it.origin)


def _link_model(spec: AdapterSpec, opts: dict[str, tuple[Field, list[Field]]], lines: LineIndex,
                abspath: str) -> None:
    model_class = _TASK_CLASSES.get(spec.task_type or "CAUSAL_LM")
    got = opts.get("--model_name_or_path")
    if not got or not got[1]:
        config = opts.get("--config")
        also = ""
        if config and config[1] and not config[1][0].dynamic:
            also = f" (it may be in --config {config[1][0].text}, which is checked on its own)"
        spec.facts.model_unresolved = f"the command line names no --model_name_or_path{also}"
        spec.facts.model_class = model_class
        return
    f = got[1][0]
    if f.dynamic:
        spec.facts.model_unresolved = f"--model_name_or_path is not known before the script runs: {f.reason}"
        spec.facts.model_class = model_class
        return
    assert f.text is not None  # not dynamic
    a, b = f.source_range()
    how = "`--model_name_or_path` on the command line"
    if f.origin:
        how = f"`--model_name_or_path` on the command line, through {f.origin}"
    rev = opts.get("--model_revision")
    revision = rev[1][0].text if rev and rev[1] and not rev[1][0].dynamic else None
    spec.model = ModelRef(f.text, how, span=lines.span(a, b), revision=revision,
                          base_dir=str(Path(abspath).parent) if abspath else None, model_class=model_class,
                          from_default=f.from_default, trust_remote_code=_bool_flag(opts.get("--trust_remote_code"))
                          is True)
