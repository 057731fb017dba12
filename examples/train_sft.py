"""Supervised fine-tuning of Llama 3.2 1B with LoRA (the usual argparse script)."""

import argparse

import torch
from datasets import load_dataset
from peft import LoraConfig, get_peft_model
from transformers import AutoModelForCausalLM, AutoTokenizer, Trainer, TrainingArguments


def parse_args():
    parser = argparse.ArgumentParser()
    parser.add_argument("--model_id", default="meta-llama/Llama-3.2-1B")
    parser.add_argument("--dataset", default="timdettmers/openassistant-guanaco")
    parser.add_argument("--rank", type=int, default=16)
    return parser.parse_args()


def main():
    args = parse_args()
    tokenizer = AutoTokenizer.from_pretrained(args.model_id)
    model = AutoModelForCausalLM.from_pretrained(args.model_id, torch_dtype=torch.bfloat16)

    lora_config = LoraConfig(
        r=args.rank,
        lora_alpha=32,
        target_modules=["q_proj", "k_proj", "vproj", "o_proj", "mlp"],  # a typo and a container
        lora_dropout=0.05,
        task_type="CAUSAL_LM",
    )
    model = get_peft_model(model, lora_config)
    model.print_trainable_parameters()

    data = load_dataset(args.dataset, split="train")
    trainer = Trainer(model=model, train_dataset=data, args=TrainingArguments("out"))
    trainer.train()


if __name__ == "__main__":
    main()
