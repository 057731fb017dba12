"""QLoRA on Falcon-7B, with target names copied from a Llama recipe."""

from peft import LoraConfig, prepare_model_for_kbit_training, get_peft_model
from transformers import AutoModelForCausalLM, BitsAndBytesConfig

MODEL = "tiiuae/falcon-7b"
TARGETS = ["q_proj", "v_proj"]  # Llama names: Falcon has a fused query_key_value

model = AutoModelForCausalLM.from_pretrained(
    MODEL, quantization_config=BitsAndBytesConfig(load_in_4bit=True), device_map="auto"
)
model = prepare_model_for_kbit_training(model)

config = LoraConfig(r=64, lora_alpha=16, target_modules=TARGETS, lora_dropout=0.1, task_type="CAUSAL_LM")
model = get_peft_model(model, config)
