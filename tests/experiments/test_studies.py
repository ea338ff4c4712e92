"""Every study's entry point, the stock study and the report examples."""

import subprocess
import sys

import pytest

from experiments import records
from studies import ROOT, rendered, run

STUDIES = ["ltsf.run", "ltsf.ablate", "ltsf.tune", "ltsf.shift", "stocks.run", "image.run", "bench.train_speed",
           "bench.since", "bench.backtest", "bench.windows", "bench.densenet", "reports.weather", "reports.stocks", "render"]


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
@pytest.mark.parametrize("study, extra", [
    ("reports.weather", ["--epochs", "1", "--lookback", "24", "--horizon", "6"]),
    ("reports.stocks", ["--epochs", "1", "--tickers", "AAPL"]),
])
def test_report_examples_write_a_report(tmp_path, data_dir, study, extra):
    out = tmp_path / "report"
    done = run(study, "--out", str(out), *extra)
    assert done.returncode == 0, done.stderr[-2000:]
    assert (out / "report.html").stat().st_size > 50_000 and (out / "report.md").is_file()
