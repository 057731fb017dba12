"""Decoder-only audio LLMs (Audio Flamingo 3, Voxtral, Qwen2-Audio, Granite Speech, ...) are listed by
transformers under AutoModelForSeq2SeqLM, yet they are no encoder-decoders: `task_type="CAUSAL_LM"`
(what the transformers docs use for them) trains them, so PFT310's "use task_type='SEQ_2_SEQ_LM'"
was a false warning (huggingface/notebooks transformers_doc/en/audio_text_to_text.ipynb). Judged
by real peft on a tiny Audio Flamingo 3 on CPU; every such model type transformers has is covered."""

from __future__ import annotations

import json

import pytest
from support.lintutil import lint

from peftlint.rules.fields.pft310_task_type_mismatch import TINY_AUDIO_LLM


def _seq2seq_types() -> list[tuple[str, str]]:
    from transformers.models.auto.modeling_auto import MODEL_FOR_SEQ_TO_SEQ_CAUSAL_LM_MAPPING_NAMES as S

    return sorted(S.items())


def test_peft_trains_the_audio_llm_as_a_causal_lm():
    import torch
    import transformers
    from peft import LoraConfig, get_peft_model

    cfg = json.loads(TINY_AUDIO_LLM)
    config = transformers.AutoConfig.for_model(cfg.pop("model_type"), **cfg)
    assert config.is_encoder_decoder is False
    torch.manual_seed(0)
    model = transformers.AutoModelForSeq2SeqLM.from_config(config)
    pm = get_peft_model(model, LoraConfig(r=2, target_modules=["q_proj", "v_proj"], task_type="CAUSAL_LM"))
    ids = torch.randint(0, 90, (1, 6))
    out = pm(input_ids=ids, attention_mask=torch.ones_like(ids), labels=ids)
    out.loss.backward()
    assert torch.isfinite(out.loss)
    assert all(p.grad is not None for n, p in pm.named_parameters() if "lora_B" in n and "language_model" in n)
    assert pm.generate(input_ids=ids, attention_mask=torch.ones_like(ids), max_new_tokens=2).shape == (1, 8)


def test_no_task_type_warning_on_the_audio_llm_but_still_on_t5(tmp_path):
    (tmp_path / "tiny-audio-llm").mkdir()
    (tmp_path / "tiny-audio-llm" / "config.json").write_text(TINY_AUDIO_LLM)
    for name, model, target in (("audio.py", "./tiny-audio-llm", "q_proj"), ("t5.py", "t5-small", "q")):
        (tmp_path / name).write_text(
            "from peft import LoraConfig\nfrom transformers import AutoModelForSeq2SeqLM\n\n"
            f'model = AutoModelForSeq2SeqLM.from_pretrained("{model}")\n'
            f'config = LoraConfig(target_modules=["{target}"], task_type="CAUSAL_LM")\n')
    assert [d for d in lint(tmp_path, "audio.py") if d["code"] == "PFT310"] == []
    assert [d["line"] for d in lint(tmp_path, "t5.py") if d["code"] == "PFT310"] == [5]


@pytest.mark.parametrize(("model_type", "cls"), _seq2seq_types())
def test_every_seq2seq_listed_model_is_judged_by_its_config(model_type, cls):
    """SEQ_2_SEQ_LM is expected exactly for the encoder-decoders of the mapping."""
    from transformers import AutoConfig

    from peftlint.model.inventory import Inventory
    from peftlint.model.record import auto_classes_of
    from peftlint.rules.fields.pft310_task_type_mismatch import _task_of

    try:
        enc_dec = bool(AutoConfig.for_model(model_type).is_encoder_decoder)
    except Exception as exc:  # a config that needs arguments: nothing to judge
        pytest.skip(f"{model_type}: {exc}")
    inv = Inventory(model_id="m", model_type=model_type, model_class=cls, config_hash="", modules=[],
                    auto_classes=auto_classes_of(cls), is_encoder_decoder=enc_dec)

    class Ctx:
        inventory = inv

    got = _task_of(Ctx())  # type: ignore[arg-type]
    if enc_dec:
        assert got in ("SEQ_2_SEQ_LM", None)
    else:
        assert got != "SEQ_2_SEQ_LM"
