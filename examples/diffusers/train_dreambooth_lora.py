"""DreamBooth LoRA for Stable Diffusion 1.5: the UNet and the CLIP text encoder get adapters
(the usual diffusers training-script layout, reduced to the parts that set up the model)."""

import argparse

import torch
from diffusers import AutoencoderKL, DDPMScheduler, UNet2DConditionModel
from peft import LoraConfig
from transformers import CLIPTextModel, CLIPTokenizer


def parse_args():
    parser = argparse.ArgumentParser(description="DreamBooth LoRA training")
    parser.add_argument("--pretrained_model_name_or_path", default="stable-diffusion-v1-5/stable-diffusion-v1-5")
    parser.add_argument("--revision", default=None)
    parser.add_argument("--instance_prompt", default="a photo of sks dog")
    parser.add_argument("--train_text_encoder", action="store_true")
    parser.add_argument("--learning_rate", type=float, default=1e-4)
    return parser.parse_args()


def main():
    args = parse_args()
    tokenizer = CLIPTokenizer.from_pretrained(args.pretrained_model_name_or_path, subfolder="tokenizer")
    noise_scheduler = DDPMScheduler.from_pretrained(args.pretrained_model_name_or_path, subfolder="scheduler")
    text_encoder = CLIPTextModel.from_pretrained(
        args.pretrained_model_name_or_path, subfolder="text_encoder", revision=args.revision
    )
    vae = AutoencoderKL.from_pretrained(args.pretrained_model_name_or_path, subfolder="vae", revision=args.revision)
    unet = UNet2DConditionModel.from_pretrained(
        args.pretrained_model_name_or_path, subfolder="unet", revision=args.revision
    )

    vae.requires_grad_(False)
    text_encoder.requires_grad_(False)
    unet.requires_grad_(False)

    unet_lora_config = LoraConfig(
        r=4,
        lora_alpha=4,
        init_lora_weights="gaussian",
        target_modules=["to_k", "to_q", "to_v", "to_out"],  # `to_out` holds a Linear and a Dropout
    )
    unet.add_adapter(unet_lora_config)

    params = [p for p in unet.parameters() if p.requires_grad]
    if args.train_text_encoder:
        text_lora_config = LoraConfig(
            r=4,
            lora_alpha=4,
            init_lora_weights="gaussian",
            target_modules=["q_proj", "k_proj", "v_proj", "out_proj"],
        )
        text_encoder.add_adapter(text_lora_config)
        params += [p for p in text_encoder.parameters() if p.requires_grad]

    optimizer = torch.optim.AdamW(params, lr=args.learning_rate)
    return tokenizer, noise_scheduler, vae, optimizer


if __name__ == "__main__":
    main()
