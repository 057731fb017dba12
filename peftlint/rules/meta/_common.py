"""Helpers shared by the meta rules."""

from __future__ import annotations

from typing import Iterator

from peftlint.diagnostics import Diagnostic
from peftlint.rules.base import Rule
from peftlint.rules.context import Context


class EngineRule(Rule):
    """Documentation of a code the engine emits itself."""

    needs_model = False

    def check(self, ctx: Context) -> Iterator[Diagnostic]:
        return iter(())
