"""The command line one step off the quickstart: every user mistake is exit 2 and one line, a
fitted model reads its data as fit did, and results go where a user expects them."""

import json
import os
import stat

import numpy as np
import pandas as pd
import pytest
import torch

from forecast.cli import main
from forecast.cli.tables import number

FAST = ["--horizon", "6", "--lookback", "24", "--max-epochs", "1", "--quiet"]


def hourly_csv(path, rows: int = 300, time_col: str = "date", promo: bool = False):
    t = np.arange(rows)
    frame = pd.DataFrame({time_col: pd.date_range("2023-01-01", periods=rows, freq="h"),
                          "y": 10 + np.sin(2 * np.pi * t / 24)})
    if promo:
        frame["promo"] = (t % 5 == 0).astype(float)
    frame.to_csv(path, index=False)
    return path


def one_line_error(capsys, code: int, fragment: str) -> str:
    captured = capsys.readouterr()
    lines = captured.err.strip().splitlines()
    assert code == 2 and len(lines) == 1 and fragment in lines[0], (code, captured.err)
    return lines[0]


@pytest.mark.parametrize("config, fragment", [
    ("val: '0.2'\n", "'val' must be a number, not '0.2'"),
    ("lr: fast\n", "'lr' must be a number, not 'fast'"),
    ("target: 5\n", "'target' must name columns (text, or a list of text), not 5"),
    ("horizon: 2.5\n", "'horizon' must be a whole number, not 2.5"),
    ("model: prophet\n", "'model' must be one of densenet-lstm"),
])
def test_bad_yaml_values_are_named(tmp_path, capsys, config, fragment):
    data = hourly_csv(tmp_path / "x.csv")
    (tmp_path / "run.yaml").write_text(config)
    code = main(["fit", str(data), "--config", str(tmp_path / "run.yaml"), "--out", str(tmp_path / "r")])
    assert f"{tmp_path / 'run.yaml'}: {fragment}" in one_line_error(capsys, code, fragment)
    assert not (tmp_path / "r").exists()


@pytest.mark.parametrize("flags, fragment", [
    (["--freq", "xyz"], "'xyz' is not a frequency"),
    (["--freq", "2h"], "frequency '2h' does not match the data"),
    (["--model", "linear", "--quantiles", "0.1,0.9"], "--quantiles needs a model with an LSTM head"),
    (["--val", "0.7", "--test", "0.4"], "--val and --test must be shares"),
])
def test_bad_flags_stop_before_training(tmp_path, capsys, flags, fragment):
    code = main(["fit", str(hourly_csv(tmp_path / "x.csv")), "--out", str(tmp_path / "r"), *FAST, *flags])
    one_line_error(capsys, code, fragment)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["x.csv"]


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has a CUDA GPU")
def test_accelerator_cuda_without_a_gpu(tmp_path, capsys):
    code = main(["fit", str(hourly_csv(tmp_path / "x.csv")), "--out", str(tmp_path / "r"),
                 "--accelerator", "cuda", *FAST])
    one_line_error(capsys, code, "--accelerator cuda: torch sees no CUDA GPU")


def test_out_must_be_a_new_folder_in_a_writable_place(tmp_path, capsys):
    data = hourly_csv(tmp_path / "x.csv")
    (tmp_path / "taken").mkdir()
    one_line_error(capsys, main(["fit", str(data), "--out", str(tmp_path / "taken"), *FAST]),
                   "is a folder that exists already")
    one_line_error(capsys, main(["fit", str(data), "--out", str(data), *FAST]),
                   "is a file that exists already")
    one_line_error(capsys, main(["fit", str(data), "--out", str(data / "run"), *FAST]),
                   f"cannot write in {data}")
    # a run killed with SIGKILL after an epoch leaves its scratch folder with a checkpoint; the next
    # run names it, never reuses it (one without a checkpoint is removed: tests/cli/test_edges.py)
    (tmp_path / ".run.partial" / "logs" / "checkpoints").mkdir(parents=True)
    (tmp_path / ".run.partial" / "logs" / "checkpoints" / "last.ckpt").write_bytes(b"")
    one_line_error(capsys, main(["fit", str(data), "--out", str(tmp_path / "run"), *FAST]),
                   f"a stopped run left {tmp_path / '.run.partial'}")


