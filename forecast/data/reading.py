"""read_series: CSV, Parquet or DataFrame in, validated SeriesData out; errors name file, column, row."""

from __future__ import annotations

import csv
import io
import os
from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd

from forecast.data.series import SeriesData, exchange_sessions
from forecast.data.times import check_regular, checked_freq, infer_freq, infer_time_column, parse_times
from forecast.errors import DataError

Source = str | os.PathLike | pd.DataFrame
Fill = Literal["ffill", "interpolate"] | None
Duplicates = Literal["error", "drop", "keep"]


class _Raw:
    """A table as read, before validation, with a way to name any of its original rows."""

    def __init__(self, frame: pd.DataFrame, name: str, lines: np.ndarray | None):
        self.frame = frame
        self.name = name
        self.series_id = Path(name).stem if lines is not None or name != "DataFrame" else "series"
        self._lines = lines  # file line number of each data row; None for a DataFrame

    def where(self, position: int) -> str:
        if self._lines is None:
            return f"row {position}"
        return f"line {int(self._lines[position])}"

    def fail(self, message: str) -> DataError:
        return DataError(f"{self.name}: {message}")


def read_series(
    source: Source,
    time_col: str | None = None,
    target: str | list[str] | None = None,
    covariates: str | list[str] | None = None,
    id_col: str | None = None,
    freq: str | None = None,
    fill: Fill = None,
    duplicates: Duplicates = "error",
    sort: bool = False,
    min_rows: int = 3,
    dayfirst: bool = False,
    date_format: str | None = None,
    date_unit: str | None = None,
    decimal: str = ".",
    exchange: str | None = None,
    fill_gaps: bool = True,
) -> SeriesData:
    """Read and validate one or several series from a CSV/Parquet path or a DataFrame.

    Wide layout (a time column and one column per variable) gives one series; long layout
    (``id_col``, or NeuralForecast's ``unique_id, ds, y``) gives one series per id. The time
    column is inferred when not given and parsed (offsets converted to UTC). Rows in reverse
    time order are reversed; other disorder is an error unless ``sort=True``. ``target``
    defaults to every numeric column (``y`` in long layout). Missing values and gaps are
    filled only when ``fill`` asks for it, "ffill" from the past only (leading rows with nothing
    before them are dropped); ``fill_gaps=False`` fills missing values but adds no row for a gap
    (a backtest never trades an invented bar); duplicated timestamps are an error unless
    ``duplicates`` says to drop (keep the first) or keep them.

    Dates such as 03/04/2020 are refused unless their order is evident (a first field above 12
    means day first, a second one month first) or given: ``dayfirst=True`` or a ``date_format``
    (strftime). ``date_unit`` ("s", "ms", ...) reads epoch numbers; ``decimal=","`` reads
    numbers written with a decimal comma. ``exchange`` names a trading calendar (an
    exchange_calendars code such as XNYS): forecasts are then dated on its next sessions, so
    that daily stock forecasts skip exchange holidays.
    """
    given = {"time_col": time_col, "id_col": id_col, "freq": freq, "fill": fill,
             "duplicates": None if duplicates == "error" else duplicates, "sort": sort or None,
             "dayfirst": dayfirst or None, "date_format": date_format, "date_unit": date_unit,
             "decimal": None if decimal == "." else decimal, "exchange": exchange}
    raw = _read_raw(source, decimal)
    frame = raw.frame
    if frame.shape[1] == 0:
        raise raw.fail("no columns")
    if len(frame) == 0:
        raise raw.fail("no data rows (only a header)")
    frame.columns = [str(c).strip() for c in frame.columns]

    long_layout = id_col is not None or "unique_id" in frame.columns
    if long_layout and id_col is None:
        id_col = "unique_id"
        time_col = time_col or ("ds" if "ds" in frame.columns else None)
    if id_col is not None and id_col not in frame.columns:
        raise raw.fail(_missing_column(id_col, frame.columns, "id column"))
    time_col = time_col or infer_time_column(raw, exclude=id_col)
    if time_col not in frame.columns:
        raise raw.fail(_missing_column(time_col, frame.columns, "time column"))
    times = parse_times(raw, time_col, dayfirst, date_format, date_unit)

    covariates = _as_list(covariates)
    explicit_target = target is not None
    if explicit_target:
        target = _as_list(target)
    elif long_layout and "y" in frame.columns:
        target = ["y"]
    else:
        target = [c for c in frame.columns if c not in (time_col, id_col, *covariates)]
    for column in target + covariates:
        if column not in frame.columns:
            raise raw.fail(_missing_column(column, frame.columns))
    notes: list[str] = []
    values = {}
    for column in target + covariates:
        converted = _to_float(raw, column, required=explicit_target or column in covariates)
        if converted is None:
            notes.append(f"column '{column}' is text and was left out")
        else:
            values[column] = converted
    target = [c for c in target if c in values]
    if not target:
        if any(_decimal_commas(frame[c]) for c in frame.columns if c not in (time_col, id_col)):
            raise raw.fail("no numeric target column: the numbers are written with a decimal comma; "
                           "read them with decimal=','")
        raise raw.fail("no numeric target column; name one with target=")

    table = pd.DataFrame(values)
    table.index = pd.DatetimeIndex(times, name="time")
    positions = np.arange(len(table))
    ids = frame[id_col].astype(str).to_numpy() if id_col else np.full(len(table), raw.series_id)
    groups = {str(sid): np.flatnonzero(ids == sid) for sid in dict.fromkeys(ids)}

    frames = {}
    for sid, rows in groups.items():
        label = f"series '{sid}': " if id_col else ""
        part, pos = _in_time_order(raw, table.iloc[rows], positions[rows], sort, label, notes)
        part, pos = _handle_duplicates(raw, part, pos, duplicates, label, notes)
        frames[sid] = (part, pos)
    if freq is None:
        freq = infer_freq(max((p for p, _ in frames.values()), key=len).index)
        check_regular(raw, freq, frames)
    else:
        freq = checked_freq(raw, freq, frames)
    result = {}
    for sid, (part, pos) in frames.items():
        label = f"series '{sid}': " if id_col else ""
        if fill_gaps:
            part = _fill_gaps(part, freq, fill, duplicates, label, notes)
        part = _fill_missing(raw, part, pos, fill, label, notes)
        if len(part) < min_rows:
            raise raw.fail(f"{label}{len(part)} rows; at least {min_rows} are needed")
        result[sid] = part.astype(np.float64)
    if exchange is not None:
        exchange_sessions(exchange, max(frame.index[-1] for frame in result.values()), 1)  # checks the name
    return SeriesData(result, target, covariates, freq, raw.name, notes, exchange,
                      {key: value for key, value in given.items() if value is not None})


