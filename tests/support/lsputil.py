"""Helpers for driving ``peftlint server`` with pytest-lsp's client."""

from __future__ import annotations

import sys
from pathlib import Path

from lsprotocol import types as lsp
from pytest_lsp import LanguageClient

SERVER = [sys.executable, "-m", "peftlint", "server"]
MODEL = "meta-llama/Llama-3.2-1B"  # bundled: peftlint/data/models


def python_text(targets: str, extra: str = "") -> str:
    return ("from peft import LoraConfig\nfrom transformers import AutoModelForCausalLM\n\n"
            f'model = AutoModelForCausalLM.from_pretrained("{MODEL}")\n'
            f'config = LoraConfig(task_type="CAUSAL_LM", target_modules={targets}){extra}\n')


def open_doc(client: LanguageClient, path: Path, text: str, language: str = "python", version: int = 1) -> str:
    uri = path.as_uri()
    client.text_document_did_open(lsp.DidOpenTextDocumentParams(
        text_document=lsp.TextDocumentItem(uri=uri, language_id=language, version=version, text=text)))
    return uri


async def diagnostics(client: LanguageClient, uri: str) -> list[lsp.Diagnostic]:
    """The diagnostics of the document's current text. A hover waits for the server's lint of the
    current version, and the server publishes that lint's diagnostics before it answers."""
    await client.text_document_hover_async(lsp.HoverParams(
        text_document=lsp.TextDocumentIdentifier(uri=uri), position=lsp.Position(line=0, character=0)))
    return list(client.diagnostics.get(uri, []))


def position_of(text: str, needle: str, offset: int = 0) -> lsp.Position:
    """The position of ``needle`` (plus ``offset`` characters) in ``text`` (ASCII text)."""
    i = text.index(needle) + offset
    return lsp.Position(line=text.count("\n", 0, i), character=i - (text.rfind("\n", 0, i) + 1))


def apply(text: str, edits: list[lsp.TextEdit]) -> str:
    """Apply LSP text edits (ASCII text), last first."""
    lines = text.split("\n")
    starts = [0]
    for line in lines[:-1]:
        starts.append(starts[-1] + len(line) + 1)

    def offset(p: lsp.Position) -> int:
        return starts[p.line] + p.character

    for e in sorted(edits, key=lambda e: (e.range.start.line, e.range.start.character), reverse=True):
        text = text[:offset(e.range.start)] + e.new_text + text[offset(e.range.end):]
    return text
