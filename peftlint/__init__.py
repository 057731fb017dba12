"""peftlint: a static linter for Hugging Face PEFT adapter configurations."""

__version__ = "0.1.0"