def _read_raw(source: Source, decimal: str = ".") -> _Raw:
    if isinstance(source, pd.DataFrame):
        frame = source
        if isinstance(frame.index, pd.DatetimeIndex):
            frame = frame.reset_index(names=frame.index.name or "time")
        return _Raw(frame.reset_index(drop=True).copy(), "DataFrame", None)
    path = Path(source)
    name = str(source)
    if not path.is_file():
        raise DataError(f"{name}: no such file")
    if path.suffix.lower() in (".parquet", ".pq"):
        try:
            frame = pd.read_parquet(path)
        except Exception as error:  # pyarrow raises many types for a bad file
            raise DataError(f"{name}: not a readable Parquet file ({error})") from None
        if isinstance(frame.index, pd.DatetimeIndex):
            frame = frame.reset_index(names=frame.index.name or "time")
        return _Raw(frame.reset_index(drop=True), name, None)
    return _read_csv(path, name, decimal)


def _read_csv(path: Path, name: str, decimal: str = ".") -> _Raw:
    data = path.read_bytes()
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = data.decode("latin-1")  # legacy exports: every byte decodes, headers stay readable
    if not text.strip():
        raise DataError(f"{name}: file is empty")
    delimiter = _sniff_delimiter(text.split("\n", 1)[0])
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    header = next(reader)
    lines = []
    for row in reader:
        if not row or not any(field.strip() for field in row):
            continue
        if len(row) != len(header):
            raise DataError(f"{name}: line {reader.line_num} has {len(row)} fields, "
                            f"the header has {len(header)}")
        lines.append(reader.line_num)
    if not lines:
        raise DataError(f"{name}: no data rows (only a header)")
    try:
        frame = pd.read_csv(io.StringIO(text), sep=delimiter, skip_blank_lines=True, decimal=decimal)
    except (pd.errors.ParserError, ValueError) as error:
        raise DataError(f"{name}: cannot parse as CSV ({error})") from None
    return _Raw(frame, name, np.asarray(lines))


def _decimal_commas(values: pd.Series) -> bool:
    """Whether text values look like numbers written with a decimal comma (1,5 or -0,25)."""
    text = values.dropna().astype(str).head(50)
    return len(text) > 0 and bool(text.str.fullmatch(r"\s*-?\d+,\d+\s*").mean() > 0.5)


def _sniff_delimiter(header: str) -> str:
    counts = {d: header.count(d) for d in (",", ";", "\t")}
    return max(counts, key=counts.get) if max(counts.values()) else ","


