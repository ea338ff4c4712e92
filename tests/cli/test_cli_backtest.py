"""`forecast backtest`: the run folder, its numbers, next-bar fills, and clean failures."""

import json

import numpy as np
import pandas as pd
import pytest
import yaml

from forecast.cli import main

FAST = ["--model", "linear", "--lookback", "10", "--quiet"]


def prices_csv(path, rows: int = 200, tickers: tuple[str, ...] = ("AAA",)):
    """Daily bars in yfinance's layout, Close and Adj Close differing by a constant factor."""
    frames = []
    for k, ticker in enumerate(tickers):
        rng = np.random.default_rng(k)
        close = 50 * np.exp(np.cumsum(0.01 * rng.normal(size=rows)))
        frames.append(pd.DataFrame({"Date": pd.bdate_range("2020-01-01", periods=rows), "Open": close * 0.995,
                                    "Close": close, "Adj Close": close * 0.9, "unique_id": ticker}))
    frame = pd.concat(frames)
    if len(tickers) == 1:
        frame = frame.drop(columns="unique_id")
    frame.to_csv(path, index=False)
    return path


def test_backtest_writes_forecasts_equity_trades_stats_and_config(tmp_path, capsys):
    data = prices_csv(tmp_path / "p.csv")
    out = tmp_path / "run"
    code = main(["backtest", str(data), *FAST, "--start", "100", "--refit-every", "30", "--out", str(out)])
    assert code == 0, capsys.readouterr().err
    forecasts = pd.read_csv(out / "forecasts.csv", parse_dates=["origin", "timestamp"])
    # rows of the 199 returns: origins 100..197 (the default horizon is 2: a next-close fill earns
    # the forecast's step 2), refits every 30 rows
    assert len(forecasts) == 2 * 98 and forecasts["fold"].nunique() == 4
    prices = pd.read_csv(data, index_col="Date", parse_dates=True)["Adj Close"]
    expected = np.log(prices / prices.shift(1)).loc[forecasts["timestamp"]].to_numpy()
    np.testing.assert_allclose(forecasts["actual"], expected, rtol=1e-12)
    stats = json.loads((out / "stats.json").read_text())
    assert {"strategy", "buy_and_hold", "skill", "folds"} <= set(stats)
    assert stats["skill"][0]["origins"] == 98 and 0 <= stats["skill"][0]["dm_p"] <= 1
    assert stats["annualization"] == "252 bars a year: exchange sessions, no weekend bars"
    # 100 training rows of returns less the look-back and horizon: the first fit has few windows, and says so
    assert stats["warnings"] == ["fold 0 trained on 89 windows (fewer than 100): its forecasts are weakly fitted"]
    equity = pd.read_csv(out / "equity.csv", index_col="time", parse_dates=True)
    assert equity["strategy"].iloc[-1] == pytest.approx(1 + stats["strategy"]["total_return"])
    config = yaml.safe_load((out / "config.yaml").read_text())
    assert config["refit_every"] == 30 and config["lookback"] == 10
    assert "strategy" in capsys.readouterr().out


def test_trades_fill_at_the_close_after_the_signal(tmp_path, capsys):
    data = prices_csv(tmp_path / "p.csv")
    out = tmp_path / "run"
    assert main(["backtest", str(data), *FAST, "--start", "150", "--cost-bps", "0", "--out", str(out)]) == 0
    forecasts = pd.read_csv(out / "forecasts.csv", parse_dates=["origin"]).set_index("origin")
    trades = pd.read_csv(out / "trades.csv", parse_dates=["time"])
    days = pd.bdate_range("2020-01-01", periods=200)
    first = trades.iloc[0]
    # the first trade is a buy one bar after the first origin whose forecast of the held bar (its
    # step 2: from the fill's close to the next) was positive
    held = forecasts[forecasts["step"] == 2]
    signal_bar = held.index[held["forecast"] > 0][0]
    assert first["time"] == days[days.get_loc(signal_bar) + 1] and first["value"] > 0


