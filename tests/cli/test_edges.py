"""Edges a new user tries (issue "every edge a new user tries"): each finding as a test."""

import json
import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import forecast
from forecast.cli import main

SMALL = ["--model", "linear", "--horizon", "6", "--lookback", "24", "--quiet"]


def hourly(path: Path, rows: int = 300, drop: tuple = ()) -> Path:
    t = np.arange(rows)
    frame = pd.DataFrame({"time": pd.date_range("2024-01-01", periods=rows, freq="h"),
                          "value": 10 + np.sin(2 * np.pi * t / 24)}).drop(index=list(drop))
    frame.to_csv(path, index=False)
    return path


def error_line(capsys) -> str:
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1, err
    return err[0]


@pytest.mark.parametrize("argv, fragment", [
    (["fit"], "the following arguments are required: DATA, --out (see 'forecast fit --help')"),
    (["fit", "x.csv", "--out", "r", "--bogus"], "unrecognized arguments: --bogus (see 'forecast --help')"),
    (["fit", "x.csv", "--out", "r", "--devic", "2"], "unrecognized arguments: --devic 2"),
])
def test_usage_mistakes_are_one_line_with_a_pointer_to_help(capsys, argv, fragment):
    with pytest.raises(SystemExit) as stop:
        main(argv)
    assert stop.value.code == 2 and fragment in error_line(capsys)


def test_an_unknown_model_is_one_line(tmp_path, capsys):
    assert main(["fit", str(hourly(tmp_path / "x.csv")), "--model", "prophet", "--out", str(tmp_path / "r")]) == 2
    assert error_line(capsys).startswith("forecast: error: --model must be one of densenet-lstm")


def test_predict_out_must_be_a_writable_file_checked_before_work(tmp_path, capsys):
    data = hourly(tmp_path / "x.csv")
    assert main(["fit", str(data), "--out", str(tmp_path / "run"), *SMALL]) == 0
    capsys.readouterr()
    folder = tmp_path / "folder"
    folder.mkdir()
    assert main(["predict", str(tmp_path / "run" / "model.pt"), str(data), "--out", str(folder)]) == 2
    line = error_line(capsys)
    assert f"--out {folder} is a folder; name a file" in line
    assert main(["predict", str(tmp_path / "run" / "model.pt"), str(data), "--out", "/proc/forecast.csv"]) == 2
    assert "cannot write in /proc" in error_line(capsys)


def test_a_failed_run_removes_the_folders_it_made_and_nothing_else(tmp_path, capsys):
    data = hourly(tmp_path / "x.csv")
    (tmp_path / "kept").mkdir()
    for out in (tmp_path / "a" / "b" / "run", tmp_path / "kept" / "run"):
        # fails after its folders exist: a validation share that leaves too few training rows
        assert main(["fit", str(data), "--out", str(out), "--val", "0.95", *SMALL]) == 2
        error_line(capsys)  # one line, whatever the cause
    assert sorted(p.name for p in tmp_path.iterdir()) == ["kept", "x.csv"]
    assert not any((tmp_path / "kept").iterdir())


def test_irregular_steps_are_an_error_unless_a_frequency_is_given(tmp_path, capsys):
    stamps = list(pd.date_range("2024-03-01", periods=150, freq="h")) + \
        list(pd.date_range("2024-03-07 06:30", periods=150, freq="h"))
    path = tmp_path / "irregular.csv"
    pd.DataFrame({"time": stamps, "value": np.sin(np.arange(300) / 4)}).to_csv(path, index=False)
    assert main(["fit", str(path), "--out", str(tmp_path / "r"), *SMALL]) == 2
    line = error_line(capsys)
    assert "do not follow one frequency: 2024-03-07 05:00:00 -> 2024-03-07 06:30:00 at line 152" in line
    assert "--freq" in line and "--fill" in line
    assert main(["fit", str(path), "--freq", "30min", "--fill", "ffill", "--out", str(tmp_path / "r"), *SMALL]) == 0


def test_fit_reports_gaps_as_data_info_does(tmp_path, capsys):
    path = hourly(tmp_path / "gaps.csv", drop=(100, 101, 102))
    assert main(["fit", str(path), "--out", str(tmp_path / "r"), *SMALL[:-1]]) == 0
    notes = [line for line in capsys.readouterr().err.splitlines() if line.startswith("note: ")]
    assert any("3 timestamps missing" in note for note in notes), notes


