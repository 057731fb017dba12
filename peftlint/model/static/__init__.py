"""The static nn.Module interpreter: a model tree from a model class defined in the linted code,
read and interpreted without running it (``module_tree.local_inventory``)."""
