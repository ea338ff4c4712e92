"""A past commit's tree, checked out beside the repository for as long as a bench times it."""

from __future__ import annotations

import contextlib
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

from experiments import records


@contextlib.contextmanager
def checked_out(commit: str) -> Iterator[tuple[str, Path]]:
    """``commit``'s short name and a detached git worktree of it in a temporary folder, removed on
    leaving (a bench that fails halfway leaves no worktree registered)."""
    short = subprocess.run(["git", "rev-parse", "--short", commit], cwd=records.REPOSITORY,
                           capture_output=True, text=True, check=True).stdout.strip()
    with tempfile.TemporaryDirectory() as folder:
        tree = Path(folder) / short
        subprocess.run(["git", "worktree", "add", "--detach", str(tree), short], cwd=records.REPOSITORY,
                       check=True, capture_output=True)
        try:
            yield short, tree
        finally:
            subprocess.run(["git", "worktree", "remove", "--force", str(tree)], cwd=records.REPOSITORY,
                           capture_output=True)
