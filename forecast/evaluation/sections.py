"""The sections of a report, built from tidy forecast frames (one row per series, origin, step and
target: ``actual``, ``forecast``, ``naive``, ``q<level>``) and a backtest's equity and trades: pure
functions, no fitting."""

from __future__ import annotations

import numpy as np
import pandas as pd

from forecast.evaluation.metrics import smape
from forecast.evaluation.report import Figure, Section, Table, cell
from forecast.evaluation.skill import diebold_mariano, naive_scale
from forecast.evaluation.trading import drawdown_episodes


def metrics_table(evaluation: pd.DataFrame, columns: dict[str, str], scale: dict, naive: str,
                  levels: list[float] | None, relative: bool = True) -> Table:
    """One row per model: MAE, RMSE, sMAPE (only where relative errors mean something: not for
    returns, whose values lie near zero), MASE, R2 (pooled over series, targets and steps),
    coverage beside its nominal share and pinball with quantiles, and the one-sided
    Diebold-Mariano p-value that the model's squared error (averaged over each origin's steps)
    is below the ``naive`` column's. The best value of each column that several models have is
    marked."""
    actual = evaluation["actual"].to_numpy()
    keys = list(zip(evaluation["series"], evaluation["target"]))
    scales = np.array([scale.get(k, np.nan) for k in keys])
    centred = actual - evaluation.groupby(["series", "target"])["actual"].transform("mean").to_numpy()
    nominal = levels[-1] - levels[0] if levels else None
    names = (["MAE", "RMSE"] + (["sMAPE %"] if relative else []) + ["MASE", "R2"]
             + ([f"coverage (nominal {nominal:.2f})", "pinball"] if levels else []) + [f"DM p vs {naive}"])
    rows, values = [], []
    for model, column in columns.items():
        error = evaluation[column].to_numpy() - actual
        numbers = ([np.mean(np.abs(error)), np.sqrt(np.mean(error ** 2))]
                   + ([smape(evaluation[column], actual)] if relative else [])
                   + [np.nanmean(np.abs(error) / scales), 1 - (error ** 2).sum() / (centred ** 2).sum()])
        if levels:
            numbers += _interval_scores(evaluation, levels) if column == "forecast" else [np.nan, np.nan]
        numbers.append(np.nan if column == naive else _dm_p(evaluation, column, naive))
        values.append(numbers)
        rows.append([model] + [cell(v) for v in numbers])
    best = set()
    for j, name in enumerate(names[:-1]):
        column = np.array([row[j] for row in values], dtype=float)
        if name == "R2":
            column = -column
        if np.isfinite(column).sum() > 1:  # a value only one model has is no "best"
            best |= {(int(i), j + 1) for i in np.flatnonzero(np.isclose(column, np.nanmin(column), rtol=1e-12))}
    return Table("Errors of every model on the same windows (the best value of each column in bold, ties alike)",
                 ["model"] + names, rows, best, id="metrics")


def forecast_section(evaluation: pd.DataFrame, table: Table, columns: dict[str, str],
                     levels: list[float] | None, spacing: int = 1) -> Section:
    """Errors by step, the last forecasts, one-step residuals and rolling error; ``spacing``
    rows lie between consecutive origins."""
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
                       [[str(step)] + [cell(v) for v in row] for step, row in shown.iterrows()])
    where = f"series {first_key['series']}, {first_key['target']}"
    figures = [Figure("last_windows", f"The last forecasts against the actual values ({where})",
                      plots.last_windows(one, 3, levels))]
    if len(by_step) > 1:  # with one step the table says it all; a plot would be one dot
        figures.append(Figure("by_step", "MAE by horizon step", plots.by_step(by_step)))
    figures += [Figure("residuals", f"One-step residuals and their autocorrelation ({where})", plots.residuals(residual, spacing)),
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
                    [[str(v)] + [cell(x) for x in row] for v, row in per_variable.iterrows()])]
    figures = []
    # over the calendar, one-step forecasts only: pooling every step would mix the horizon's error
    # growth into the hours (a sawtooth of steps when origins are thinned)
    first = evaluation["step"] == 1
    errors, stamps = errors[first.to_numpy()], pd.DatetimeIndex(evaluation.loc[first, "timestamp"])
    if len(stamps) > 1 and (stamps.to_series().diff().dropna().min() < pd.Timedelta(days=1)):
        by_hour = errors.groupby(stamps.hour).mean()
        figures.append(Figure("by_hour", "MAE of the one-step forecasts by hour of day",
                              plots.by_period(by_hour, "one-step error by hour of day", "hour of the forecast timestamp")))
    by_month = errors.groupby(stamps.month).mean()
    figures.append(Figure("by_month", "MAE of the one-step forecasts by month",
                          plots.by_period(by_month, "one-step error by month", "month of the forecast timestamp")))
    tables.append(Table("MAE of the one-step forecasts by month", ["month"] + list(by_month.columns),
                        [[str(m)] + [cell(x) for x in row] for m, row in by_month.iterrows()]))
    return Section("Per variable and over the calendar", "", tables, figures)


