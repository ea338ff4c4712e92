"""The time axis of a table: which column holds it, how its dates are written, its frequency."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd

TIME_COLUMN_NAMES = ("ds", "date", "datetime", "time", "timestamp")


def infer_time_column(raw, exclude: str | None) -> str:
    columns = [c for c in raw.frame.columns if c != exclude]
    for column in columns:
        if column.lower() in TIME_COLUMN_NAMES:
            return column
    for column in columns:
        series = raw.frame[column]
        if pd.api.types.is_datetime64_any_dtype(series):
            return column
    first = raw.frame[columns[0]]
    if not pd.api.types.is_numeric_dtype(first):
        sample = first.dropna().head(5).astype(str)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # "could not infer format" for a column of non-dates
            parsed = pd.to_datetime(sample, errors="coerce", utc=True)
        if len(sample) and parsed.notna().all():
            return columns[0]
    raise raw.fail(f"no time column found (looked for {', '.join(TIME_COLUMN_NAMES)} or a first "
                   "column of dates); name it with time_col=")


def parse_times(raw, column: str, dayfirst: bool = False, date_format: str | None = None,
                 date_unit: str | None = None) -> pd.DatetimeIndex:
    values = raw.frame[column]
    if date_unit is not None:
        numbers = pd.to_numeric(values, errors="coerce")
        bad = np.flatnonzero(numbers.isna().to_numpy() & values.notna().to_numpy())
        if len(bad):
            raise raw.fail(f"column '{column}' {raw.where(int(bad[0]))}: '{values.iloc[int(bad[0])]}' "
                           f"is not a number of {date_unit} since 1970")
        parsed = pd.to_datetime(numbers, unit=date_unit)
    elif pd.api.types.is_datetime64_any_dtype(values):
        parsed = values
    else:
        text = values.astype("string").str.strip()
        if not dayfirst and date_format is None:
            refuse_unclear_day_order(raw, column, text)
        options = {"format": date_format} if date_format else {"dayfirst": dayfirst}
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # "could not infer format": our own error says more
            try:
                parsed = pd.to_datetime(text, errors="coerce", **options)
            except ValueError:  # mixed UTC offsets
                parsed = pd.to_datetime(text, errors="coerce", utc=True, **options)
        bad = np.flatnonzero(parsed.isna().to_numpy() & text.notna().to_numpy())
        if len(bad):
            position = int(bad[0])
            value = text.iloc[position]
            hint = " (epoch seconds? pass date_unit='s')" if value.isdigit() else \
                f" with format {date_format}" if date_format else ""
            raise raw.fail(f"column '{column}' {raw.where(position)}: cannot parse "
                           f"'{value}' as a timestamp{hint}")
    empty = np.flatnonzero(parsed.isna().to_numpy())
    if len(empty):
        raise raw.fail(f"column '{column}' {raw.where(int(empty[0]))}: empty timestamp")
    index = pd.DatetimeIndex(parsed)
    return index.tz_convert("UTC") if index.tz is not None else index


def refuse_unclear_day_order(raw, column: str, text: pd.Series) -> None:
    """Dates written nn/nn/yyyy (or with dots or dashes) whose day-month order is not evident
    month first are refused, rather than read one way until a day above 12 fails."""
    fields = text.str.extract(r"^(\d{1,2})[/.-](\d{1,2})[/.-]\d{2,4}\b").dropna().astype(int)
    if fields.empty or len(fields) < text.notna().sum():
        return
    first_over, second_over = (fields[0] > 12).to_numpy(), (fields[1] > 12).to_numpy()
    if second_over.any() and not first_over.any():
        return  # month first, as pandas reads it
    if first_over.any():
        position = int(np.flatnonzero(first_over)[0])
        raise raw.fail(f"column '{column}' holds day-first dates ('{text.iloc[position]}' at "
                       f"{raw.where(position)}); pass dayfirst=True or date_format=")
    raise raw.fail(f"column '{column}': dates such as '{text.dropna().iloc[0]}' may be day/month or "
                   "month/day; pass dayfirst=True or date_format= (e.g. %m/%d/%Y)")


def infer_freq(index: pd.DatetimeIndex) -> str | None:
    if len(index) < 3:
        return None
    unique = index.unique()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # pandas 3 warns that infer_freq will return an offset
        try:
            inferred = pd.infer_freq(unique)
        except (TypeError, ValueError):
            inferred = None
    if inferred is not None:
        return getattr(inferred, "freqstr", inferred)
    steps = pd.Series(np.diff(unique.asi8))
    step = pd.Timedelta(int(steps.mode().iloc[0]), unit=unique.unit)
    if step == pd.Timedelta(days=1) and not (unique.day_of_week >= 5).any():
        return "B"  # daily data without weekends: a trading or business-day calendar
    return pd.tseries.frequencies.to_offset(step).freqstr


def checked_freq(raw, freq: str, frames: dict) -> str:
    """A frequency given by the caller: a pandas alias whose grid holds every timestamp."""
    try:
        offset = pd.tseries.frequencies.to_offset(freq)
    except ValueError:
        raise raw.fail(f"'{freq}' is not a frequency (examples: h, 15min, D, B, W, MS)") from None
    for sid, (part, pos) in frames.items():
        if len(part) < 2:
            continue
        grid = pd.date_range(part.index[0], part.index[-1], freq=offset)
        off_grid = np.flatnonzero(~part.index.isin(grid))
        if len(off_grid):
            first = int(off_grid[0])
            label = f"series '{sid}': " if len(frames) > 1 else ""
            raise raw.fail(f"{label}frequency '{freq}' does not match the data: {part.index[first]} "
                           f"at {raw.where(int(pos[first]))} is not on the '{freq}' grid from "
                           f"{part.index[0]}")
    return offset.freqstr


def check_regular(raw, freq: str | None, frames: dict) -> None:
    """An inferred frequency that the series' steps fit: every step a whole number of the usual
    step (a gap of several is fine and reported). A step that is not (mixed time zones, clocks
    that drift) is an error naming it and the flags that help."""
    try:
        step = pd.to_timedelta(pd.tseries.frequencies.to_offset(freq)) if freq else None
    except (TypeError, ValueError):  # calendar frequencies (B, MS, W): their steps vary by design
        return
    if step is None or step <= pd.Timedelta(0):
        return
    for sid, (part, pos) in frames.items():
        steps = np.diff(part.index.asi8)  # in the index's own unit (s, ms, us or ns)
        odd = np.flatnonzero(steps % int(step / pd.Timedelta(1, unit=part.index.unit)) != 0)
        if len(odd):
            first = int(odd[0]) + 1
            label = f"series '{sid}': " if len(frames) > 1 else ""
            raise raw.fail(f"{label}the timestamps do not follow one frequency: {part.index[first - 1]} -> "
                           f"{part.index[first]} at {raw.where(int(pos[first]))} is not a whole number of the "
                           f"usual step {freq}; give the frequency with freq= (and fill= for the gaps)")
