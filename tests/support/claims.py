"""peft as the judge of peftlint's claims, on models and configs drawn by hypothesis.

``models()`` draws the source text of custom ``nn.Module`` classes (Linear, Conv, Embedding, LSTM,
MultiheadAttention, norms, nested Sequential/ModuleList/ModuleDict, parameters on the model
itself, tied embedding and head); ``configs()`` draws a PEFT config for it (several methods,
targets with typos, regexes, suffixes, embedding names, exclusions, modules_to_save, layer filters,
rank/alpha patterns, target_parameters). ``peft_run`` builds the class for real on the meta device
and applies the config with peft; ``judge`` reads what each finding claims peft does (raises with
that text, warns, ignores silently, saves the embedding whole) and compares it with what peft did.
"""

from __future__ import annotations

import re
import warnings
from dataclasses import dataclass, field

from hypothesis import strategies as st

D = 12  # every width; 10 is drawn for some Linear inputs (divisibility checks of some methods)
VOCAB = 20

LEAVES = {
    "linear": (["q_proj", "v_proj", "fc", "lin0", "lin1", "proj", "c_attn", "dense"], None),
    "conv1d": (["conv", "temporal"], f"nn.Conv1d({D}, {D}, 1)"),
    "conv2d": (["conv2", "stem"], f"nn.Conv2d({D}, {D}, 3)"),
    "embedding": (["emb", "embed_tokens", "wte", "tokens"], f"nn.Embedding({VOCAB}, {D})"),
    "lstm": (["lstm", "rnn"], f"nn.LSTM({D}, {D})"),
    "mha": (["attn", "self_attn"], f"nn.MultiheadAttention({D}, 2)"),
    "norm": (["norm", "ln"], f"nn.LayerNorm({D})"),
    "dropout": (["drop"], "nn.Dropout(0.1)"),
    "act": (["act"], "nn.ReLU()"),
}
CONTAINERS = ["layers", "blocks", "h", "mlp", "heads"]
FOREIGN = ["q", "query_key_value", "k_proj", "o_proj", "gate_proj", "c_proj", "lm_head", "embed_tokens",
           "layers", "mlp", "self_attn.q_proj", "0", "block", "out_proj", "weight"]


@dataclass
class Drawn:
    source: str
    names: list[str]  # attribute names used anywhere (for targets)
    dotted: list[str]  # a few full dotted module names
    params: list[str]  # parameter names that exist (target_parameters candidates)


def _leaf(draw, used: set[str], allow_10: bool = True) -> tuple[str, str, str]:
    kind = draw(st.sampled_from(sorted(LEAVES)))
    names, ctor = LEAVES[kind]
    name = draw(st.sampled_from([n for n in names if n not in used] or [f"{names[0]}_{len(used)}"]))
    if kind == "linear":
        fan_in = draw(st.sampled_from([D, D, 10] if allow_10 else [D]))
        ctor = f"nn.Linear({fan_in}, {D})" if fan_in == D else f"nn.Sequential(nn.Linear({fan_in}, {D}))"
        if fan_in != D:  # keep shapes composable: the 10-wide Linear sits at the start of a Sequential
            name = name + "_in"
            ctor = f"nn.Linear({fan_in}, {D})"
    used.add(name)
    return kind, name, ctor


