"""Reports: the metrics table and header say what they claim, the files are self-contained, and a
real browser shows them without errors."""

import base64
import re
import shutil

import numpy as np
import pandas as pd
import pytest

import forecast
from forecast.cli import main
from forecast.evaluation.report import Table, write_report
from forecast.evaluation.sections import metrics_table
from forecast.evaluation.trading import drawdown_episodes

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


def evaluation_frame() -> pd.DataFrame:
    """Two origins, two steps; the model misses by 1 everywhere, naive by 2, the other by 0 or 2."""
    stamps = pd.date_range("2024-01-01", periods=4, freq="D")
    actual = np.array([1.0, 2.0, 3.0, 4.0])
    return pd.DataFrame({"series": "s", "target": "y", "origin": stamps[[0, 0, 1, 1]],
                         "timestamp": stamps[[1, 2, 2, 3]], "step": [1, 2, 1, 2], "actual": actual,
                         "forecast": actual + 1, "naive": actual - 2, "other": actual + [0, 2, 0, 2]})


def test_metrics_table_by_hand_with_the_best_value_marked():
    table = metrics_table(evaluation_frame(), {"model": "forecast", "naive": "naive", "other": "other"},
                          {("s", "y"): 0.5}, "naive", None)
    assert [row[0] for row in table.rows] == ["model", "naive", "other"]
    assert table.columns == ["model", "MAE", "RMSE", "sMAPE %", "MASE", "R2", "DM p vs naive"]
    mae, rmse, mase = 1, 1, 2  # |e| = 1 everywhere; MASE = mean(|e| / 0.5)
    assert table.rows[0][1:3] == [f"{mae:.4g}", f"{rmse:.4g}"] and table.rows[0][4] == f"{mase:.4g}"
    # R2 = 1 - SSE / SST, SST = sum (y - 2.5)^2 = 5: model 1 - 4/5, naive 1 - 16/5
    assert table.rows[0][5] == f"{0.2:.4g}" and table.rows[1][5] == f"{-2.2:.4g}"
    assert table.rows[2][1] == "1" and table.rows[2][2] == f"{2 ** 0.5:.4g}"
    # best: MAE model and other (a tie), RMSE and R2 model, sMAPE other, MASE tied at 2
    assert table.best == {(0, 1), (2, 1), (0, 2), (2, 3), (0, 4), (2, 4), (0, 5)}
    assert table.rows[1][-1] == "–"


def test_worst_drawdowns_by_hand():
    curve = pd.Series([1.1, 0.99, 1.2, 0.6, 0.9], index=pd.date_range("2024-01-01", periods=5))
    rows = drawdown_episodes(curve, 5)
    # 1.2 -> 0.6 (-50 %, not recovered), then 1.1 -> 0.99 (-10 %, recovered on day 3)
    assert rows[0][3] == pytest.approx(-0.5) and rows[0][2] == "not recovered" and rows[0][0] == pd.Timestamp("2024-01-03")
    assert rows[1][3] == pytest.approx(-0.1) and rows[1][2] == pd.Timestamp("2024-01-03") and rows[1][4] == 1


def test_written_files_are_self_contained_and_say_the_same(tmp_path):
    from forecast.evaluation.report import Figure, Report, Section
    from forecast.evaluation.plots import by_step

    figure = Figure("steps", "MAE by step", by_step(pd.DataFrame({"a": [1.0, 2.0]}, index=[1, 2])))
    table = Table("t", ["model", "MAE"], [["a", "1"], ["b", "2"]], {(0, 1)}, id="metrics")
    report = Report("title", {"data": "x.csv"}, "The model does not beat the naive forecast.",
                    [Section("Errors", "text", [table], [figure])])
    html = write_report(report, tmp_path).read_text()
    markdown = (tmp_path / "report.md").read_text()
    assert "<strong>1</strong>" in html and "| a | **1** |" in markdown
    assert not re.search(r"(src|href)=\"(https?:)?//", html)  # nothing fetched from a network
    embedded = re.findall(r"data:image/png;base64,([A-Za-z0-9+/=]+)", html)
    assert len(embedded) == 1 and base64.b64decode(embedded[0]) == (tmp_path / "report_files" / "steps.png").read_bytes()
    assert "does not beat the naive forecast" in html and "does not beat the naive forecast" in markdown


