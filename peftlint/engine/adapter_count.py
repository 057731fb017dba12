"""``peftlint modules MODEL --adapter-config PATH``: what one adapter config trains on MODEL."""

from __future__ import annotations

from pathlib import Path

from peftlint.config import Settings
from peftlint.model.inventory import Inventory
from peftlint.reading import NotReadable, read_text_limited
from peftlint.semantics.param_count import ParameterCount


class AdapterConfigError(Exception):
    """The file is not an adapter config peftlint can read; the message says why."""


def count_adapter_config(path: Path, inventory: Inventory, settings: Settings,
                         task_type: str | None = None) -> tuple[str, ParameterCount]:
    """(the method's display name, its count on ``inventory``) for the adapter_config.json at
    ``path`` (or in the directory ``path``)."""
    from peftlint.engine.run import Linter
    from peftlint.rules.context import Context
    from peftlint.semantics.methods import display_name
    from peftlint.sources.adapter_json import extract_adapter_config

    file = path / "adapter_config.json" if path.is_dir() else path
    try:
        text = read_text_limited(file, settings.max_file_size)
    except (OSError, NotReadable, UnicodeDecodeError) as exc:
        raise AdapterConfigError(f"cannot read {file}: {exc}") from None
    linter = Linter(settings)
    found = extract_adapter_config(text, str(file), str(file.resolve()), linter.peft_types())
    if not found.specs:
        why = found.problems[0].message if found.problems else "no adapter config in it"
        raise AdapterConfigError(f"{file}: {why}")
    spec = found.specs[0]
    if task_type and not spec.task_type:
        spec.task_type = task_type
    ctx = Context(spec=spec, inventory=inventory, model_label=inventory.model_id, settings=settings,
                  facts=linter.facts(), text=text)
    count = ctx.parameters
    assert count is not None  # an inventory is given
    return display_name(spec.method, spec.config_class), count
