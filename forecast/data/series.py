"""SeriesData: validated time series, one DataFrame per series id, plus what reading found."""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field

import numpy as np
import pandas as pd


@dataclass
class SeriesData:
    """Validated series: each frame is indexed by sorted timestamps and holds float columns.

    ``frames`` maps a series id to its DataFrame (columns ``target + covariates``); a wide file
    gives one series, a long file (``unique_id, ds, y``) one per id. ``notes`` records what
    reading noticed or changed (order reversed, values filled, gaps, kept duplicates);
    ``read_options`` the options it was read with that differ from the defaults.
    """

    frames: dict[str, pd.DataFrame]
    target: list[str]
    covariates: list[str] = field(default_factory=list)
    freq: str | None = None
    name: str = "DataFrame"
    notes: list[str] = field(default_factory=list)
    exchange: str | None = None  # an exchange calendar (e.g. XNYS) whose sessions come next
    read_options: dict = field(default_factory=dict)  # the options given to read it, to read new data alike

    @property
    def ids(self) -> list[str]:
        return list(self.frames)

    @property
    def columns(self) -> list[str]:
        return self.target + self.covariates

    def __len__(self) -> int:
        return sum(len(frame) for frame in self.frames.values())

    def lengths(self) -> dict[str, int]:
        return {sid: len(frame) for sid, frame in self.frames.items()}

    def to_frame(self) -> pd.DataFrame:
        """One DataFrame: the single series as is, or a long frame with a ``unique_id`` column."""
        if len(self.frames) == 1:
            return next(iter(self.frames.values()))
        parts = [frame.assign(unique_id=sid) for sid, frame in self.frames.items()]
        return pd.concat(parts)[["unique_id", *self.columns]]

    def future_index(self, series_id: str, horizon: int) -> pd.DatetimeIndex:
        """The ``horizon`` timestamps after the end of one series: the exchange's next trading
        sessions when the series has an ``exchange`` calendar, else steps of its frequency."""
        last = self.frames[series_id].index[-1]
        if self.exchange:
            return exchange_sessions(self.exchange, last, horizon)
        if self.freq is None:
            raise ValueError(f"{self.name}: no frequency could be inferred; pass freq=")
        return pd.date_range(last, periods=horizon + 1, freq=self.freq)[1:]

    def describe(self) -> str:
        """A plain-text summary: rows, columns, time range, frequency, notes."""
        lines = [f"source: {self.name}", f"series: {len(self.frames)}", f"rows: {len(self)}"]
        first = min(frame.index[0] for frame in self.frames.values())
        last = max(frame.index[-1] for frame in self.frames.values())
        lines += [f"time range: {first} .. {last}", f"frequency: {self.freq or 'unknown'}"]
        if self.exchange:
            lines.append(f"exchange calendar: {self.exchange}")
        lines.append("columns:")
        for column in self.columns:
            values = np.concatenate([frame[column].to_numpy() for frame in self.frames.values()])
            role = "target" if column in self.target else "covariate"
            lines.append(f"  {column:<24} {str(values.dtype):<8} {role:<9} "
                         f"missing {int(np.isnan(values).sum())}")
        lines += [f"note: {note}" for note in self.notes] or ["note: none"]
        return "\n".join(lines)


def exchange_sessions(exchange: str, last: pd.Timestamp, count: int) -> pd.DatetimeIndex:
    """The ``count`` trading sessions of ``exchange`` (an exchange_calendars code such as XNYS)
    after ``last``, as dates at midnight."""
    import exchange_calendars  # imported on demand: it takes a noticeable part of a second

    from forecast.errors import DataError

    day = last.tz_localize(None).normalize() if last.tz is not None else last.normalize()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # the library's own pandas deprecation notices
            calendar = exchange_calendars.get_calendar(exchange, start=day - pd.Timedelta(days=14),
                                                       end=day + pd.Timedelta(days=2 * count + 30))
    except exchange_calendars.errors.InvalidCalendarName:
        raise DataError(f"unknown exchange calendar '{exchange}' (examples: XNYS, XLON, XTKS)") from None
    sessions = calendar.sessions[calendar.sessions > day]
    return pd.DatetimeIndex(sessions[:count].tz_localize(None) if sessions.tz else sessions[:count])
