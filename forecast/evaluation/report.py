"""Reports of a fitted model or a backtest: one self-contained HTML file (images inline as base64
PNG, no fetch of scripts, styles or fonts) and the same content as Markdown with image files.

The content is built here from tidy forecast frames (the columns of
:func:`forecast.evaluation.backtest.forecasts_at`) and rendered through Jinja2 templates.
"""

from __future__ import annotations

import base64
import json
import math
import os
import platform
import shutil
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from forecast.data.registry import source_sha256
from forecast.errors import DataError
from forecast.evaluation.metrics import smape
from forecast.evaluation.skill import diebold_mariano, naive_scale

if TYPE_CHECKING:
    from forecast.api import Forecaster

MAX_ORIGINS = 200  # per series: a report's plots and tables need no more


@dataclass
class Table:
    """A captioned table of text cells; ``best`` holds the (row, column) cells to mark."""

    caption: str
    columns: list[str]
    rows: list[list[str]]
    best: set = field(default_factory=set)
    id: str = ""


@dataclass
class Figure:
    name: str
    caption: str
    png: bytes

    @property
    def base64(self) -> str:
        return base64.b64encode(self.png).decode("ascii")


@dataclass
class Section:
    title: str
    text: str = ""
    tables: list[Table] = field(default_factory=list)
    figures: list[Figure] = field(default_factory=list)


@dataclass
class Report:
    """Title, the facts of the run (source, checksum, rows, split, configuration, versions),
    a plain sentence when the model does not beat its yardstick, and sections."""

    title: str
    facts: dict[str, str]
    verdict: str | None
    sections: list[Section]


# ---- writing ---------------------------------------------------------------------------------
def write_report(report: Report, folder: str | os.PathLike) -> Path:
    """``folder``/report.html (self-contained) and report.md with report_files/*.png; each file
    appears whole or not at all. Returns the HTML file's path."""
    import jinja2

    from forecast.atomic import write_atomically

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    environment = jinja2.Environment(loader=jinja2.PackageLoader("forecast.evaluation", "templates"),
                                     autoescape=jinja2.select_autoescape(["html"]), keep_trailing_newline=True)
    html = environment.get_template("report.html.j2").render(report=report)
    markdown = environment.get_template("report.md.j2").render(report=report)
    images = folder / "report_files"
    scratch = folder / ".report_files.partial"
    shutil.rmtree(scratch, ignore_errors=True)
    scratch.mkdir()
    for section in report.sections:
        for figure in section.figures:
            (scratch / f"{figure.name}.png").write_bytes(figure.png)
    shutil.rmtree(images, ignore_errors=True)
    os.replace(scratch, images)
    write_atomically(folder / "report.md", lambda p: Path(p).write_text(markdown, encoding="utf-8"))
    return write_atomically(folder / "report.html", lambda p: Path(p).write_text(html, encoding="utf-8"))