def test_next_open_needs_open_and_close_and_several_tickers_share_the_equity(tmp_path, capsys):
    data = prices_csv(tmp_path / "p.csv", tickers=("AAA", "BBB"))
    out = tmp_path / "run"
    code = main(["backtest", str(data), *FAST, "--start", "0.6", "--execution", "next-open",
                 "--positions", "long-short", "--out", str(out)])
    assert code == 0, capsys.readouterr().err
    trades = pd.read_csv(out / "trades.csv")
    # each ticker a sleeve of half the equity: its first fill takes that half (less the fee)
    first = trades.groupby("ticker")["weight"].first().abs()
    assert set(trades["ticker"]) == {"AAA", "BBB"} and first.tolist() == pytest.approx([0.5, 0.5], abs=1e-3)
    capsys.readouterr()
    bare = tmp_path / "bare.csv"
    pd.read_csv(prices_csv(tmp_path / "q.csv")).drop(columns=["Open"]).to_csv(bare, index=False)
    code = main(["backtest", str(bare), *FAST, "--execution", "next-open", "--out", str(tmp_path / "r")])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1 and "Open" in err[0]
    assert not (tmp_path / "r").exists()


@pytest.mark.parametrize("flags, fragment", [
    (["--start", "2031-01-01"], "outside the data"),
    (["--start", "1.5"], "--start 1.5"),
    (["--step", "0"], "--step"),
    (["--window", "sliding"], "--train-length"),
    (["--target", "Volume"], "Volume"),
    (["--target", "Open,Close"], "one price column"),
    (["--cost-bps", "-1"], "--cost-bps"),
    (["--horizon", "1"], "--horizon 2"),  # a next-close fill earns the forecast's step 2
    (["--step", "5", "--horizon", "3"], "--horizon 6"),
    (["--fill", "interpolate"], "from the past only"),
    (["--jobs", "0"], "--jobs"),
    (["--scheduler", "tcp://127.0.0.1:9"], "cannot reach tcp://127.0.0.1:9"),
])
def test_bad_input_is_one_line_exit_2_and_nothing_written(tmp_path, capsys, flags, fragment):
    data = prices_csv(tmp_path / "p.csv")
    out = tmp_path / "run"
    code = main(["backtest", str(data), *FAST, *flags, "--out", str(out)])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1 and fragment in err[0], err
    assert not out.exists() and not (tmp_path / ".run.partial").exists()


def test_non_positive_prices_are_named(tmp_path, capsys):
    data = prices_csv(tmp_path / "p.csv")
    frame = pd.read_csv(data)
    frame.loc[120, "Adj Close"] = 0.0
    frame.to_csv(data, index=False)
    code = main(["backtest", str(data), *FAST, "--out", str(tmp_path / "run")])
    err = capsys.readouterr().err.strip()
    assert code == 2 and "non-positive price 0" in err and "2020-06-17" in err


def test_volatility_sizing_and_parallel_folds_from_the_command_line(tmp_path, capsys):
    data = prices_csv(tmp_path / "p.csv", tickers=("AAA", "BBB"))
    runs = {}
    for name, flags in (("one", []), ("two", ["--jobs", "2"])):
        out = tmp_path / name
        assert main(["backtest", str(data), *FAST, "--start", "120", "--refit-every", "20", "--sizing", "vol",
                     "--positions", "long-short", "--out", str(out)] + flags) == 0, capsys.readouterr().err
        runs[name] = pd.read_csv(out / "forecasts.csv")
        trades = pd.read_csv(out / "trades.csv")
        # sized by forecast over volatility: fractions of a sleeve, never more than one
        assert 0 < trades["weight"].abs().max() <= 0.5 + 1e-9 and trades["weight"].abs().min() < 0.25
    pd.testing.assert_frame_equal(runs["one"], runs["two"])


def test_a_skill_test_that_cannot_run_is_a_note_not_a_failure():
    from forecast.evaluation.skill import random_walk_skill

    frame = pd.DataFrame({"series": "x", "target": "r", "origin": [0, 1], "step": 1, "naive": 0.0,
                          "actual": [0.01, -0.02], "forecast": [0.02, -0.01]})
    row = random_walk_skill(frame, {"x": pd.DataFrame({"r": [0.01, 0.02, -0.01]})}, "zero").iloc[0]
    assert np.isnan(row["dm_p"]) and "Diebold-Mariano" in row["note"] and row["direction"] == 1.0
