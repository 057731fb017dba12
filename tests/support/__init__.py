"""Helpers shared by the tests: HF cache layouts, the CLI runner, the peft oracle, adapters written by peft."""
