"""Trainer command lines in shell scripts → AdapterSpecs: TRL and LLaMA-Factory flags
(``--lora_target_modules q_proj v_proj``, ``--lora_target q_proj,v_proj``), mapped onto the same
``LoraConfig`` fields as their YAML configs (see ``trainer_yaml.py``)."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

from peftlint.diagnostics import Span
from peftlint.model.classes import TASK_TYPE_TO_AUTO_CLASS as _TASK_CLASSES
from peftlint.sources import SourceResult
from peftlint.sources.trainer_yaml import comma_value, trl_single
from peftlint.spec import AdapterSpec, ModelRef, Value
from peftlint.textpos import LineIndex

_TOKEN = re.compile(r"""'[^']*'|"(?:[^"\\]|\\.)*"|(?:[^\s'"\\;&|]|\\.)+|\\\n|[;&|]+|\n""")
_SHELL_FIELDS = {
    "--lora_target_modules": ("target_modules", "list"), "--lora_target": ("target_modules", "comma"),
    "--lora_modules_to_save": ("modules_to_save", "list"), "--additional_target": ("modules_to_save", "comma"),
    "--lora_r": ("r", "int"), "--lora_rank": ("r", "int"), "--lora_alpha": ("lora_alpha", "int"),
    "--lora_target_parameters": ("target_parameters", "list"), "--lora_task_type": ("task_type", "str"),
}


def looks_like_trainer_shell(text: str) -> bool:
    return "--lora_target" in text or "--use_peft" in text


def extract_trainer_shell(text: str, path: str, abspath: str) -> SourceResult:
    """TRL (``--use_peft --lora_target_modules q_proj v_proj``) and LLaMA-Factory
    (``--finetuning_type lora --lora_target q_proj,v_proj``) command lines; one spec per command
    that names LoRA targets. Words are read statically; ``$VAR`` values are dynamic."""
    result = SourceResult()
    lines = LineIndex(text)
    for cmd in _commands(text):
        spec = _shell_spec(cmd, lines, path, abspath)
        if spec is not None:
            result.specs.append(spec)
    return result


def _commands(text: str) -> list[list[tuple[str, int, int]]]:
    """Split into commands of (word, start, end); comments and line continuations handled."""
    cmds: list[list[tuple[str, int, int]]] = [[]]
    i = 0
    for m in _TOKEN.finditer(text):
        tok = m.group()
        if tok == "\\\n":
            continue
        if tok == "\n" or tok[0] in ";&|":
            cmds.append([])
            continue
        if tok.startswith("#") and (m.start() == 0 or text[m.start() - 1] in " \t\n"):
            # a comment: skip to the end of the line
            i = text.find("\n", m.start())
            cmds[-1].append(("#comment", m.start(), i if i >= 0 else len(text)))
            continue
        cmds[-1].append((tok, m.start(), m.end()))
    out = []
    for c in cmds:
        words = []
        cut = None
        for w in c:
            if w[0] == "#comment":
                cut = w[1]
            if cut is None or w[1] < cut:
                if w[0] != "#comment":
                    words.append(w)
        if words:
            out.append(words)
    return out


def _word(raw: str) -> tuple[str, bool]:
    """(the word's value after shell quoting, whether it depends on an expansion)."""
    try:
        parts = shlex.split(raw)
    except ValueError:
        return raw, True
    value = parts[0] if len(parts) == 1 else raw
    return value, "$" in raw and not raw.startswith("'")


def _shell_spec(cmd: list[tuple[str, int, int]], lines: LineIndex, path: str, abspath: str) -> AdapterSpec | None:
    opts: dict[str, list[tuple[str, int, int]]] = {}
    flags: dict[str, tuple[str, int, int]] = {}
    i = 0
    while i < len(cmd):
        tok, a, b = cmd[i]
        if tok.startswith("--"):
            name, eq, rest = tok.partition("=")
            flags[name] = cmd[i]
            vals = []
            if eq:
                vals.append((rest, a + len(name) + 1, b))
            else:
                j = i + 1
                while j < len(cmd) and not cmd[j][0].startswith("-"):
                    vals.append(cmd[j])
                    j += 1
                i = j - 1
            opts[name] = vals
        i += 1
    ft = opts.get("--finetuning_type")
    trl = "--use_peft" in flags and (not opts["--use_peft"] or opts["--use_peft"][0][0].lower() == "true")
    lf = "--lora_target" in opts or (ft is not None and ft and ft[0][0] == "lora")
    if not (trl or lf) or not any(k in opts for k in ("--lora_target_modules", "--lora_target")):
        return None
    flavour = "llama-factory" if lf and not trl else "trl"
    first = lines.span(cmd[0][1], cmd[0][2])
    spec = AdapterSpec(path=path, source="shell", config_class="LoraConfig", method="LORA",
                       span=Span(first.line, first.column, first.line, first.column + 1), abspath=abspath)
    spec.facts.tool = flavour
    key_spans: dict[str, Span] = {}
    for opt, (field_name, how) in _SHELL_FIELDS.items():
        vals = opts.get(opt)
        if vals is None or not vals:
            continue
        key_spans[field_name] = lines.span(flags[opt][1], flags[opt][1] + len(opt))
        items = []
        for raw, a, b in vals:
            value, dyn = _word(raw)
            span = lines.span(a, b)
            if dyn:
                items.append(Value(None, span, dynamic=True, kind="dynamic", reason=f"shell expansion {raw}"))
            elif how == "comma":
                items.extend(comma_value(value, span, raw).items or [])
            else:
                items.append(Value(value, span, kind="str"))
        whole = lines.span(vals[0][1], vals[-1][2])
        if how in ("list", "comma"):
            if flavour == "trl" and opt == "--lora_target_modules" and len(items) == 1 and items[0].is_str:
                v = trl_single(items[0])
            elif how == "comma" and len(items) == 1 and not items[0].dynamic and items[0].value.lower() == "all":
                v = Value("all-linear", items[0].span, kind="str", origin="lora_target all")
            else:
                v = Value(None if any(i.dynamic for i in items) else [i.value for i in items], whole, kind="list",
                          items=items, origin="command-line words")
        else:
            it = items[0]
            if it.dynamic:
                v = it
            elif how == "int":
                try:
                    v = Value(int(it.value), it.span, kind="int")
                except ValueError:
                    v = Value(it.value, it.span, kind="str")
            else:
                v = it
        spec.fields[field_name] = v
        if field_name == "task_type" and v.is_str:
            spec.task_type = v.value
    spec.facts.key_spans = key_spans
    model = opts.get("--model_name_or_path")
    if model:
        value, dyn = _word(model[0][0])
        if not dyn:
            spec.model = ModelRef(value, "`--model_name_or_path` on the command line", span=lines.span(model[0][1], model[0][2]),
                                  base_dir=str(Path(abspath).parent) if abspath else None,
                                  model_class=_TASK_CLASSES.get(spec.task_type or "CAUSAL_LM"))
    if spec.model is None:
        spec.facts.model_unresolved = "the command line names no static --model_name_or_path"
        spec.facts.model_class = _TASK_CLASSES.get(spec.task_type or "CAUSAL_LM")
    return spec
