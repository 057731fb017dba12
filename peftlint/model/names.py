"""Revisions and subfolders named by the linted content, checked before any path is built from them.

``from_pretrained("org/model", revision="../../../../dev/tty")`` is text in a linted file; the
Hugging Face cache layout turns a revision into ``refs/<revision>`` and ``snapshots/<revision>``
and a subfolder into ``<dir>/<subfolder>/config.json``. A value that could leave those folders (an
absolute path, a ``..`` component, a backslash, a control character) is refused, as
huggingface_hub refuses a pointer path outside its snapshot folder and git refuses such ref names
(``git check-ref-format``). The model is then unresolved, with the reason.
"""

from __future__ import annotations

import re

MAX_LENGTH = 255
_BAD_CHARS = re.compile(r"[\x00-\x20\x7f\\:?*\[~^]")  # control characters, space, and what git refuses


def _components_problem(value: str, what: str) -> str | None:
    if not value:
        return f"the {what} is empty"
    if len(value) > MAX_LENGTH:
        return f"the {what} is {len(value)} characters long (more than {MAX_LENGTH})"
    shown = value if len(value) <= 60 else value[:57] + "..."
    if _BAD_CHARS.search(value):
        return f"the {what} {shown!r} holds a character a {what} cannot hold (a control character, space or one of \\:?*[~^)"
    if value.startswith("/"):
        return f"the {what} {shown!r} is an absolute path"
    parts = value.split("/")
    if any(p in ("", ".", "..") for p in parts):
        return f"the {what} {shown!r} has an empty, `.` or `..` component"
    return None


def revision_problem(revision: str | None) -> str | None:
    """Why ``revision`` is refused, or None for an acceptable one (a branch, tag or commit)."""
    if revision is None:
        return None
    why = _components_problem(revision, "revision")
    if why is None and (revision.endswith(".lock") or ".." in revision or "@{" in revision):
        why = f"the revision {revision!r} is not a valid git ref name"
    return why


def subfolder_problem(subfolder: str | None) -> str | None:
    """Why ``subfolder`` is refused, or None (a relative path that stays inside the model folder)."""
    if subfolder is None:
        return None
    return _components_problem(subfolder.strip("/"), "subfolder") if subfolder.strip("/") else None


def named_paths_problem(revision: str | None, subfolder: str | None) -> str | None:
    why = revision_problem(revision) or subfolder_problem(subfolder)
    return f"{why}; peftlint builds no path from it" if why else None
