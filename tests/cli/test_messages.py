"""Every error the command line prints for a user's mistake, triggered one by one: exit 2, one line,
the hint names a flag of the command (never a Python argument), and no name is doubled."""

import re

import numpy as np
import pandas as pd
import pytest

from forecast.cli import main

KWARG = re.compile(r"\b(time_col|id_col|freq|fill|decimal|target|sort|duplicates|dayfirst|date_format|"
                   r"date_unit|in_sample|future|test|val)=")


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    root = tmp_path_factory.mktemp("messages")
    t = np.arange(300)
    pd.DataFrame({"time": pd.date_range("2024-01-01", periods=300, freq="h"),
                  "value": 10 + np.sin(2 * np.pi * t / 24)}).to_csv(root / "good.csv", index=False)
    (root / "empty.csv").write_text("")
    (root / "comma.csv").write_text("date;v\n" + "".join(f"2024-01-0{d};{d},5\n" for d in range(1, 8)))
    (root / "stacked.csv").write_text("date,ticker,price\n" + "".join(
        f"2024-01-0{d},{t},{d}\n" for t in "AB" for d in range(1, 8)))
    (root / "other.csv").write_text("date,price\n" + "".join(f"2020-01-{d:02d},{d}\n" for d in range(1, 29)))
    (root / "unknown.yaml").write_text("horizn: 12\n")
    (root / "taken").mkdir()
    assert main(["fit", str(root / "good.csv"), "--model", "linear", "--horizon", "6", "--lookback", "24",
                 "--quiet", "--out", str(root / "run")]) == 0
    return root


SMALL = ["--model", "linear", "--horizon", "6", "--lookback", "24", "--quiet"]
CASES = [
    (["fit", "{root}/missing.csv", "--out", "{root}/r"], "missing.csv"),
    (["fit", "{root}/empty.csv", "--out", "{root}/r"], "file is empty"),
    (["fit", "{root}/comma.csv", "--out", "{root}/r"], "--decimal ,"),
    (["fit", "{root}/stacked.csv", "--out", "{root}/r"], "--id-col ticker"),
    (["fit", "{root}/good.csv", "--target", "price", "--out", "{root}/r"], "column 'price' not found"),
    (["fit", "{root}/good.csv", "--model", "prophet", "--out", "{root}/r"], "--model must be one of"),
    (["fit", "{root}/good.csv", "--lookback", "0", "--out", "{root}/r"], "--lookback must be a positive whole number"),
    (["fit", "{root}/good.csv", "--val", "0.7", "--test", "0.4", "--out", "{root}/r"], "--val and --test must be shares"),
    (["fit", "{root}/good.csv", "--model", "linear", "--quantiles", "0.1", "--out", "{root}/r"],
     "--quantiles needs a model with an LSTM head"),
    (["fit", "{root}/good.csv", "--model", "linear", "--ensemble", "3", "--out", "{root}/r"],
     "--ensemble averages trained networks; linear forecasts the same from every seed"),
    (["fit", "{root}/good.csv", "--config", "{root}/none.yaml", "--out", "{root}/r"], "no such config file"),
    (["fit", "{root}/good.csv", "--config", "{root}/unknown.yaml", "--out", "{root}/r"], "unknown setting 'horizn'"),
    (["fit", "{root}/good.csv", "--out", "{root}/taken"], "is a folder that exists already"),
    (["fit", "{root}/good.csv", "--freq", "2h", "--out", "{root}/r"], "frequency '2h' does not match the data"),
    (["predict", "{root}/none.pt", "{root}/good.csv"], "no such model file"),
    (["predict", "{root}/run/model.pt", "{root}/other.csv"], "column 'value' not found"),
    (["predict", "{root}/run/model.pt", "{root}/good.csv", "--out", "{root}/taken"], "is a folder; name a file"),
    (["evaluate", "{root}/run/model.pt", "{root}/good.csv"], "--all-windows scores every window"),
    (["backtest", "{root}/good.csv", "--refit-every", "0", "--out", "{root}/b"], "--refit-every must be a positive"),
    (["backtest", "{root}/good.csv", "--window", "sliding", "--out", "{root}/b"], "--window sliding needs --train-length"),
    (["backtest", "{root}/good.csv", "--strategy", "long-short", "--out", "{root}/b"], "--positions long-short"),
    (["data", "fetch", "nosuch", "-o", "{root}/f.csv"], "unknown dataset 'nosuch'"),
    (["data", "info", "{root}/good.csv", "--exchange", "NOPE"], "unknown exchange calendar 'NOPE'"),
    (["report", "{root}/nowhere"], "no such run folder"),
]


@pytest.mark.parametrize("argv, fragment", CASES, ids=[f"{c[0][0]}-{c[1][:30]}" for c in CASES])
def test_every_mistake_is_one_line_naming_the_flag_that_helps(files, capsys, argv, fragment):
    capsys.readouterr()
    code = main([arg.format(root=files) for arg in argv])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1, err
    line = err[0]
    assert line.startswith("forecast: error: ") and fragment in line, line
    assert not KWARG.search(line), f"a Python argument instead of a flag: {line}"
    for path in re.findall(rf"{re.escape(str(files))}/[\w./-]+", line):
        assert line.count(path) == 1, f"named twice: {line}"
    assert "Traceback" not in line and "trained on" not in line or "not found" in line