def test_etth1_report_has_header_models_and_sensor_sections(tmp_path, data_dir):
    model = forecast.Forecaster(model="lstm", lookback=48, horizon=12, head="direct", max_epochs=1,
                                quantiles=[0.1, 0.9], target="OT").fit("etth1")
    html = forecast.report(model, tmp_path, source="etth1").read_text()
    markdown = (tmp_path / "report.md").read_text()
    assert "f18de3ad269cef59bb07b5438d79bb3042d3be49bdeecf01c1cd6d29695ee066" in markdown
    assert "- rows: 17420 in 1 series" in markdown and "- frequency: h" in markdown
    metrics = markdown.split("ties alike)")[1].split("\n\n")[1]
    assert [line.split("|")[1].strip() for line in metrics.splitlines()[2:]] == ["lstm", "naive", "drift", "linear"]
    assert "coverage" in metrics and "pinball" in metrics
    for name in ("last_windows", "by_step", "residuals", "rolling_error", "by_hour", "by_month"):
        assert (tmp_path / "report_files" / f"{name}.png").is_file()
    assert "MAE per variable" in html and "MAE of the one-step forecasts by month" in html


@pytest.fixture(scope="module")
def stock_run(tmp_path_factory, data_dir):
    out = tmp_path_factory.mktemp("stock") / "run"
    code = main(["backtest", "stocks:AAPL,KO", "--model", "linear", "--start", "2019-01-02", "--refit-every",
                 "63", "--quiet", "--report", "--out", str(out)])
    assert code == 0
    return out


def test_stock_backtest_report_shows_trading_and_random_walk_verdict(stock_run):
    markdown = (stock_run / "report.md").read_text()
    assert "| random walk (no change) |" in markdown and "| naive (last value) |" in markdown
    assert "Skill against the random walk" in markdown and "The five worst drawdowns" in markdown
    assert "The first trades" in markdown and "AAPL.csv 9630a128e6f227f2" in markdown
    assert "does not beat the random walk" in markdown  # a linear map of past returns: no skill
    for name in ("equity", "underwater", "rolling_sharpe", "monthly"):
        assert (stock_run / "report_files" / f"{name}.png").is_file()


def test_report_command_rewrites_a_run_and_refuses_other_folders(stock_run, tmp_path, capsys):
    (stock_run / "report.html").unlink()
    assert main(["report", str(stock_run)]) == 0 and (stock_run / "report.html").is_file()
    capsys.readouterr()
    assert main(["report", str(tmp_path)]) == 2
    assert "not a run folder" in capsys.readouterr().err


@pytest.mark.slow
def test_report_opens_in_a_real_browser_without_errors(stock_run, tmp_path):
    if CHROMIUM is None:
        pytest.skip("Chromium is not installed (Debian package chromium; .ci/run installs it)")
    playwright = pytest.importorskip("playwright.sync_api")
    errors = []
    with playwright.sync_playwright() as driver:
        browser = driver.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        page = browser.new_page()
        page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
        page.on("pageerror", lambda error: errors.append(str(error)))
        page.on("request", lambda request: errors.append(f"fetched {request.url}")
                if not request.url.startswith(("file:", "data:")) else None)
        page.goto((stock_run / "report.html").resolve().as_uri())
        page.wait_for_load_state("load")
        widths = page.eval_on_selector_all("img", "images => images.map(i => i.complete ? i.naturalWidth : 0)")
        models = page.eval_on_selector_all("#metrics tbody tr", "rows => rows.length")
        page.screenshot(path=str(tmp_path / "report.png"), full_page=True)
        browser.close()
    assert errors == []
    assert len(widths) >= 7 and all(width > 0 for width in widths)  # horizon 1: no by-step plot of one dot
    assert models == 3  # linear, naive (last value), random walk
    assert (tmp_path / "report.png").stat().st_size > 10_000


def test_fit_and_evaluate_write_reports_from_the_command_line(tmp_path, capsys):
    t = np.arange(600)
    frame = pd.DataFrame({"time": pd.date_range("2024-01-01", periods=600, freq="h"),
                          "y": 10 + np.sin(2 * np.pi * t / 24), "z": np.cos(2 * np.pi * t / 24)})
    data = tmp_path / "two.csv"
    frame.to_csv(data, index=False)
    run = tmp_path / "run"
    assert main(["fit", str(data), "--model", "linear", "--horizon", "6", "--lookback", "24", "--quiet",
                 "--test", "0.2", "--report", "--out", str(run)]) == 0
    markdown = (run / "report.md").read_text()
    assert "- data: two.csv" in markdown and "# linear on two.csv" in markdown and "- wall time: " in markdown and "MAE per variable" in markdown
    assert "does not beat" not in markdown  # a ridge forecasts a clean daily cycle far better than naive
    assert main(["evaluate", str(run / "model.pt"), str(data), "--report", str(tmp_path / "again")]) == 0
    assert (tmp_path / "again" / "report.html").is_file()
    assert main(["report", str(tmp_path / "nowhere")]) == 2
