"""Saved adapters (PFT401-PFT407): real adapters written by peft's save_pretrained from tiny CPU
models, checked by peftlint, and loaded with real PeftModel.from_pretrained to show PEFT's own outcome."""

from __future__ import annotations

import json
import shutil
import sys
import warnings

import pytest
from safetensors import safe_open
from support.adapterutil import (
    GPT2,
    LLAMA,
    MIXTRAL,
    T5,
    edit_config,
    header,
    load_onto,
    model_dir,
    save_adapter,
    write_with_header,
)
from support.lintutil import lint, run_cli

from peftlint.semantics.matching import pattern_key
from peftlint.sources.adapter_weights import read_weights

WEIGHTS = "adapter_model.safetensors"
PFT4 = ("PFT401", "PFT402", "PFT403", "PFT404", "PFT405", "PFT406", "PFT407")


def codes(findings: list[dict], prefix: str = "PFT4") -> list[str]:
    return sorted(d["code"] for d in findings if d["code"].startswith(prefix))


def verdicts(cwd, *args: str) -> list[str]:
    _, out = run_cli(["check", "--output-format", "full", *args], cwd)
    return [line.strip() for line in out.splitlines() if line.strip().startswith("adapter ")]


@pytest.fixture(scope="module")
def work(tmp_path_factory):
    root = tmp_path_factory.mktemp("adapters")
    model_dir(root, "llama", LLAMA)
    model_dir(root, "llama96", LLAMA, hidden_size=96)
    return root


@pytest.fixture(scope="module")
def llama_lora(work):
    return save_adapter(work / "llama", work / "saved" / "llama-qv", r=4, target_modules=["q_proj", "v_proj"])


def copy(src, dst):
    shutil.copytree(src, dst)
    return dst


# -- adapters that fit -------------------------------------------------------------------------


def test_fitting_llama_adapter(work, llama_lora):
    assert codes(lint(work, str(llama_lora))) == []
    assert verdicts(work, str(llama_lora)) == [f"adapter saved/llama-qv: fits {work / 'llama'}: yes (8 tensors)"]
    assert not any("missing adapter keys" in w for w in load_onto(work / "llama", llama_lora))


@pytest.mark.parametrize("name,config,lora", [
    ("dora-embed-rank-mts", LLAMA, dict(r=4, target_modules=["q_proj", "v_proj", "embed_tokens"], use_dora=True,
                                        rank_pattern={"v_proj": 2}, modules_to_save=["lm_head"])),
    ("bias", LLAMA, dict(r=4, target_modules=["o_proj", "down_proj"], lora_bias=True)),
    ("gpt2-conv1d", GPT2, dict(r=4, target_modules=["c_attn", "c_proj"], fan_in_fan_out=True)),
    ("gpt2-dora", GPT2, dict(r=2, target_modules=["c_attn"], use_dora=True, fan_in_fan_out=True)),
    ("t5", T5, dict(r=4, target_modules=["q", "v"], task_type="SEQ_2_SEQ_LM")),
    ("mixtral-params", MIXTRAL, dict(r=2, target_modules=["q_proj"], target_parameters=["gate_up_proj", "down_proj"])),
])
def test_real_adapters_fit(work, name, config, lora):
    base = model_dir(work, f"base-{name}", config)
    out = save_adapter(base, work / "saved" / name, **lora)
    with safe_open(str(out / WEIGHTS), framework="numpy") as f:
        assert len(list(f.keys())) > 0
    assert codes(lint(work, str(out))) == []
    [v] = verdicts(work, str(out))
    assert ": yes (" in v
    load_onto(base, out)  # PEFT loads it too
    # peftlint's expected keys are exactly the keys peft wrote (optional embedding copies aside)
    rep = _report(work, out)
    saved = set(rep.file.tensors)
    required = {k for k, e in rep.expected.items() if e.required}
    assert required == saved - {k for k, e in rep.expected.items() if not e.required}
    assert all(rep.expected[k].shape == rep.file.tensors[k].shape for k in saved)


def _report(cwd, adapter):
    from peftlint.config import Settings
    from peftlint.engine.run import Linter

    result = Linter(Settings(), cwd=cwd).lint_paths([adapter])
    [outcome] = result.outcomes
    return outcome.ctx.weights


