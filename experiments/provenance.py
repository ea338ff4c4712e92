"""What a results file must say about its run: machine, versions, commit, data checksums."""

from __future__ import annotations

import hashlib
import os
import platform
import subprocess
from pathlib import Path


def sha256(path: str | os.PathLike) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def machine() -> str:
    """CPU model and core count, plus the GPU when torch sees one."""
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    text = f"{cpu}, {os.cpu_count()} cores"
    try:
        import torch
        if torch.cuda.is_available():
            text += f", GPU {torch.cuda.get_device_name(0)}"
    except ImportError:
        pass
    return text


def commit() -> str:
    try:
        return subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True,
                              text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def header(command: str, **facts) -> str:
    """Markdown lines that let anyone rerun and compare: command, machine, versions, facts."""
    import torch

    lines = [f"- command: `{command}`", f"- machine: {machine()}",
             f"- python {platform.python_version()}, torch {torch.__version__}, commit {commit()}"]
    lines += [f"- {key.replace('_', ' ')}: {value}" for key, value in facts.items()]
    return "\n".join(lines)


def publish(out: str | os.PathLike, title: str, command: str, facts: dict, body: str) -> None:
    """A results file: its title, the header of its run (:func:`header`) and its body; printed,
    and written to ``out`` (its folder made when missing)."""
    report = f"# {title}\n\n{header(command, **facts)}\n\n{body.rstrip()}\n"
    print(report)
    Path(out).parent.mkdir(parents=True, exist_ok=True)
    Path(out).write_text(report)