def test_hints_name_the_flags_of_the_command(tmp_path, capsys):
    path = tmp_path / "x.csv"
    pd.DataFrame({"Zeit": ["a", "b", "c"], "y": [1, 2, 3]}).to_csv(path, index=False)
    line = one_line_error(capsys, main(["data", "info", str(path)]), "no time column found")
    assert "name it with --time-col" in line and "time_col=" not in line


def test_a_model_fitted_with_read_options_reads_new_data_the_same_way(tmp_path, capsys):
    data = hourly_csv(tmp_path / "x.csv", time_col="Zeit")
    assert main(["fit", str(data), "--time-col", "Zeit", "--model", "linear", "--out",
                 str(tmp_path / "r"), *FAST]) == 0
    capsys.readouterr()
    assert main(["predict", str(tmp_path / "r" / "model.pt"), str(data)]) == 0
    rows = pd.read_csv(pd.io.common.StringIO(capsys.readouterr().out), parse_dates=["time"])
    assert rows["time"].iloc[0] == pd.Timestamp("2023-01-13 12:00") and len(rows) == 6


def test_known_future_covariates_from_a_file(tmp_path, capsys):
    data = hourly_csv(tmp_path / "x.csv", promo=True)
    assert main(["fit", str(data), "--target", "y", "--future-covariates", "promo", "--model", "lstm",
                 "--out", str(tmp_path / "r"), *FAST]) == 0
    model = str(tmp_path / "r" / "model.pt")
    capsys.readouterr()
    line = one_line_error(capsys, main(["predict", model, str(data)]), "needs promo at the 6 timestamps")
    assert "pass them as --future FILE" in line
    ahead = pd.date_range("2023-01-13 12:00", periods=6, freq="h")
    pd.DataFrame({"date": ahead, "promo": [1, 0, 0, 0, 0, 1]}).to_csv(tmp_path / "f.csv", index=False)
    assert main(["predict", model, str(data), "--future", str(tmp_path / "f.csv")]) == 0
    rows = pd.read_csv(pd.io.common.StringIO(capsys.readouterr().out), parse_dates=["time"])
    assert rows["time"].tolist() == list(ahead) and rows["forecast"].notna().all()
    pd.DataFrame({"date": ahead + pd.Timedelta(days=30), "promo": 1}).to_csv(tmp_path / "late.csv", index=False)
    one_line_error(capsys, main(["predict", model, str(data), "--future", str(tmp_path / "late.csv")]),
                   "6 of them are missing or not numbers, first 2023-01-13 12:00")


def test_a_damaged_model_file_is_one_line(tmp_path, capsys):
    data = hourly_csv(tmp_path / "x.csv")
    assert main(["fit", str(data), "--model", "linear", "--out", str(tmp_path / "r"), *FAST]) == 0
    capsys.readouterr()
    checkpoint = torch.load(tmp_path / "r" / "model.pt", weights_only=True)
    for damage in ({"schema": {"target": ["y"]}}, {"state_dict": {"weight": torch.zeros(3)}},
                   {"params": {"model": "nonsense"}}):
        torch.save({**checkpoint, **damage}, tmp_path / "bad.pt")
        one_line_error(capsys, main(["predict", str(tmp_path / "bad.pt"), str(data)]),
                       "bad.pt: damaged model file")