def test_param_wrapper_nesting_matches_peft(work):
    """Mixtral experts: down_proj (registered last) is the outer wrapper, gate_up_proj the inner."""
    base = model_dir(work, "base-mixtral-nest", MIXTRAL)
    out = save_adapter(base, work / "saved" / "mixtral-nest", r=2, target_modules=[],
                       target_parameters=["gate_up_proj", "down_proj"])
    wf = read_weights(out / WEIGHTS)
    p = "base_model.model.model.layers.0.mlp.experts"
    e, h, i = 4, 32, 48
    assert wf.tensors[f"{p}.lora_A.weight"].shape == (2 * e, i)  # down_proj (E, H, I): in = I
    assert wf.tensors[f"{p}.lora_B.weight"].shape == (h, 2 * e)
    assert wf.tensors[f"{p}.base_layer.lora_A.weight"].shape == (2 * e, h)  # gate_up_proj (E, 2I, H)
    assert wf.tensors[f"{p}.base_layer.lora_B.weight"].shape == (2 * i, 2 * e)
    assert codes(lint(work, str(out))) == []
    other = model_dir(work, "base-mixtral-wide", MIXTRAL, intermediate_size=64)
    found = lint(work, "--model", str(other), str(out))
    assert "PFT402" in codes(found)
    with pytest.raises(RuntimeError, match="size mismatch"):
        load_onto(other, out)


# -- adapters that do not fit ----------------------------------------------------------------------


def test_wrong_base_is_pft402_and_peft_fails(work, llama_lora):
    found = lint(work, "--model", str(work / "llama96"), str(llama_lora))
    assert "PFT402" in codes(found)
    msg = next(d["message"] for d in found if d["code"] == "PFT402")
    assert "size mismatch" in msg and "[4, 64]" in msg and "[4, 96]" in msg
    [v] = verdicts(work, "--model", str(work / "llama96"), str(llama_lora))
    assert ": no (first mismatching tensor base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight" in v
    with pytest.raises(RuntimeError, match="size mismatch for base_model.model.model.layers.0.self_attn.q_proj"):
        load_onto(work / "llama96", llama_lora)


def test_rank_mismatch_is_pft403_and_peft_fails(work, llama_lora, tmp_path):
    adapter = copy(llama_lora, tmp_path / "edited")
    edit_config(adapter, r=8)
    found = lint(work, str(adapter))
    assert codes(found) == ["PFT403", "PFT403"]
    assert all("set `r` to 4" in d["message"] for d in found if d["code"] == "PFT403")
    with pytest.raises(RuntimeError, match="size mismatch"):
        load_onto(work / "llama", adapter)


def test_sorted_rank_pattern_keys_change_the_rank(work):
    """docs/peft-behaviour.md#patterns: save_pretrained sorts rank_pattern keys, so another key matches first."""
    out = save_adapter(work / "llama", work / "saved" / "rank-sorted", r=4, target_modules=["q_proj"],
                       rank_pattern={"q_proj": 4, "layers.0.self_attn.q_proj": 16})
    saved = json.loads((out / "adapter_config.json").read_text())
    assert list(saved["rank_pattern"]) == ["layers.0.self_attn.q_proj", "q_proj"]
    found = [d for d in lint(work, str(out)) if d["code"] == "PFT403"]
    assert found and "layers.0.self_attn.q_proj" in found[0]["message"]
    assert found[0]["subject"].startswith("base_model.model.model.layers.0.self_attn.q_proj.")
    with pytest.raises(RuntimeError, match="size mismatch"):
        load_onto(work / "llama", out)


def test_pattern_key_is_first_match():
    assert pattern_key(["q_proj", "layers.0.self_attn.q_proj"], "model.layers.0.self_attn.q_proj") == "q_proj"
    assert pattern_key(["layers.0.self_attn.q_proj", "q_proj"], "model.layers.0.self_attn.q_proj") != "q_proj"
    assert pattern_key(["proj"], "model.layers.0.self_attn.q_proj") is None
    assert pattern_key(["^model.layers.0.self_attn.q_proj"], "model.layers.0.self_attn.q_proj") is not None
    assert pattern_key(["(bad"], "x.q_proj") is None


