"""The `forecast` commands run as a user runs them: in a subprocess, on real files. The many
refusals of malformed input run through the same ``main()`` in this process (an interpreter
start-up each would cost minutes of CI)."""

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from helpers import CORPUS

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[2]
FAST = ["--max-epochs", "1", "--batch-size", "64", "--quiet"]


def run(*args: str, env: dict | None = None, cwd: Path | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "forecast.cli", *args], capture_output=True, text=True,
                          env={**os.environ, **(env or {})}, cwd=cwd, timeout=600)


@pytest.fixture
def in_process(capsys):
    """``run`` without the subprocess: ``main(args)``'s exit code and output."""
    from forecast.cli import main

    def call(*args: str) -> subprocess.CompletedProcess:
        capsys.readouterr()
        code = main(list(args))
        out, err = capsys.readouterr()
        return subprocess.CompletedProcess(args, code, out, err)
    return call


def assert_clean_failure(done: subprocess.CompletedProcess, fragment: str) -> None:
    assert done.returncode == 2, (done.returncode, done.stderr)
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and fragment in lines[0], done.stderr
    assert "Traceback" not in done.stderr


@pytest.fixture(scope="module")
def etth1_run(tmp_path_factory, data_dir):
    out = tmp_path_factory.mktemp("runs") / "etth1"
    done = run("fit", str(data_dir / "ett" / "ETTh1.csv"), "--target", "OT", "--horizon", "24",
               "--lookback", "96", "--model", "densenet-lstm", "--head", "direct", "--seed", "3",
               "--test", "0.15", "--out", str(out), *FAST)
    assert done.returncode == 0, done.stderr[-2000:]
    return out, done


def test_fit_writes_model_metrics_and_config(etth1_run, data_dir):
    out, done = etth1_run
    assert {p.name for p in out.iterdir()} >= {"model.pt", "metrics.json", "config.yaml", "logs"}
    metrics = json.loads((out / "metrics.json").read_text())
    assert set(metrics) == {"val", "test"}
    # 17,420 rows: 11,323 train, 3,484 val, 2,613 test; windows of 24 steps start in each part
    assert metrics["val"]["windows"] == 3461 and metrics["test"]["windows"] == 2590
    for part in metrics.values():  # started at the ridge solution, the model beats repeat-last
        assert part["mse"] < part["naive_mse"]
    import yaml
    config = yaml.safe_load((out / "config.yaml").read_text())
    assert config["target"] == ["OT"] and config["horizon"] == 24 and config["seed"] == 3
    assert config["max_epochs"] == 1
    text = (out / "config.yaml").read_text()
    assert text.splitlines()[0].startswith("# forecast fit ") and "ETTh1.csv" in text.splitlines()[0]
    manifest = json.loads((out / "run.json").read_text())
    assert manifest["kind"] == "fit" and manifest["data"]["sha256"].startswith("f18de3ad269cef59")
    assert manifest["data"]["path"] == str((data_dir / "ett" / "ETTh1.csv").resolve())
    assert manifest["settings"]["model"]["lookback"] == 96 and manifest["settings"]["runtime"]["accelerator"] == "auto"
    assert manifest["splits"]["ETTh1"]["test"]["rows"] == 2613 and manifest["timings"]["fit_seconds"] > 0
    # the run repeats from its config file
    again = run("fit", str(data_dir / "ett" / "ETTh1.csv"), "--config", str(out / "config.yaml"),
                "--model", "naive", "--out", str(out.parent / "again"))
    assert again.returncode == 0, again.stderr
    assert json.loads((out.parent / "again" / "metrics.json").read_text())["test"]["windows"] == 2590
    assert "naive" in done.stdout and "Traceback" not in done.stderr


def test_predict_continues_the_hourly_series_from_the_model_file_or_its_run_folder(etth1_run, data_dir,
                                                                                   tmp_path, in_process):
    out, _ = etth1_run
    target = tmp_path / "forecast.csv"
    done = run("predict", str(out / "model.pt"), str(data_dir / "ett" / "ETTh1.csv"), "--out", str(target))
    assert done.returncode == 0, done.stderr
    rows = pd.read_csv(target, parse_dates=["time"])
    assert len(rows) == 24 * 1 and list(rows.columns) == ["time", "target", "forecast"]
    assert rows["time"].iloc[0] == pd.Timestamp("2018-06-26 20:00")
    assert (rows["time"].diff().dropna() == pd.Timedelta(hours=1)).all()
    assert rows["forecast"].notna().all() and (rows["target"] == "OT").all()
    to_stdout = run("predict", str(out / "model.pt"), str(data_dir / "ett" / "ETTh1.csv"))
    assert to_stdout.stdout.splitlines()[0] == "time,target,forecast" and len(to_stdout.stdout.splitlines()) == 25
    from_folder = in_process("predict", str(out), str(data_dir / "ett" / "ETTh1.csv"))
    assert from_folder.returncode == 0 and from_folder.stdout == to_stdout.stdout, from_folder.stderr