def test_fetched_stocks_read_back_as_two_series_and_evaluate_per_series(tmp_path, capsys, data_dir):
    target = tmp_path / "two.csv"
    assert main(["data", "fetch", "stocks:AAPL,MSFT", "--start", "2019-01-01", "-o", str(target)]) == 0
    capsys.readouterr()
    assert main(["data", "info", str(target)]) == 0
    described = capsys.readouterr().out
    assert "series: 2" in described and "Adj Close" in described
    assert main(["fit", str(target), "--target", "Adj Close", "--model", "naive", "--test", "0.3",
                 "--horizon", "5", "--lookback", "20", "--out", str(tmp_path / "r"), "--quiet"]) == 0
    capsys.readouterr()
    assert main(["evaluate", str(tmp_path / "r" / "model.pt"), str(target), "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert set(result["series"]) == {"AAPL", "MSFT"}
    assert sum(s["windows"] for s in result["series"].values()) == result["windows"]
    # the pooled MSE is the window-weighted mean of the per-series ones
    pooled = sum(s["mse"] * s["windows"] for s in result["series"].values()) / result["windows"]
    assert pooled == pytest.approx(result["mse"], rel=1e-6)


def test_progress_goes_to_stderr_and_files_follow_the_umask(tmp_path, capfd):
    data = hourly_csv(tmp_path / "x.csv")
    old = os.umask(0o022)
    try:
        assert main(["fit", str(data), "--model", "lstm", "--out", str(tmp_path / "r"), "--horizon", "6",
                     "--lookback", "24", "--max-epochs", "2", "--test", "0.2"]) == 0
    finally:
        os.umask(old)
    out, err = capfd.readouterr()
    assert out.splitlines()[0].split() == ["part", "model", "mse", "mae", "mse_scaled", "mae_scaled"]
    assert len(out.splitlines()) == 5 and "\r" not in out + err  # no progress bars anywhere
    assert "trained lstm for 2 epochs" in err  # stderr is no terminal here: one summary line
    for name in ("model.pt", "metrics.json", "config.yaml"):
        assert stat.S_IMODE((tmp_path / "r" / name).stat().st_mode) == 0o644


def test_numbers_keep_significant_digits():
    assert [number(v) for v in (0.000123456, 1234.5678, 0.37024)] == ["0.00012346", "1234.6", "0.37024"]


def test_predict_and_evaluate_do_not_import_lightning(tmp_path, capsys):
    import subprocess
    import sys

    data = hourly_csv(tmp_path / "x.csv")
    assert main(["fit", str(data), "--model", "lstm", "--out", str(tmp_path / "r"), *FAST]) == 0
    model = str(tmp_path / "r" / "model.pt")
    code = ("import sys; from forecast.cli import main\n"
            f"assert main(['predict', {model!r}, {str(data)!r}, '--out', {str(tmp_path / 'f.csv')!r}]) == 0\n"
            f"assert main(['evaluate', {model!r}, {str(data)!r}, '--all-windows']) == 0\n"
            "print('lightning' in sys.modules)")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().splitlines()[-1] == "False"  # inference needs torch only


def test_an_interrupted_fit_resumes_to_the_same_result(tmp_path, capsys, monkeypatch):
    from forecast.training.forecasting import ForecastingModule

    data = hourly_csv(tmp_path / "x.csv")
    flags = ["--model", "densenet-lstm", "--horizon", "6", "--lookback", "24", "--max-epochs", "3",
             "--patience", "10", "--quiet"]
    assert main(["fit", str(data), "--out", str(tmp_path / "whole"), *flags]) == 0

    begin = ForecastingModule.on_train_epoch_start

    def ctrl_c_in_epoch_two(self):
        if self.current_epoch == 1:
            raise KeyboardInterrupt
        begin(self)
    with monkeypatch.context() as patch:
        patch.setattr(ForecastingModule, "on_train_epoch_start", ctrl_c_in_epoch_two)
        capsys.readouterr()
        assert main(["fit", str(data), "--out", str(tmp_path / "cut"), *flags]) == 130
    assert capsys.readouterr().err.strip() == "forecast: interrupted"
    assert (tmp_path / ".cut.partial" / "logs" / "checkpoints" / "last.ckpt").is_file()
    line = one_line_error(capsys, main(["fit", str(data), "--out", str(tmp_path / "cut"), *flags]),
                          "a stopped run left")
    assert "--resume" in line
    one_line_error(capsys, main(["fit", str(data), "--out", str(tmp_path / "other"), "--resume", *flags]),
                   "--resume: no stopped run of")
    assert main(["fit", str(data), "--out", str(tmp_path / "cut"), "--resume", *flags]) == 0
    assert not (tmp_path / ".cut.partial").exists()
    whole, resumed = ((tmp_path / name / "metrics.json").read_text() for name in ("whole", "cut"))
    assert json.loads(resumed) == json.loads(whole)


# each network runs three epochs: the 2nd epoch start is network 1's second epoch, the 5th network 2's
@pytest.mark.parametrize("stop_at, trained_before, epochs_resumed", [(2, 0, [1, 2, 0, 1, 2]), (5, 1, [1, 2])],
                         ids=["in-network-1", "in-network-2"])
def test_an_interrupted_ensemble_resumes_to_the_same_result(tmp_path, capsys, monkeypatch, stop_at, trained_before,
                                                            epochs_resumed):
    from forecast.training.forecasting import ForecastingModule

    data = hourly_csv(tmp_path / "x.csv")
    flags = ["--model", "densenet-lstm", "--horizon", "6", "--lookback", "24", "--max-epochs", "3",
             "--patience", "10", "--ensemble", "2", "--quiet"]
    assert main(["fit", str(data), "--out", str(tmp_path / "whole"), *flags]) == 0
    starts, begin = [], ForecastingModule.on_train_epoch_start

    def ctrl_c(self):
        starts.append(self.current_epoch)
        if len(starts) == stop_at:
            raise KeyboardInterrupt
        begin(self)
    with monkeypatch.context() as patch:
        patch.setattr(ForecastingModule, "on_train_epoch_start", ctrl_c)
        assert main(["fit", str(data), "--out", str(tmp_path / "cut"), *flags]) == 130
    logs = tmp_path / ".cut.partial" / "logs"
    assert [(logs / f"network-{k}" / "trained.pt").is_file() for k in (1, 2)] == [k <= trained_before for k in (1, 2)]
    resumed = []
    with monkeypatch.context() as patch:  # a network read back trains no epoch again
        patch.setattr(ForecastingModule, "on_train_epoch_start",
                      lambda self: (resumed.append(self.current_epoch), begin(self)))
        assert main(["fit", str(data), "--out", str(tmp_path / "cut"), "--resume", *flags]) == 0
    assert resumed == epochs_resumed
    whole, cut = ((tmp_path / name / "metrics.json").read_text() for name in ("whole", "cut"))
    assert json.loads(cut) == json.loads(whole)
    capsys.readouterr()
    predicted = []
    for name in ("whole", "cut"):
        assert main(["predict", str(tmp_path / name), str(data)]) == 0
        predicted.append(capsys.readouterr().out)
    assert predicted[0] == predicted[1]


def test_stock_forecasts_skip_exchange_holidays(tmp_path, capsys, data_dir):
    prices = pd.read_csv(data_dir / "stocks" / "daily" / "AAPL.csv")
    cut = prices[prices["Date"] <= "2018-12-28"]  # the last session of 2018 but one
    cut.to_csv(tmp_path / "aapl.csv", index=False)
    flags = ["--target", "Adj Close", "--model", "naive", "--horizon", "20", "--lookback", "10", "--quiet"]
    assert main(["fit", str(tmp_path / "aapl.csv"), "--exchange", "XNYS", "--out", str(tmp_path / "r"),
                 *flags]) == 0
    capsys.readouterr()
    assert main(["predict", str(tmp_path / "r" / "model.pt"), str(tmp_path / "aapl.csv")]) == 0
    days = pd.read_csv(pd.io.common.StringIO(capsys.readouterr().out), parse_dates=["time"])["time"]
    # New Year's Day, Martin Luther King Jr. Day (01-21) are no sessions; a business-day grid had them
    assert days.iloc[0] == pd.Timestamp("2018-12-31") and days.iloc[1] == pd.Timestamp("2019-01-02")
    assert pd.Timestamp("2019-01-21") not in set(days) and len(days) == 20
    one_line_error(capsys, main(["data", "info", str(tmp_path / "aapl.csv"), "--exchange", "NOPE"]),
                   "unknown exchange calendar 'NOPE'")
