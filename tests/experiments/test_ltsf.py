"""LTSF table, ablations and the search: each runs on a tiny budget, writes its records, renders its section."""

import argparse

import numpy as np
import pytest
import yaml

from experiments import records
from studies import rendered, run


@pytest.mark.slow
def test_ltsf_table_writes_records_and_renders_its_verdicts(tmp_path, data_dir):
    rows = ("naive,linear (closed-form ridge),RevIN ridge (the LSTM models' untrained start),"
            "DenseNet-LSTM (RevIN and direct head)")
    done = run("ltsf.run", "--datasets", "etth1,stock:GSPC_2000-2017", "--horizons", "96", "--seeds", "0,1",
               "--epochs", "1", "--train-stride", "32", "--rows", rows, "--jobs", "2", "--records", str(tmp_path))
    assert done.returncode == 0, done.stderr[-2000:]
    written = records.load("ltsf", tmp_path)
    ridge = next(r for r in written if r["row"] == "linear (closed-form ridge)" and r["dataset"] == "etth1")
    assert round(ridge["metrics"]["mse"], 4) == 0.3702 and round(ridge["metrics"]["val_mse"], 4) == 0.6516
    assert ridge["seed"] is None and ridge["budget"] == "no training"
    assert ridge["data_sha256"]["etth1"].startswith("f18de3ad269cef59") and "--jobs 2" in ridge["command"]
    trained = [r for r in written if r["row"].startswith("DenseNet-LSTM") and r["table"] is None]
    assert sorted(r["seed"] for r in trained if r["dataset"] == "etth1") == [0, 1]
    assert {r["budget"] for r in trained} == {"every 32nd training window, 1 epochs, patience 10"}
    bars = {(r["dataset"], r["against"]) for r in written if r["table"] == "verdict"}
    assert ("stock:GSPC_2000-2017", "naive") in bars and ("etth1", "RevIN ridge (the LSTM models' untrained start)") in bars
    section = rendered("ltsf", tmp_path)
    assert "| linear (closed-form ridge) | no training | 0.3702 |" in section and " ± " in section
    assert "4528 rows, split 70/10/20 by rows, data sha256 459b019459a4e443" in section


@pytest.mark.slow
def test_a_rerun_of_one_cell_replaces_only_that_cell(tmp_path, data_dir):
    def naive(horizons: str) -> None:
        done = run("ltsf.run", "--datasets", "etth1", "--horizons", horizons, "--rows", "naive", "--records", str(tmp_path))
        assert done.returncode == 0, done.stderr[-2000:]

    naive("96,192")
    before = records.load("ltsf", tmp_path)
    naive("192")
    after = records.load("ltsf", tmp_path)
    assert len(after) == len(before) == 2
    changed = [a["horizon"] for a, b in zip(before, after) if a != b]
    assert changed == [192] and after[1]["metrics"]["mse"] == before[1]["metrics"]["mse"]  # the same figure, the new run's provenance


def test_a_stopped_table_keeps_the_cells_it_finished(tmp_path, data_dir, monkeypatch):
    from experiments.ltsf import run as table

    fitted = table.run_cell

    def stopped_at_the_network(settings, data, split):  # as a long run stopped in its third cell
        if settings["model"] == "densenet-lstm":
            raise KeyboardInterrupt
        return fitted(settings, data, split)

    monkeypatch.setattr(table, "run_cell", stopped_at_the_network)
    with pytest.raises(KeyboardInterrupt):
        table.main(["--datasets", "etth1", "--horizons", "96", "--seeds", "0",
                    "--rows", "naive,linear (closed-form ridge),DenseNet-LSTM (RevIN and direct head)",
                    "--records", str(tmp_path)])
    written = records.load("ltsf", tmp_path)
    assert [r["row"] for r in written] == ["naive", "linear (closed-form ridge)"]
    assert round(written[1]["metrics"]["mse"], 4) == 0.3702


