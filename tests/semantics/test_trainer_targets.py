"""What axolotl's ``lora_target_linear: true`` and LLaMA-Factory's ``lora_target: all`` hand to PEFT,
computed from the inventory, against the trainers' documented rules applied to the real
meta-device model — and what real peft then adapts with that list.

The rules (see ``semantics/trainer_targets.py``): axolotl (v0.18, ``find_all_linear_names``) takes
the last name segment of every module that is a ``torch.nn.Linear`` or whose class name contains
``Linear`` (except ``LlamaLinearScalingRotaryEmbedding``), then drops its output-embedding name
(``embed_out`` for gpt_neox, else ``lm_head``). LLaMA-Factory takes the last name segment of
modules whose class name contains ``Linear`` and not ``Embedding``, skipping full names containing
``lm_head`` (v0) or any of lm_head/output_layer/output/score/classifier (v1).
"""

from __future__ import annotations

import functools

import pytest
from support.oracle import fresh, peft_outcome, peftlint_outcome

from peftlint.semantics.matching import PeftView, compute_targeting
from peftlint.semantics.trainer_targets import expand, trainer_linear_names
from peftlint.sources.trainer_yaml import extract_trainer_yaml

MODELS = ["HuggingFaceTB/SmolLM2-135M", "gpt2", "EleutherAI/pythia-160m", "openai/whisper-small",
          "mistralai/Mixtral-8x7B-v0.1", "bert-base-uncased", "google/flan-t5-base", "microsoft/phi-2"]


@functools.lru_cache(maxsize=None)
def inventory(hub_id: str, model_class: str):
    from peftlint.model.build import build_inventory
    from peftlint.model.resolve import ResolveOptions, resolve

    return build_inventory(resolve(hub_id, options=ResolveOptions()), model_class)


def _model_class(hub_id: str) -> str:
    return {"bert-base-uncased": "AutoModelForSequenceClassification", "google/flan-t5-base": "AutoModelForSeq2SeqLM",
            "openai/whisper-small": "AutoModelForSpeechSeq2Seq"}.get(hub_id, "AutoModelForCausalLM")


def axolotl_rule(model) -> set[str]:
    import torch

    names = set()
    for name, module in model.named_modules():
        cls = type(module).__name__
        if isinstance(module, torch.nn.Linear) or ("Linear" in cls and cls != "LlamaLinearScalingRotaryEmbedding"):
            names.add(name.split(".")[-1])
    names.discard("embed_out" if model.config.model_type == "gpt_neox" else "lm_head")
    return names


def llama_factory_rule(model, forbidden: tuple[str, ...]) -> set[str]:
    return {name.split(".")[-1] for name, module in model.named_modules()
            if "Linear" in type(module).__name__ and "Embedding" not in type(module).__name__
            and not any(f in name for f in forbidden)}


@pytest.mark.parametrize("hub_id", MODELS)
def test_names_follow_each_trainers_rule_on_the_real_model(hub_id):
    cls = _model_class(hub_id)
    model = fresh(hub_id, cls)
    inv = inventory(hub_id, cls)
    assert set(trainer_linear_names("axolotl", inv)[0]) == axolotl_rule(model)
    assert set(trainer_linear_names("llama-factory", inv)[0]) == llama_factory_rule(model, ("lm_head",))
    v1 = ("lm_head", "output_layer", "output", "score", "classifier")
    assert set(trainer_linear_names("llama-factory-v1", inv)[0]) == llama_factory_rule(model, v1)


def test_what_differs_from_peft_all_linear():
    # gpt2's attention and MLP are transformers' Conv1D: PEFT's "all-linear" adapts them, but neither
    # trainer's class test picks them up, so only the tied lm_head would be found (and dropped)
    assert trainer_linear_names("axolotl", inventory("gpt2", "AutoModelForCausalLM"))[0] == []
    assert trainer_linear_names("llama-factory", inventory("gpt2", "AutoModelForCausalLM"))[0] == []
    # whisper's head is `proj_out`: axolotl's table says lm_head, so the head stays in its list
    whisper = inventory("openai/whisper-small", "AutoModelForSpeechSeq2Seq")
    assert "proj_out" in trainer_linear_names("axolotl", whisper)[0]
    # a classifier head is a Linear: axolotl and LLaMA-Factory v0 keep it, v1 skips `classifier`
    bert = inventory("bert-base-uncased", "AutoModelForSequenceClassification")
    assert "classifier" in trainer_linear_names("axolotl", bert)[0]
    assert "classifier" in trainer_linear_names("llama-factory", bert)[0]
    assert "classifier" not in trainer_linear_names("llama-factory-v1", bert)[0]
    # v1 skips every module whose name contains "output": bert's `attention.output.dense` is not
    # collected, but `dense` still is (from the pooler/intermediate), and PEFT matches it everywhere
    assert "dense" in trainer_linear_names("llama-factory-v1", bert)[0]
    # Mixtral's router is no Linear in transformers 5 (fused experts): neither lists it
    mixtral = inventory("mistralai/Mixtral-8x7B-v0.1", "AutoModelForCausalLM")
    assert "gate" not in trainer_linear_names("axolotl", mixtral)[0]


CONFIGS = {
    "axolotl": "base_model: {m}\nadapter: lora\nlora_target_linear: true\n",
    "axolotl-plus": "base_model: {m}\nadapter: lora\nlora_target_linear: true\nlora_target_modules: [lm_head]\n",
    "llama-factory": "model_name_or_path: {m}\nfinetuning_type: lora\nlora_target: all\n",
    "llama-factory-v1": "model: {m}\npeft_config:\n  name: lora\n  target_modules: all\n",
}


@pytest.mark.parametrize("kind", sorted(CONFIGS))
@pytest.mark.parametrize("hub_id", ["HuggingFaceTB/SmolLM2-135M", "EleutherAI/pythia-160m", "microsoft/phi-2"])
def test_expanded_config_adapts_what_peft_adapts(kind, hub_id):
    from peft import LoraConfig

    [spec] = extract_trainer_yaml(CONFIGS[kind].format(m=hub_id), "c.yaml", "/tmp/c.yaml").specs
    inv = inventory(hub_id, "AutoModelForCausalLM")
    got = expand(spec, inv)
    names = got.spec.static("target_modules")
    assert isinstance(names, list) and names, names
    if kind == "axolotl-plus":
        assert "lm_head" in names and "lm_head" not in got.generated  # the user's own entry, added back
    view = PeftView(target_modules=names)
    ours = peftlint_outcome(compute_targeting(view, inv), inv)
    theirs = peft_outcome(fresh(hub_id, "AutoModelForCausalLM"), LoraConfig(target_modules=names))[:2]
    assert ours == theirs