@st.composite
def models(draw) -> Drawn:
    lines = ["import torch", "import torch.nn as nn", "", ""]
    names: list[str] = []
    dotted: list[str] = []
    params: list[str] = []
    block_used: set[str] = set()
    block = []
    for _ in range(draw(st.integers(1, 3))):
        kind, name, ctor = _leaf(draw, block_used)
        block.append(f"        self.{name} = {ctor}")
        names.append(name)
        if kind == "linear":
            params.append(f"{name}.weight")
    lines += ["class Block(nn.Module):", "    def __init__(self):", "        super().__init__()", *block, "", ""]
    lines += ["class Experts(nn.Module):", "    def __init__(self):", "        super().__init__()",
              f"        self.gate_up_proj = nn.Parameter(torch.empty(4, {D}, {2 * D}))",
              f"        self.down_proj = nn.Parameter(torch.empty(4, {D}, {D}))", "", ""]
    body = []
    used: set[str] = set()
    for _ in range(draw(st.integers(1, 4))):
        what = draw(st.sampled_from(["leaf", "leaf", "list", "seq", "dict", "experts"]))
        if what == "experts":
            if "experts" not in used:
                used.add("experts")
                body.append("        self.experts = Experts()")
                names.append("experts")
                params += ["experts.gate_up_proj", "down_proj"]
            continue
        if what == "leaf":
            kind, name, ctor = _leaf(draw, used)
            body.append(f"        self.{name} = {ctor}")
            names.append(name)
            dotted.append(name)
            continue
        name = draw(st.sampled_from([c for c in CONTAINERS if c not in used] or ["extra"]))
        if name in used:
            continue
        used.add(name)
        names.append(name)
        if what == "list":
            n = draw(st.integers(1, 3))
            body.append(f"        self.{name} = nn.ModuleList([Block() for _ in range({n})])")
            dotted += [f"{name}.{n - 1}.{block_used and sorted(block_used)[0]}"]
        elif what == "seq":
            body.append(f"        self.{name} = nn.Sequential(nn.Linear({D}, {2 * D}), nn.ReLU(), nn.Linear({2 * D}, {D}))")
            dotted += [f"{name}.0", f"{name}.2"]
            names += ["0", "2"]
        else:
            body.append(f"        self.{name} = nn.ModuleDict({{'up': nn.Linear({D}, {D}), 'down': Block()}})")
            names += ["up", "down"]
            dotted += [f"{name}.up"]
    if draw(st.booleans()):
        body.append(f"        self.scale = nn.Parameter(torch.ones({D}, {D}))")
        params.append("scale")
    emb = next((n for n in ("embed_tokens", "emb", "wte", "tokens") if n in used), None)
    if emb and draw(st.booleans()):
        head = draw(st.sampled_from(["lm_head", "head"]))
        if head not in used:
            body.append(f"        self.{head} = nn.Linear({D}, {VOCAB}, bias=False)")
            if draw(st.booleans()):
                body.append(f"        self.{head}.weight = self.{emb}.weight")
            names.append(head)
            params.append(f"{head}.weight")
    lines += ["class Net(nn.Module):", "    def __init__(self):", "        super().__init__()", *body, ""]
    return Drawn("\n".join(lines), list(dict.fromkeys(names)), dotted, params)


def _typo(name: str) -> str:
    return name[:-1] if len(name) > 2 else name + "x"


@st.composite
def targets(draw, m: Drawn):
    pool = m.names + m.dotted + FOREIGN + [_typo(n) for n in m.names[:4]]
    how = draw(st.sampled_from(["list", "list", "list", "regex", "all-linear", "none", "empty"]))
    if how == "list":
        return draw(st.lists(st.sampled_from(pool), min_size=1, max_size=4, unique=True))
    if how == "regex":
        chosen = draw(st.lists(st.sampled_from(m.names + FOREIGN[:4]), min_size=1, max_size=3, unique=True))
        alt = "|".join(re.escape(c) for c in chosen)
        return draw(st.sampled_from([rf".*\.({alt})", alt, rf"({alt})", rf".*({alt})"]))
    return {"all-linear": "all-linear", "none": None, "empty": []}[how]


METHODS = {
    "LoraConfig": {},
    "LoHaConfig": {},
    "IA3Config": {},
    "GraloraConfig": {"r": 6, "gralora_k": 3},
    "OFTConfig": {"r": 0, "oft_block_size": 4},
    "VeraConfig": {"r": 4},
    "TrainableTokensConfig": {"token_indices": [0, 1]},
    "LoKrConfig": {},
    "BOFTConfig": {"boft_block_size": 4},
    "C3AConfig": {"block_size": 4},
    "HRAConfig": {"r": 2},
    "FourierFTConfig": {"n_frequency": 16},
    "AdaLoraConfig": {"total_step": 10},
}


