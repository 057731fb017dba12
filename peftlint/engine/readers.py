"""The source reader of each file kind, imported only when a file of that kind is read."""

from __future__ import annotations

from typing import Callable, Protocol

from peftlint.engine import discover as disc
from peftlint.sources import SourceResult


class Linter(Protocol):
    """What a reader asks of the run (``peftlint.engine.run.Linter``): peft's class names and types."""

    def config_classes(self) -> set[str]: ...

    def peft_types(self) -> dict[str, str]: ...

# A source reader: (text, display path, absolute path, linter) -> SourceResult
SourceReader = Callable[[str, str, str, Linter], SourceResult]


def read_python(text: str, path: str, abspath: str, linter: Linter) -> SourceResult:
    from peftlint.sources.python import extract_python

    return extract_python(text, path, abspath, linter.config_classes())


def read_adapter_config(text: str, path: str, abspath: str, linter: Linter) -> SourceResult:
    from peftlint.sources.adapter_json import extract_adapter_config

    return extract_adapter_config(text, path, abspath, linter.peft_types())


def read_notebook(text: str, path: str, abspath: str, linter: Linter) -> SourceResult:
    from peftlint.sources.notebook import extract_notebook

    return extract_notebook(text, path, abspath, linter.config_classes())


def read_trainer_yaml(text: str, path: str, abspath: str, linter: Linter) -> SourceResult:
    from peftlint.sources.trainer_yaml import extract_trainer_yaml

    return extract_trainer_yaml(text, path, abspath, linter.peft_types())


def read_trainer_shell(text: str, path: str, abspath: str, linter: Linter) -> SourceResult:
    from peftlint.sources.trainer_shell import extract_trainer_shell

    return extract_trainer_shell(text, path, abspath)


READERS: dict[str, SourceReader] = {
    disc.PYTHON: read_python,
    disc.ADAPTER_CONFIG: read_adapter_config,
    disc.NOTEBOOK: read_notebook,
    disc.YAML: read_trainer_yaml,
    disc.SHELL: read_trainer_shell,
}
