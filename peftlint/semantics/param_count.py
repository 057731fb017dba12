"""What a config trains on a model (``semantics.params`` counts it): a plain record, cheap to import
for a run that replays counts from the result cache."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from peftlint.reading import human_size

# peft's get_peft_model casts float16/bfloat16 adapter weights to float32 (autocast_adapter_dtype=True)
SAVE_DTYPE = "float32"
SAVE_BYTES = 4


@dataclass
class ParameterCount:
    trainable: int | None  # PeftModel.get_nb_trainable_parameters()[0]
    adapted_modules: int | None  # layers peft wraps in a tuner layer
    all_parameters: int | None  # get_nb_trainable_parameters()[1]: the base model plus what peft adds
    adapter_bytes: int | None  # tensor bytes of the saved adapter in SAVE_DTYPE (the file header aside)
    reason: str = ""  # why a number is None

    @property
    def percent(self) -> float | None:
        if self.trainable is None or not self.all_parameters:
            return None
        return 100 * self.trainable / self.all_parameters

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    def report_fields(self) -> dict[str, Any]:
        """The fields the JSON reports carry (docs/output.md)."""
        return {"trainable_parameters": self.trainable, "adapted_modules": self.adapted_modules,
                "all_parameters": self.all_parameters,
                "trainable_percent": round(self.percent, 4) if self.percent is not None else None,
                "adapter_bytes": self.adapter_bytes, "parameters_note": self.reason or None}

    def line(self) -> str:
        """peft's print_trainable_parameters() line, plus the wrapped layers and the file size."""
        if self.trainable is None or self.all_parameters is None:
            return f"trainable params: not computed ({self.reason})"
        size = f", adapter file ~{human_size(self.adapter_bytes)} ({SAVE_DTYPE})" if self.adapter_bytes is not None \
            else ""
        return (f"trainable params: {self.trainable:,d} || all params: {self.all_parameters:,d} || "
                f"trainable%: {self.percent:.4f} ({self.adapted_modules} modules adapted{size})")


def not_counted(reason: str) -> ParameterCount:
    return ParameterCount(None, None, None, None, reason)
