"""The image study and the benches: each records a row and renders it."""

import numpy as np
import pytest
import torch

from experiments import records
from forecast.data import WindowDataset, WindowSpec
from studies import ROOT, rendered, run


@pytest.mark.slow
@pytest.mark.parametrize("study, args, row", [
    ("image.run", ["--epochs", "1"], "DenseNet-BC (L=100, k=12)"),
    ("bench.train_speed", ["--windows", "128", "--eval-windows", "128", "--compile", "no", "--peer", "none", "--threads", "1",
                           "--pairs", "1"],
     "ours, bf16-mixed: one epoch and its validation pass"),
    ("bench.backtest", ["--parts", "tickers", "--tickers", "1", "--threads", "1"], "dlinear"),
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


def rerun_beside_another_machine(tmp_path, table: str, budget: str, study: str, *args: str) -> list[dict]:
    """``study`` run on records holding an earlier row of ``table`` from another machine and one
    from this machine: the other machine's row is kept, this machine's replaced; the rows from this machine."""
    def earlier(machine: str) -> dict:
        return records.record("train_speed", "an earlier run's row", {"seconds": 1.0}, table=table, dataset="etth1",
                              budget=budget.format(machine=machine), machine=machine)
    elsewhere = earlier("Another CPU, 2 cores")
    records.save("train_speed", [elsewhere, earlier(records.machine())], tmp_path)
    done = run(study, *args, "--records", str(tmp_path))
    assert done.returncode == 0, done.stderr[-2000:]
    written = records.load("train_speed", tmp_path)
    assert elsewhere in written
    here = [r for r in written if r != elsewhere]
    assert "an earlier run's row" not in [r["row"] for r in here]
    return here


@pytest.mark.slow
def test_the_speed_bench_replaces_this_machines_rows_and_keeps_another_machines(tmp_path, data_dir):
    here = rerun_beside_another_machine(tmp_path, "speed", "{machine}, 1 threads", "bench.train_speed", "--windows",
                                        "64", "--eval-windows", "64", "--compile", "no", "--peer", "none",
                                        "--threads", "1", "--pairs", "2")
    assert here and all(r["machine"] == records.machine() for r in here)
    assert all(r["budget"].startswith(records.machine()) for r in here if r["table"] == "speed")
    ours = [r for r in here if r["table"] == "speed" and r["row"].startswith("ours")]
    assert len(ours) == 2
    for m in (r["metrics"] for r in ours):  # the median of two pairs lies between them
        assert m["pairs"] == 2
        assert 0 < m["training alone, lowest of the pairs"] <= m["training alone, times the plain fp32 loop"] \
            <= m["training alone, highest of the pairs"]
        assert 0 < m["median training step, lowest of the pairs"] \
            <= m["median training step, times the plain fp32 loop's"] <= m["median training step, highest of the pairs"]
    assert "| Another CPU, 2 cores, 1 threads |" in rendered("train_speed", tmp_path)


@pytest.mark.slow
def test_the_fit_since_a_commit_replaces_this_machines_rows_and_keeps_another_machines(tmp_path, data_dir):
    row = "now, fp32 (precision='32-true')"
    here = rerun_beside_another_machine(tmp_path, "since", "one epoch, {machine} (2 threads)", "bench.since",
                                        "--commit", "HEAD", "--datasets", "etth1", "--windows", "64",
                                        "--eval-windows", "64", "--repeats", "1")
    assert len(here) == 3 and row in [r["row"] for r in here]
    assert all(r["commit"] and r["budget"].endswith(f"{records.machine()} (2 threads)") for r in here)
    assert f"| {row} |" in rendered("train_speed", tmp_path)


@pytest.mark.slow
def test_the_suite_bench_sets_a_past_commits_tests_beside_nows(tmp_path, data_dir):
    here = rerun_beside_another_machine(tmp_path, "suite", "`pytest`, {machine}", "bench.suite", "--commit", "HEAD",
                                        "--pairs", "1", "--tests", "tests/test_config.py -n 0")
    whole, shared = (next(r for r in here if r["row"].startswith(start)) for start in ("the whole", "the tests both"))
    config_tests = sum(1 for line in (ROOT / "tests" / "test_config.py").read_text().splitlines()
                       if line.startswith("def test_"))
    assert whole["metrics"]["tests then"] == whole["metrics"]["tests now"] >= config_tests
    assert whole["metrics"]["failed now"] == whole["metrics"]["skipped now"] == 0
    assert shared["metrics"]["tests"] == whole["metrics"]["tests now"]  # HEAD against HEAD: every test in both
    assert 0 < shared["metrics"]["s now"] < whole["metrics"]["s now"]
    assert "| the whole suite |" in rendered("train_speed", tmp_path)


def test_a_junit_report_gives_each_tests_seconds_and_outcome(tmp_path):
    from experiments.bench.suite import Suite, outcomes

    report = tmp_path / "junit.xml"
    report.write_text("""<?xml version="1.0" encoding="utf-8"?><testsuites><testsuite name="pytest" tests="4">
<testcase classname="tests.test_a" name="test_one" time="1.250" />
<testcase classname="tests.test_a" name="test_two[x]" time="0.5"><failure message="no">trace</failure></testcase>
<testcase classname="tests.test_b.TestC" name="test_three" time="0.125"><skipped message="no data" /></testcase>
<testcase classname="tests.test_b" name="test_four" time="2"><error message="fixture">trace</error></testcase>
</testsuite></testsuites>""")
    tests = outcomes(report)
    assert tests == {"tests.test_a::test_one": (1.25, "passed"), "tests.test_a::test_two[x]": (0.5, "failed"),
                     "tests.test_b.TestC::test_three": (0.125, "skipped"), "tests.test_b::test_four": (2.0, "error")}
    suite = Suite(9.0, tests)
    assert [suite.count(outcome) for outcome in ("passed", "failed", "skipped", "error")] == [1, 1, 1, 1]


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


def test_the_1d_kernel_reference_has_the_encoders_shapes_and_parameters():
    from experiments.bench.train_speed import on_1d_kernels
    from forecast.config import defaults, resolve
    from forecast.models.build import build_model

    settings = resolve({**defaults(), "target": None, "lookback": 64, "horizon": 8, "patch": 4, "patch_stride": 2})
    network = build_model("densenet-lstm", settings, 3, 3, 0)
    reference = on_1d_kernels(network)
    convolutions = [type(m) for m in reference.encoder.modules() if isinstance(m, (torch.nn.Conv1d, torch.nn.Conv2d))]
    assert set(convolutions) == {torch.nn.Conv1d}
    assert network.encoder.stack.denseblock1.denselayer1.conv2.weight.dim() == 4
    x, f = torch.randn(2, 64, 3), torch.zeros(2, 8, 0)
    assert network.encoder(x).shape == reference.encoder(x).shape
    assert reference(x, f).shape == network(x, f).shape == (2, 8, 3)


def test_the_bench_times_the_yaml_or_the_librarys_defaults_each_at_its_batch(data_dir):
    from experiments.bench.train_speed import setup

    module, network, settings = setup("etth1", 16, "cpu", 16, config="defaults")
    assert settings["head"] == "seq2seq" and not module.channel_independent and len(module.datasets["train"]) == 16
    assert module.batch_size == 128
    module, network, settings = setup("etth1", 16, "cpu", 16)
    assert settings["head"] == "flatten" and module.channel_independent and module.batch_size == 256


def test_the_bench_validates_in_proportion_to_the_training_windows_it_keeps(data_dir):
    from experiments.bench.train_speed import setup
    from forecast.data import load_dataset, ltsf_split
    from forecast.data.datamodule import SeriesDataModule

    whole = SeriesDataModule(load_dataset("etth1"), WindowSpec(336, 96), ltsf_split(load_dataset("etth1"), "etth1"))
    whole.setup("fit")
    train, val, test = (len(whole.datasets[part].origins) for part in ("train", "val", "test"))
    module, _, _ = setup("etth1", train // 4, "cpu", config="defaults")
    assert len(module.datasets["val"].origins) == round(val * (train // 4) / train)
    assert len(module.datasets["test"].origins) == test  # inference is timed on every test window
    module, _, _ = setup("etth1", train // 4, "cpu", 100, config="defaults")
    assert len(module.datasets["val"].origins) == len(module.datasets["test"].origins) == 100
