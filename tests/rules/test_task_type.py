"""PFT310 reads a model class's task from transformers' auto-model mappings, not from its name."""

from __future__ import annotations

import warnings

import pytest
from support.lintutil import lint
from support.oracle import fresh


def lint_model(tmp_path, loader: str, model: str, config: str) -> list[dict]:
    (tmp_path / "train.py").write_text(
        f"from transformers import {loader}\nfrom peft import LoraConfig, get_peft_model\n\n"
        f'model = {loader}.from_pretrained("{model}")\nconfig = {config}\nmodel = get_peft_model(model, config)\n')
    return [d for d in lint(tmp_path, ".") if d["code"] == "PFT310"]


def test_gpt2_lm_head_model_is_a_causal_lm(tmp_path):
    from peft import LoraConfig, PeftModelForCausalLM, get_peft_model
    from transformers.models.auto.modeling_auto import MODEL_FOR_CAUSAL_LM_MAPPING_NAMES

    assert MODEL_FOR_CAUSAL_LM_MAPPING_NAMES["gpt2"] == "GPT2LMHeadModel"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        pm = get_peft_model(fresh("gpt2", "GPT2LMHeadModel"), LoraConfig(target_modules=["c_attn"], task_type="CAUSAL_LM"))
    assert isinstance(pm, PeftModelForCausalLM) and hasattr(pm, "generate")
    assert lint_model(tmp_path, "GPT2LMHeadModel", "gpt2", 'LoraConfig(target_modules=["c_attn"], task_type="CAUSAL_LM")') == []


def test_base_model_with_causal_lm_task_is_reported(tmp_path):
    [found] = lint_model(tmp_path, "GPT2Model", "gpt2", 'LoraConfig(target_modules=["c_attn"], task_type="CAUSAL_LM")')
    assert "task FEATURE_EXTRACTION" in found["message"]


@pytest.mark.parametrize("model_class,autos", [
    ("GPT2LMHeadModel", {"AutoModelForCausalLM"}),
    ("GPT2Model", {"AutoModel"}),
    ("T5ForConditionalGeneration", {"AutoModelForSeq2SeqLM"}),
    ("RobertaForSequenceClassification", {"AutoModelForSequenceClassification"}),
])
def test_inventory_records_the_auto_classes_of_the_built_class(model_class, autos):
    from peftlint.model.record import auto_classes_of

    assert autos <= set(auto_classes_of(model_class))


def test_classifier_without_task_type_from_the_mapping(tmp_path):
    [found] = lint_model(tmp_path, "AutoModelForSequenceClassification", "roberta-base",
                         'LoraConfig(target_modules=["query", "value"])')
    assert "is a classifier but the config has no task_type" in found["message"] and "'SEQ_CLS'" in found["message"]