def _to_float(raw: _Raw, column: str, required: bool) -> np.ndarray | None:
    """The column as float64; None for a text column that was not asked for by name."""
    series = raw.frame[column]
    if pd.api.types.is_bool_dtype(series) or pd.api.types.is_numeric_dtype(series):
        values = series.to_numpy(dtype=np.float64, na_value=np.nan)
    else:
        numbers = pd.to_numeric(series, errors="coerce")
        bad = np.flatnonzero(numbers.isna().to_numpy() & series.notna().to_numpy())
        if len(bad) and not required and numbers.notna().sum() == 0:
            return None
        if len(bad):
            position = int(bad[0])
            hint = "; numbers with a decimal comma read with decimal=','" if _decimal_commas(series) else ""
            raise raw.fail(f"column '{column}' {raw.where(position)}: "
                           f"'{series.iloc[position]}' is not a number{hint}")
        values = numbers.to_numpy(dtype=np.float64, na_value=np.nan)
    infinite = np.flatnonzero(np.isinf(values))
    if len(infinite):
        raise raw.fail(f"column '{column}' {raw.where(int(infinite[0]))}: infinite value")
    if np.isnan(values).all():
        raise raw.fail(f"column '{column}' has no values (all missing)")
    return values


def _in_time_order(raw, part, pos, sort, label, notes):
    index = part.index
    if index.is_monotonic_increasing:
        return part, pos
    if index.is_monotonic_decreasing:
        notes.append(f"{label}rows were in reverse time order and were reversed")
        return part.iloc[::-1], pos[::-1]
    if sort:
        order = np.argsort(index.asi8, kind="stable")
        notes.append(f"{label}rows were out of time order and were sorted")
        return part.iloc[order], pos[order]
    back = int(np.flatnonzero(np.diff(index.asi8) < 0)[0]) + 1
    remedy = _several_series(raw, label) or "pass sort=True to sort"
    raise raw.fail(f"{label}timestamps out of order: {raw.where(int(pos[back]))} "
                   f"({index[back]}) comes after {index[back - 1]}; {remedy}")


def _several_series(raw, label: str) -> str:
    """A hint when a wide file's repeated timestamps come from several series stacked in it: a
    text column with a few distinct values, which id_col= would split on."""
    if label:  # the file was already read as several series
        return ""
    for column in raw.frame.columns:
        values = raw.frame[column]
        if not pd.api.types.is_numeric_dtype(values) and 1 < values.nunique() <= max(2, len(values) // 3) \
                and pd.to_numeric(values, errors="coerce").isna().all():
            return f"several series in one file? name their id column with id_col='{column}'"
    return ""


def _handle_duplicates(raw, part, pos, duplicates, label, notes):
    repeated = part.index.duplicated(keep="first")
    if not repeated.any():
        return part, pos
    count = int(repeated.sum())
    first = int(np.flatnonzero(repeated)[0])
    if duplicates == "error":
        remedy = _several_series(raw, label) or "pass duplicates='drop' to keep the first of each"
        raise raw.fail(f"{label}duplicated timestamp {part.index[first]} at "
                       f"{raw.where(int(pos[first]))} ({count} in all); {remedy}")
    if duplicates == "drop":
        notes.append(f"{label}{count} duplicated timestamps dropped (first kept)")
        return part[~repeated], pos[~repeated]
    notes.append(f"{label}{count} duplicated timestamps kept, first {part.index[first]}")
    return part, pos


def _fill_gaps(part, freq, fill, duplicates, label, notes):
    if freq is None or len(part) < 2:
        return part
    grid = pd.date_range(part.index[0], part.index[-1], freq=freq)
    missing = grid.difference(part.index)
    if len(missing) == 0:
        return part
    first = missing[0]
    if fill is None or duplicates == "keep":
        notes.append(f"{label}{len(missing)} timestamps missing from the '{freq}' grid (gaps), "
                     f"first {first}")
        return part
    notes.append(f"{label}{len(missing)} missing timestamps added (gaps), first {first}")
    return part.reindex(part.index.union(grid))


def _fill_missing(raw, part, pos, fill, label, notes):
    counts = part.isna().sum()
    if not counts.any():
        return part
    if fill is None:
        column = str(counts[counts > 0].index[0])
        first = int(np.flatnonzero(part[column].isna().to_numpy())[0])
        raise raw.fail(f"{label}column '{column}' has {int(counts[column])} missing values, first "
                       f"at {raw.where(int(pos[first]))} ({part.index[first]}); pass fill='ffill' "
                       "or fill='interpolate'")
    if fill == "ffill":
        filled = part.ffill()
        leading = int(filled.isna().any(axis=1).to_numpy().argmin()) if filled.isna().any().any() else 0
        if leading:  # nothing earlier to fill from: a later value would be look-ahead
            notes.append(f"{label}{leading} leading rows with missing values dropped (nothing before them to fill from)")
            filled = filled.iloc[leading:]
    elif fill == "interpolate":
        filled = part.interpolate(method="time", limit_direction="both")
    else:
        raise ValueError(f"fill must be 'ffill', 'interpolate' or None, not {fill!r}")
    notes.append(f"{label}{int(counts.sum())} missing values filled ({fill})")
    return filled


def _missing_column(column: str, columns, what: str = "column") -> str:
    shown = ", ".join(str(c) for c in list(columns)[:12])
    return f"{what} '{column}' not found; columns are: {shown}"


def _as_list(value: str | list[str] | None) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        return [part.strip() for part in value.split(",") if part.strip()]
    return list(value)