# ---- a fitted model --------------------------------------------------------------------------
def fit_report(model: Forecaster, data=None, baselines: tuple[str, ...] = ("drift", "linear"),
               max_origins: int = MAX_ORIGINS, source: str | None = None) -> Report:
    """The report of a fitted Forecaster on the windows after its training rows (of ``data``, or
    of the data it was fitted on): the model beside the naive forecast and ``baselines``, each
    fitted on the same training rows; at most ``max_origins`` origins a series, evenly spaced."""
    import forecast
    from forecast.evaluation.backtest import forecasts_at

    series = model.data_.data if data is None else model.schema_.read(data)
    settings = model.get_params()
    lookback, horizon = settings["lookback"], settings["horizon"]
    origins, stride, training = {}, 1, {}
    for sid, frame in series.frames.items():
        first = max(int(frame.index.searchsorted(model.schema_.training_end(sid), side="right")), lookback)
        rows = np.arange(first, len(frame) - horizon + 1)
        stride = max(stride, math.ceil(len(rows) / max_origins))
        origins[sid] = rows
        training[sid] = frame.iloc[:first]
    origins = {sid: rows[::stride] for sid, rows in origins.items()}
    if not any(len(rows) for rows in origins.values()):
        raise DataError(f"{series.name}: no complete window after the training rows to report on")
    evaluation = forecasts_at(model, series, origins)
    columns = {settings["model"]: "forecast", "naive": "naive"}
    trained_on = replace(series, frames=training)
    for name in baselines:
        if name != settings["model"]:
            baseline = forecast.Forecaster(model=name, lookback=lookback, horizon=horizon, season=settings["season"],
                                           target=model.schema_.target, covariates=model.schema_.past_covariates)
            evaluation[name] = forecasts_at(baseline.fit(trained_on), series, origins)["forecast"].to_numpy()
            columns[name] = name
    season = settings["season"] or 1
    scale = {(sid, target): _naive_scale(training[sid][target].to_numpy(), season)
             for sid in series.ids for target in model.schema_.target}
    levels = _levels(evaluation)
    table = metrics_table(evaluation, columns, scale, "naive", levels)
    verdict = None
    naive_mae = float((evaluation["naive"] - evaluation["actual"]).abs().mean())
    model_mae = float((evaluation["forecast"] - evaluation["actual"]).abs().mean())
    if model_mae >= naive_mae:
        verdict = (f"The model does not beat the naive forecast on these windows: MAE {model_mae:.4g} "
                   f"against the naive forecast's {naive_mae:.4g}.")
    ends = {sid: str(model.schema_.training_end(sid)) for sid in series.ids}
    facts = {
        "data": source or series.name, "sha256": source_sha256(source or series.name),
        "rows": f"{len(series)} in {len(series.ids)} series", "time range": _time_range(series),
        "frequency": series.freq or "unknown",
        "split": (f"trained on rows up to {', '.join(sorted(set(ends.values())))}; evaluated on "
                  f"{sum(len(r) for r in origins.values())} origins after them"
                  + (f", every {stride} rows" if stride > 1 else "")),
        "model": _configuration(settings), "seed": str(settings["seed"]),
        **_versions(), "wall time": f"{model.fit_seconds_:.1f} s to fit" if getattr(model, "fit_seconds_", None) else "unknown",
    }
    sections = [forecast_section(evaluation, table, columns, levels)]
    if isinstance(evaluation["timestamp"].iloc[0], pd.Timestamp):
        sections.append(sensor_section(evaluation, columns))
    return Report(f"{settings['model']} on {series.name}", facts, verdict, sections)


# ---- a backtest run folder -------------------------------------------------------------------
def backtest_report(run: str | os.PathLike) -> Report:
    """The report of a ``forecast backtest`` run folder: forecasts against the naive forecast
    and the random walk, skill per series, and the trading simulation against buy-and-hold."""
    import yaml

    run = Path(run)
    try:
        config_text = (run / "config.yaml").read_text()
        config = yaml.safe_load(config_text)
        stats = json.loads((run / "stats.json").read_text())
        evaluation = pd.read_csv(run / "forecasts.csv", parse_dates=["origin", "timestamp"])
        equity = pd.read_csv(run / "equity.csv", index_col="time", parse_dates=True)
        trades = pd.read_csv(run / "trades.csv")
    except (OSError, ValueError, KeyError) as error:
        raise DataError(f"{run}: not a complete backtest run folder ({error})") from None
    source = config_text.splitlines()[0].removeprefix("# forecast backtest ").strip()
    returns = config.get("backtest_returns", "log")
    name = config["model"]
    columns = {name: "forecast", "naive (last value)": "naive"}
    if returns != "none":
        evaluation["random walk"] = 0.0
        columns["random walk (no change)"] = "random walk"
    walk = "random walk" if returns != "none" else "naive"
    scale = {(row["series"], row["target"]): row["mae"] / row["mase"] for row in stats["skill"]}
    levels = _levels(evaluation)
    table = metrics_table(evaluation, columns, scale, walk, levels)
    dm = [row["dm_p"] for row in stats["skill"]]
    verdict = None
    if min(dm) >= 0.05:
        verdict = (f"The model does not beat the random walk: no series' Diebold-Mariano test is "
                   f"significant at 5 % (p from {min(dm):.2g} to {max(dm):.2g}).")
    folds = stats["folds"]
    facts = {"data": source, "sha256": source_sha256(source), "rows": f"{stats['data']['rows']} in "
             f"{len(stats['data']['series'])} series ({', '.join(map(str, stats['data']['series']))})",
             "time range": f"{evaluation['origin'].min()} .. {evaluation['timestamp'].max()} (forecasts)",
             "target": (f"{returns} returns of " if returns != "none" else "") + ", ".join(config.get("target") or ["the price"]),
             "folds": f"{len(folds)} fits, {config['backtest_window']} window, refit every "
                      f"{config['backtest_refit_every'] or 'never'} rows, first forecast {folds[0]['first_forecast']}",
             "model": _configuration(config), "seed": str(config["seed"]), **_versions(),
             "wall time": f"{stats.get('wall_seconds', float('nan')):.1f} s"}
    sections = [forecast_section(evaluation, table, columns, levels),
                skill_section(stats["skill"]),
                trading_section(equity, trades, stats, config)]
    return Report(f"Backtest of {name} on {source}", facts, verdict, sections)


