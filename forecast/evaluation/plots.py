"""The report's figures as PNG bytes, drawn on matplotlib Figure objects: pyplot is never
imported, so the caller's backend and open figures (a notebook's inline plots) are untouched."""

from __future__ import annotations

import io

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from forecast.evaluation.report import when

WIDTH, HEIGHT = 8.0, 3.2


def canvas(rows: int = 1, columns: int = 1, figsize: tuple[float, float] = (WIDTH, HEIGHT)):
    """A Figure and its axes, outside pyplot's registry of open figures."""
    figure = Figure(figsize=figsize)
    return figure, figure.subplots(rows, columns)


def outside_legend(axes) -> None:
    """The legend beside the plot, where it never covers data."""
    axes.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1), borderaxespad=0)


def png(figure: Figure) -> bytes:
    """The figure as PNG bytes."""
    buffer = io.BytesIO()
    figure.tight_layout()
    figure.savefig(buffer, format="png", dpi=90)
    return buffer.getvalue()


def last_windows(frame: pd.DataFrame, windows: int = 3, levels: list[float] | None = None) -> bytes:
    """Forecast against actual for the last ``windows`` origins of one series and target, with
    the outer quantile band when there is one; the actual values before them for context."""
    origins = sorted(frame["origin"].unique())[-windows:]
    # every timestamp some window covers (with thinned origins the step-1 rows alone skip values)
    history = frame.drop_duplicates("timestamp").set_index("timestamp")["actual"].sort_index()
    figure, axes = canvas(figsize=(WIDTH, HEIGHT))
    start = pd.Timestamp(origins[0]) if len(origins) else history.index[0]
    context = history[history.index <= start].tail(max(3 * int(frame["step"].max()), 24))
    axes.plot(context.index, context.to_numpy(), color="0.4", label="actual (before)")
    marker = "o" if frame["step"].max() <= 5 else None  # a one-step forecast is a point
    for number, origin in enumerate(origins):
        window = frame[frame["origin"] == origin].sort_values("step")
        axes.plot(window["timestamp"], window["actual"], color="black", lw=1, marker=marker,
                  label="actual" if number == 0 else None)
        axes.plot(window["timestamp"], window["forecast"], color=f"C{number}", marker=marker,
                  label=f"forecast made at {when(origin)}")
        if levels and len(levels) > 1:
            axes.fill_between(window["timestamp"], window[f"q{levels[0]:g}"], window[f"q{levels[-1]:g}"],
                              color=f"C{number}", alpha=0.2,
                              label=f"{levels[0]:g}-{levels[-1]:g} interval" if number == 0 else None)
    outside_legend(axes)
    axes.set_title("the last forecasts against the actual values")
    figure.autofmt_xdate()
    return png(figure)


def by_step(errors: pd.DataFrame) -> bytes:
    """MAE by horizon step (rows) for each model (columns)."""
    figure, axes = canvas(figsize=(WIDTH, HEIGHT))
    for name in errors.columns:
        axes.plot(errors.index, errors[name], marker="o" if len(errors) < 30 else None, label=name)
    axes.set_xlabel("horizon step")
    axes.set_ylabel("MAE")
    outside_legend(axes)
    axes.set_title("error by horizon step")
    return png(figure)


def residuals(residual: np.ndarray, spacing: int = 1, lags: int = 30) -> bytes:
    """Histogram of the one-step residuals and their autocorrelation with the 95 % band of white
    noise; ``spacing`` rows lie between consecutive origins, so lag k is k * spacing rows."""
    residual = residual[np.isfinite(residual)]
    figure, (left, right) = canvas(1, 2, figsize=(WIDTH, HEIGHT))
    left.hist(residual, bins=40, color="C0")
    left.set_title("one-step residuals")
    centred = residual - residual.mean()
    denominator = centred @ centred
    lags = min(lags, len(centred) - 1)
    acf = [1.0] + [float(centred[k:] @ centred[:-k] / denominator) for k in range(1, lags + 1)] if denominator > 0 else [1.0]
    right.bar(range(len(acf)), acf, color="C0")
    band = 1.96 / np.sqrt(max(len(residual), 1))
    right.axhline(band, color="C3", ls="--", lw=1)
    right.axhline(-band, color="C3", ls="--", lw=1)
    right.set_title("autocorrelation of the residuals")
    right.set_xlabel("lag (rows)" if spacing == 1 else f"lag (origins, {spacing} rows apart)")
    return png(figure)


