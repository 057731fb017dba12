"""PFT3xx: the other targeting fields, checked against the base model (PEFT-SEMANTICS §1.6-§2.4, §4, §6)."""