def test_a_kept_fit_is_taken_by_a_later_run_of_the_same_settings_only(tmp_path, data_dir, monkeypatch):
    from experiments.ltsf import run as table

    fitted, calls, results = table.run_cell, [], []

    def counted(settings, data, split):
        calls.append(settings["model"])
        results.append(fitted(settings, data, split))
        return results[-1]

    def table_run(*flags: str) -> list[dict]:
        table.main(["--datasets", "etth1", "--horizons", "96", "--rows", "naive,linear (closed-form ridge)",
                    "--keep-fits", str(tmp_path / "fits"), "--records", str(tmp_path / "records"), *flags])
        return [r for r in records.load("ltsf", tmp_path / "records") if r["table"] is None]

    monkeypatch.setattr(table, "run_cell", counted)
    first = table_run()
    assert calls == ["naive", "linear"] and len(list((tmp_path / "fits").glob("*.npz"))) == 2
    again = table_run()  # as a session that finishes a cell another began
    assert calls == ["naive", "linear"]
    assert [r["metrics"] for r in again] == [r["metrics"] for r in first]
    assert all(r["fitted_by_an_earlier_run"] for r in again) and "fitted_by_an_earlier_run" not in first[0]
    ridge = table.fit_or_reuse({}, None, None, next((tmp_path / "fits").glob("*linear*.npz")))
    assert np.array_equal(ridge["mse"], results[1]["mse"]) and np.array_equal(ridge["mae"], results[1]["mae"])
    table_run("--epochs", "3")  # other settings: fitted again, never taken from the kept ones
    assert calls == ["naive", "linear"] * 2 and len(list((tmp_path / "fits").glob("*.npz"))) == 4


@pytest.mark.slow
def test_ablation_records_each_variant_against_the_ridge_and_the_base(tmp_path, data_dir):
    done = run("ltsf.ablate", "--seeds", "0", "--epochs", "1", "--variants", "untrained,base,no-highway",
               "--train-stride", "64", "--records", str(tmp_path))
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
    done = run("ltsf.tune", "--trials", "2", "--epochs", "1", "--train-stride", "64", "--batch-size", "64",
               "--out", str(out), "--records", str(tmp_path))
    assert done.returncode == 0, done.stderr[-2000:]
    assert "(ridge 0.6516); test windows never seen" in out.read_text()
    assert yaml.safe_load(out.read_text())["batch_size"] == 64  # the trials' batch, beside what was searched
    written = records.load("tune", tmp_path)
    assert [r["row"] for r in written] == ["closed-form ridge (the bar)", "trial 0", "trial 1"]
    assert sum(r["metrics"].get("chosen", False) for r in written) == 1
    assert "| trial 1 | etth1 " in rendered("tune", tmp_path)


@pytest.mark.slow
def test_shift_scores_the_ridge_damped_on_validation_and_test(tmp_path, data_dir):
    done = run("ltsf.shift", "--datasets", "etth1", "--horizons", "96", "--records", str(tmp_path))
    assert done.returncode == 0, done.stderr[-2000:]
    scores = {r["row"]: r["metrics"] for r in records.load("shift", tmp_path)}
    # figures of an independent numpy ridge on the same windows (training z-scores, alpha 0.1 on validation)
    expected = {"linear (closed-form ridge)": (0.6516, 0.3702),
                "damped 10% toward the training mean": (0.6480, 0.3754),
                "damped 10% toward the window's look-back mean": (0.6675, 0.3681)}
    for row, (val, test) in expected.items():
        assert (round(scores[row]["val MSE"], 4), round(scores[row]["test MSE"], 4)) == (val, test), row
    damped = scores["damped 10% toward the training mean"]
    assert round(damped["val change %"], 2) == -0.56 and round(damped["test change %"], 2) == 1.39
    assert "| damped 30% toward the training mean | 0.6993 | 0.4315 |" in rendered("shift", tmp_path)


def test_verdict_against_a_trained_row_pairs_its_seeds():
    from experiments.ltsf.protocol import encoder_only, verdict

    rng = np.random.default_rng(0)
    plain = [{"mse": rng.gamma(2.0, 0.2, 400) + offset} for offset in (0.0, 0.5, 1.0)]
    encoder = [{"mse": 0.9 * run["mse"]} for run in plain]  # 10 % below its own seed of the plain row
    assert verdict(encoder, plain, horizon=4).startswith("better (DM p <= ")
    # against the plain row's first seed alone, the third seed is far worse: pairing is what decides
    assert verdict(encoder, plain[:1], horizon=4).startswith("level (gap +")
    assert verdict(plain, plain, horizon=4).startswith("level (the same forecasts in every seed")
    # a start forecast in bf16 beats its fp32 self by rounding in every window: significant, not a gain
    rounded = [{"mse": (1 - 3e-5) * run["mse"]} for run in plain]
    assert verdict(rounded, plain, horizon=4).startswith("level (gap -0.0000")
    assert encoder_only("DenseNet-LSTM (RevIN and direct head)") and encoder_only("ResNet1D-LSTM")
    assert not any(encoder_only(row) for row in ("LSTM", "DenseNet-LSTM (channel-independent)",
                                                 "DenseNet-LSTM (configs/densenet-lstm.yaml)",
                                                 "RevIN ridge (the LSTM models' untrained start)"))


