"""Run folders: written whole or not at all, with a manifest (run.json) that says what ran.

A run works in a scratch folder ``.NAME.partial`` beside ``NAME`` and renames it when complete; a
stopped fit leaves it, with its last finished epoch, to be continued with ``resume``. The
manifest holds the settings (in their groups), the data's source, absolute path and sha256, the
split, versions, timings and the device; ``forecast report RUN`` reads it, from any folder.
"""

from __future__ import annotations

import json
import math
import os
import platform
import shutil
import sys
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Iterator

import yaml

from forecast.atomic import existing_parent, writable, write_atomically
from forecast.config import RunConfig
from forecast.data.registry import source_sha256
from forecast.errors import DataError

MANIFEST = "run.json"
MODEL_FILE = "model.pt"  # a fit's model, in its run folder
RESUME_SETTINGS = "resume.json"  # in the scratch folder: a run's settings and start, for --resume


def scratch_folder(out: Path) -> Path:
    """Where a run works until it is complete; renamed to ``out`` only on success."""
    return out.parent / f".{out.name}.partial"


def last_checkpoints(out: Path) -> list[Path]:
    """The last finished epochs of a fit in progress (Lightning's full checkpoints): one, or one
    for each network of an ensemble that has begun, wherever under its logs they lie."""
    return sorted((scratch_folder(out) / "logs").rglob("last.ckpt"))


def resume_point(out: Path, ensemble: int) -> Path:
    """What ``Forecaster.fit(resume_from=)`` continues a stopped fit of ``out`` from: its last
    epoch's checkpoint, or an ensemble's log folder."""
    logs = scratch_folder(out) / "logs"
    return logs if ensemble > 1 else logs / "checkpoints" / "last.ckpt"


def model_file(path: str | os.PathLike) -> Path:
    """The model file a user names: the file itself, or the one inside a fit's run folder."""
    path = Path(path)
    if not path.is_dir():
        return path
    if not (path / MODEL_FILE).is_file():
        raise DataError(f"{path}: a folder without {MODEL_FILE}; name the model file or the run "
                        "folder that `forecast fit` wrote")
    return path / MODEL_FILE


def check_out(out: Path, resume: bool = False) -> list[str]:
    """``out`` must be a new folder in a writable place. A stopped run's scratch folder is named,
    never reused unless ``resume`` asks for it; one stopped before its first epoch ended holds
    nothing to continue and is removed (the note returned says so)."""
    if out.exists():
        kind = "a folder" if out.is_dir() else "a file"
        raise DataError(f"--out {out} is {kind} that exists already; name a new folder")
    scratch = scratch_folder(out)
    notes = []
    if scratch.is_dir() and not last_checkpoints(out):
        shutil.rmtree(scratch)
        notes.append(f"removed {scratch}: a run stopped before its first epoch ended, nothing to continue")
        resume = False
    if resume and not last_checkpoints(out):
        raise DataError(f"--resume: no stopped run of {out} to continue (no last.ckpt under "
                        f"{scratch / 'logs'})")
    if scratch.exists() and not resume:
        raise DataError(f"--out {out}: a stopped run left {scratch}; continue it with --resume, "
                        "or remove it to start afresh")
    parent = existing_parent(out)
    if not parent.is_dir() or not writable(parent):
        raise DataError(f"--out {out}: cannot write in {parent}")
    return notes


def stopped_seconds(out: Path, settings: dict[str, Any]) -> float:
    """The seconds a stopped run of ``out`` worked before its last finished epoch, after checking
    that the resumed run asks for what it asked (RESUME_SETTINGS in its scratch folder): the first
    setting that differs is named."""
    scratch = scratch_folder(out)
    try:
        saved = json.loads((scratch / RESUME_SETTINGS).read_text())
    except (OSError, ValueError):
        raise DataError(f"--resume: {scratch} does not say which settings it ran with; remove it to "
                        "start afresh") from None
    stopped = saved["settings"]
    for name, value in settings.items():
        if stopped.get(name) != value:
            raise DataError(f"--resume: the stopped run had {name.replace('_', '-')} {stopped.get(name)!r}, "
                            f"this one asks {value!r}; resume with the same settings, or remove {scratch}")
    last = max(path.stat().st_mtime for path in last_checkpoints(out))
    return max(0.0, last - saved["started"])


