"""unsloth's get_peft_model (semantics/unsloth.py): its own keywords are known, what it decides
itself (layers picked by its regex, embed_tokens/lm_head moved on some paths) gives no finding, and
an unknown keyword is only a note."""

from __future__ import annotations

import textwrap

from support.lintutil import lint

SMOL = "HuggingFaceTB/SmolLM2-135M"


def lint_unsloth(tmp_path, loader: str, args: str) -> list[dict]:
    (tmp_path / "train.py").write_text(textwrap.dedent(f"""\
        from unsloth import {loader}

        model, tokenizer = {loader}.from_pretrained(model_name="{SMOL}", max_seq_length=2048)
        model = {loader}.get_peft_model(
            model,
            {args}
        )
        """), encoding="utf-8")
    return lint(tmp_path, "train.py")


def test_continued_pretraining_recipe_gives_nothing(tmp_path):
    """unsloth's documented recipe: embed_tokens and lm_head in target_modules, its own keywords."""
    found = lint_unsloth(tmp_path, "FastLanguageModel", """r=128,
            target_modules=["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj",
                            "embed_tokens", "lm_head"],
            lora_alpha=32, lora_dropout=0, bias="none", use_gradient_checkpointing="unsloth",
            random_state=3407, use_rslora=True, loftq_config=None, max_seq_length=2048,
            temporary_location="_tmp", ensure_weight_tying=True, finetune_last_n_layers=None,""")
    assert found == []


def test_vision_keywords_and_filters(tmp_path):
    found = lint_unsloth(tmp_path, "FastVisionModel", """finetune_vision_layers=False, finetune_language_layers=True,
            finetune_attention_modules=True, finetune_mlp_modules=True, finetune_audio_layers=False,
            r=16, lora_alpha=16, target_modules="all-linear", random_state=3407,""")
    assert found == []


def test_omitted_targets_are_unsloths_choice(tmp_path):
    """No PEFT default lookup (PFT106) for a call where unsloth supplies the targets."""
    (tmp_path / "train.py").write_text(textwrap.dedent("""\
        from unsloth import FastModel

        model, tokenizer = FastModel.from_pretrained(model_name="microsoft/Phi-3-mini-4k-instruct")
        model = FastModel.get_peft_model(model, r=8)
        """), encoding="utf-8")
    assert [d["code"] for d in lint(tmp_path, "train.py")] == []


def test_unknown_keyword_is_a_note(tmp_path):
    found = lint_unsloth(tmp_path, "FastLanguageModel", 'r=16, target_modules=["q_proj"], use_unsloth_magic=True,')
    assert [(d["code"], d["severity"], d["subject"]) for d in found] == [("PFT209", "info", "use_unsloth_magic")]
    assert "unsloth" in found[0]["message"] and "2026.8.19" in found[0]["message"]
    found = lint_unsloth(tmp_path, "FastLanguageModel", 'r=16, target_module=["q_proj"],')
    assert [(d["code"], d["severity"]) for d in found] == [("PFT209", "info")]
    assert "did you mean `target_modules`?" in found[0]["message"]


def test_plain_peft_still_checks_the_head(tmp_path):
    """The same entries with peft's own LoraConfig are what PEFT adapts: reported."""
    (tmp_path / "train.py").write_text(
        f'from peft import LoraConfig\n\n# peftlint: model={SMOL}\nc = LoraConfig(target_modules=["q_proj", "lm_head"])\n')
    assert "PFT104" in {d["code"] for d in lint(tmp_path, ".")}