def test_targets_without_weights_warn_in_peft(work, llama_lora, tmp_path):
    adapter = copy(llama_lora, tmp_path / "more-targets")
    edit_config(adapter, target_modules=["q_proj", "v_proj", "k_proj"])
    found = lint(work, str(adapter))
    assert codes(found) == ["PFT404"]
    assert "k_proj" in found[0]["message"] and "Found missing adapter keys" in found[0]["detail"]
    warned = load_onto(work / "llama", adapter)
    assert any("Found missing adapter keys" in w and "k_proj" in w for w in warned)


def test_weights_not_targeted_are_ignored_silently(work, llama_lora, tmp_path):
    adapter = copy(llama_lora, tmp_path / "fewer-targets")
    edit_config(adapter, target_modules=["q_proj"])
    found = lint(work, str(adapter))
    assert codes(found) == ["PFT404"]
    assert "v_proj" in found[0]["message"] and "ignores these weights silently" in found[0]["detail"]
    warned = load_onto(work / "llama", adapter)
    assert not any("missing adapter keys" in w for w in warned)


def test_modules_the_base_lacks(work):
    """An adapter from a GPT-2 model, declared for llama: keys for modules llama does not have."""
    base = model_dir(work, "base-gpt2-keys", GPT2)
    out = save_adapter(base, work / "saved" / "gpt2-keys", r=4, target_modules=["c_attn"])
    found = lint(work, "--model", str(work / "llama"), str(out))
    assert "PFT404" in codes(found)
    assert any("has no such module" in d["message"] for d in found)


def test_zero_sized_tensor(work, llama_lora, tmp_path):
    adapter = copy(llama_lora, tmp_path / "zero")
    _, head = header(adapter / WEIGHTS)
    shapes = {k: tuple(v["shape"]) for k, v in head.items() if k != "__metadata__"}
    shapes["base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight"] = (0, 64)
    from peftlint.rules.weights._examples import safetensors_bytes

    (adapter / WEIGHTS).write_bytes(safetensors_bytes(shapes))
    found = lint(work, str(adapter))
    assert codes(found) == ["PFT405"]
    assert found[0]["path"].endswith(f"zero/{WEIGHTS}")


# -- corrupt files: PFT406 with the library's reason -------------------------------------------------


def _reason(path) -> str:
    try:
        with safe_open(str(path), framework="numpy") as f:
            list(f.keys())
    except Exception as exc:
        return str(exc)
    raise AssertionError("safetensors read the file")


def _corrupt(kind: str, src, dst) -> None:
    raw = src.read_bytes()
    n, head = header(src)
    if kind == "truncated":
        dst.write_bytes(raw[:-64])
    elif kind == "lying-header":
        key = next(k for k in head if k != "__metadata__")
        head[key]["shape"] = [k * 2 for k in head[key]["shape"]]
        write_with_header(src, dst, head)
    elif kind == "huge-header":
        dst.write_bytes((2 ** 40).to_bytes(8, "little") + raw[8:])
    elif kind == "wrong-offsets":
        key = next(k for k in head if k != "__metadata__")
        a, b = head[key]["data_offsets"]
        head[key]["data_offsets"] = [a + 4, b + 4]
        write_with_header(src, dst, head)
    elif kind == "not-safetensors":
        dst.write_text("version https://git-lfs.github.com/spec/v1\noid sha256:abc\nsize 123\n")


@pytest.mark.parametrize("kind", ["truncated", "lying-header", "huge-header", "wrong-offsets", "not-safetensors"])
def test_corrupt_weights_are_pft406(work, llama_lora, tmp_path, kind):
    adapter = copy(llama_lora, tmp_path / kind)
    _corrupt(kind, llama_lora / WEIGHTS, adapter / WEIGHTS)
    reason = _reason(adapter / WEIGHTS)
    found = lint(work, str(adapter))
    assert codes(found) == ["PFT406"]
    assert reason in found[0]["detail"]  # the message has it cut to one line
    assert found[0]["path"].endswith(f"{kind}/{WEIGHTS}")
    [v] = verdicts(work, str(adapter))
    assert ": no (unreadable weights:" in v
    with pytest.raises(Exception) as exc:
        load_onto(work / "llama", adapter)
    assert reason in str(exc.value)  # PEFT fails with the same reason