def test_an_ablation_variant_joined_by_a_plus_takes_both_changes_the_last_on_top():
    from experiments.ltsf.ablate import variant

    about, settings = variant("defaults-128-lr2+average")
    assert settings == {"head": "seq2seq", "lr": 6e-4, "batch_size": 128, "average": 1.0}
    assert about.startswith("the library's defaults at batch 128") and about.endswith("validated, kept and tested")
    assert variant("defaults+defaults-128")[1]["batch_size"] == 128


def test_the_ablation_table_has_one_section_per_dataset_and_horizon():
    from experiments.ltsf.table import ablation

    def figures(horizon: int, mse: float) -> dict:
        return dict(study="ablation", table=None, dataset="etth1", horizon=horizon, row="base", budget="10 epochs",
                    seed=0, changes="the base", metrics={"mse": mse, "val_mse": mse, "fit_s": 1.0, "epochs": 1,
                                                         "kept_start": False})

    table = ablation([figures(96, 0.25), figures(336, 0.75)])
    first, second = table.split("#### ")[1:]
    assert first.startswith("ETTh1, H=96") and "0.2500" in first and "0.7500" not in first
    assert second.startswith("ETTh1, H=336") and "0.7500" in second


def test_the_table_names_the_seeds_still_improving_at_their_last_validation():
    from experiments.ltsf.table import others

    def seed(best: int, epochs: int = 10) -> dict:  # a record written before validations were counted
        return {"metrics": {"epochs": epochs, "best_epoch": best, "kept_start": best == 0}}

    def inside(best: int, validations: int) -> dict:  # 4 validations an epoch
        return {"metrics": {"epochs": 3, "best_epoch": (best + 3) // 4, "validations": validations,
                            "best_validation": best, "kept_start": best == 0}}

    cells = {("DenseNet-LSTM", "10 epochs", 96): [seed(10), seed(7), seed(10)],
             ("DenseNet-LSTM", "10 epochs", 720): [seed(0), seed(0), seed(3)],
             ("DLinear", "1 epochs", 96): [seed(1, epochs=1)],  # one epoch is always its own last
             # the best validation in the last epoch but not its last; the last; stopped early
             ("DenseNet-LSTM", "3 epochs, 4 validations an epoch", 192): [inside(9, 12), inside(12, 12), inside(8, 10)]}
    lines = others(cells, {}, "weather").splitlines()
    assert lines == ["- Seeds in which no epoch beat the untrained start on validation (it was kept): "
                     "DenseNet-LSTM [10 epochs] 2/3 at 720.",
                     "- Seeds whose validation loss still fell at their last validation (a longer budget may pay): "
                     "DenseNet-LSTM [10 epochs] 2/3 at 96; DenseNet-LSTM [3 epochs, 4 validations an epoch] 1/3 at 192."]


@pytest.mark.parametrize("units", [["avx512_bf16", "amx_bf16"], []])
def test_a_record_names_the_precision_its_fit_trains_in(monkeypatch, units):
    from experiments.ltsf.protocol import precision_of
    from forecast.training import precision as rules

    monkeypatch.setattr(rules, "cpu_bf16_units", lambda: units)
    monkeypatch.setattr(rules.torch.cuda, "is_available", lambda: False)
    independent = {"model": "densenet-lstm", "channel_independent": True}
    assert precision_of(independent) == ("bf16-mixed" if units else "32-true")
    assert precision_of({**independent, "precision": "32-true"}) == "32-true"
    assert precision_of({"model": "densenet-lstm"}) == "32-true"
    assert precision_of({"model": "linear"}) is None and precision_of({"model": "naive"}) is None


def test_a_budget_names_the_batch_and_the_device_only_where_they_are_not_the_librarys_default():
    from experiments.ltsf.protocol import budget, settings_of

    assert budget("DLinear (ours)", 8, 10, 10, 1, 128) == "every 8th training window, 10 epochs, patience 10"
    assert budget("DLinear (ours)", 1, 10, 3, 8, 256) == ("every training window, 10 epochs, patience 3, "
                                                          "8 validations an epoch, batches of 256")
    assert budget("naive", 1, 10, 3, 8, 256) == "no training"
    assert budget("DLinear (ours)", 8, 10, 10, 1, 128, "CPU") == "every 8th training window, 10 epochs, patience 10"
    assert budget("DLinear (ours)", 1, 10, 3, 8, 256, "NVIDIA H100 80GB HBM3") == (
        "every training window, 10 epochs, patience 3, 8 validations an epoch, batches of 256, on NVIDIA H100 80GB HBM3")
    args = argparse.Namespace(epochs=10, batch_size=128, patience=3, accelerator="cpu", validations_per_epoch=8,
                              train_stride=1)
    assert settings_of("DenseNet-LSTM (configs/densenet-lstm.yaml)", args, 96, 0)["batch_size"] == 256  # the YAML's
    assert settings_of("DLinear (ours)", args, 96, 0)["batch_size"] == 128