def test_evaluate_prints_a_table_and_json(etth1_run, data_dir):
    out, _ = etth1_run
    table = run("evaluate", str(out / "model.pt"), str(data_dir / "ett" / "ETTh1.csv"))
    # val 0.2 + test 0.15: 11,323 training and 3,484 validation rows; held out: the windows whose
    # forecast starts after both
    after = 17420 - 24 - (11323 + 3484) + 1
    assert table.returncode == 0 and "naive" in table.stdout, table.stderr
    assert f"windows: {after} (held out: after every row that training and validation saw)" in table.stdout
    as_json = json.loads(run("evaluate", str(out / "model.pt"), str(data_dir / "ett" / "ETTh1.csv"),
                             "--json").stdout)
    assert as_json["windows"] == after and not as_json["in_sample"]
    metrics = json.loads((out / "metrics.json").read_text())
    # the held-out windows are the test windows of the fit, nothing else
    assert metrics["test"]["windows"] == after and as_json["mse"] == pytest.approx(metrics["test"]["mse"], rel=1e-6)
    every = run("evaluate", str(out / "model.pt"), str(data_dir / "ett" / "ETTh1.csv"), "--all-windows")
    assert "windows: 17301 (every window, in-sample)" in every.stdout


def test_stock_forecast_uses_business_days(tmp_path, data_dir):
    out = tmp_path / "aapl"
    done = run("fit", "stock:AAPL", "--target", "Adj Close", "--horizon", "5", "--lookback", "60",
               "--model", "linear", "--out", str(out), *FAST)
    assert done.returncode == 0, done.stderr
    forecast_csv = tmp_path / "aapl.csv"
    assert run("predict", str(out / "model.pt"), str(data_dir / "stocks" / "daily" / "AAPL.csv"),
               "--out", str(forecast_csv)).returncode == 0
    rows = pd.read_csv(forecast_csv, parse_dates=["time"])
    assert rows["time"].tolist() == list(pd.bdate_range("2020-01-13", periods=5))
    last = pd.read_csv(data_dir / "stocks" / "daily" / "AAPL.csv")["Adj Close"].iloc[-1]
    assert rows["forecast"].between(0.9 * last, 1.1 * last).all()  # a week ahead stays near the price


def test_quantile_columns_and_a_yaml_config_with_flag_override(tmp_path, data_dir, in_process):
    config = tmp_path / "run.yaml"
    config.write_text("target: OT\nhorizon: 12\nlookback: 48\nmodel: lstm\nhead: direct\n"
                      "quantiles: [0.1, 0.5, 0.9]\nmax_epochs: 1\nbatch_size: 64\n")
    out = tmp_path / "q"
    done = run("fit", str(data_dir / "ett" / "ETTh1.csv"), "--config", str(config), "--horizon", "6",
               "--out", str(out), "--quiet")
    assert done.returncode == 0, done.stderr
    rows = pd.read_csv(pd.io.common.StringIO(run("predict", str(out / "model.pt"),
                                                 str(data_dir / "ett" / "ETTh1.csv")).stdout))
    assert list(rows.columns) == ["time", "target", "forecast", "q0.1", "q0.5", "q0.9"]
    assert len(rows) == 6 and (rows["q0.1"] <= rows["q0.9"]).all()
    bad = tmp_path / "bad.yaml"
    bad.write_text("horizn: 12\n")
    assert_clean_failure(in_process("fit", str(data_dir / "ett" / "ETTh1.csv"), "--config", str(bad),
                             "--out", str(tmp_path / "x")), "unknown setting 'horizn'")


@pytest.mark.parametrize("name, content, options, message", CORPUS, ids=[c[0] for c in CORPUS])
def test_fit_rejects_malformed_csv_and_leaves_nothing(tmp_path, in_process, name, content, options, message):
    path = tmp_path / f"{name}.csv"
    path.write_text(content, newline="")
    out = tmp_path / "run"
    flags = ["--horizon", "1", "--lookback", str(options["min_rows"] - 1)] if "min_rows" in options else \
        ["--horizon", "1", "--lookback", "1"]
    if "target" in options:
        flags += ["--target", options["target"]]
    done = in_process("fit", str(path), "--out", str(out), "--model", "naive", *flags, *FAST)
    assert_clean_failure(done, message)
    assert not out.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == [f"{name}.csv"], "no stray files left"


