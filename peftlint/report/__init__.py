"""Renderers: a RunResult becomes text for people or JSON for tools (more formats plug in here)."""

from __future__ import annotations

from typing import Callable

from peftlint.engine.results import RunResult

Renderer = Callable[[RunResult, dict], str]


def renderers() -> dict[str, Renderer]:
    from peftlint.report import json_format, text

    # "text" is the former name of "concise"
    found: dict[str, Renderer] = {"concise": text.render, "full": text.render_full, "text": text.render,
                                  "json": json_format.render}
    try:
        from peftlint.report import sarif

        found["sarif"] = sarif.render
    except ImportError:
        pass
    try:
        from peftlint.report import github

        found["github"] = github.render
    except ImportError:
        pass
    return found
