"""Seq2seq summarisation with Flan-T5 and an HfArgumentParser dataclass."""

from dataclasses import dataclass, field

from peft import LoraConfig, TaskType, get_peft_model
from transformers import AutoModelForSeq2SeqLM, HfArgumentParser


@dataclass
class ScriptArguments:
    model_name_or_path: str = field(default="google/flan-t5-base")
    lora_r: int = field(default=8)


def main():
    parser = HfArgumentParser(ScriptArguments)
    (script_args,) = parser.parse_args_into_dataclasses()
    model = AutoModelForSeq2SeqLM.from_pretrained(script_args.model_name_or_path)
    peft_config = LoraConfig(
        task_type=TaskType.SEQ_2_SEQ_LM,
        r=script_args.lora_r,
        target_modules=["all-linear"],  # only the bare string is expanded
    )
    model = get_peft_model(model, peft_config)


if __name__ == "__main__":
    main()
