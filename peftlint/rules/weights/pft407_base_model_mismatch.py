"""PFT407 base-model-mismatch."""

from __future__ import annotations

from typing import Iterator

from peftlint.codes import Code
from peftlint.diagnostics import Diagnostic, Severity
from peftlint.model.resolve import split_subfolder
from peftlint.rules.base import Expect, Rule
from peftlint.rules.context import Context
from peftlint.rules.weights._common import adapter_example
from peftlint.rules.weights._examples import BASE_DIR, adapter_config


def _same_model(a: str, b: str, aliases: dict[str, str]) -> bool:
    def norm(s: str) -> str:
        return aliases.get(s, s).replace("\\", "/").rstrip("/").lower()

    na, nb = norm(a), norm(b)
    return na == nb or na.rsplit("/", 1)[-1] == nb.rsplit("/", 1)[-1]


class BaseModelMismatch(Rule):
    code = Code.BASE_MODEL_MISMATCH
    name = "base-model-mismatch"
    severity = Severity.WARNING
    summary = "`base_model_name_or_path` differs from the base model the project declares."
    needs_model = False
    docs = """
    `adapter_config.json` records the model the adapter was trained on in
    `base_model_name_or_path`. When the project declares another base (`--model`,
    `[tool.peftlint] model`), peftlint checks the adapter against the declared one, as your code
    will load it: `PeftModel.from_pretrained(base, dir)` uses whatever base you pass and ignores
    the recorded name. If the two really differ, the adapter fails with `size mismatch` or, on a
    same-shaped model, loads and silently produces wrong outputs.

    Names are compared after `[tool.peftlint] models` aliases; a local directory and a hub id
    with the same last path component (`/models/SmolLM2-135M` and `HuggingFaceTB/SmolLM2-135M`)
    count as the same model.

    Fix: load the adapter onto the model it was trained on, or correct `base_model_name_or_path`.
    """
    bad = (adapter_example(adapter_config(base="HuggingFaceTB/SmolLM2-360M"), args=("--model", f"./{BASE_DIR}"),
                           expect=(Expect(2, 30, "trained on `HuggingFaceTB/SmolLM2-360M` but the project declares"),)),)
    good = (adapter_example(adapter_config(), args=("--model", f"./{BASE_DIR}")),)

    def check(self, ctx: Context) -> Iterator[Diagnostic]:
        spec = ctx.spec
        if spec.source != "adapter_config":
            return
        v = spec.fields.get("base_model_name_or_path")
        if v is None or not isinstance(v.value, str) or not v.value:
            return
        s = ctx.settings
        declared, how = (s.cli_model, "--model") if s.cli_model else (s.model, "[tool.peftlint] model")
        if not declared or _same_model(v.value, declared, dict(s.models)):
            return
        # `--model pipeline:unet` for an adapter saved with the pipeline's id names that pipeline's component
        if split_subfolder(declared)[1] and _same_model(v.value, split_subfolder(declared)[0], dict(s.models)):
            return
        yield self.diagnostic(
            ctx, v.span,
            f"this adapter was trained on `{v.value}` but the project declares `{declared}` ({how}); load it onto "
            "the model it was trained on or correct base_model_name_or_path",
            subject=v.value,
            detail=f"peftlint checked it against `{declared}`, the base your code passes to PeftModel.from_pretrained. "
                   "If they really differ, loading fails with \"size mismatch\" or silently gives wrong outputs.")
