"""One run, defined once: a file read by fit is read alike by predict, evaluate and report; the
tuned YAML configuration and a run's own config.yaml are accepted; a model keeps no runtime."""

import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

import forecast
from forecast.cli import main
from forecast.cli.use import long_rows

ROOT = Path(__file__).resolve().parents[2]
SMALL = ["--model", "linear", "--horizon", "6", "--lookback", "24", "--quiet"]


def odd_csv(path: Path, rows: int = 300) -> Path:
    """Time column last, day-first dates, decimal commas, semicolons: as a German export writes it."""
    t = np.arange(rows)
    stamps = pd.date_range("2024-01-01", periods=rows, freq="h")
    values = 10 + np.sin(2 * np.pi * t / 24) + 0.01 * t
    lines = ["Wert;Zeit"] + [f"{v:.4f}".replace(".", ",") + f";{s:%d.%m.%Y %H:%M}" for v, s in zip(values, stamps)]
    path.write_text("\n".join(lines) + "\n")
    return path


def test_an_odd_file_fitted_with_read_flags_is_read_back_without_them(tmp_path, capsys):
    data, run = odd_csv(tmp_path / "odd.csv"), tmp_path / "run"
    assert main(["fit", str(data), "--time-col", "Zeit", "--date-format", "%d.%m.%Y %H:%M", "--decimal", ",",
                 "--test", "0.2", "--out", str(run), *SMALL]) == 0
    assert forecast.load(run / "model.pt").schema_.read_options == {
        "time_col": "Zeit", "date_format": "%d.%m.%Y %H:%M", "decimal": ","}
    capsys.readouterr()
    assert main(["predict", str(run / "model.pt"), str(data)]) == 0
    rows = pd.read_csv(pd.io.common.StringIO(capsys.readouterr().out))
    assert list(rows["time"])[:2] == ["2024-01-13 12:00:00", "2024-01-13 13:00:00"] and len(rows) == 6
    assert main(["evaluate", str(run / "model.pt"), str(data), "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["part"] == "held out" and result["windows"] == 300 - 240 - 6 + 1
    assert main(["report", str(run)]) == 0 and (run / "report.html").is_file()
    markdown = (run / "report.md").read_text()
    assert "# linear on odd.csv" in markdown and "scored: held out" in markdown


def test_the_tuned_yaml_configuration_trains_from_the_command_line(tmp_path, monkeypatch):
    monkeypatch.setenv("FORECAST_MAX_EPOCHS", "1")
    data = tmp_path / "small.csv"
    t = np.arange(400)
    pd.DataFrame({"time": pd.date_range("2024-01-01", periods=400, freq="h"),
                  "a": np.sin(2 * np.pi * t / 24), "b": np.cos(2 * np.pi * t / 24)}).to_csv(data, index=False)
    config = ROOT / "experiments" / "configs" / "densenet-lstm.yaml"
    assert main(["fit", str(data), "--config", str(config), "--horizon", "12", "--lookback", "48",
                 "--quiet", "--out", str(tmp_path / "run")]) == 0
    model = forecast.load(tmp_path / "run" / "model.pt")
    tuned = yaml.safe_load(config.read_text())
    assert model.head == tuned["head"] == "flatten" and model.channel_independent and model.horizon == 12
    assert model.patch_stride == tuned["patch_stride"] and model.lr == pytest.approx(tuned["lr"])
    assert model.batch_size == tuned["batch_size"]


def test_a_runs_config_yaml_reruns_it_exactly(tmp_path, capsys):
    data, first, again = odd_csv(tmp_path / "odd.csv"), tmp_path / "first", tmp_path / "again"
    assert main(["fit", str(data), "--time-col", "Zeit", "--dayfirst", "--decimal", ",", "--val", "0.3",
                 "--out", str(first), *SMALL]) == 0
    assert main(["fit", str(data), "--config", str(first / "config.yaml"), "--out", str(again)]) == 0
    settings = [yaml.safe_load((run / "config.yaml").read_text()) for run in (first, again)]
    assert settings[0] == settings[1] and settings[0]["dayfirst"] is True and settings[0]["val"] == 0.3
    capsys.readouterr()
    forecasts = []
    for run in (first, again):
        assert main(["predict", str(run / "model.pt"), str(data)]) == 0
        forecasts.append(capsys.readouterr().out)
    assert forecasts[0] == forecasts[1]


def test_runtime_settings_are_not_part_of_a_model(tmp_path, monkeypatch):
    if importlib.util.find_spec("tensorboard") is None:
        pytest.skip("needs the tensorboard extra to fit with it")
    frame = pd.DataFrame({"y": np.sin(np.arange(200) / 4)}, index=pd.date_range("2024-01-01", periods=200, freq="h"))
    model = forecast.Forecaster(model="dlinear", lookback=24, horizon=4, max_epochs=1, logger="tensorboard",
                                accelerator="cpu", log_dir=str(tmp_path / "logs")).fit(frame)
    path, expected = model.save(tmp_path / "model.pt"), model.predict(frame)
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "tensorboard" else real(name, *a))
    loaded = forecast.load(path)  # a machine without TensorBoard
    assert loaded.logger == "csv" and loaded.accelerator == "auto" and loaded.log_dir is None
    pd.testing.assert_frame_equal(loaded.predict(frame), expected)


def test_report_of_a_loaded_model_without_data_is_one_line(tmp_path):
    frame = pd.DataFrame({"y": np.sin(np.arange(200) / 4)}, index=pd.date_range("2024-01-01", periods=200, freq="h"))
    loaded = forecast.load(forecast.Forecaster(model="linear", lookback=24, horizon=4).fit(frame).save(tmp_path / "m.pt"))
    with pytest.raises(forecast.DataError, match="^a loaded model keeps no data: pass the data to report on$"):
        forecast.report(loaded, tmp_path / "report")


def test_quantile_columns_are_matched_exactly():
    index = pd.date_range("2024-01-01", periods=2, freq="h", name="time")
    frame = pd.DataFrame({"sales": [1.0, 2.0], "sales_q0.1": [0.5, 1.5], "sales_q0.5": [1.0, 2.0],
                          "sales_qty": [9.0, 8.0], "sales_qty_q0.1": [7.0, 6.0], "sales_qty_q0.5": [9.0, 8.0]},
                         index=index)
    rows = long_rows(frame, ["sales", "sales_qty"], [0.1, 0.5])
    assert list(rows.columns) == ["time", "target", "forecast", "q0.1", "q0.5"]
    sales = rows[rows["target"] == "sales"]
    assert sales["q0.1"].tolist() == [0.5, 1.5] and sales["forecast"].tolist() == [1.0, 2.0]


def test_reports_leave_the_callers_matplotlib_alone(tmp_path):
    script = f"""
import matplotlib
matplotlib.use("svg")
import matplotlib.pyplot as plt
import numpy as np, pandas as pd, forecast
mine = plt.figure()
frame = pd.DataFrame({{"y": np.sin(np.arange(300) / 4)}}, index=pd.date_range("2024-01-01", periods=300, freq="h"))
model = forecast.Forecaster(model="linear", lookback=24, horizon=4).fit(frame, test=0.2)
forecast.report(model, {str(tmp_path)!r})
print(matplotlib.get_backend(), plt.get_fignums(), plt.gcf() is mine)
"""
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.split() == ["svg", "[1]", "True"]  # the caller's backend and figures, untouched
    assert (tmp_path / "report_files" / "by_step.png").is_file()
