"""Chronological train/val/test splits as row boundaries of each series.

A window belongs to the part that holds its forecast origin (its first target step); its
look-back may reach back into the previous part, as in the LTSF reference code.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from forecast.data.series import SeriesData
from forecast.errors import DataError


@dataclass(frozen=True)
class Split:
    """Rows [0, train_end) train, [train_end, val_end) validate, [val_end, test_end) test."""

    train_end: int
    val_end: int
    test_end: int

    def bounds(self, part: str) -> tuple[int, int]:
        """First and end row of one part: 'train', 'val' or 'test'."""
        starts = {"train": 0, "val": self.train_end, "test": self.val_end}
        ends = {"train": self.train_end, "val": self.val_end, "test": self.test_end}
        if part not in starts:
            raise ValueError(f"part must be 'train', 'val' or 'test', not {part!r}")
        return starts[part], ends[part]


Splits = dict[str, Split]

# The LTSF protocol (Informer/Autoformer/DLinear/PatchTST code): ETT hourly uses fixed month
# counts, the other datasets 70/10/20 of the rows with train and test truncated to integers.
LTSF_COUNTS = {"etth1": (8640, 2880, 2880), "etth2": (8640, 2880, 2880)}
LTSF_FRACTIONS = {"weather": (0.7, 0.1, 0.2)}


def split_by_fraction(data: SeriesData, train: float, val: float, test: float) -> Splits:
    """Each series split by fractions of its rows; train and test truncate, val takes the rest."""
    if min(train, val, test) < 0 or abs(train + val + test - 1) > 1e-9:
        raise ValueError(f"fractions must be non-negative and sum to 1, got {train}, {val}, {test}")
    splits = {}
    for sid, n in data.lengths().items():
        n_train, n_test = int(n * train), int(n * test)
        splits[sid] = Split(n_train, n - n_test, n)
    return _checked(data, splits)


def split_by_count(data: SeriesData, train: int, val: int, test: int) -> Splits:
    """Each series split by row counts from its start; rows after train+val+test are unused."""
    splits = {}
    for sid, n in data.lengths().items():
        if train + val + test > n:
            raise DataError(f"{data.name}: series '{sid}' has {n} rows, fewer than "
                            f"{train} + {val} + {test} asked for")
        splits[sid] = Split(train, train + val, train + val + test)
    return _checked(data, splits)


def split_by_time(data: SeriesData, val_start, test_start, test_end=None) -> Splits:
    """Each series split at timestamps: val from ``val_start``, test from ``test_start`` on."""
    val_start, test_start = pd.Timestamp(val_start), pd.Timestamp(test_start)
    if test_start < val_start:
        raise ValueError("test_start must not come before val_start")
    splits = {}
    for sid, frame in data.frames.items():
        index = frame.index
        stamps = [val_start, test_start] + ([pd.Timestamp(test_end)] if test_end else [])
        if index.tz is not None:
            stamps = [s.tz_localize("UTC") if s.tz is None else s for s in stamps]
        end = int(index.searchsorted(stamps[2], side="right")) if test_end else len(index)
        splits[sid] = Split(int(index.searchsorted(stamps[0])), int(index.searchsorted(stamps[1])), end)
    return _checked(data, splits)


def ltsf_split(data: SeriesData, dataset: str) -> Splits:
    """The split of the LTSF papers for ``etth1``/``etth2`` (row counts) or ``weather`` (70/10/20)."""
    key = dataset.lower()
    if key in LTSF_COUNTS:
        return split_by_count(data, *LTSF_COUNTS[key])
    if key in LTSF_FRACTIONS:
        return split_by_fraction(data, *LTSF_FRACTIONS[key])
    raise ValueError(f"no LTSF split for {dataset!r}; known: {', '.join([*LTSF_COUNTS, *LTSF_FRACTIONS])}")


def _checked(data: SeriesData, splits: Splits) -> Splits:
    for sid, split in splits.items():
        if split.train_end <= 0:
            raise DataError(f"{data.name}: series '{sid}' has no training rows under this split")
    return splits