def test_predict_rejects_malformed_csv_and_other_columns(etth1_run, tmp_path, write_csv, in_process):
    out, _ = etth1_run
    for name, content, _, message in CORPUS[:8]:
        path = tmp_path / f"{name}.csv"
        path.write_text(content, newline="")
        target = tmp_path / f"{name}-forecast.csv"
        done = in_process("predict", str(out / "model.pt"), str(path), "--out", str(target))
        assert done.returncode == 2 and "Traceback" not in done.stderr, done.stderr
        assert len(done.stderr.strip().splitlines()) == 1 and not target.exists()
    other = write_csv("date,price\n" + "".join(f"2020-01-{d:02d},{d}\n" for d in range(1, 29)), "other.csv")
    done = in_process("predict", str(out / "model.pt"), str(other))
    assert_clean_failure(done, "column 'OT' not found")
    assert "the model was trained on OT" in done.stderr


def test_missing_model_and_bad_flags(tmp_path, data_dir, in_process):
    assert_clean_failure(in_process("predict", str(tmp_path / "none.pt"), str(data_dir / "ett" / "ETTh1.csv")),
                         "no such model file")
    assert_clean_failure(in_process("evaluate", str(tmp_path), str(data_dir / "ett" / "ETTh1.csv")),
                         f"{tmp_path}: a folder without model.pt")
    done = in_process("fit", str(data_dir / "ett" / "ETTh1.csv"), "--out", str(tmp_path / "r"), "--horizon", "0")
    assert_clean_failure(done, "--horizon must be a positive whole number")
    done = in_process("fit", str(data_dir / "ett" / "ETTh1.csv"), "--out", str(tmp_path / "r"), "--train-stride", "0")
    assert_clean_failure(done, "--train-stride must be a positive whole number")
    assert run("fit", "x.csv").returncode == 2  # --out is required: argparse's usage error


def test_data_fetch_writes_a_csv(tmp_path, data_dir):
    target = tmp_path / "aapl.csv"
    done = run("data", "fetch", "stock:AAPL", "--start", "2019-01-01", "-o", str(target))
    assert done.returncode == 0, done.stderr
    frame = pd.read_csv(target, parse_dates=["date"])
    assert frame["date"].iloc[0] == pd.Timestamp("2019-01-02") and "Adj Close" in frame.columns
    assert_clean_failure(run("data", "fetch", "nope", "-o", str(tmp_path / "n.csv")), "unknown dataset 'nope'")


def _readme_commands() -> list[str]:
    text = (ROOT / "README.md").read_text()
    blocks = re.findall(r"```(?:bash|sh)\n(.*?)```", text, flags=re.S)
    return [line.strip() for block in blocks for line in block.splitlines()
            if line.strip().startswith("forecast ")]


def test_readme_commands_run(tmp_path, data_dir):
    commands = _readme_commands()
    assert any(c.startswith("forecast demo") for c in commands) and any(" fit " in f" {c} " for c in commands)
    (tmp_path / "ETTh1.csv").write_bytes((data_dir / "ett" / "ETTh1.csv").read_bytes())
    for command in commands:
        args = command.split()[1:]
        done = run(*args, env={"FORECAST_MAX_EPOCHS": "1"}, cwd=tmp_path)
        assert done.returncode == 0, (command, done.stderr[-1500:])


def test_etth1_comes_from_the_package_when_offline_and_absent(monkeypatch, tmp_path):
    import hashlib
    import urllib.error
    import urllib.request

    from forecast.data.registry import DATASETS, dataset_path

    def offline(*args, **kwargs):
        raise urllib.error.URLError("network is unreachable")
    monkeypatch.setattr(urllib.request, "urlopen", offline)
    monkeypatch.setenv("FORECAST_DATA_DIR", str(tmp_path / "empty"))
    monkeypatch.setenv("FORECAST_CACHE_DIR", str(tmp_path / "cache"))
    path = dataset_path("etth1")
    assert path.parent.parent == tmp_path / "cache"
    assert hashlib.sha256(path.read_bytes()).hexdigest() == DATASETS["etth1"].sha256
