"""Schema: what a fitted model knows of its data, so that new data is read and windowed as fit did.

Column roles, frequency, channel counts, how the file was read, and where each series' training
rows ended. It travels in the checkpoint as plain values (safe for ``weights_only=True``).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

import pandas as pd

from forecast.data.windowed import SeriesWindows
from forecast.data.registry import read_data
from forecast.data.scaling import Scaler
from forecast.data.series import SeriesData
from forecast.data.splits import Split, Splits
from forecast.data.windows import WindowSpec
from forecast.errors import DataError

# settings of a run that shape its windows and batches
WINDOW_SETTINGS = ("lookback", "horizon", "batch_size", "channel_independent", "seed")


def training_module(series: SeriesData, split: Splits, settings: dict):
    """The DataModule of a fit: column roles from the settings, scalers fitted on training rows."""
    from forecast.data.datamodule import SeriesDataModule  # Lightning: for training only

    target = settings["target"] or series.target
    future = settings["future_covariates"] or []
    past = settings["covariates"] if settings["covariates"] is not None else \
        [c for c in series.columns if c not in target and c not in future]
    return SeriesDataModule(series, WindowSpec(settings["lookback"], settings["horizon"]), split,
                            target=target, past_covariates=past, future_covariates=future,
                            calendar=settings["calendar"], scaler=settings["scaler"],
                            **_loader_settings(settings))


@dataclass
class Schema:
    """Column roles, frequency and channel counts of a fit; ``train_end`` maps each series id to
    the timestamp of its last training row, ``seen_end`` to the last row that training or
    selection (validation: early stopping, checkpoints, the ridge's alpha) saw (ISO text);
    ``read_options`` are the options the fitted data was read with."""

    target: list[str]
    past_covariates: list[str]
    future_covariates: list[str]
    calendar: list[str]
    freq: str | None
    in_channels: int
    future_channels: int
    train_end: dict[str, str] = field(default_factory=dict)
    read_options: dict = field(default_factory=dict)
    seen_end: dict[str, str] = field(default_factory=dict)

    @classmethod
    def of(cls, module: SeriesWindows) -> Schema:
        """The schema of a fitted DataModule."""
        frames, split = module.data.frames, module.split
        ends = {sid: frames[sid].index[split[sid].train_end - 1].isoformat() for sid in frames}
        seen = {sid: frames[sid].index[max(split[sid].val_end, split[sid].train_end) - 1].isoformat()
                for sid in frames}
        options = {"exchange": module.data.exchange, **module.data.read_options}
        return cls(module.target, module.past_covariates, module.future_covariates,
                   module.calendar, module.data.freq,
                   1 if module.channel_independent else len(module.input_columns),
                   module.datasets["train"].future.shape[1], ends,
                   {k: v for k, v in options.items() if v is not None}, seen)

    @classmethod
    def from_dict(cls, values: dict) -> Schema:
        return cls(**values)

    def to_dict(self) -> dict:
        return asdict(self)

    @property
    def columns(self) -> list[str]:
        return self.target + self.past_covariates + self.future_covariates

    def read(self, data, **read_options) -> SeriesData:
        """New data for the fitted model, read as fit read it (``read_options`` override)."""
        options = {**self.read_options, "target": self.target,
                   "covariates": self.past_covariates + self.future_covariates, **read_options}
        try:
            series = read_data(data, **options)
        except DataError as error:
            if "not found" not in str(error):  # only a missing column is helped by naming the model's
                raise
            raise DataError(f"{error} (the model was trained on {', '.join(self.columns)})") from None
        if self.freq and series.freq and series.freq != self.freq and "freq" not in read_options:
            raise DataError(f"{series.name}: the data's frequency is '{series.freq}', the model's "
                            f"is '{self.freq}'")
        return series

    def training_end(self, series_id: str) -> pd.Timestamp:
        """The last training timestamp of a series (see :meth:`seen_until` for an unseen one)."""
        return _end(self.train_end, series_id)

    def seen_until(self, series_id: str) -> pd.Timestamp:
        """The last timestamp of a series that training or selection saw; for a series the fit
        did not see, the end of the single series it saw, or the latest end of the several.
        (Model files written before ``seen_end`` was kept give their training end.)"""
        return _end(self.seen_end or self.train_end, series_id)

    def after_fit(self, series: SeriesData) -> Splits:
        """A split whose test part holds the windows whose first forecast step lies after every
        row the fit saw, training and validation (the other parts are empty): held out."""
        return {sid: Split(0, int(frame.index.searchsorted(self.seen_until(sid), side="right")),
                           len(frame)) for sid, frame in series.frames.items()}

    def module(self, series: SeriesData, split: Splits, settings: dict,
               scalers: tuple[Scaler, Scaler], future: dict[str, pd.DataFrame] | None = None
               ) -> SeriesWindows:
        """Windows of new data with the fitted model's roles and scalers (never refitted)."""
        return SeriesWindows(series, WindowSpec(settings["lookback"], settings["horizon"]), split,
                                target=self.target, past_covariates=self.past_covariates,
                                future_covariates=self.future_covariates, calendar=self.calendar,
                                scalers=scalers, future=future, **_loader_settings(settings))


def _end(ends: dict[str, str], series_id: str) -> pd.Timestamp:
    if series_id in ends:
        return pd.Timestamp(ends[series_id])
    return max(pd.Timestamp(end) for end in ends.values())


def _loader_settings(settings: dict) -> dict:
    return {"batch_size": settings["batch_size"], "eval_batch_size": 256,
            "train_stride": settings.get("train_stride", 1),
            "channel_independent": settings["channel_independent"], "seed": settings["seed"]}
