"""Atomic file writes: a reader sees the old file or the whole new one, never half of it."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from pathlib import Path


def write_atomically(target: str | os.PathLike, write: Callable[[str], object]) -> Path:
    """Call ``write(temporary_path)`` then rename onto ``target``; on failure nothing is left."""
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.")
    os.close(handle)
    try:
        write(temporary)
        os.chmod(temporary, 0o666 & ~_umask())  # mkstemp's 0600 is for the temporary file only
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return target


def _umask() -> int:
    mask = os.umask(0o022)  # reading the umask means setting it; it is set straight back
    os.umask(mask)
    return mask


def writable(folder: str | os.PathLike) -> bool:
    """Whether a file can be created in ``folder``: tried, since permission bits do not tell
    (root passes them; /proc and read-only mounts refuse all the same)."""
    try:
        handle, probe = tempfile.mkstemp(dir=folder, prefix=".forecast-probe.")
    except OSError:
        return False
    os.close(handle)
    os.unlink(probe)
    return True


def existing_parent(path: str | os.PathLike) -> Path:
    """The nearest folder above ``path`` that exists (where the first missing one would be made)."""
    parent = Path(path).parent
    while not parent.exists() and parent != parent.parent:
        parent = parent.parent
    return parent