def skill_section(skill: list[dict]) -> Section:
    rows = [[str(r["series"]), str(r["origins"]), cell(r["mase"]), cell(r["direction"]),
             cell(r["direction_binomial_p"]), cell(r["direction_pt_p"]), cell(r["dm_p"])] for r in skill]
    text = ("Directional accuracy: share of next-bar moves (step 1) whose sign the forecast called, with "
            "the one-sided binomial and Pesaran-Timmermann p-values, both against independent forecasts "
            "with the same up/down shares (a coin's 0.5 would credit the market's drift). DM p: one-sided "
            "Diebold-Mariano (HLN) that the model's squared error is below the random walk's.")
    return Section("Skill against the random walk", text, [Table(
        "Per series", ["series", "origins", "MASE", "directional accuracy", "binomial p",
                       "Pesaran-Timmermann p", "DM p"], rows)])


def trading_section(equity: pd.DataFrame, trades: pd.DataFrame, stats: dict, config: dict) -> Section:
    from forecast.evaluation import plots

    strategy, hold = stats["strategy"], stats["buy_and_hold"]
    keys = ["total_return", "cagr", "volatility", "sharpe", "sortino", "max_drawdown", "max_drawdown_bars",
            "calmar", "hit_rate", "turnover", "exposure", "trades"]
    summary = Table("Strategy against buy-and-hold of the same tickers", ["statistic", "strategy", "buy-and-hold"],
                    [[k.replace("_", " "), cell(strategy[k]), cell(hold[k])] for k in keys])
    curve = equity["strategy"]
    drawdown = curve / np.maximum(curve.cummax(), 1.0) - 1
    returns = equity["strategy_return"].dropna()  # none on the first fill's bar: its cost is in the next
    monthly = (1 + returns).groupby([returns.index.year, returns.index.month]).prod() - 1
    heat = monthly.unstack()
    worst = [[cell(p), cell(t), cell(r), f"{d:.1%}", str(n)] for p, t, r, d, n in drawdown_episodes(curve, 5)]
    first_trades = trades.head(10)
    held = f"steps 2..{config['step'] + 1}" if config.get("step", 1) > 1 else "step 2"
    text = (f"{config['positions']} on the sign of the forecast return of the held period ({held}: the "
            f"position fills at the {config['execution'].replace('-', ' ')} after the forecast's bar and is "
            f"held to the next fill), one sleeve of the equity per series; {config['cost_bps']:g} bps of the "
            f"value traded plus {config['slippage_bps']:g} bps slippage; "
            f"{stats.get('annualization', str(strategy['periods_per_year']) + ' bars a year')}, risk-free rate 0, "
            "sample std (ddof 1). Buy-and-hold: the same sleeves bought at their first order, held.")
    tables = [summary,
              Table("The five worst drawdowns", ["peak", "trough", "recovery", "depth", "bars"], worst),
              Table("The first trades", list(first_trades.columns),
                    [[cell(v) for v in row] for row in first_trades.itertuples(index=False)])]
    figures = [Figure("equity", "Equity against buy-and-hold, linear and log scale",
                      plots.equity(curve, equity["buy_and_hold"])),
               Figure("underwater", "Drawdown from the running peak", plots.underwater(drawdown)),
               Figure("rolling_sharpe", "Rolling Sharpe ratio (63 bars)",
                      plots.rolling_sharpe(returns, 63, strategy["periods_per_year"])),
               Figure("monthly", "Monthly returns (%)", plots.monthly_heatmap(heat))]
    return Section("Trading simulation", text, tables, figures)


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


def levels_of(evaluation: pd.DataFrame) -> list[float] | None:
    levels = sorted(float(c[1:]) for c in evaluation.columns if c.startswith("q") and c[1:].replace(".", "").isdigit())
    return levels or None


def safe_naive_scale(values: np.ndarray, season: int) -> float:
    """MASE's scale, or nan (shown as a dash) where the training values cannot give one."""
    try:
        return naive_scale(values, season)
    except ValueError:
        return float("nan")

