"""The item that stands in ``target_modules`` for the names a trainer computes from the model
(``TargetRule``) until ``semantics.trainer_targets`` applies the trainer's rule to the inventory."""

from __future__ import annotations

from peftlint.spec import TargetRule, Value


def placeholder(rule: TargetRule) -> Value:
    """The dynamic item that stands for the trainer's names until the model is known."""
    who = {"axolotl": "axolotl", "llama-factory": "LLaMA-Factory", "llama-factory-v1": "LLaMA-Factory",
           "xtuner": "xtuner"}[rule.trainer]
    return Value(None, rule.span, dynamic=True, kind="dynamic", origin=rule.written,
                 reason=f"{who} lists the model's linear layers itself (`{rule.written}`); they are checked once "
                 "the base model is resolved")


def is_placeholder(item: Value, rule: TargetRule) -> bool:
    return item.dynamic and item.origin == rule.written and item.span == rule.span