def test_fetch_refuses_to_overwrite_without_force(tmp_path, capsys, data_dir):
    target = tmp_path / "aapl.csv"
    target.write_text("mine\n")
    assert main(["data", "fetch", "stock:AAPL", "--start", "2020-01-01", "-o", str(target)]) == 2
    assert "exists already; add --force" in error_line(capsys) and target.read_text() == "mine\n"
    assert main(["data", "fetch", "stock:AAPL", "--start", "2020-01-01", "-o", str(target), "--force"]) == 0
    assert target.read_text().startswith("date,")


def test_the_epoch_cap_holds_for_the_library_too(monkeypatch):
    monkeypatch.setenv("FORECAST_MAX_EPOCHS", "1")
    frame = pd.DataFrame({"y": np.sin(np.arange(200) / 4)}, index=pd.date_range("2024-01-01", periods=200, freq="h"))
    model = forecast.Forecaster(model="dlinear", lookback=24, horizon=4, max_epochs=5, patience=None).fit(frame)
    assert model.training_metrics_["epochs"] == 1 and model.max_epochs == 5


def test_refit_every_zero_is_refused(tmp_path, capsys):
    assert main(["backtest", str(hourly(tmp_path / "p.csv")), "--refit-every", "0", "--out", str(tmp_path / "r"),
                 "--model", "linear", "--quiet"]) == 2
    assert "--refit-every must be a positive whole number, not 0" in error_line(capsys)


@pytest.mark.parametrize("content, fragment", [
    ("date;v\n" + "".join(f"2024-01-0{d};{d},5\n" for d in range(1, 8)),
     "the numbers are written with a decimal comma; read them with --decimal ,"),
    ("date,ticker,price\n" + "".join(f"2024-01-0{d},{t},{d}\n" for t in "AB" for d in range(1, 8)),
     "several series in one file? name their id column with --id-col ticker"),
])
def test_hints_name_the_flag_that_helps(tmp_path, capsys, content, fragment):
    path = tmp_path / "data.csv"
    path.write_text(content)
    assert main(["fit", str(path), "--out", str(tmp_path / "r"), *SMALL]) == 2
    assert fragment in error_line(capsys)


def test_unrelated_errors_carry_no_model_context(tmp_path, capsys):
    data = hourly(tmp_path / "x.csv")
    assert main(["fit", str(data), "--out", str(tmp_path / "run"), *SMALL]) == 0
    (tmp_path / "empty.csv").write_text("")
    capsys.readouterr()
    assert main(["predict", str(tmp_path / "run" / "model.pt"), str(tmp_path / "empty.csv")]) == 2
    assert "trained on" not in error_line(capsys)


def test_evaluate_without_a_test_part_says_so():
    frame = pd.DataFrame({"y": np.sin(np.arange(200) / 4)}, index=pd.date_range("2024-01-01", periods=200, freq="h"))
    model = forecast.Forecaster(model="linear", lookback=24, horizon=4).fit(frame, val=0.2)
    with pytest.raises(forecast.DataError, match="no test part was held out: fit with test="):
        model.evaluate()


