"""Test helpers: a real Hugging Face cache layout on disk, and a local stand-in for the hub's
``resolve`` endpoint (no network)."""

from __future__ import annotations

import hashlib
import http.server
import json
import os
import threading
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator

REPO_ROOT = Path(__file__).resolve().parents[2]
BUNDLED_MODELS = REPO_ROOT / "peftlint" / "data" / "models"


# The shapes of TRL's tiny test models (scripts/generate_tiny_models): stand-in configs take these.
TINY_SHAPE = {"hidden_size": 8, "num_attention_heads": 4, "num_key_value_heads": 2, "num_hidden_layers": 2,
              "intermediate_size": 32, "vocab_size": 32000}


def bundled_config(filename: str) -> dict:
    return json.loads((BUNDLED_MODELS / filename).read_text(encoding="utf-8"))


def add_to_hf_cache(
    cache_dir: Path,
    repo_id: str,
    files: dict[str, str],
    *,
    commit: str,
    branch: str | None = "main",
) -> Path:
    """Lay out ``files`` like huggingface_hub does: content in ``blobs/<etag>``, the snapshot
    ``snapshots/<commit>/<name>`` a relative symlink to the blob, ``refs/<branch>`` the commit."""
    repo = Path(cache_dir) / ("models--" + repo_id.replace("/", "--"))
    (repo / "blobs").mkdir(parents=True, exist_ok=True)
    snapshot = repo / "snapshots" / commit
    snapshot.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        data = text.encode("utf-8")
        etag = hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()  # git blob sha, as the hub uses
        (repo / "blobs" / etag).write_bytes(data)
        link = snapshot / name
        link.parent.mkdir(parents=True, exist_ok=True)
        if link.is_symlink() or link.exists():
            link.unlink()
        os.symlink(os.path.relpath(repo / "blobs" / etag, link.parent), link)
    if branch is not None:
        (repo / "refs").mkdir(exist_ok=True)
        (repo / "refs" / branch).write_text(commit)
    return snapshot


@dataclass
class FakeHub:
    """Serves ``/{repo_id}/resolve/{revision}/{filename}`` (HEAD and GET) like the hub does for a
    regular (non-LFS, non-Xet) file: ``X-Repo-Commit``, ``ETag`` and ``Content-Length`` headers."""

    repos: dict[str, dict[str, str]]  # repo_id -> {filename: text}
    commit: str = "0123456789abcdef0123456789abcdef01234567"
    requests: list[tuple[str, str]] = field(default_factory=list)  # (method, path)
    url: str = ""

    def lookup(self, path: str) -> tuple[bytes | None, str]:
        """(body, error code): ``/{repo_id}/resolve/{revision}/{filename}``."""
        parts = path.split("?", 1)[0].strip("/").split("/")
        if "resolve" not in parts:
            return None, "RepoNotFound"
        i = parts.index("resolve")
        repo_id, filename = "/".join(parts[:i]), "/".join(parts[i + 2 :])
        if repo_id not in self.repos:
            return None, "RepoNotFound"
        text = self.repos[repo_id].get(filename)
        return (None, "EntryNotFound") if text is None else (text.encode("utf-8"), "")


@contextmanager
def fake_hub(repos: dict[str, dict[str, str]]) -> Iterator[FakeHub]:
    hub = FakeHub(repos)

    class Handler(http.server.BaseHTTPRequestHandler):
        def _answer(self, with_body: bool) -> None:
            hub.requests.append((self.command, self.path))
            body, error = hub.lookup(self.path)
            if body is None:
                # the hub answers 401 for unknown (or private) repos, 404 for missing files
                self.send_response(401 if error == "RepoNotFound" else 404)
                self.send_header("X-Error-Code", error)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.send_header("ETag", '"' + hashlib.sha1(body).hexdigest() + '"')
            self.send_header("X-Repo-Commit", hub.commit)
            self.end_headers()
            if with_body:
                self.wfile.write(body)

        def do_HEAD(self) -> None:  # noqa: N802
            self._answer(False)

        def do_GET(self) -> None:  # noqa: N802
            self._answer(True)

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    hub.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield hub
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
