"""Each experiment runs end to end with a tiny budget (the real budgets are in their docstrings)."""

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
import yaml

from forecast.data import WindowDataset, WindowSpec

ROOT = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.slow


def run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, *args], capture_output=True, text=True, cwd=ROOT, timeout=600)


def test_ltsf_table_runs_and_gives_a_verdict(tmp_path, data_dir):
    out = tmp_path / "ltsf.md"
    rows = ("naive,linear (closed-form ridge),RevIN ridge (the LSTM models' untrained start),"
            "DenseNet-LSTM (RevIN and direct head)")
    done = run("experiments/ltsf/run.py", "--datasets", "etth1,stock:GSPC_2000-2017", "--horizons", "96",
               "--seeds", "0,1", "--epochs", "1", "--train-stride", "8", "--rows", rows, "--jobs", "2",
               "--out", str(out))
    assert done.returncode == 0, done.stderr[-2000:]
    report = out.read_text()
    assert "--jobs 2" in report  # the header records the workers; every figure below came back from them
    assert "| linear (closed-form ridge) | 0.3702 | 0.3915 |" in report  # DESIGN.md's measured figure
    assert "sha256 f18de3ad269cef59" in report and "- H=96: " in report
    assert " ± " in report  # two seeds: mean ± std
    assert "Verdicts against the untrained start" in report and "every 8th training window" in report
    # the header says what normalizes the rows that ran, not the YAML row that did not
    assert "the named LSTM-head rows have RevIN" in report and "the YAML row has" not in report
    assert "Seeds in which no epoch beat the untrained network on validation" in report
    assert report.count("Verdicts against naive") == 2
    # data the search never saw: the index's file checksum, split 70/10/20 as the LTSF papers' non-ETT sets
    assert "GSPC_2000-2017.csv sha256 459b019459a4e443, 4528 rows, split 70/10/20 by rows" in report


def test_tune_writes_a_config_from_validation(tmp_path, data_dir):
    pytest.importorskip("optuna")
    out = tmp_path / "config.yaml"
    done = run("experiments/ltsf/tune.py", "--trials", "1", "--epochs", "1", "--out", str(out))
    assert done.returncode == 0, done.stderr[-2000:]
    config = yaml.safe_load(out.read_text())
    assert config["model"] == "densenet-lstm" and config["head"] in ("direct", "seq2seq", "flatten")
    # the bar the objective divides by: the closed-form ridge's validation MSE on ETTh1-96
    assert "(ridge 0.6516); test windows never seen" in out.read_text()


def test_ablation_runs_and_compares_with_ridge_and_base(tmp_path, data_dir):
    out = tmp_path / "ablation.md"
    done = run("experiments/ltsf/ablate.py", "--seeds", "0", "--epochs", "1", "--variants", "untrained,base,no-highway",
               "--out", str(out))
    assert done.returncode == 0, done.stderr[-2000:]
    report = out.read_text()
    # validation, then test: the ridge scores 0.6516 on the validation months (tune.py's bar)
    assert "| ridge | closed form, look-back 336 | 0.6516 | 0.3702 | 0.3915 |" in report
    assert "- no-highway: seed 0: " in report and "sha256 f18de3ad269cef59" in report
    assert "| untrained | " in report and " | 0 of 1 | " in report  # max_epochs 0 keeps nothing


def test_stocks_backtest_reports_skill_and_portfolios(tmp_path, data_dir):
    out = tmp_path / "stocks.md"
    done = run("experiments/stocks/run.py", "--models", "linear,naive", "--tickers", "AAPL,KO", "--out", str(out))
    assert done.returncode == 0, done.stderr[-2000:]
    report = out.read_text()
    assert "| linear | " in report and "| buy-and-hold | " in report and "754 origins each" in report
    assert "BH " in report and "sha256 9630a128e6f227f2" in report


def test_backtest_bench_runs_beside_darts_or_says_it_is_missing(tmp_path, data_dir):
    out = tmp_path / "speed.md"
    done = run("experiments/bench/backtest.py", "--parts", "darts", "--out", str(out))
    assert done.returncode == 0, done.stderr[-2000:]
    report = out.read_text()
    assert "(b) refit every 63 rows (12 fits), 754 origins" in report


@pytest.mark.parametrize("script, extra", [
    ("experiments/reports/weather.py", ["--epochs", "1", "--lookback", "24", "--horizon", "6"]),
    ("experiments/reports/stocks.py", ["--epochs", "1", "--tickers", "AAPL,KO"]),
])
def test_report_examples_write_a_report(tmp_path, data_dir, script, extra):
    out = tmp_path / "report"
    done = run(script, "--out", str(out), *extra)
    assert done.returncode == 0, done.stderr[-2000:]
    assert (out / "report.html").stat().st_size > 50_000 and (out / "report.md").is_file()


def test_train_speed_bench_gives_ratios_against_the_plain_loop(tmp_path, data_dir):
    out = tmp_path / "speed.md"
    done = run("experiments/bench/train_speed.py", "--windows", "256", "--peer", "none", "--out", str(out))
    assert done.returncode == 0, done.stderr[-2000:]
    report = out.read_text()
    # the YAML trains channel-independent: each of ETTh1's 7 channels of a window is a sample
    assert "| etth1 | training, one epoch of 256 windows (1792 samples" in report
    assert "| etth1 | inference, 2785 test windows" in report
    assert "sha256 etth1 f18de3ad269cef59" in report
    assert "MFLOP per training window; ours achieves" in report


def test_training_flops_add_the_lstm_gates_to_the_counted_products():
    sys.path.insert(0, str(ROOT / "experiments" / "bench"))
    from train_speed import training_flops

    class Tiny(torch.nn.Module):  # one LSTM (not counted by torch) and one linear map (counted)
        def __init__(self):
            super().__init__()
            self.lstm = torch.nn.LSTM(3, 5, batch_first=True)
            self.out = torch.nn.Linear(5 * 7, 2 * 3)

        def forward(self, x, f):
            return self.out(self.lstm(x)[0].flatten(1)).view(-1, 2, 3)

    inputs = torch.randn(60, 3)
    windows = WindowDataset(inputs, np.arange(7, 50), WindowSpec(7, 2), inputs)
    gates = 2 * 7 * 4 * 5 * (3 + 5)  # per window, forward
    linear = 2 * 35 * 6  # per window, forward; its backward counts twice that (input and weight)
    assert training_flops(Tiny(), windows) == 3 * gates + 3 * linear


def test_verdict_against_a_trained_row_pairs_its_seeds():
    sys.path.insert(0, str(ROOT / "experiments" / "ltsf"))
    from run import encoder_only, verdict

    rng = np.random.default_rng(0)
    plain = [{"mse": rng.gamma(2.0, 0.2, 400) + offset} for offset in (0.0, 0.5, 1.0)]
    encoder = [{"mse": 0.9 * run["mse"]} for run in plain]  # 10 % below its own seed of the plain row
    assert verdict(encoder, plain, horizon=4).startswith("better (DM p <= ")
    # against the plain row's first seed alone, the third seed is far worse: pairing is what decides
    assert verdict(encoder, plain[:1], horizon=4).startswith("level (gap +")
    assert verdict(plain, plain, horizon=4).startswith("level (the same forecasts in every seed")
    assert encoder_only("DenseNet-LSTM (RevIN and direct head)") and encoder_only("ResNet1D-LSTM")
    assert not any(encoder_only(row) for row in ("LSTM", "DenseNet-LSTM (channel-independent)",
                                                 "DenseNet-LSTM (configs/densenet-lstm.yaml)",
                                                 "RevIN ridge (the LSTM models' untrained start)"))
