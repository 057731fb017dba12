"""Renderers: a RunResult becomes text for people or JSON for tools (more formats plug in here)."""

from __future__ import annotations

from typing import Callable

from peftlint.engine.results import RunResult

Renderer = Callable[[RunResult, dict], str]


def _imported_when_called(module: str) -> Renderer:
    """``peftlint.report.<module>.render``, imported only by the run that asks for that format."""

    def render(result: RunResult, options: dict) -> str:
        import importlib

        found: Renderer = importlib.import_module(f"peftlint.report.{module}").render
        return found(result, options)

    return render


def renderers() -> dict[str, Renderer]:
    from peftlint.report import text

    # "text" is the former name of "concise"
    return {"concise": text.render, "full": text.render_full, "text": text.render,
            **{name: _imported_when_called(module) for name, module in
               (("json", "json_format"), ("sarif", "sarif"), ("github", "github"))}}