def report_run(run: str | os.PathLike) -> Path:
    """The report of a run folder written by ``forecast fit`` or ``forecast backtest``, into it."""
    import forecast

    run = Path(run)
    if (run / "stats.json").is_file():
        return write_report(backtest_report(run), run)
    if not (run / "model.pt").is_file():
        raise DataError(f"{run}: not a run folder of forecast fit or forecast backtest (no model.pt or stats.json)")
    text = (run / "config.yaml").read_text() if (run / "config.yaml").is_file() else ""
    comments = [line[2:] for line in text.splitlines() if line.startswith("# ")]
    source = comments[0].removeprefix("forecast fit ").split(" --config")[0].strip() if comments else ""
    if not source:
        raise DataError(f"{run}/config.yaml does not say which data the model was fitted on")
    model = forecast.load(run / "model.pt")
    for comment in comments:
        if comment.startswith("wall time "):
            model.fit_seconds_ = float(comment.split()[2])
    return write_report(fit_report(model, model.schema_.read(source), source=source), run)


# ---- sections --------------------------------------------------------------------------------
def metrics_table(evaluation: pd.DataFrame, columns: dict[str, str], scale: dict, naive: str,
                  levels: list[float] | None) -> Table:
    """One row per model: MAE, RMSE, sMAPE, MASE, R2 (pooled over series, targets and steps),
    coverage and pinball with quantiles, and the one-sided Diebold-Mariano p-value that the
    model's squared error (averaged over each origin's steps) is below the ``naive`` column's.
    The best value of each column is marked."""
    actual = evaluation["actual"].to_numpy()
    keys = list(zip(evaluation["series"], evaluation["target"]))
    scales = np.array([scale.get(k, np.nan) for k in keys])
    centred = actual - evaluation.groupby(["series", "target"])["actual"].transform("mean").to_numpy()
    names = ["MAE", "RMSE", "sMAPE %", "MASE", "R2"] + (["coverage", "pinball"] if levels else []) + [f"DM p vs {naive}"]
    rows, values = [], []
    for model, column in columns.items():
        error = evaluation[column].to_numpy() - actual
        numbers = [np.mean(np.abs(error)), np.sqrt(np.mean(error ** 2)), smape(evaluation[column], actual),
                   np.nanmean(np.abs(error) / scales), 1 - (error ** 2).sum() / (centred ** 2).sum()]
        if levels:
            numbers += _interval_scores(evaluation, levels) if column == "forecast" else [np.nan, np.nan]
        numbers.append(np.nan if column == naive else _dm_p(evaluation, column, naive))
        values.append(numbers)
        rows.append([model] + [_cell(v) for v in numbers])
    best = set()
    for j, name in enumerate(names[:-1]):
        column = np.array([row[j] for row in values], dtype=float)
        if name == "R2":
            column = -column
        elif name == "coverage":  # closest to the nominal share
            column = np.abs(column - (levels[-1] - levels[0]))
        if np.isfinite(column).any():
            best |= {(int(i), j + 1) for i in np.flatnonzero(np.isclose(column, np.nanmin(column), rtol=1e-12))}
    return Table("Errors of every model on the same windows (the best value of each column in bold, ties alike)",
                 ["model"] + names, rows, best, id="metrics")