def test_a_row_of_several_networks_scores_their_mean_forecast_from_seeds_no_other_seed_shares(data_dir):
    import forecast
    from forecast.data import load_dataset, ltsf_split
    from experiments.ltsf.protocol import members_of, run_cell, settings_of
    from forecast.evaluation.skill import diebold_mariano

    args = argparse.Namespace(epochs=10, batch_size=128, patience=3, accelerator="cpu", validations_per_epoch=16,
                              train_stride=1)
    mean_of_three = "DenseNet-LSTM (configs/densenet-lstm.yaml; the mean of 3 networks)"
    assert members_of(mean_of_three) == ("DenseNet-LSTM (configs/densenet-lstm.yaml)", 3)
    assert settings_of(mean_of_three, args, 96, 1) == {
        **settings_of("DenseNet-LSTM (configs/densenet-lstm.yaml)", args, 96, 1), "ensemble": 3}
    assert "ensemble" not in settings_of("DLinear (ours)", args, 96, 1)

    data = load_dataset("etth1")
    split = ltsf_split(data, "etth1")
    settings = dict(model="dlinear", lookback=96, horizon=24, max_epochs=1, train_stride=16, seed=1,
                    accelerator="cpu", patience=None)
    result = run_cell({**settings, "ensemble": 2}, data, split)
    by_hand = {}
    own = {"test": [], "val": []}
    # seed 1 of two networks: seeds 2 and 3 (seed 0 takes 0 and 1)
    alone = [forecast.Forecaster(**{**settings, "seed": seed}).fit(data, split=split) for seed in (2, 3)]
    for part in ("test", "val"):
        forecasts = []
        for model in alone:
            point, truth = model.predict_windows(model.data_.datasets[part], model.data_.target_scaler)
            forecasts.append(point[..., 0])
            own[part].append((((point[..., 0] - truth) / model.data_.target_scaler.scale) ** 2).mean(axis=(1, 2)))
        assert not np.allclose(forecasts[0], forecasts[1])  # two networks, not one twice
        by_hand[part] = (np.mean(forecasts, axis=0) - truth) / model.data_.target_scaler.scale
    # the ensemble averages in float32 (MeanForecast), the hand in float64
    np.testing.assert_allclose(result["mse"], (by_hand["test"] ** 2).mean(axis=(1, 2)), rtol=1e-5)
    np.testing.assert_allclose(result["mae"], np.abs(by_hand["test"]).mean(axis=(1, 2)), rtol=1e-5)
    assert result["val_mse"] == pytest.approx((by_hand["val"] ** 2).mean(), rel=1e-6)
    assert len(result["members"]) == 2 and result["kept_start"] is False and "epochs" not in result
    assert [m["mse"] for m in result["members"]] == pytest.approx([w.mean() for w in own["test"]], rel=1e-12)
    assert [m["val_mse"] for m in result["members"]] == pytest.approx([w.mean() for w in own["val"]], rel=1e-12)
    # each network's p-value is the one-sided DM test of the mean's window losses against its own
    assert [m["mean_better_p"] for m in result["members"]] == pytest.approx(
        [diebold_mariano(result["mse"], windows, 24, "less").p_value for windows in own["test"]], rel=1e-6)
    assert result["members"][0]["epochs"] == 1
    single = run_cell({**settings, "seed": 2}, data, split)
    assert single["epochs"] == 1 and "members" not in single
    assert single["val_mse"] == pytest.approx(alone[0].evaluate(part="val")["mse_scaled"], rel=1e-9)


def test_a_mean_counts_as_below_its_networks_only_when_below_every_one_of_them():
    from experiments.ltsf.table import mean_below_networks

    def run(*p_values):
        return {"metrics": {"mse": 0.1, "members": [{"mse": 0.2, "mean_better_p": p} for p in p_values]}}
    plain = {"metrics": {"mse": 0.1}}
    before = {"metrics": {"mse": 0.1, "members": [{"mse": 0.2}]}}  # written before the test was kept
    rounding = {"metrics": {"mse": 0.1, "members": [{"mse": 0.10001, "mean_better_p": 0.001}]}}
    assert mean_below_networks([run(0.01, 0.049), run(0.01, 0.2), run(0.05, 0.01), plain, before, rounding]) == 1