def test_pickle_weights_are_noted_never_loaded(work, monkeypatch):
    out = save_adapter(work / "llama", work / "saved" / "pickle", safe=False, r=4, target_modules=["q_proj"])
    assert (out / "adapter_model.bin").is_file() and not (out / WEIGHTS).exists()
    import pickle
    monkeypatch.setattr(pickle, "load", lambda *a, **k: pytest.fail("peftlint unpickled a file"))
    monkeypatch.setattr(pickle, "loads", lambda *a, **k: pytest.fail("peftlint unpickled a file"))
    found = lint(work, str(out))
    assert [(d["code"], d["severity"]) for d in found if d["code"].startswith("PFT4")] == [("PFT406", "info")]
    assert "never loads pickles" in found[0]["message"]


# -- discovery -----------------------------------------------------------------------------------


def test_checkpoints_and_named_adapter_subfolders(work, tmp_path):
    run = tmp_path / "outputs"
    save_adapter(work / "llama", run / "checkpoint-500", r=4, target_modules=["q_proj"],
                 extra_adapters={"other": dict(r=2, target_modules=["v_proj"])})
    assert (run / "checkpoint-500" / "other" / "adapter_config.json").is_file()
    (tmp_path / ".gitignore").write_text("outputs/\n")
    (tmp_path / ".git").mkdir()
    lines = verdicts(tmp_path, "outputs/checkpoint-500")  # a gitignored folder named explicitly
    base = work / "llama"
    assert sorted(lines) == [f"adapter outputs/checkpoint-500/other: fits {base}: yes (4 tensors)",
                             f"adapter outputs/checkpoint-500: fits {base}: yes (4 tensors)"]


def test_weights_file_named_on_the_command_line(work, llama_lora):
    found = lint(work, str(llama_lora / WEIGHTS))
    assert codes(found) == []
    [v] = verdicts(work, str(llama_lora / WEIGHTS))
    assert ": yes (" in v


def test_base_model_mismatch_pft407(work, llama_lora):
    found = lint(work, "--model", str(work / "llama96"), str(llama_lora))
    assert "PFT407" in codes(found)
    same = lint(work, "--model", str(work / "llama"), str(llama_lora))
    assert "PFT407" not in codes(same)


def test_unresolved_base_gives_unknown_verdict(work, llama_lora, tmp_path):
    adapter = copy(llama_lora, tmp_path / "nobase")
    edit_config(adapter, base_model_name_or_path="nowhere/not-a-model")
    [v] = verdicts(work, str(adapter))
    assert ": unknown (base model not resolved" in v


