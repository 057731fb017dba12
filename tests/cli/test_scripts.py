"""Whole training scripts, linted end to end: the model is found where real scripts put it."""

from __future__ import annotations

import textwrap

from support.lintutil import lint


def write(tmp_path, text):
    (tmp_path / "train.py").write_text(textwrap.dedent(text), encoding="utf-8")


def test_unsloth_script_accepts_unsloth_keywords_and_checks_targets(tmp_path):
    write(tmp_path, """\
        from unsloth import FastLanguageModel

        model, tokenizer = FastLanguageModel.from_pretrained(model_name="HuggingFaceTB/SmolLM2-135M", max_seq_length=2048)
        model = FastLanguageModel.get_peft_model(
            model,
            r=16,
            target_modules=["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj", "W_pack"],
            lora_alpha=16,
            use_gradient_checkpointing="unsloth",
            random_state=3407,
        )
        """)
    found = lint(tmp_path, "train.py")
    assert [(d["code"], d["subject"], d["model"]) for d in found] == [
        ("PFT101", "W_pack", "HuggingFaceTB/SmolLM2-135M")]


def test_misspelled_keyword_points_at_the_keyword_even_through_a_constant(tmp_path):
    write(tmp_path, """\
        from peft import LoraConfig

        TARGETS = ["q_proj", "v_proj"]
        # peftlint: model=HuggingFaceTB/SmolLM2-135M
        config = LoraConfig(r=8, target_module=TARGETS)
        """)
    [d] = lint(tmp_path, "train.py")
    assert (d["code"], d["line"], d["column"]) == ("PFT209", 5, 26)
    assert "target_modules" in d["message"] and "TypeError" in d["message"]


def test_two_functions_two_models(tmp_path):
    write(tmp_path, """\
        from peft import LoraConfig, get_peft_model
        from transformers import AutoModelForCausalLM, AutoModelForSeq2SeqLM

        def train_gpt2():
            model = AutoModelForCausalLM.from_pretrained("gpt2")
            return get_peft_model(model, LoraConfig(target_modules=["c_attn"]))

        def train_t5():
            model = AutoModelForSeq2SeqLM.from_pretrained("t5-small")
            return get_peft_model(model, LoraConfig(target_modules=["c_attn"]))
        """)
    [d] = lint(tmp_path, "train.py")
    assert (d["code"], d["line"], d["model"]) == ("PFT101", 10, "t5-small")
    assert "`q`" in d["message"] or "q" in d["message"]


def test_trainer_with_hub_id_string_and_peft_config(tmp_path):
    write(tmp_path, """\
        from peft import LoraConfig
        from trl import SFTTrainer

        peft_config = LoraConfig(r=16, target_modules=["query_key_value"])
        trainer = SFTTrainer(model="facebook/opt-350m", train_dataset=None, peft_config=peft_config)
        """)
    [d] = lint(tmp_path, "train.py")
    assert (d["code"], d["subject"], d["model"]) == ("PFT101", "query_key_value", "facebook/opt-350m")


def test_required_argument_without_default_is_unresolved(tmp_path):
    write(tmp_path, """\
        import argparse
        from peft import LoraConfig, get_peft_model
        from transformers import AutoModelForCausalLM

        parser = argparse.ArgumentParser()
        parser.add_argument("--model_name_or_path", required=True)
        args = parser.parse_args()
        model = AutoModelForCausalLM.from_pretrained(args.model_name_or_path)
        model = get_peft_model(model, LoraConfig(target_modules=["q_proj"]))
        """)
    [d] = lint(tmp_path, "train.py")
    assert d["code"] == "PFT901" and d["severity"] == "info" and "--model_name_or_path" in d["message"]


def test_dynamic_targets_are_a_note_not_a_guess(tmp_path):
    write(tmp_path, """\
        from peft import LoraConfig, get_peft_model
        from transformers import AutoModelForCausalLM

        def find_all_linear_names(model):
            return ["q_proj"]

        model = AutoModelForCausalLM.from_pretrained("gpt2")
        config = LoraConfig(target_modules=find_all_linear_names(model))
        model = get_peft_model(model, config)
        """)
    [d] = lint(tmp_path, "train.py")
    assert (d["code"], d["subject"], d["line"]) == ("PFT904", "target_modules", 8)