def rolling_error(errors: pd.Series, window: int) -> bytes:
    """Rolling mean absolute one-step error over time."""
    figure, axes = canvas(figsize=(WIDTH, HEIGHT))
    rolling = errors.sort_index().abs().rolling(window, min_periods=max(1, window // 2)).mean()
    axes.plot(rolling.index, rolling.to_numpy())
    axes.set_title(f"rolling MAE of the one-step forecasts ({window} consecutive origins)")
    figure.autofmt_xdate()
    return png(figure)


def by_period(errors: pd.DataFrame, title: str, period: str) -> bytes:
    """MAE by a calendar ``period`` (rows: hours of the day or months, whole numbers) for each
    model (columns)."""
    figure, axes = canvas(figsize=(WIDTH, HEIGHT))
    for name in errors.columns:
        axes.plot(errors.index, errors[name], marker="o", label=name)
    axes.set_xticks(errors.index)
    axes.set_xlabel(period)
    axes.set_ylabel("MAE")
    axes.set_title(title)
    outside_legend(axes)
    return png(figure)


def equity(strategy: pd.Series, hold: pd.Series) -> bytes:
    """Equity of the strategy against buy-and-hold, on a linear and a log scale."""
    figure, (left, right) = canvas(1, 2, figsize=(WIDTH, HEIGHT))
    for axes, scale in ((left, "linear"), (right, "log")):
        axes.plot(strategy.index, strategy.to_numpy(), label="strategy")
        axes.plot(hold.index, hold.to_numpy(), label="buy-and-hold")
        axes.set_yscale(scale)
        axes.set_title(f"equity ({scale} scale)")
        outside_legend(axes)
    figure.autofmt_xdate()
    return png(figure)


def underwater(drawdown: pd.Series) -> bytes:
    """Drawdown from the running peak over time."""
    figure, axes = canvas(figsize=(WIDTH, HEIGHT))
    axes.fill_between(drawdown.index, drawdown.to_numpy(), 0, color="C3", alpha=0.5)
    axes.set_title("drawdown from the running peak (underwater)")
    figure.autofmt_xdate()
    return png(figure)


def rolling_sharpe(returns: pd.Series, window: int, periods_per_year: int) -> bytes:
    """Sharpe ratio over a moving window of bars, annualized."""
    figure, axes = canvas(figsize=(WIDTH, HEIGHT))
    rolling = returns.rolling(window)
    sharpe = rolling.mean() / rolling.std(ddof=1) * np.sqrt(periods_per_year)
    axes.plot(sharpe.index, sharpe.to_numpy())
    axes.axhline(0, color="0.5", lw=1)
    axes.set_title(f"rolling Sharpe ({window} bars)")
    figure.autofmt_xdate()
    return png(figure)


def monthly_heatmap(table: pd.DataFrame) -> bytes:
    """Monthly returns, years (rows) by months (columns), in percent."""
    figure, axes = canvas(figsize=(WIDTH, 0.5 + 0.45 * max(len(table), 1)))
    values = table.to_numpy(dtype=float) * 100
    limit = np.nanmax(np.abs(values)) if np.isfinite(values).any() else 1.0
    image = axes.imshow(values, cmap="RdYlGn", vmin=-limit, vmax=limit, aspect="auto")
    axes.set_xticks(range(len(table.columns)), [str(c) for c in table.columns])
    axes.set_yticks(range(len(table.index)), [str(i) for i in table.index])
    for (row, column), value in np.ndenumerate(values):
        if np.isfinite(value):
            axes.text(column, row, f"{value:.1f}", ha="center", va="center", fontsize=7)
    figure.colorbar(image, ax=axes, label="%")
    axes.set_title("monthly returns of the strategy")
    return png(figure)
