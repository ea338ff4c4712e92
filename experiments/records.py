"""Results as data: each study keeps its records in one JSON Lines file, and the summary
(experiments/render.py) is rendered from them, never written by hand.

A record is one figure-bearing row: its cell (study, table, dataset, horizon, row, budget and, for
a verdict, the bar it was judged ``against``), its ``seed``, its ``metrics``, and what makes it
reproducible (command, commit, machine, device, data sha256, wall time). A rerun of a cell
replaces every record of that cell, seeds included, in place; other cells are left as they are.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import os
import platform
import shlex
import subprocess
import sys
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

REPOSITORY = Path(__file__).resolve().parents[1]  # where `python -m experiments...` finds the package
RESULTS = REPOSITORY / "experiments" / "results"
RECORDS = RESULTS / "records"
CELL = ("study", "table", "dataset", "horizon", "row", "budget", "against")


def sha256(path: str | os.PathLike) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def machine() -> str:
    """CPU model and core count."""
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{cpu}, {os.cpu_count()} cores"


def device(accelerator: str = "auto") -> str:
    """What the run computed on: the GPU's name when one is used, else CPU."""
    import torch

    if accelerator != "cpu" and torch.cuda.is_available():
        return torch.cuda.get_device_name(0)
    return "CPU"


def commit() -> str:
    try:
        return subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True,
                              check=True, cwd=Path(__file__).parent).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def command_line() -> str:
    """How this process was started, as ``python -m experiments.<study> ...``."""
    module = sys.modules["__main__"].__spec__
    start = ["python", "-m", module.name] if module is not None else ["python", sys.argv[0]]
    return shlex.join(start + sys.argv[1:])


def provenance(accelerator: str = "auto", **data: str | os.PathLike) -> dict[str, Any]:
    """The fields every record of one run shares: how to rerun it, and on what it ran."""
    from forecast.workflows.runs import versions

    return {"command": command_line(), "commit": commit(), "machine": machine(), "device": device(accelerator),
            **versions(), "data_sha256": {name: sha256(path) for name, path in data.items()}}


def record(study: str, row: str, metrics: dict[str, Any], *, table: str | None = None,
           dataset: str | None = None, horizon: int | None = None, budget: str | None = None,
           against: str | None = None, seed: int | None = None, **facts: Any) -> dict[str, Any]:
    """One record: its cell, its seed, its metrics (NaN stored as null) and the run's facts."""
    clean = {key: None if isinstance(value, float) and not math.isfinite(value) else value
             for key, value in metrics.items()}
    return {"study": study, "table": table, "dataset": dataset, "horizon": horizon, "row": row,
            "budget": budget, "against": against, "seed": seed, "metrics": clean, **facts}


def cell(item: dict[str, Any]) -> tuple:
    return tuple(item.get(key) for key in CELL)


def path_of(study: str, folder: str | os.PathLike = RECORDS) -> Path:
    return Path(folder) / f"{study}.jsonl"


def load(study: str, folder: str | os.PathLike = RECORDS) -> list[dict[str, Any]]:
    path = path_of(study, folder)
    if not path.is_file():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def save(study: str, new: Iterable[dict[str, Any]], folder: str | os.PathLike = RECORDS,
         replaces: Callable[[dict[str, Any]], bool] | None = None) -> Path:
    """Write ``new`` into the study's records: each cell in it replaces that cell's old records
    where they stood; cells not seen before are appended; old records for which ``replaces`` is
    true are dropped as well (a search's earlier trials). Written whole, then renamed."""
    new = list(new)
    fresh = {cell(item) for item in new}
    kept, placed = [], set()
    for old in load(study, folder):
        key = cell(old)
        if replaces is not None and key not in fresh and replaces(old):
            continue
        if key not in fresh:
            kept.append(old)
        elif key not in placed:
            kept += [item for item in new if cell(item) == key]
            placed.add(key)
    kept += [item for item in new if cell(item) not in placed]
    path = path_of(study, folder)
    path.parent.mkdir(parents=True, exist_ok=True)
    part = path.with_suffix(".jsonl.part")
    part.write_text("".join(json.dumps(item, sort_keys=False, allow_nan=False) + "\n" for item in kept))
    part.replace(path)
    return path


def save_machine_rows(study: str, new: list[dict[str, Any]], folder: str | os.PathLike, tables: set[str],
                      started: float) -> Path:
    """A bench's records of one run: each stamped with the run's wall time since ``started`` (a
    ``time.perf_counter()``), replacing this machine's earlier rows of ``tables``; another
    machine's rows stand beside them."""
    here = machine()
    for item in new:
        item["run_wall_s"] = round(time.perf_counter() - started)
    return save(study, new, folder, replaces=lambda r: r["table"] in tables and r["machine"] == here)


def add_records_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--records", default=str(RECORDS),
                        help="folder of the studies' JSON Lines records (default: the committed ones)")
