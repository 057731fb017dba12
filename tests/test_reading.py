"""peftlint.reading: only regular files are read, and never more than the limit."""

from __future__ import annotations

import os
import threading
from pathlib import Path

import pytest

from peftlint.reading import NotReadable, read_limited

posix_only = pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="FIFOs and /dev/zero are POSIX")


def test_regular_file_within_the_limit(tmp_path: Path) -> None:
    p = tmp_path / "a.py"
    p.write_bytes(b"x" * 100)
    assert read_limited(p, 100) == b"x" * 100
    with pytest.raises(NotReadable, match="over the 99 bytes limit") as err:
        read_limited(p, 99)
    assert err.value.too_large


@posix_only
def test_fifo_is_refused_without_blocking(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe.py"
    os.mkfifo(fifo)
    outcome: list[BaseException | bytes] = []

    def read() -> None:
        try:
            outcome.append(read_limited(fifo))
        except BaseException as exc:  # the outcome is what the test checks
            outcome.append(exc)

    worker = threading.Thread(target=read, daemon=True)
    worker.start()
    worker.join(10)
    assert not worker.is_alive(), "reading a FIFO blocked"
    assert isinstance(outcome[0], NotReadable) and "named pipe" in str(outcome[0])


@posix_only
def test_symlink_to_dev_zero_is_refused(tmp_path: Path) -> None:
    link = tmp_path / "zero.py"
    link.symlink_to("/dev/zero")
    with pytest.raises(NotReadable, match="character device") as err:
        read_limited(link)
    assert not err.value.too_large


def test_directory_is_refused(tmp_path: Path) -> None:
    with pytest.raises((NotReadable, OSError)):
        read_limited(tmp_path)


def test_missing_file_is_an_oserror(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        read_limited(tmp_path / "nope.py")


def test_large_files_are_noted_and_the_limit_is_configurable(tmp_path: Path) -> None:
    from support.lintutil import lint

    (tmp_path / "train.py").write_text("from peft import LoraConfig\nconfig = LoraConfig(target_modules=['q_proj'])\n"
                                       + "#" * 3000 + "\n")
    (found,) = lint(tmp_path, "--max-file-size", "2KB", ".")
    assert found["code"] == "PFT907" and found["severity"] == "info"
    assert "over the 2 KB limit" in found["message"] and "--max-file-size" in found["message"]
    assert [d["code"] for d in lint(tmp_path, ".")] == ["PFT901"]  # read and checked under the default limit
    (tmp_path / "pyproject.toml").write_text('[tool.peftlint]\nmax-file-size = "1KB"\n')
    assert [d["code"] for d in lint(tmp_path, ".")] == ["PFT907"]
    assert [d["code"] for d in lint(tmp_path, "--max-file-size", "1MB", ".")] == ["PFT901"]  # the CLI wins


@posix_only
def test_special_files_in_a_tree_are_noted_and_skipped(tmp_path: Path) -> None:
    from support.lintutil import lint

    os.mkfifo(tmp_path / "pipe.py")
    (tmp_path / "zero.py").symlink_to("/dev/zero")
    (tmp_path / "ok.py").write_text("from peft import LoraConfig\nconfig = LoraConfig(target_modules=['q_proj'])\n")
    found = lint(tmp_path, ".")
    assert [(d["path"], d["code"]) for d in found] == [("ok.py", "PFT901"), ("pipe.py", "PFT907"), ("zero.py", "PFT907")]
    assert "named pipe" in found[1]["message"] and "character device" in found[2]["message"]


def _codec_names() -> list[str]:
    import encodings
    import encodings.aliases
    import pkgutil

    return sorted(({m.name for m in pkgutil.iter_modules(encodings.__path__)} | set(encodings.aliases.aliases)) - {"aliases"})


@pytest.mark.parametrize("size", [10, 100_000])
def test_every_coding_cookie_decodes_or_is_refused(size: int) -> None:
    """Whatever codec a PEP 263 cookie names (bytes-to-bytes ones such as hex or rot13, ones that
    fail as a whole such as punycode or undefined, ones whose time grows with the square of the
    text), Python source decodes to text or raises ValueError (a PFT902): never LookupError or a
    bare UnicodeError, which stopped the whole run."""
    from peftlint.reading import decode_text

    body = b"from peft import LoraConfig\nc = LoraConfig(target_modules=['q'])\n# " + b"a-" * (size // 2) + b"\n"
    for name in _codec_names():
        try:
            text = decode_text(f"# -*- coding: {name} -*-\n".encode() + body, python=True)
        except ValueError:  # SourceEncodingError, UnicodeDecodeError
            continue
        assert isinstance(text, str), name
