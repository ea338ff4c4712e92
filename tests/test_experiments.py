"""Each study runs as ``python -m experiments.<study>`` on a tiny budget, writes its records, and
its section of the summary renders from them (the real budgets are in the runners' docstrings)."""

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from experiments import records, render
from forecast.data import WindowDataset, WindowSpec

ROOT = Path(__file__).resolve().parents[1]
STUDIES = ["ltsf.run", "ltsf.ablate", "ltsf.tune", "stocks.run", "image.run", "bench.train_speed",
           "bench.backtest", "bench.windows", "bench.densenet", "reports.weather", "reports.stocks", "render"]


def run(module: str, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", f"experiments.{module}", *args], capture_output=True,
                          text=True, cwd=ROOT, timeout=600)


def rendered(study: str, folder: Path) -> str:
    """The study's section of the summary, rendered from the records in ``folder``."""
    chosen = next(s for s in render.STUDIES if s.name == study)
    return render.section(chosen, records.load(study, folder))


def test_no_study_edits_sys_path():
    sources = {path: path.read_text() for path in (ROOT / "experiments").rglob("*.py")}
    assert sources and not [path for path, text in sources.items() if "sys.path" in text]


@pytest.mark.slow
def test_every_study_starts_with_python_dash_m():
    # one interpreter runs each study's --help as `python -m` would (torch is imported once)
    script = ("import runpy, sys\n"
              "for name in sys.argv[1:]:\n"
              "    sys.argv = [name, '--help']\n"
              "    try:\n"
              "        runpy.run_module('experiments.' + name, run_name='__main__')\n"
              "    except SystemExit as stop:\n"
              "        assert stop.code in (0, None), name\n"
              "    print('--', name, 'ok')\n")
    done = subprocess.run([sys.executable, "-c", script, *STUDIES], capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    assert [line for line in done.stdout.splitlines() if line.startswith("-- ")] == [f"-- {s} ok" for s in STUDIES]
    assert done.stdout.count("usage: ") == len(STUDIES)


@pytest.mark.slow
def test_ltsf_table_writes_records_and_renders_its_verdicts(tmp_path, data_dir):
    rows = ("naive,linear (closed-form ridge),RevIN ridge (the LSTM models' untrained start),"
            "DenseNet-LSTM (RevIN and direct head)")
    done = run("ltsf.run", "--datasets", "etth1,stock:GSPC_2000-2017", "--horizons", "96", "--seeds", "0,1",
               "--epochs", "1", "--train-stride", "8", "--rows", rows, "--jobs", "2", "--records", str(tmp_path))
    assert done.returncode == 0, done.stderr[-2000:]
    written = records.load("ltsf", tmp_path)
    ridge = next(r for r in written if r["row"] == "linear (closed-form ridge)" and r["dataset"] == "etth1")
    assert round(ridge["metrics"]["mse"], 4) == 0.3702 and round(ridge["metrics"]["val_mse"], 4) == 0.6516
    assert ridge["seed"] is None and ridge["budget"] == "no training"
    assert ridge["data_sha256"]["etth1"].startswith("f18de3ad269cef59") and "--jobs 2" in ridge["command"]
    trained = [r for r in written if r["row"].startswith("DenseNet-LSTM") and r["table"] is None]
    assert sorted(r["seed"] for r in trained if r["dataset"] == "etth1") == [0, 1]
    assert {r["budget"] for r in trained} == {"every 8th training window, 1 epochs, patience 10"}
    bars = {(r["dataset"], r["against"]) for r in written if r["table"] == "verdict"}
    assert ("stock:GSPC_2000-2017", "naive") in bars and ("etth1", "RevIN ridge (the LSTM models' untrained start)") in bars
    section = rendered("ltsf", tmp_path)
    assert "| linear (closed-form ridge) | no training | 0.3702 |" in section and " ± " in section
    assert "4528 rows, split 70/10/20 by rows, data sha256 459b019459a4e443" in section


@pytest.mark.slow
def test_a_rerun_of_one_cell_replaces_only_that_cell(tmp_path, data_dir):
    def ridge_and_naive(horizons: str, rows: str) -> None:
        done = run("ltsf.run", "--datasets", "etth1", "--horizons", horizons, "--rows", rows, "--records", str(tmp_path))
        assert done.returncode == 0, done.stderr[-2000:]

    ridge_and_naive("96,192", "naive,linear (closed-form ridge)")
    before = records.load("ltsf", tmp_path)
    ridge_and_naive("192", "linear (closed-form ridge)")
    after = records.load("ltsf", tmp_path)
    assert len(after) == len(before) == 4
    changed = [(a["row"], a["horizon"]) for a, b in zip(before, after) if a != b]
    assert changed == [("linear (closed-form ridge)", 192)]  # its provenance is the new run's


@pytest.mark.slow
def test_ablation_records_each_variant_against_the_ridge_and_the_base(tmp_path, data_dir):
    done = run("ltsf.ablate", "--seeds", "0", "--epochs", "1", "--variants", "untrained,base,no-highway",
               "--records", str(tmp_path))
    assert done.returncode == 0, done.stderr[-2000:]
    written = records.load("ablation", tmp_path)
    assert round(next(r for r in written if r["row"] == "ridge")["metrics"]["val_mse"], 4) == 0.6516
    untrained = next(r for r in written if r["row"] == "untrained" and r["table"] is None)
    assert untrained["metrics"]["kept_start"] is False and untrained["metrics"]["epochs"] == 0
    against = {(r["row"], r["against"]) for r in written if r["table"] == "verdict"}
    assert ("no-highway", "base") in against and ("base", "ridge") in against and ("base", "base") not in against
    assert "| no-highway | no linear highway: the network alone |" in rendered("ablation", tmp_path)


@pytest.mark.slow
def test_search_records_every_trial_and_writes_the_config(tmp_path, data_dir):
    pytest.importorskip("optuna")
    out = tmp_path / "config.yaml"
    done = run("ltsf.tune", "--trials", "2", "--epochs", "1", "--train-stride", "16", "--out", str(out),
               "--records", str(tmp_path))
    assert done.returncode == 0, done.stderr[-2000:]
    assert "(ridge 0.6516); test windows never seen" in out.read_text()
    written = records.load("tune", tmp_path)
    assert [r["row"] for r in written] == ["closed-form ridge (the bar)", "trial 0", "trial 1"]
    assert sum(r["metrics"].get("chosen", False) for r in written) == 1
    assert "| trial 1 | etth1 " in rendered("tune", tmp_path)


@pytest.mark.slow
def test_stocks_study_records_skill_and_portfolios(tmp_path, data_dir):
    done = run("stocks.run", "--models", "linear,naive", "--tickers", "AAPL,KO", "--records", str(tmp_path))
    assert done.returncode == 0, done.stderr[-2000:]
    written = records.load("stocks", tmp_path)
    skill = [r for r in written if r["table"] == "skill"]
    # origins from row 504 to the last with a whole two-day horizon (the traded day is the second)
    assert [r["row"] for r in skill] == ["linear", "naive"] and skill[0]["metrics"]["origins"] == 753
    assert skill[0]["data_sha256"]["AAPL"].startswith("9630a128e6f227f2")
    assert any(r["row"] == "buy-and-hold" for r in written)
    assert "| linear | 753 |" in rendered("stocks", tmp_path)


@pytest.mark.slow
@pytest.mark.parametrize("study, args, row", [
    ("image.run", ["--epochs", "1"], "DenseNet-BC (L=100, k=12)"),
    ("bench.train_speed", ["--windows", "256", "--peer", "none"], "inference, 2785 test windows"),
    ("bench.backtest", ["--parts", "tickers", "--tickers", "1"], "dlinear"),
    ("bench.windows", [], "ours: SeriesDataModule + DataLoader"),
    ("bench.densenet", ["--device", "cpu", "--batch", "2", "--size", "32", "--steps", "1", "--rounds", "1"], "ours fp32"),
])
def test_bench_and_image_studies_record_a_row_each(tmp_path, data_dir, study, args, row):
    done = run(study, *args, "--records", str(tmp_path))
    assert done.returncode == 0, done.stderr[-2000:]
    name = {"image.run": "image", "bench.backtest": "backtest_speed"}.get(study, study.split(".")[-1])
    written = records.load(name, tmp_path)
    assert row in [r["row"] for r in written] and all(r["commit"] and r["machine"] for r in written)
    assert f"| {row} |" in rendered(name, tmp_path)


@pytest.mark.slow
@pytest.mark.parametrize("study, extra", [
    ("reports.weather", ["--epochs", "1", "--lookback", "24", "--horizon", "6"]),
    ("reports.stocks", ["--epochs", "1", "--tickers", "AAPL,KO"]),
])
def test_report_examples_write_a_report(tmp_path, data_dir, study, extra):
    out = tmp_path / "report"
    done = run(study, "--out", str(out), *extra)
    assert done.returncode == 0, done.stderr[-2000:]
    assert (out / "report.html").stat().st_size > 50_000 and (out / "report.md").is_file()


def test_training_flops_add_the_lstm_gates_to_the_counted_products():
    from experiments.bench.train_speed import training_flops

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
    from experiments.ltsf.protocol import encoder_only, verdict

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
