"""GPT-2 with a regex target that PEFT full-matches against full module names."""

from peft import LoraConfig, get_peft_model
from transformers import AutoModelForCausalLM

model = AutoModelForCausalLM.from_pretrained("gpt2")
config = LoraConfig(r=8, target_modules="c_attn|c_proj", fan_in_fan_out=True)
model = get_peft_model(model, config)