def test_warm_run_imports_no_torch(work, llama_lora):
    lint(work, str(llama_lora))  # fills the cache
    import subprocess

    code = (
        "import sys\nfrom peftlint.cli import main\n"
        f"try:\n    main(['check', {str(llama_lora)!r}], standalone_mode=False)\nexcept SystemExit:\n    pass\n"
        "print(sorted(m for m in ('torch', 'transformers', 'peft') if m in sys.modules))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=work, capture_output=True, text=True, check=True)
    assert out.stdout.strip().splitlines()[-1] == "[]"


# -- PFT401 field types ------------------------------------------------------------------------------


def _ft(hint):
    from peftlint.semantics.peft_facts import field_type

    return field_type(hint)


@pytest.mark.parametrize("value,ann,ok", [
    (8, "int", True), ("8", "int", False), (8.0, "int", False), (True, "int", False),
    (["q"], "Optional[Union[list[str], str]]", True), ("q", "Optional[Union[list[str], str]]", True),
    (5, "Optional[Union[list[str], str]]", False), ([1], "Optional[Union[list[str], str]]", False),
    (None, "Optional[dict]", True), ("false", "bool", False),
    ("pissa_niter_4", "Union[bool, Literal['gaussian', 'pissa']]", True), ({}, "Optional[EvaConfig]", True),
    ("none", "Optional[EvaConfig]", False),
    ([[0, 2]], "Optional[list[tuple[int, int]]]", True), ({"a": [1]}, "Optional[Union[list[int], dict[str, list[int]]]]", True),
])
def test_accepts(value, ann, ok):
    """PFT401's type test on the annotations peft declares (resolved as typing objects)."""
    from typing import Literal, Optional, Union  # noqa: F401 - used by eval

    from peft import EvaConfig  # noqa: F401

    from peftlint.semantics.peft_facts import accepts

    assert accepts(_ft(eval(ann)), value, any_choice=True) is ok


def test_wrong_field_types_in_saved_config(work, llama_lora, tmp_path):
    adapter = copy(llama_lora, tmp_path / "types")
    edit_config(adapter, use_dora="false", layers_to_transform=["0", "1"], loftq_config="none", lora_alpha=16.0)
    found = lint(work, str(adapter))
    assert sorted(d["subject"] for d in found if d["code"] == "PFT401") == ["layers_to_transform", "use_dora"]
    # peft itself warns that the (truthy) loftq_config is ignored: reported once, with peft's words
    [warned] = [d for d in found if d["code"] == "PFT211"]
    assert warned["subject"] == "loftq_config" and warned["severity"] == "warning"
    assert "will be ignored" in warned["message"]
    assert not any(d["code"] == "PFT210" for d in found)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from peft import LoraConfig
        cfg = LoraConfig.from_pretrained(str(adapter))
    assert cfg.use_dora == "false" and cfg.layers_to_transform == ["0", "1"]  # PEFT takes them unchecked
    [v] = verdicts(work, str(adapter))
    assert ": no (the config adapts no module of the base model" in v
    edit_config(adapter, use_dora=False, loftq_config={})
    with pytest.raises(ValueError, match="not found in the base model"):  # NoMatchingPeftModuleError
        load_onto(work / "llama", adapter)


def test_other_methods_get_key_checks(work):
    """IA3: key presence only (the verdict says shapes are not checked)."""
    out = save_adapter(work / "llama", work / "saved" / "ia3", config_class="IA3Config",
                       target_modules=["k_proj", "v_proj", "down_proj"], feedforward_modules=["down_proj"])
    assert codes(lint(work, str(out))) == []
    [v] = verdicts(work, str(out))
    assert ": yes (" in v and "IA3: key names only" in v
    edit_config(out, target_modules=["k_proj", "v_proj", "down_proj", "q_proj"])
    found = lint(work, str(out))
    assert codes(found) == ["PFT404"] and "q_proj" in found[0]["message"]


def test_classification_head_num_labels(work):
    """A SEQ_CLS adapter saves the `score` head; loading onto a base with other num_labels fails."""
    out = save_adapter(work / "llama", work / "saved" / "cls", auto_class="AutoModelForSequenceClassification",
                       config_kwargs={"num_labels": 5}, r=4, target_modules=["q_proj"], task_type="SEQ_CLS")
    found = [d for d in lint(work, str(out)) if d["code"] == "PFT402"]
    assert len(found) == 1 and "num_labels=5" in found[0]["message"]
    with pytest.raises(RuntimeError, match="size mismatch"):
        load_onto(work / "llama", out, auto_class="AutoModelForSequenceClassification")
    load_onto(work / "llama", out, auto_class="AutoModelForSequenceClassification", num_labels=5)


def test_weights_without_adapter_config_are_reported(tmp_path):
    """PEFT cannot load a folder whose adapter_config.json is missing; peftlint says so instead of skipping it."""
    from support.lintutil import lint as lint_cli

    orphan = tmp_path / "run" / "checkpoint-10"
    orphan.mkdir(parents=True)
    (orphan / "adapter_model.safetensors").write_bytes(b"\x08\x00\x00\x00\x00\x00\x00\x00{}      ")
    with pytest.raises(ValueError, match="adapter_config.json"):
        from peft import PeftConfig
        PeftConfig.from_pretrained(str(orphan))
    [d] = lint_cli(tmp_path, ".")
    assert (d["code"], d["path"], d["subject"]) == ("PFT401", "run/checkpoint-10/adapter_model.safetensors",
                                                    "adapter_config.json")
    [d] = lint_cli(tmp_path, "run/checkpoint-10/adapter_model.safetensors")
    assert d["code"] == "PFT401"