@st.composite
def configs(draw, m: Drawn) -> tuple[str, dict]:
    cls = draw(st.sampled_from(list(METHODS) + ["LoraConfig"] * 4))
    kw: dict = dict(METHODS[cls])
    tm = draw(targets(m))
    if tm is not None or draw(st.booleans()):
        kw["target_modules"] = tm
    names = m.names + FOREIGN[:3]
    if cls == "IA3Config" and isinstance(tm, list) and tm:
        kw["feedforward_modules"] = draw(st.lists(st.sampled_from(tm), max_size=len(tm), unique=True))
    if cls == "GraloraConfig":
        kw["gralora_k"] = draw(st.sampled_from([2, 3, 4]))
    if cls == "TrainableTokensConfig":
        return cls, kw
    if draw(st.integers(0, 3)) == 0:
        kw["exclude_modules"] = draw(st.one_of(st.lists(st.sampled_from(names + m.dotted), min_size=1, max_size=2, unique=True),
                                               st.sampled_from(names).map(lambda n: rf".*{re.escape(n)}.*")))
    if draw(st.integers(0, 3)) == 0:
        # not the Sequential indices: "2" also ends an adapter's own parameter dict (LoHa's `hada_t2`),
        # which peft then refuses to wrap; peftlint does not know the methods' internal names (yet)
        kw["modules_to_save"] = draw(st.lists(st.sampled_from([n for n in names if not n.isdigit()]), min_size=1,
                                              max_size=2, unique=True))
    if draw(st.integers(0, 4)) == 0 and isinstance(tm, list):
        kw["layers_to_transform"] = draw(st.one_of(st.integers(0, 3), st.lists(st.integers(0, 3), min_size=1, max_size=2, unique=True)))
        if draw(st.booleans()):
            kw["layers_pattern"] = draw(st.sampled_from(["layers", "blocks", "h", "nothing"]))
    if cls == "LoraConfig":
        if draw(st.integers(0, 4)) == 0:
            kw["rank_pattern"] = {draw(st.sampled_from(names)): 4}
        if draw(st.integers(0, 4)) == 0:
            kw["alpha_pattern"] = {draw(st.sampled_from(names)): 8}
        if draw(st.integers(0, 4)) == 0:
            kw["target_parameters"] = draw(st.lists(st.sampled_from(m.params + ["weight", "scale", "nothing.weight"]),
                                                    min_size=1, max_size=2, unique=True))
        if draw(st.integers(0, 6)) == 0:
            kw["use_dora"] = True
    return cls, kw


# -- what peft does ---------------------------------------------------------------------------------


@dataclass
class PeftRun:
    raised: BaseException | None = None
    at: str = ""  # "construct" | "inject"
    warned: list[str] = field(default_factory=list)
    saved_whole: set[str] = field(default_factory=set)  # modules whose base weight the adapter file holds

    @property
    def text(self) -> str:
        return " ".join(str(self.raised).split()) if self.raised is not None else ""


def peft_run(model, config_class: str, kwargs: dict) -> PeftRun:
    import peft

    run = PeftRun()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            config = getattr(peft, config_class)(**kwargs)
        except Exception as exc:  # noqa: BLE001 - whatever peft raises is its verdict
            run.raised, run.at = exc, "construct"
            return run
        try:
            pm = peft.get_peft_model(model, config)
        except Exception as exc:  # noqa: BLE001
            run.raised, run.at = exc, "inject"
        else:
            keys = peft.get_peft_model_state_dict(pm)
            run.saved_whole = {k.removeprefix("base_model.model.").removesuffix(".base_layer.weight")
                               for k in keys if k.endswith(".base_layer.weight")}
    run.warned = [" ".join(str(w.message).split()) for w in caught]
    return run


# -- what the findings claim ------------------------------------------------------------------------

_RAISES = re.compile(r"\b(?:PEFT|peft|get_peft_model) raises\b(?P<rest>.*)")
_QUOTE = re.compile(r"""^\s*(?P<cls>[A-Z]\w*(?:Error|Exception))?\s*(?:\(\s*)?:?\s*(?:"(?P<text>[^"]+)"|`(?P<tick>[^`]+)`)""")
_WARNS = re.compile(r"\bPEFT warns\b(?P<rest>.*)")


def quoted_matches(quote: str, text: str) -> bool:
    """``quote`` (peft's text, ``...`` standing for any text) occurs in ``text``."""
    pos = 0
    for piece in (p.strip() for p in " ".join(quote.split()).split("...")):
        if not piece:
            continue
        found = text.find(piece, pos)
        if found < 0:
            return False
        pos = found + len(piece)
    return True


def said_by(d) -> str:
    """What a finding says: its one-line message and, on a line of its own, its explanation (where
    peft's own words are quoted); each line is read for the claims it makes."""
    return f"{d.message}\n{d.detail}" if d.detail else d.message