def test_a_run_reports_from_any_folder_and_writes_strict_json(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    hourly(tmp_path / "x.csv")
    assert main(["fit", "x.csv", "--test", "0.2", "--out", "run", *SMALL]) == 0
    manifest = json.loads((tmp_path / "run" / "run.json").read_text())
    assert manifest["data"]["path"] == str(tmp_path / "x.csv") and len(manifest["data"]["sha256"]) == 64
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    assert main(["report", str(tmp_path / "run")]) == 0

    def strict(text):
        return json.loads(text, parse_constant=lambda name: pytest.fail(f"{name} in JSON"))

    for name in ("metrics.json", "run.json"):
        strict((tmp_path / "run" / name).read_text())
    os.chdir(tmp_path)
    short = pd.DataFrame({"Date": pd.bdate_range("2024-01-01", periods=40),
                          "Adj Close": 100 * np.exp(np.cumsum(np.full(40, 0.001)))})  # every move up
    short.to_csv(tmp_path / "short.csv", index=False)
    assert main(["backtest", "short.csv", "--model", "naive", "--lookback", "5", "--start", "30",
                 "--out", "bt", "--quiet"]) == 0
    stats = strict((tmp_path / "bt" / "stats.json").read_text())
    (tmp_path / "bt" / "equity.csv").unlink()
    capsys.readouterr()
    assert main(["report", "bt"]) == 2
    line = error_line(capsys)  # the folder named once, the missing file by its name
    assert line == "forecast: error: bt: not a complete backtest run folder (equity.csv is missing or unreadable)"
    assert stats["skill"][0]["direction_pt_p"] is None  # undefined when every move has one sign
    assert stats["skill"][0]["direction_pt_p_why"] == "not defined on these data (NaN)"


def stopped_fit(tmp_path, monkeypatch, capsys, out: Path, epoch: int, flags: list[str]) -> None:
    """A fit of ``out`` interrupted (Ctrl-C) as epoch ``epoch`` (from 0) starts."""
    from forecast.training.forecasting import ForecastingModule

    begin = ForecastingModule.on_train_epoch_start

    def ctrl_c(self):
        if self.current_epoch == epoch:
            raise KeyboardInterrupt
        begin(self)
    with monkeypatch.context() as patch:
        patch.setattr(ForecastingModule, "on_train_epoch_start", ctrl_c)
        assert main(["fit", str(tmp_path / "x.csv"), "--out", str(out), *flags]) == 130
    capsys.readouterr()


NEURAL = ["--model", "dlinear", "--horizon", "6", "--lookback", "24", "--max-epochs", "3", "--patience", "10",
          "--quiet"]


@pytest.mark.slow
def test_a_resume_keeps_the_history_and_refuses_other_settings(tmp_path, capsys, monkeypatch):
    hourly(tmp_path / "x.csv")
    out, scratch = tmp_path / "run", tmp_path / ".run.partial"
    stopped_fit(tmp_path, monkeypatch, capsys, out, 2, NEURAL)
    logged = (scratch / "logs" / "metrics.csv").read_text()
    started = json.loads((scratch / "resume.json").read_text())["started"]
    worked = (scratch / "logs" / "checkpoints" / "last.ckpt").stat().st_mtime - started  # two epochs
    other = [flag if flag != "24" else "48" for flag in NEURAL]
    assert main(["fit", str(tmp_path / "x.csv"), "--out", str(out), "--resume", *other]) == 2
    assert "--resume: the stopped run had lookback 24, this one asks 48" in error_line(capsys)
    assert (scratch / "logs" / "checkpoints" / "last.ckpt").is_file()  # a refused resume deletes nothing
    assert (scratch / "logs" / "metrics.csv").read_text() == logged
    assert main(["fit", str(tmp_path / "x.csv"), "--out", str(out), "--resume", *NEURAL]) == 0
    epochs = pd.read_csv(out / "logs" / "metrics.csv")["epoch"].dropna().unique()
    assert sorted(epochs.astype(int)) == [0, 1, 2]  # the stopped run's epochs and the resumed one
    timings = json.loads((out / "run.json").read_text())["timings"]
    assert timings["fit_seconds"] > worked > 0 and not (out / "resume.json").exists()  # the whole run's time


@pytest.mark.slow
def test_a_run_stopped_before_its_first_epoch_is_removed_with_a_note(tmp_path, capsys, monkeypatch):
    hourly(tmp_path / "x.csv")
    out, scratch = tmp_path / "run", tmp_path / ".run.partial"
    for flags in ([], ["--resume"]):
        stopped_fit(tmp_path, monkeypatch, capsys, out, 0, NEURAL)
        assert scratch.is_dir() and not (scratch / "logs" / "checkpoints" / "last.ckpt").exists()
        assert main(["fit", str(tmp_path / "x.csv"), "--out", str(out), *flags, *NEURAL]) == 0
        assert f"note: removed {scratch}: a run stopped before its first epoch ended" in capsys.readouterr().err
        assert (out / "model.pt").is_file() and not scratch.exists()
        import shutil
        shutil.rmtree(out)


@pytest.mark.slow
def test_a_failed_download_is_one_line_and_nothing_else(tmp_path):
    import subprocess
    import sys

    env = {k: v for k, v in os.environ.items() if k != "FORECAST_DATA_DIR"} | {"FORECAST_CACHE_DIR": str(tmp_path)}
    done = subprocess.run([sys.executable, "-m", "forecast.cli", "data", "fetch", "stock:NOSUCHTICKER", "-o",
                           str(tmp_path / "x.csv")], capture_output=True, text=True, env=env, timeout=300)
    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr.splitlines() == [done.stderr.strip()]  # one line: no library output, no warning
    assert done.stderr.startswith("forecast: error: stock:NOSUCHTICKER: not found under $FORECAST_DATA_DIR")
