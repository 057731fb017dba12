"""The model the code really gets.

Code that loads a model with ``trust_remote_code=True`` whose config.json has a model_type
transformers knows *and* an ``auto_map`` for the auto class (DeepSeek-V2/V3 on the hub:
``deepseek_v2`` plus their own ``modeling_deepseek.py``) gets the repository's class, not the native
one. peftlint checked the native tree and reported what is not so for the model that runs
(LLaMA-Factory's DeepSeek examples: PFT107/PFT109 on fused experts the remote code does not have).
Now: PFT903, unless ``--trust-remote-code``, which builds the remote class; without
``trust_remote_code`` in the code, the native class is checked as before. Judged by transformers +
peft in a subprocess (the remote code is copied into HF_HOME/modules).

Code that names an auto class with no model for the config's type gets a ValueError, not the
class peftlint falls back to (below)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import pytest
from support.helpers_hf import REPO_ROOT
from support.lintutil import lint

LLAMA = {"model_type": "llama", "architectures": ["LlamaForCausalLM"], "hidden_size": 16, "intermediate_size": 32,
         "num_hidden_layers": 2, "num_attention_heads": 2, "num_key_value_heads": 2, "vocab_size": 32,
         "auto_map": {"AutoModelForCausalLM": "modeling_fused.FusedForCausalLM"}}
MODELING = '''
import torch.nn as nn
from transformers import LlamaConfig, PreTrainedModel


class FusedForCausalLM(PreTrainedModel):
    config_class = LlamaConfig

    def __init__(self, config):
        super().__init__(config)
        self.embed = nn.Embedding(config.vocab_size, config.hidden_size)
        self.layers = nn.ModuleList(nn.ModuleDict({"qkv": nn.Linear(config.hidden_size, 3 * config.hidden_size)})
                                    for _ in range(config.num_hidden_layers))
        self.lm_head = nn.Linear(config.hidden_size, config.vocab_size, bias=False)
        self.post_init()

    def get_input_embeddings(self):
        return self.embed

    def get_output_embeddings(self):
        return self.lm_head
'''
ORACLE = """
import json, sys, torch, warnings
from transformers import AutoConfig, AutoModelForCausalLM
from peft import LoraConfig, get_peft_model
out = {}
for trust in (False, True):
    cfg = AutoConfig.from_pretrained(sys.argv[1])
    with torch.device("meta"):
        model = AutoModelForCausalLM.from_config(cfg, trust_remote_code=trust)
    try:
        get_peft_model(model, LoraConfig(target_modules=["q_proj", "v_proj"]))
        out[str(trust)] = [type(model).__name__, "ok"]
    except Exception as exc:
        out[str(trust)] = [type(model).__name__, type(exc).__name__]
print(json.dumps(out))
"""


@pytest.fixture()
def project(tmp_path):
    model = tmp_path / "tiny-fused"
    model.mkdir()
    (model / "config.json").write_text(json.dumps(LLAMA))
    (model / "modeling_fused.py").write_text(MODELING)
    for name, trust in (("trusting.py", ", trust_remote_code=True"), ("plain.py", "")):
        (tmp_path / name).write_text(textwrap.dedent(f"""\
            from peft import LoraConfig, get_peft_model
            from transformers import AutoModelForCausalLM

            model = AutoModelForCausalLM.from_pretrained("./tiny-fused"{trust})
            model = get_peft_model(model, LoraConfig(target_modules=["q_proj", "v_proj"]))
            """))
    (tmp_path / "train.yaml").write_text(
        "model_name_or_path: ./tiny-fused\ntrust_remote_code: true\nstage: sft\nfinetuning_type: lora\n"
        "lora_target: q_proj,v_proj\n")
    return tmp_path


def _env(tmp_path) -> dict[str, str]:
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT), "HF_HOME": str(tmp_path / "hf-home")}
    env.pop("HF_MODULES_CACHE", None)
    return env


def test_peft_sees_the_remote_class_only_when_trusted(project):
    out = subprocess.run([sys.executable, "-c", ORACLE, str(project / "tiny-fused")], env=_env(project),
                         capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout.strip().splitlines()[-1]) == {
        "False": ["LlamaForCausalLM", "ok"], "True": ["FusedForCausalLM", "NoMatchingPeftModuleError"]}


@pytest.mark.parametrize("name", ["trusting.py", "train.yaml"])
def test_trusting_code_is_not_checked_against_the_native_class(project, name):
    found = lint(project, name)
    assert [d["code"] for d in found] == ["PFT903"]
    assert "auto_map names its own AutoModelForCausalLM class" in found[0]["detail"]


def test_code_without_trust_gets_the_native_class(project):
    assert [d["code"] for d in lint(project, "plain.py") if d["severity"] != "info"] == []
    assert not [d for d in lint(project, "plain.py") if d["code"] == "PFT903"]


def test_trust_remote_code_flag_checks_the_remote_class(project):
    out = subprocess.run([sys.executable, "-m", "peftlint", "check", "trusting.py", "--format", "json",
                          "--trust-remote-code", "--no-cache"], cwd=project, env=_env(project),
                         capture_output=True, text=True)
    assert out.returncode == 1, out.stderr
    codes = {(d["code"], d["subject"]) for d in json.loads(out.stdout)}
    assert ("PFT101", "q_proj") in codes and not any(c == "PFT903" for c, _ in codes)


# -- an auto class with no model for the config's type ---------------------------------------------
# huggingface/notebooks sagemaker/24 and 28: `AutoModelForCausalLM.from_pretrained(args.model_id)`
# with the argparse default google/flan-t5-xl. transformers raises before PEFT runs; peftlint built a
# T5ForConditionalGeneration in its place and reported PFT101 ("PEFT raises") and PFT310 on it.


def test_transformers_refuses_the_auto_class():
    import transformers

    from peftlint.model.resolve import Resolved, ResolveOptions, resolve

    res = resolve("t5-small", options=ResolveOptions())
    assert isinstance(res, Resolved)
    cfg = dict(res.config)
    config = transformers.AutoConfig.for_model(cfg.pop("model_type"), **cfg)
    with pytest.raises(ValueError, match="Unrecognized configuration class"):
        transformers.AutoModelForCausalLM.from_config(config)


@pytest.mark.parametrize(("cls", "expected"), [
    ("AutoModelForCausalLM", ["PFT901"]),  # never a model: nothing model-aware to say
    ("AutoModelForSeq2SeqLM", ["PFT101", "PFT310"]),  # the model the code gets, checked as before
    # a class this transformers no longer has (transformers 4's name): the code may run on an older
    # transformers, so the class that builds the config is checked in its place, as before
    ("AutoModelForVision2Seq", ["PFT101", "PFT310"]),
])
def test_an_auto_class_without_a_model_for_the_config_is_not_replaced(tmp_path, cls, expected):
    (tmp_path / "train.py").write_text(textwrap.dedent(f"""\
        from peft import LoraConfig, get_peft_model
        from transformers import {cls}

        model = {cls}.from_pretrained("t5-small")
        config = LoraConfig(target_modules=["query_key_value"], task_type="CAUSAL_LM")
        model = get_peft_model(model, config)
        """))
    found = lint(tmp_path, "train.py", "--show-notes")
    assert sorted(d["code"] for d in found) == expected
    if cls == "AutoModelForCausalLM":
        assert "cannot be loaded by AutoModelForCausalLM" in found[0]["message"]
        assert "transformers raises ValueError" in found[0]["detail"]
