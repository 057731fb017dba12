"""PFT2xx: the form of the values, checkable without the model."""
