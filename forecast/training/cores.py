"""Sharing the CPU cores between the fits that run on one machine.

torch's OpenMP threads wait for each other by spinning. When two processes each run as many
threads as there are cores, a thread spins on a core that its sibling needs, and every parallel
region waits for the scheduler: two DenseNet-LSTM fits of two threads on two cores each ran more
than six times as long as one alone (``python -m experiments.bench.contention``). A passive wait
policy avoids that, but made a fit alone two to three times slower on the same machine (a sleeping
thread wakes slowly on a virtual machine), and it can only be set before torch is loaded.

So each fit writes its process id into a folder of the machine's temporary directory
(``FORECAST_FITS_DIR`` to move it) and, every few steps, takes ``cores // live fits`` threads,
at least one and never more than the process had when the fit began (a user's own
``torch.set_num_threads`` stands). Its threads are given back when the fit ends.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

import lightning as L
import torch

RECOUNT_EVERY = 20  # training steps between two counts of the live fits (a count took 10 us here)


def fits_folder() -> Path:
    return Path(os.environ.get("FORECAST_FITS_DIR") or Path(tempfile.gettempdir()) / "forecast-fits")


def cores() -> int:
    """The cores this process may run on (its affinity where the system tells it)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # macOS, Windows
        return os.cpu_count() or 1


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process
        return True
    return True


def live_fits(folder: Path) -> int:
    """Fits registered in ``folder`` whose process still runs; a killed fit's entry is removed."""
    count = 0
    for entry in folder.iterdir():
        if not entry.name.isdigit():
            continue
        if _alive(int(entry.name)):
            count += 1
        else:
            entry.unlink(missing_ok=True)
    return count


def fair_threads(ceiling: int, cores: int, fits: int) -> int:
    """Threads for one of ``fits`` fits sharing ``cores``: an equal share, at least one, at most
    ``ceiling``."""
    return max(1, min(ceiling, cores // max(fits, 1)))


class CoreShare(L.Callback):
    """Registers this process as a running fit while it is entered, and sets torch's threads to its
    fair share when entered, at each validation and every ``RECOUNT_EVERY`` training steps."""

    def __init__(self, folder: Path | None = None):
        self.folder = folder or fits_folder()
        self.entry: Path | None = None
        self.ceiling = torch.get_num_threads()

    @contextlib.contextmanager
    def sharing(self) -> Iterator[CoreShare]:
        self.ceiling = torch.get_num_threads()
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            with contextlib.suppress(OSError):  # a folder made by another user, read-only: share nothing
                self.folder.chmod(0o1777)
            self.entry = self.folder / str(os.getpid())
            self.entry.touch()
        except OSError:
            self.entry = None
        try:
            self.recount()
            yield self
        finally:
            if self.entry is not None:
                self.entry.unlink(missing_ok=True)
                self.entry = None
            torch.set_num_threads(self.ceiling)

    def recount(self) -> None:
        if self.entry is None:
            return
        try:
            threads = fair_threads(self.ceiling, cores(), live_fits(self.folder))
        except OSError:
            return
        if threads != torch.get_num_threads():
            torch.set_num_threads(threads)

    def on_train_batch_start(self, trainer: L.Trainer, module: L.LightningModule, batch, batch_idx: int) -> None:
        if batch_idx % RECOUNT_EVERY == 0:
            self.recount()

    def on_validation_start(self, trainer: L.Trainer, module: L.LightningModule) -> None:
        self.recount()
