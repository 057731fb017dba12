"""PFT1xx: where the targets land on the base model's module tree."""
