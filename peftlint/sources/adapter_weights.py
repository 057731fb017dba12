"""A saved adapter's weight files, read without torch: the safetensors header only.

The header is read with the safetensors library's own reader (``safe_open(..., framework="numpy")``):
it validates the header (size limit, offsets, coverage of the data buffer) and reads no tensor data.
Pickle files (``adapter_model.bin``) are never opened.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from peftlint.reading import not_regular

SAFETENSORS = "adapter_model.safetensors"
PICKLES = ("adapter_model.bin", "adapter_model.pt", "adapter_model.pth", "adapter_model.ckpt")
_OPEN_FLAGS = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0) | getattr(os, "O_BINARY", 0)


@dataclass(frozen=True)
class TensorInfo:
    shape: tuple[int, ...]
    dtype: str

    @property
    def size(self) -> int:
        n = 1
        for d in self.shape:
            n *= d
        return n


@dataclass
class WeightFile:
    path: str
    tensors: dict[str, TensorInfo] = field(default_factory=dict)
    metadata: dict[str, str] | None = None
    error: str | None = None  # the library's reason when the file cannot be read


def read_weights(path: str | Path) -> WeightFile:
    """The tensor names, shapes and dtypes of a safetensors file (header only; never raises)."""
    from safetensors import safe_open

    wf = WeightFile(str(path))
    try:  # as every file peftlint reads: opened without blocking (a FIFO), a regular file or nothing
        fd = os.open(str(path), _OPEN_FLAGS)
    except OSError as exc:
        wf.error = f"cannot open it: {exc.strerror or exc}"
        return wf
    try:
        why = not_regular(os.fstat(fd).st_mode)
        if why is not None:
            wf.error = f"it is {why}"
            return wf
        # the library opens a path: the descriptor's own, so a file swapped since the check is not read
        name = f"/proc/self/fd/{fd}" if os.path.isdir("/proc/self/fd") else str(path)
        with safe_open(name, framework="numpy") as f:
            wf.metadata = f.metadata()
            for k in f.keys():
                sl = f.get_slice(k)
                wf.tensors[k] = TensorInfo(tuple(int(d) for d in sl.get_shape()), str(sl.get_dtype()))
    except Exception as exc:  # SafetensorError, OSError, ...: the reason is the diagnostic
        wf.error = f"{type(exc).__name__}: {exc}".strip()
        wf.tensors = {}
    finally:
        os.close(fd)
    return wf


@dataclass
class AdapterWeights:
    """What an adapter folder holds: the safetensors file (read) or a pickle (never opened)."""

    adapter_dir: str
    weights_path: str | None = None
    pickle_path: str | None = None
    file: WeightFile | None = None
    # what every saved key of the adapter starts with: PEFT's ``base_model.model.``, or the
    # component (``unet.``) in a diffusers LoRA file
    base: str = "base_model.model."


def find_weights(adapter_dir: str) -> tuple[str | None, str | None]:
    """(safetensors path, pickle path) in an adapter folder; PEFT prefers the safetensors file."""
    d = Path(adapter_dir)
    st = d / SAFETENSORS
    if os.path.lexists(st):  # PEFT loads it if it exists at all: a FIFO or a dangling link is reported, not skipped
        return str(st), None
    for name in PICKLES:
        if (d / name).is_file():
            return None, str(d / name)
    return None, None


def read_adapter_weights(adapter_dir: str) -> AdapterWeights:
    weights, pickle = find_weights(adapter_dir)
    return AdapterWeights(adapter_dir, weights, pickle, read_weights(weights) if weights else None)
