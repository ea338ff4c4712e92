"""Results as data: how records are kept, and that the committed summary is what they render."""

import json

import pytest

from experiments import records, render
from experiments.ltsf import table
from experiments.ltsf.protocol import verdict_word


def cell_record(row: str, seed: int | None, mse: float, **cell) -> dict:
    return records.record("ltsf", row, {"mse": mse}, dataset="etth1", horizon=96, budget="b", seed=seed, **cell)


def test_a_rerun_replaces_its_cell_in_place_and_keeps_the_others(tmp_path):
    records.save("ltsf", [cell_record("a", 0, 1.0), cell_record("a", 1, 2.0), cell_record("b", 0, 3.0)], tmp_path)
    records.save("ltsf", [cell_record("a", 0, 5.0), cell_record("c", 0, 6.0)], tmp_path)
    kept = [(r["row"], r["seed"], r["metrics"]["mse"]) for r in records.load("ltsf", tmp_path)]
    # the rerun of "a" had one seed: both old seeds go, the new record takes their place
    assert kept == [("a", 0, 5.0), ("b", 0, 3.0), ("c", 0, 6.0)]


def test_a_verdict_is_its_own_cell_beside_the_figures(tmp_path):
    verdict = cell_record("a", None, 0.0, table="verdict", against="ridge")
    records.save("ltsf", [cell_record("a", 0, 1.0), verdict], tmp_path)
    records.save("ltsf", [cell_record("a", 0, 2.0)], tmp_path)
    assert [r["table"] for r in records.load("ltsf", tmp_path)] == [None, "verdict"]


def test_a_search_can_drop_its_earlier_trials(tmp_path):
    records.save("tune", [records.record("tune", f"trial {n}", {}, dataset="d") for n in range(3)], tmp_path)
    records.save("tune", [records.record("tune", "trial 0", {}, dataset="d")], tmp_path,
                 replaces=lambda old: old["dataset"] == "d")
    assert [r["row"] for r in records.load("tune", tmp_path)] == ["trial 0"]


def test_nan_is_stored_as_null_and_the_file_is_strict_json(tmp_path):
    path = records.save("x", [records.record("x", "r", {"sharpe": float("nan"), "n": 3})], tmp_path)
    line = path.read_text().splitlines()[0]
    assert json.loads(line)["metrics"] == {"sharpe": None, "n": 3} and "NaN" not in line
    assert not list(tmp_path.glob("*.part"))


@pytest.mark.parametrize("text, word", [
    ("better (DM p <= 0.01 in every seed; gap -0.0100, seed std 0.0010)", "better"),
    ("level (the same forecasts in every seed: training kept the untrained start)", "level"),
    ("seed 0: worse (DM p <= 1e-05 in every seed; gap +0.1, seed std 0.0000); seed 1: worse (x)", "worse"),
    ("seed 0: worse (a); seed 1: level (b)", "level"),  # better or worse only when every seed says so
])
def test_the_verdict_word(text, word):
    assert verdict_word(text) == word


def test_seed_means_and_spreads_from_seeds_or_from_a_migrated_record():
    seeds = [{"metrics": {"mse": value}} for value in (1.0, 2.0, 3.0)]
    assert table.summary(seeds, "mse") == (2.0, 1.0)  # sample std, ddof 1
    migrated = [{"metrics": {"mse": 0.5, "mse_std": 0.01, "seeds": 3}}]
    assert table.summary(migrated, "mse") == (0.5, 0.01)
    assert table.summary(seeds[:1], "mse") == (1.0, None)


def test_the_fullest_budget_is_chosen_by_coverage_then_windows_not_by_score():
    cells = {("m", "every 8th training window, 10 epochs", 96): [], ("m", "every 8th training window, 10 epochs", 192): [],
             ("m", "every training window, 10 epochs", 96): [],
             ("m", "every 4th training window, 20 epochs", 96): [], ("m", "every 4th training window, 20 epochs", 192): []}
    assert table.fullest(cells, "m", [96, 192]) == "every 4th training window, 20 epochs"


def test_the_committed_summary_is_what_the_committed_records_render():
    assert render.main(["--check"]) == 0
