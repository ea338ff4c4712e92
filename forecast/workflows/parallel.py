"""Where a walk-forward's folds run: in this process, in local processes (``jobs``), or on a Dask
cluster (``scheduler``: "local" or a scheduler address). Each fold is independent (its own fit on
the rows before its cut), so every way gives the same forecasts.

Dask rather than Ray: a pure-Python install that scikit-learn users often have already, a local
cluster that starts in about a second (the CI test runs one), and ``dask scheduler`` / ``dask
worker`` (or dask-jobqueue, dask-kubernetes) to reach a cluster without a runtime of its own.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor

from forecast.errors import DataError


def worker_threads(jobs: int) -> int:
    """A worker's share of the cores: threads that outnumber the cores spin against each other."""
    return max(1, (os.cpu_count() or 1) // jobs)


def _start_worker(threads: int) -> None:
    import torch

    torch.set_num_threads(threads)


@contextlib.contextmanager
def fold_map(jobs: int = 1, scheduler: str | None = None) -> Iterator[Callable]:
    """A ``map(function, items)`` that returns results in the items' order."""
    if not isinstance(jobs, int) or jobs < 1:
        raise ValueError(f"jobs must be a positive integer, got {jobs!r}")
    if scheduler is not None:
        with _dask(jobs, scheduler) as mapped:
            yield mapped
    elif jobs == 1:
        yield lambda function, items: [function(item) for item in items]
    else:
        # spawn, not fork: a forked child inherits torch's thread pool in an unknown state
        with ProcessPoolExecutor(jobs, mp_context=multiprocessing.get_context("spawn"),
                                 initializer=_start_worker, initargs=(worker_threads(jobs),)) as pool:
            yield lambda function, items: list(pool.map(function, items))


@contextlib.contextmanager
def _dask(jobs: int, scheduler: str) -> Iterator[Callable]:
    try:
        from distributed import Client, LocalCluster
    except ImportError:
        raise DataError("scheduler: Dask is not installed (pip install 'densenet-forecast[dask]')") from None
    with contextlib.ExitStack() as stack:
        if scheduler == "local":
            cluster = stack.enter_context(LocalCluster(n_workers=jobs, threads_per_worker=1, processes=True,
                                                       dashboard_address=None, silence_logs=50))
            client = stack.enter_context(Client(cluster))
            client.run(_start_worker, worker_threads(jobs))
        else:
            try:
                client = stack.enter_context(Client(scheduler, timeout=5))
            except OSError as error:
                raise DataError(f"scheduler: cannot reach {scheduler} ({error})") from None

        def mapped(function, items):
            return client.gather(client.map(function, list(items), pure=False))
        yield mapped