@contextmanager
def run_folder(out: Path, resume: bool = False) -> Iterator[Path]:
    """The scratch folder to write in; renamed to ``out`` when the block completes. A failure
    removes it and the parent folders it made, except a Ctrl-C or a resumed run's failure, which
    leave it to be continued."""
    scratch = scratch_folder(out)
    made = [folder for folder in scratch.parents if not folder.exists()]  # deepest first
    scratch.mkdir(parents=True, exist_ok=resume)
    try:
        yield scratch
        os.replace(scratch, out)
    except KeyboardInterrupt:
        raise
    except BaseException:
        if not resume:
            shutil.rmtree(scratch, ignore_errors=True)
            for folder in made:  # only the folders this run made, and only while empty
                if folder.is_dir() and not any(folder.iterdir()):
                    folder.rmdir()
        raise


def data_source(data: Any) -> dict[str, str]:
    """What a run read: the source as given, its absolute path when it is a file, its sha256."""
    if not isinstance(data, (str, os.PathLike)):
        return {"source": getattr(data, "name", type(data).__name__), "path": "", "sha256": "unknown"}
    text = str(data)
    path = Path(text)
    return {"source": text, "path": str(path.resolve()) if path.is_file() else "",
            "sha256": source_sha256(text)}


def write_manifest(folder: Path, kind: str, config: RunConfig, data: Any, command: str,
                   splits: dict, timings: dict[str, float]) -> None:
    """``folder``/run.json and ``folder``/config.yaml: the settings that rerun it
    (``forecast KIND DATA --config config.yaml``)."""
    groups = ("data", "model", "training", "runtime") + (("backtest",) if kind == "backtest" else ())
    manifest = {"kind": kind, "command": command, "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
                "data": data_source(data), "settings": {g: config.flat((g,)) for g in groups},
                "splits": splits, "timings": {k: round(v, 3) for k, v in timings.items()},
                "versions": versions(), "device": device()}
    write_atomically(folder / MANIFEST, lambda p: Path(p).write_text(strict_json(manifest)))
    settings = {k: v for k, v in config.flat(groups).items() if k not in ("log_dir", "progress")}
    header = f"# {command}\n# rerun: forecast {kind} DATA --config config.yaml\n"
    write_atomically(folder / "config.yaml", lambda p: Path(p).write_text(
        header + yaml.safe_dump(settings, sort_keys=False)))


def read_manifest(run: Path) -> dict:
    """A run folder's manifest; a one-line error when it has none."""
    try:
        return json.loads((run / MANIFEST).read_text())
    except (OSError, ValueError):
        raise DataError(f"{run}: not a run folder of forecast fit or forecast backtest (no readable "
                        f"{MANIFEST})") from None


def manifest_data(manifest: dict) -> str:
    """The data a run read, found from any folder: its absolute path, else the source as given
    (a dataset name)."""
    data = manifest["data"]
    return data["path"] or data["source"]


def strict_json(value: Any) -> str:
    """JSON that strict parsers accept: a NaN or an infinity becomes null, and a ``<key>_why``
    beside it says which it was (a statistic undefined on these data, or infinite)."""
    def clean(item):
        if isinstance(item, dict):
            out = {}
            for key, entry in item.items():
                out[str(key)] = clean(entry)
                if isinstance(entry, float) and not math.isfinite(entry):
                    out[f"{key}_why"] = "not defined on these data (NaN)" if entry != entry else "infinite"
            return out
        if isinstance(item, (list, tuple)):
            return [clean(v) for v in item]
        if isinstance(item, float) and not math.isfinite(item):
            return None
        return item
    return json.dumps(clean(value), indent=2, default=str, allow_nan=False)


def set_threads(threads: int | None) -> None:
    """Let torch use ``threads`` CPU threads (None: its default, the cores it sees)."""
    if threads is not None:
        import torch

        torch.set_num_threads(threads)


def versions() -> dict[str, str]:
    import pandas as pd
    import torch

    import forecast

    return {"forecast": forecast.__version__, "torch": torch.__version__, "pandas": pd.__version__,
            "python": platform.python_version()}


def device() -> str:
    import torch

    if torch.cuda.is_available():
        return torch.cuda.get_device_name(0)
    return f"CPU ({platform.machine()}, {os.cpu_count()} cores)"


def command_line() -> str:
    """The command that runs now, as typed (for the manifest)."""
    return " ".join(["forecast", *sys.argv[1:]]) if sys.argv else "forecast"
