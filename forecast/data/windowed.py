"""SeriesWindows: split, scale (train rows only) and window one or several series, without Lightning.

Prediction and evaluation use it as it is (start-up stays light); training uses its Lightning
face, :class:`~forecast.data.datamodule.SeriesDataModule`.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import pandas as pd
import torch

from forecast.data.calendar import Encoding, calendar_features, default_calendar
from forecast.data.scaling import Scaler, ScalerKind
from forecast.data.series import SeriesData
from forecast.data.splits import Splits, split_by_fraction
from forecast.data.times import TIME_COLUMN_NAMES
from forecast.data.windows import WindowDataset, WindowSpec
from forecast.errors import DataError

@dataclass(frozen=True)
class Layout:
    """Where each series lies in the stacked arrays: first row and number of rows."""

    offsets: dict[str, int]
    lengths: dict[str, int]


def future_frames(future: pd.DataFrame | dict[str, pd.DataFrame] | None,
                  ids: list[str]) -> dict[str, pd.DataFrame]:
    """Known-future covariates per series id, each indexed by timestamp. ``future`` is a frame
    (indexed by timestamp or with a ds/time/date column; with a ``unique_id`` column for several
    series) or a dict of such frames by series id."""
    if future is None:
        return {}
    if isinstance(future, pd.DataFrame):
        if "unique_id" in future.columns:
            future = {str(sid): part.drop(columns="unique_id") for sid, part in future.groupby("unique_id")}
        else:
            future = {sid: future for sid in ids}
    return {sid: _time_indexed(frame) for sid, frame in future.items()}


def _time_indexed(frame: pd.DataFrame) -> pd.DataFrame:
    if isinstance(frame.index, pd.DatetimeIndex):
        return frame
    for column in TIME_COLUMN_NAMES:
        if column in frame.columns:
            return frame.set_index(pd.DatetimeIndex(pd.to_datetime(frame[column])))
    raise DataError("the future covariates must be keyed by timestamp: index the frame by time or "
                    "give it a ds/time/date column")


class SeriesWindows:
    """Windows of one or several series: split, scaled (training rows only), indexed.

    Inputs are ``target`` then ``past_covariates`` (default: every other column of ``data``
    except the known-future ones); known-future inputs are ``future_covariates`` then calendar
    features (``"auto"`` picks them from the frequency). Scalers are fit on the training rows of
    every series and nothing else. The predict set has one window per series whose origin is the
    end of the data; future covariates for it come from ``future`` (one frame per series id).
    Origins step by ``spec.stride``; training origins by ``train_stride`` when it is given
    (``datasets["train_every"]`` keeps every training window for closed-form fits).
    """

    def __init__(self, data: SeriesData, spec: WindowSpec, split: Splits | None = None,
                 target: list[str] | None = None, past_covariates: list[str] | None = None,
                 future_covariates: list[str] | None = None,
                 calendar: list[str] | str | None = "auto", calendar_encoding: Encoding = "cyclic",
                 scaler: ScalerKind = "standard", channel_independent: bool = False,
                 batch_size: int = 32, train_stride: int | None = None, eval_batch_size: int | None = None,
                 num_workers: int = 0,
                 seed: int = 0, future: dict[str, pd.DataFrame] | None = None,
                 scalers: tuple[Scaler, Scaler] | None = None):
        self.data = data
        self.spec = spec
        self.split = split if split is not None else split_by_fraction(data, 0.7, 0.1, 0.2)
        self.target = list(target or data.target)
        self.future_covariates = list(future_covariates or [])
        taken = set(self.target) | set(self.future_covariates)
        self.past_covariates = list(past_covariates if past_covariates is not None
                                    else [c for c in data.columns if c not in taken])
        self.calendar = default_calendar(data.freq) if calendar == "auto" else list(calendar or [])
        self.calendar_encoding = calendar_encoding
        self.channel_independent = channel_independent
        self.batch_size = batch_size
        self.train_stride = train_stride
        self.eval_batch_size = eval_batch_size or batch_size
        self.num_workers = num_workers
        self.seed = seed
        self.future = future_frames(future, data.ids)
        self._check_columns()
        # scalers fitted elsewhere (a trained model's) are used as they are, never refitted
        self.fitted_scalers = scalers is not None
        self.input_scaler, self.future_scaler = scalers or (Scaler(scaler), Scaler(scaler))
        self.datasets: dict[str, WindowDataset] = {}
        self.layout: Layout | None = None

    @property
    def input_columns(self) -> list[str]:
        return self.target + self.past_covariates

    @property
    def target_scaler(self) -> Scaler:
        return self.input_scaler.subset(list(range(len(self.target))))

    def setup(self, stage: str | None = None) -> None:
        """Fit the scalers and build the train/val/test windows; the predict window too for stage
        None or "predict" (it needs the future covariates, which training does not)."""
        if "train" not in self.datasets:
            self._build_parts()
        if stage in (None, "predict") and "predict" not in self.datasets:
            self.datasets["predict"] = self._predict_dataset()

    def _build_parts(self) -> None:
        frames = self.data.frames
        if not self.fitted_scalers:
            self._check_lengths()
            train_rows = [frames[sid][self.input_columns].to_numpy()[:self.split[sid].train_end]
                          for sid in frames]
            self.input_scaler.fit(np.concatenate(train_rows))
            if self.future_covariates:
                self.future_scaler.fit(np.concatenate(
                    [frames[sid][self.future_covariates].to_numpy()[:self.split[sid].train_end]
                     for sid in frames]))
        inputs, future, layout = self._stack({sid: frames[sid] for sid in frames})
        self.layout = layout
        targets = inputs[:, :len(self.target)]

        def windows(part: str, spec: WindowSpec) -> WindowDataset:
            origins = [spec.origins(*self.split[sid].bounds(part)) + layout.offsets[sid] for sid in frames]
            return WindowDataset(inputs, np.concatenate(origins), self.spec, targets, future,
                                 self.channel_independent)

        thinned = replace(self.spec, stride=self.train_stride) if self.train_stride else self.spec
        self.datasets.update(train=windows("train", thinned), val=windows("val", self.spec),
                             test=windows("test", self.spec))
        # closed-form fits (the ridge, the highway's ridge start) cost one pass, so they read every
        # training window; train_stride thins only what gradient descent sees
        self.datasets["train_every"] = self.datasets["train"] if thinned == self.spec \
            else windows("train", self.spec)

    def origins(self, part: str) -> list[tuple[str, int]]:
        """(series id, row of the first forecast step) of each window of a part, in order."""
        self.setup("predict" if part == "predict" else "fit")
        starts = sorted(self.layout.offsets.items(), key=lambda item: item[1])
        ids = [sid for sid, _ in starts]
        offsets = np.array([offset for _, offset in starts])
        result = []
        for origin in self.datasets[part].origins.tolist():
            position = int(np.searchsorted(offsets, origin, side="right")) - 1
            result.append((ids[position], origin - int(offsets[position])))
        return result

    def windows_at(self, origins: dict[str, np.ndarray]) -> WindowDataset:
        """Windows with targets at chosen origins (per series id, the rows of the first forecast
        step), scaled by already fitted scalers; each window must lie inside its series."""
        if not self.fitted_scalers:
            raise RuntimeError("windows_at needs the scalers of a fitted model")
        inputs, future, layout = self._stack(self.data.frames)
        rows = [np.zeros(0, dtype=np.int64)]
        for sid, chosen in origins.items():
            chosen = np.asarray(chosen, dtype=np.int64)
            if len(chosen) and (chosen.min() < self.spec.lookback
                                or chosen.max() + self.spec.horizon > layout.lengths[sid]):
                raise ValueError(f"series '{sid}': origins must lie in [{self.spec.lookback}, "
                                 f"{layout.lengths[sid] - self.spec.horizon}]")
            rows.append(chosen + layout.offsets[sid])
        return WindowDataset(inputs, np.concatenate(rows), self.spec, inputs[:, :len(self.target)],
                             future, self.channel_independent)

    def _predict_dataset(self) -> WindowDataset:
        horizon = self.spec.horizon
        extended = {}
        for sid, frame in self.data.frames.items():
            if self.calendar or self.future_covariates:
                ahead = self.data.future_index(sid, horizon)
            else:  # no timestamps needed, so none are invented for data without a frequency
                frame = frame.reset_index(drop=True)
                ahead = pd.RangeIndex(len(frame), len(frame) + horizon)
            known = pd.concat([frame, pd.DataFrame(np.nan, index=ahead, columns=frame.columns)])
            if self.future_covariates:
                known.loc[known.index[-horizon:], self.future_covariates] = self._future_values(sid, ahead)
            extended[sid] = known
        inputs, future, layout = self._stack(extended)
        origins = [layout.offsets[sid] + layout.lengths[sid] - horizon for sid in extended]
        return WindowDataset(inputs, np.array(origins), self.spec, None, future,
                             self.channel_independent)

    def _future_values(self, sid: str, ahead: pd.DatetimeIndex) -> np.ndarray:
        """The known-future covariates of one series at the forecast timestamps, matched by
        timestamp (never by row position)."""
        need = (f"{self.data.name}: predicting series '{sid}' needs {', '.join(self.future_covariates)} "
                f"at the {len(ahead)} timestamps from {ahead[0]}")
        given = self.future.get(sid)
        if given is None:
            raise DataError(f"{need}; pass them as future=")
        absent = [c for c in self.future_covariates if c not in given.columns]
        if absent:
            raise DataError(f"{need}; column '{absent[0]}' is not in the future frame")
        if given.index.has_duplicates:
            raise DataError(f"{need}; the future frame repeats timestamp {given.index[given.index.duplicated()][0]}")
        values = given[self.future_covariates].apply(pd.to_numeric, errors="coerce").reindex(ahead)
        bad = ~np.isfinite(values.to_numpy(dtype=np.float64)).all(axis=1)
        if bad.any():
            raise DataError(f"{need}; {int(bad.sum())} of them are missing or not numbers, first "
                            f"{ahead[int(np.flatnonzero(bad)[0])]}")
        return values.to_numpy(dtype=np.float64)

    def _stack(self, frames: dict[str, pd.DataFrame]) -> tuple[torch.Tensor, torch.Tensor, Layout]:
        """Scaled inputs and known-future features of all series, end to end, as float32."""
        inputs, future, offsets, lengths, row = [], [], {}, {}, 0
        for sid, frame in frames.items():
            inputs.append(self.input_scaler.transform(frame[self.input_columns].to_numpy()))
            parts = []
            if self.future_covariates:
                parts.append(self.future_scaler.transform(frame[self.future_covariates].to_numpy()))
            if self.calendar:
                parts.append(calendar_features(frame.index, self.calendar,
                                               self.calendar_encoding).to_numpy())
            future.append(np.concatenate(parts, axis=1) if parts else np.zeros((len(frame), 0)))
            offsets[sid], lengths[sid] = row, len(frame)
            row += len(frame)
        stacked_inputs = np.concatenate(inputs)
        with np.errstate(over="ignore"):
            as_float32 = stacked_inputs.astype(np.float32)
        overflow = np.isinf(as_float32) & np.isfinite(stacked_inputs)
        if overflow.any():
            column = self.input_columns[int(np.flatnonzero(overflow.any(axis=0))[0])]
            raise DataError(f"{self.data.name}: column '{column}' exceeds float32 range after "
                            "scaling; its training rows are nearly constant")
        return (torch.from_numpy(as_float32), torch.from_numpy(np.concatenate(future).astype(np.float32)),
                Layout(offsets, lengths))

    def _check_columns(self) -> None:
        available = set(self.data.columns)
        for column in self.target + self.past_covariates + self.future_covariates:
            if column not in available:
                raise DataError(f"{self.data.name}: column '{column}' not found; columns are: "
                                f"{', '.join(self.data.columns)}")
        if self.channel_independent and self.past_covariates:
            raise ValueError("channel-independent mode models each target alone; "
                             "pass past_covariates=[]")

    def _check_lengths(self) -> None:
        need = self.spec.length
        for sid, split in self.split.items():
            if split.train_end < need:
                raise DataError(f"{self.data.name}: series '{sid}' has {split.train_end} training "
                                f"rows; lookback {self.spec.lookback} + horizon "
                                f"{self.spec.horizon} needs at least {need}")
