"""PFT999 internal-error."""

from __future__ import annotations

from peftlint.codes import Code
from peftlint.diagnostics import Severity
from peftlint.rules.meta._common import EngineRule


class InternalError(EngineRule):
    code = Code.INTERNAL_ERROR
    name = "internal-error"
    severity = Severity.ERROR
    summary = "peftlint failed on one spec or file; reported, and the rest of the run continues."
