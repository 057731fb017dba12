"""Benchmark: how long `peftlint server` takes to re-lint a buffer after an edit.

    python benchmarks/server_latency.py [--file PATH] [--edits 21]

The buffer is TRL's tests/test_grpo_trainer.py (214 KB, 14 LoRA configs; ``--file`` for another),
opened unsaved in a real server process driven by an LSP client (pytest-lsp's). Inventories are
cached first (one `peftlint check` of the file), with the stand-in Hugging Face cache of
``benchmarks/run.py`` so the configs are checked against real module trees. Each edit appends a
comment line (a new document version); the time is from sending ``didChange`` to receiving the
``publishDiagnostics`` of that version, median over the edits after the first. The same text
linted in-process (``Linter.lint_text``, warm) is printed beside it, wall and CPU time: the rest is
the protocol; the CPU time is what a lint costs without the other processes of a shared machine.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from lsprotocol import types as lsp  # noqa: E402
from pytest_lsp import ClientServerConfig, client_capabilities  # noqa: E402
from run import STAND_INS, make_hf_cache  # noqa: E402

CORPUS = Path(os.environ.get("PEFTLINT_CORPUS", HERE.parents[1] / "shared" / "corpus"))


async def relint_times(path: Path, text: str, edits: int) -> list[float]:
    client = await ClientServerConfig(server_command=[sys.executable, "-m", "peftlint", "server"]).start()
    times = []
    try:
        await client.initialize_session(lsp.InitializeParams(
            capabilities=client_capabilities("neovim"), root_uri=path.parent.as_uri()))
        uri = path.as_uri()
        opened = asyncio.ensure_future(client.wait_for_notification(lsp.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS))
        client.text_document_did_open(lsp.DidOpenTextDocumentParams(text_document=lsp.TextDocumentItem(
            uri=uri, language_id="python", version=1, text=text)))
        await opened
        lines = text.count("\n")
        for version in range(2, edits + 2):
            published = asyncio.ensure_future(client.wait_for_notification(lsp.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS))
            start = time.perf_counter()
            client.text_document_did_change(lsp.DidChangeTextDocumentParams(
                text_document=lsp.VersionedTextDocumentIdentifier(uri=uri, version=version),
                content_changes=[lsp.TextDocumentContentChangePartial(
                    range=lsp.Range(start=lsp.Position(line=lines, character=0),
                                    end=lsp.Position(line=lines, character=0)),
                    text=f"# edit {version}\n")]))
            lines += 1
            params = await published
            assert params.version == version, params
            times.append(time.perf_counter() - start)
        await client.shutdown_session()
    finally:
        await client.stop()
    return times[1:]


def in_process_times(path: Path, text: str, n: int) -> tuple[list[float], list[float]]:
    """Wall and CPU time of each warm ``lint_text``; on a shared machine the CPU time is what the
    lint would take on an idle one (the wall time adds the time other processes had the cores)."""
    from peftlint.config import load_settings
    from peftlint.engine.run import Linter

    linter = Linter(load_settings(path.parent), path.parent)
    linter.lint_text(text, path)
    wall, cpu = [], []
    for i in range(n):
        start, start_cpu = time.perf_counter(), time.process_time()
        linter.lint_text(text + f"# edit {i}\n", path)
        cpu.append(time.process_time() - start_cpu)
        wall.append(time.perf_counter() - start)
    return wall, cpu


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--file", type=Path, default=CORPUS / "trl" / "tests" / "test_grpo_trainer.py")
    ap.add_argument("--edits", type=int, default=21)
    args = ap.parse_args()
    text = args.file.read_text(encoding="utf-8")
    with tempfile.TemporaryDirectory(prefix="peftlint-bench-") as tmp:
        root = Path(tmp)
        os.environ["HF_HUB_CACHE"] = str(make_hf_cache(root / "hf"))
        os.environ["HF_HUB_OFFLINE"] = "1"
        os.environ["PEFTLINT_CACHE_DIR"] = str(root / "cache")
        work = root / "work"
        work.mkdir()
        target = work / args.file.name
        target.write_text(text, encoding="utf-8")
        subprocess.run([sys.executable, "-m", "peftlint", "check", "--no-result-cache", str(target)],
                       cwd=work, capture_output=True, check=False)  # caches the inventories
        target.unlink()  # the server lints the buffer, never the file
        server = asyncio.run(relint_times(target, text, args.edits))
        engine, engine_cpu = in_process_times(target, text, args.edits - 1)
    print(f"{args.file.name}: {len(text.encode()) / 1024:.0f} KB, {len(STAND_INS)} stand-in models cached; "
          f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    print("| run | median | min | max |")
    print("|---|---:|---:|---:|")
    for label, xs in (("server: didChange -> publishDiagnostics", server), ("Linter.lint_text in process", engine),
                      ("Linter.lint_text in process, CPU time", engine_cpu)):
        print(f"| {label} | {statistics.median(xs) * 1000:.0f} ms | {min(xs) * 1000:.0f} ms | {max(xs) * 1000:.0f} ms |")


if __name__ == "__main__":
    main()
