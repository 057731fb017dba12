"""PFT406 unreadable-weights."""

from __future__ import annotations

from pathlib import PurePosixPath
from typing import Iterator

from peftlint.codes import Code
from peftlint.diagnostics import Diagnostic, Severity
from peftlint.rules.base import Expect, Rule
from peftlint.rules.context import Context
from peftlint.rules.weights._common import WEIGHTS, adapter_example, weights_diagnostic
from peftlint.rules.weights._examples import adapter_config, lora_shapes, safetensors_bytes

_TRUNCATED = safetensors_bytes(lora_shapes())[:-100]


class UnreadableWeights(Rule):
    code = Code.UNREADABLE_WEIGHTS
    name = "unreadable-weights"
    severity = Severity.ERROR
    summary = "Truncated or corrupt safetensors; pickle files are never loaded (noted)."
    needs_model = False
    docs = """
    peftlint reads `adapter_model.safetensors` with the safetensors library's own header reader,
    which checks the header size, the offsets and that the data covers the file exactly. A file
    that fails these checks (an interrupted upload or copy, a Git LFS pointer, a file from a
    different format) makes `PeftModel.from_pretrained` fail with the same reason.

    An adapter saved as `adapter_model.bin` (a pickle, `safe_serialization=False`) is never opened
    by peftlint, because unpickling runs code: the folder gets an info note and its weights are not
    checked. PEFT loads it with `torch.load`.

    Fix: re-download or re-save the adapter (`model.save_pretrained(dir)` writes safetensors).
    """
    bad = (adapter_example(adapter_config(), _TRUNCATED, note="the last 100 bytes are missing",
                           expect=(Expect(1, 1, "cannot read adapter_model.safetensors"),)),)
    good = (adapter_example(adapter_config()),)

    def check(self, ctx: Context) -> Iterator[Diagnostic]:
        rep = ctx.weights
        if rep is None:
            return
        if rep.file is not None and rep.file.error:
            yield weights_diagnostic(
                self, ctx, rep,
                f"cannot read {WEIGHTS}: {_clip(rep.file.error)}; re-download or re-save the adapter",
                WEIGHTS,
                detail=f"{rep.file.error}. PeftModel.from_pretrained fails on this file too.")
        elif rep.pickle_path is not None:
            name = PurePosixPath(rep.pickle_path.replace("\\", "/")).name
            yield weights_diagnostic(
                self, ctx, rep,
                f"{name} is a pickle: peftlint never loads pickles, so these weights were not checked; re-save with "
                f"model.save_pretrained(dir) to get {WEIGHTS}",
                name, severity=Severity.INFO,
                detail="Unpickling runs code, so peftlint never loads a pickle; PEFT loads it with torch.load.")


def _clip(text: str, limit: int = 80) -> str:
    """The reader's error, cut for the one-line message (the detail has it whole)."""
    return text if len(text) <= limit else text[:limit - 1] + "…"
