"""PFT3xx: the other targeting fields, checked against the base model (docs/peft-behaviour.md: #layer-filter, #patterns, #modules-to-save, #target-parameters)."""