def judge(diags, run: PeftRun) -> list[str]:
    """Every way the findings disagree with what peft did."""
    wrong = []
    errors = [d for d in diags if d.severity.value == "error"]
    if run.raised is not None and not errors:
        wrong.append(f"peft raised at {run.at} ({type(run.raised).__name__}: {run.text[:160]}) but no error finding: "
                     f"{[(d.code, d.message[:80]) for d in diags]}")
    if run.at == "construct":
        # the config class itself refused the arguments (PFT2xx say so); what the findings about the
        # model say get_peft_model does is about the config once it is built
        return wrong
    quotes = []  # (code, class, text) of every raise a finding quotes
    for d in diags:
        said = said_by(d)
        raises = [m for m in _RAISES.finditer(said) if "only when" not in m.group("rest")[:12]]
        if raises and run.raised is None:
            wrong.append(f"{d.code} says peft raises, peft did not: {said}")
            continue
        for m in raises:
            q = _QUOTE.match(m.group("rest"))
            if q and (q.group("text") or q.group("tick")):
                quotes.append((d.code, q.group("cls"), q.group("text") or q.group("tick")))
        for w in _WARNS.finditer(said) if run.raised is None else ():
            q = _QUOTE.match(w.group("rest"))
            if not run.warned:
                wrong.append(f"{d.code} says peft warns, peft did not: {said}")
            elif q and not any(quoted_matches(q.group("text") or q.group("tick"), t) for t in run.warned):
                wrong.append(f"{d.code} quotes warning {q.group('text') or q.group('tick')!r}, peft warned {run.warned}")
        if "ignores it silently" in said and run.raised is not None and len(errors) == len(
                [e for e in errors if "ignores it silently" in said_by(e)]):
            wrong.append(f"{d.code} says peft ignores it silently, peft raised {run.text[:160]!r}")
        if "saves the whole embedding matrix" in said and run.raised is None and not any(
                n == d.subject or n.endswith(f".{d.subject}") for n in run.saved_whole):  # subject: the entry
            wrong.append(f"{d.code} says peft saves `{d.subject}` whole; the adapter holds {sorted(run.saved_whole)}")
    if run.raised is not None and quotes and run.text:  # (no text: peft crashed, e.g. StopIteration on a
        # model without any parameter, before its own check could speak)
        # several independent mistakes: peft raises for the first it meets, the others wait their turn
        classes = {c.__name__ for c in type(run.raised).__mro__}
        if not any(quoted_matches(text, run.text) and (cls is None or cls in classes) for _, cls, text in quotes):
            wrong.append(f"{[(c, t) for c, _, t in quotes]} quoted; peft raised {type(run.raised).__name__}: "
                         f"{run.text[:200]!r}")
    return wrong


# -- bundled configs, shrunk -----------------------------------------------------------------------

SHRINK = {"hidden_size": 16, "intermediate_size": 32, "num_attention_heads": 4, "num_key_value_heads": 2,
          "num_hidden_layers": 2, "vocab_size": 64, "head_dim": 4, "moe_intermediate_size": 8,
          "shared_expert_intermediate_size": 16, "num_experts": 4, "num_local_experts": 4, "num_experts_per_tok": 2,
          "n_embd": 16, "n_head": 4, "n_layer": 2, "max_window_layers": 2}


def shrunk(config: dict) -> dict:
    """A bundled config at 2 layers and tiny widths (only the keys it has; head_dim where heads are)."""
    out = {k: (SHRINK[k] if k in SHRINK else v) for k, v in config.items()}
    if "num_attention_heads" in out:
        out["head_dim"] = SHRINK["head_dim"]
    return out


def drawn_from(model) -> Drawn:
    """The names a config for a real model draws from: leaf names, a few full names, 3-D parameters."""
    named = [n for n, _ in model.named_modules() if n]
    leaves = list(dict.fromkeys(n.rsplit(".", 1)[-1] for n in named if not n.rsplit(".", 1)[-1].isdigit()))
    params = [f"{n.rsplit('.', 1)[-1]}.{p}" for n, m in model.named_modules() if n
              for p, t in m.named_parameters(recurse=False) if t.dim() == 3]
    dotted = [n for n in named if n.count(".") >= 3][:4]
    return Drawn("", leaves, dotted, list(dict.fromkeys(params)) or ["weight"])