def forecast_section(evaluation: pd.DataFrame, table: Table, columns: dict[str, str],
                     levels: list[float] | None) -> Section:
    from forecast.evaluation import plots

    steps = evaluation.groupby("step")
    by_step = pd.DataFrame({name: steps.apply(lambda g, c=column: float((g[c] - g["actual"]).abs().mean()),
                                              include_groups=False)
                            for name, column in columns.items()})
    first_key = evaluation[["series", "target"]].iloc[0]
    one = evaluation[(evaluation["series"] == first_key["series"]) & (evaluation["target"] == first_key["target"])]
    step_one = one[one["step"] == 1].set_index("timestamp")
    residual = (step_one["forecast"] - step_one["actual"]).to_numpy()
    shown = by_step if len(by_step) <= 24 else by_step.iloc[np.unique(np.linspace(0, len(by_step) - 1, 12).astype(int))]
    step_table = Table("MAE by horizon step", ["step"] + list(by_step.columns),
                       [[str(step)] + [_cell(v) for v in row] for step, row in shown.iterrows()])
    where = f"series {first_key['series']}, {first_key['target']}"
    figures = [Figure("last_windows", f"The last forecasts against the actual values ({where})",
                      plots.last_windows(one, 3, levels)),
               Figure("by_step", "MAE by horizon step", plots.by_step(by_step)),
               Figure("residuals", f"One-step residuals and their autocorrelation ({where})", plots.residuals(residual)),
               Figure("rolling_error", f"Rolling MAE of the one-step forecasts over time ({where})",
                      plots.rolling_error(step_one["forecast"] - step_one["actual"], max(5, len(step_one) // 10)))]
    text = (f"{evaluation.groupby('series')['origin'].nunique().sum()} origins, horizon "
            f"{int(evaluation['step'].max())}; errors on the data's own scale.")
    return Section("Forecast errors", text, [table, step_table], figures)


def sensor_section(evaluation: pd.DataFrame, columns: dict[str, str]) -> Section:
    """Error per variable, and by hour of day (sub-daily data) and by month."""
    from forecast.evaluation import plots

    errors = pd.DataFrame({name: (evaluation[column] - evaluation["actual"]).abs() for name, column in columns.items()})
    per_variable = errors.groupby(evaluation["target"]).mean()
    tables = [Table("MAE per variable", ["variable"] + list(per_variable.columns),
                    [[str(v)] + [_cell(x) for x in row] for v, row in per_variable.iterrows()])]
    figures = []
    stamps = pd.DatetimeIndex(evaluation["timestamp"])
    if len(stamps) > 1 and (stamps.to_series().diff().dropna().min() < pd.Timedelta(days=1)):
        by_hour = errors.groupby(stamps.hour).mean()
        figures.append(Figure("by_hour", "MAE by hour of day (of the forecast timestamp)",
                              plots.by_period(by_hour, "error by hour of day")))
    by_month = errors.groupby(stamps.month).mean()
    figures.append(Figure("by_month", "MAE by month (of the forecast timestamp)",
                          plots.by_period(by_month, "error by month")))
    tables.append(Table("MAE by month", ["month"] + list(by_month.columns),
                        [[str(m)] + [_cell(x) for x in row] for m, row in by_month.iterrows()]))
    return Section("Per variable and over the calendar", "", tables, figures)


def skill_section(skill: list[dict]) -> Section:
    rows = [[str(r["series"]), str(r["origins"]), _cell(r["mase"]), _cell(r["direction"]),
             _cell(r["direction_binomial_p"]), _cell(r["direction_pt_p"]), _cell(r["dm_p"])] for r in skill]
    text = ("Directional accuracy: share of moves whose sign the forecast called, with the one-sided "
            "binomial p-value (against a coin) and the Pesaran-Timmermann p-value (against independent "
            "forecasts with the same up/down shares). DM p: one-sided Diebold-Mariano (HLN) that the "
            "model's squared error is below the random walk's.")
    return Section("Skill against the random walk", text, [Table(
        "Per series", ["series", "origins", "MASE", "directional accuracy", "binomial p",
                       "Pesaran-Timmermann p", "DM p"], rows)])


def trading_section(equity: pd.DataFrame, trades: pd.DataFrame, stats: dict, config: dict) -> Section:
    from forecast.evaluation import plots

    strategy, hold = stats["strategy"], stats["buy_and_hold"]
    keys = ["total_return", "cagr", "volatility", "sharpe", "sortino", "max_drawdown", "max_drawdown_bars",
            "calmar", "hit_rate", "turnover", "exposure", "trades"]
    summary = Table("Strategy against buy-and-hold of the same tickers", ["statistic", "strategy", "buy-and-hold"],
                    [[k.replace("_", " "), _cell(strategy[k]), _cell(hold[k])] for k in keys])
    curve = equity["strategy"]
    drawdown = curve / np.maximum(curve.cummax(), 1.0) - 1
    returns = equity["strategy_return"]
    monthly = (1 + returns).groupby([returns.index.year, returns.index.month]).prod() - 1
    heat = monthly.unstack()
    worst = _worst_drawdowns(curve, 5)
    first_trades = trades.head(10)
    text = (f"{config['backtest_strategy']} on the sign of the forecast return, filled at the "
            f"{config['backtest_execution'].replace('_', ' ')} after the signal's bar, "
            f"{config['backtest_cost_bps']:g} bps a unit of turnover plus {config['backtest_slippage_bps']:g} bps "
            f"slippage; {strategy['periods_per_year']} bars a year, risk-free rate 0, sample std (ddof 1).")
    tables = [summary,
              Table("The five worst drawdowns", ["peak", "trough", "recovery", "depth", "bars"], worst),
              Table("The first trades", list(first_trades.columns),
                    [[_cell(v) for v in row] for row in first_trades.itertuples(index=False)])]
    figures = [Figure("equity", "Equity against buy-and-hold, linear and log scale",
                      plots.equity(curve, equity["buy_and_hold"])),
               Figure("underwater", "Drawdown from the running peak", plots.underwater(drawdown)),
               Figure("rolling_sharpe", "Rolling Sharpe ratio (63 bars)",
                      plots.rolling_sharpe(returns, 63, strategy["periods_per_year"])),
               Figure("monthly", "Monthly returns (%)", plots.monthly_heatmap(heat))]
    return Section("Trading simulation", text, tables, figures)


# ---- helpers ---------------------------------------------------------------------------------
def _worst_drawdowns(curve: pd.Series, count: int) -> list[list[str]]:
    """Peak, trough, recovery (or 'not recovered'), depth and length in bars of the deepest drawdowns."""
    peak_value, peak_at, episodes, trough = 1.0, None, [], None
    for position, (stamp, value) in enumerate(curve.items()):
        if value >= peak_value:
            if trough is not None:
                episodes.append((peak_at, trough[0], stamp, trough[1], position - trough[2]))
                trough = None
            peak_value, peak_at = value, stamp
        else:
            depth = value / peak_value - 1
            if trough is None or depth < trough[1]:
                trough = (stamp, depth, trough[2] if trough else position)
    if trough is not None:
        episodes.append((peak_at, trough[0], "not recovered", trough[1], len(curve) - trough[2]))
    episodes.sort(key=lambda e: e[3])
    return [[str(p if p is not None else "start"), str(t), str(r), f"{d:.1%}", str(n)]
            for p, t, r, d, n in episodes[:count]]


def _dm_p(evaluation: pd.DataFrame, column: str, naive: str) -> float:
    losses = pd.DataFrame({"origin": evaluation["origin"], "a": (evaluation[column] - evaluation["actual"]) ** 2,
                           "b": (evaluation[naive] - evaluation["actual"]) ** 2}).groupby("origin").mean()
    if len(losses) < 3:
        return float("nan")
    try:
        lag = min(int(evaluation["step"].max()), len(losses) - 1)
        return diebold_mariano(losses["a"], losses["b"], lag, "less").p_value
    except ValueError:  # identical forecasts: the test is undefined
        return float("nan")


def _interval_scores(evaluation: pd.DataFrame, levels: list[float]) -> list[float]:
    from forecast.evaluation.metrics import coverage, pinball

    quantiles = evaluation[[f"q{q:g}" for q in levels]].to_numpy()
    actual = evaluation["actual"].to_numpy()
    return [coverage(quantiles[:, 0], quantiles[:, -1], actual), pinball(quantiles, actual, levels)]


def _levels(evaluation: pd.DataFrame) -> list[float] | None:
    levels = sorted(float(c[1:]) for c in evaluation.columns if c.startswith("q") and c[1:].replace(".", "").isdigit())
    return levels or None


def _naive_scale(values: np.ndarray, season: int) -> float:
    """MASE's scale, or nan (shown as a dash) where the training values cannot give one."""
    try:
        return naive_scale(values, season)
    except ValueError:
        return float("nan")


def _cell(value) -> str:
    if isinstance(value, (float, np.floating)):
        return "–" if not np.isfinite(value) else f"{value:.4g}"
    return str(value)


def _time_range(series) -> str:
    first = min(frame.index[0] for frame in series.frames.values())
    last = max(frame.index[-1] for frame in series.frames.values())
    return f"{first} .. {last}"


def _configuration(settings: dict) -> str:
    keys = ("model", "lookback", "horizon", "head", "hidden_size", "patch", "highway", "revin", "quantiles",
            "max_epochs", "batch_size", "lr", "patience")
    return ", ".join(f"{k}={settings[k]}" for k in keys if k in settings and settings[k] is not None)


def _versions() -> dict[str, str]:
    import torch

    import forecast

    device = torch.cuda.get_device_name(0) if torch.cuda.is_available() else f"CPU ({platform.machine()})"
    return {"versions": f"forecast {forecast.__version__}, torch {torch.__version__}, pandas {pd.__version__}, "
                        f"python {platform.python_version()}", "device": device}
