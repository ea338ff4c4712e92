"""The ``forecast`` command. Start-up stays light: each command imports what it needs when it runs."""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
from pathlib import Path

from forecast.errors import DataError, DownloadError
from forecast.models.registry import DEFAULTS, HEADS, MODELS

# settings of `forecast fit`: flag name (dashes for underscores) = YAML key; the defaults of the
# run come from the model registry, as the Forecaster's do
FIT_DEFAULTS = {
    "target": None, "covariates": None, "future_covariates": None, "time_col": None, "id_col": None,
    "freq": None, "fill": None, "duplicates": None, "sort": False,
    **{key: DEFAULTS[key] for key in ("model", "head", "horizon", "lookback", "quantiles", "season",
                                      "max_epochs", "batch_size", "patience", "val", "test", "seed")},
    "lr": None, "device": "auto",
}
MAX_EPOCHS_VARIABLE = "FORECAST_MAX_EPOCHS"  # caps every training run (README tests use it)


def main(argv: list[str] | None = None) -> int:
    """Run the command line; returns the exit code (0 ok, 2 bad usage or input, 1 internal error)."""
    parser = _parser()
    args = parser.parse_args(argv)
    if not hasattr(args, "run"):
        parser.print_help()
        return 2
    try:
        args.run(args)
    except (DataError, DownloadError) as error:
        print(f"forecast: error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("forecast: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # the reader of our output went away (`forecast predict ... | head`)
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except Exception as error:  # an unexpected failure: a bug of ours, not the user's
        if args.debug:
            raise
        print(f"forecast: internal error: {type(error).__name__}: {error} "
              "(run with --debug for the traceback)", file=sys.stderr)
        return 1
    return 0


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="forecast", description="Time-series forecasting with DenseNet-LSTM models.",
        epilog=f"Set {MAX_EPOCHS_VARIABLE}=N to cap the epochs of every training run.")
    parser.add_argument("--debug", action="store_true", help="show tracebacks of internal errors")
    commands = parser.add_subparsers(title="commands", metavar="COMMAND")
    data_help = "CSV or Parquet path, or a dataset name (etth1, weather, stock:AAPL)"

    fit = commands.add_parser("fit", help="train a model on DATA and write a run folder",
                              description="Train on DATA; write model.pt, metrics.json, config.yaml "
                                          "and logs to --out.")
    fit.add_argument("data", metavar="DATA", help=data_help)
    fit.add_argument("--out", required=True, help="run folder to write")
    fit.add_argument("--config", help="YAML file with any of the settings below; flags override it")
    _add_read_options(fit)
    fit.add_argument("--future-covariates", help="covariates known ahead, comma-separated")
    fit.add_argument("--model", choices=list(MODELS), help=f"default {DEFAULTS['model']}")
    fit.add_argument("--head", choices=HEADS, help=f"default {DEFAULTS['head']}")
    fit.add_argument("--horizon", type=int, help=f"steps to forecast (default {DEFAULTS['horizon']})")
    fit.add_argument("--lookback", type=int, help=f"steps the model reads (default {DEFAULTS['lookback']})")
    fit.add_argument("--quantiles", help="e.g. 0.1,0.5,0.9 (pinball loss, quantile columns)")
    fit.add_argument("--season", type=int, help="season length, for seasonal-naive")
    fit.add_argument("--max-epochs", type=int, help=f"default {DEFAULTS['max_epochs']}")
    fit.add_argument("--batch-size", type=int, help=f"default {DEFAULTS['batch_size']}")
    fit.add_argument("--lr", type=float, help="learning rate (default: the model's)")
    fit.add_argument("--patience", type=int,
                     help=f"early-stopping patience in epochs (default {DEFAULTS['patience']})")
    fit.add_argument("--val", type=float,
                     help=f"share of the rows for validation (default {DEFAULTS['val']})")
    fit.add_argument("--test", type=float,
                     help=f"share of the rows held out for testing (default {DEFAULTS['test']})")
    fit.add_argument("--device", choices=["auto", "cpu", "cuda"])
    fit.add_argument("--seed", type=int)
    fit.add_argument("--quiet", action="store_true", help="no progress bars")
    fit.set_defaults(run=_fit)

    predict = commands.add_parser("predict", help="forecast from the end of DATA with a saved model")
    predict.add_argument("model", metavar="MODEL", help="model.pt written by `forecast fit`")
    predict.add_argument("data", metavar="DATA", help=data_help)
    predict.add_argument("--out", help="CSV to write (default: standard output)")
    predict.set_defaults(run=_predict)

    evaluate = commands.add_parser(
        "evaluate", help="errors of a saved model on the windows of DATA after its training data")
    evaluate.add_argument("model", metavar="MODEL")
    evaluate.add_argument("data", metavar="DATA", help=data_help)
    evaluate.add_argument("--json", action="store_true", help="print JSON instead of a table")
    evaluate.add_argument("--all-windows", action="store_true",
                          help="score every window, the training ones too (labelled in-sample)")
    evaluate.set_defaults(run=_evaluate)

    demo = commands.add_parser("demo", help="train DenseNet-LSTM and baselines on ETTh1 (under a minute on a laptop CPU)")
    demo.add_argument("--out", default="forecast-demo", help="run folder (default: forecast-demo)")
    demo.add_argument("--quiet", action="store_true")
    demo.set_defaults(run=_demo)

    data = commands.add_parser("data", help="inspect and fetch datasets")
    data_commands = data.add_subparsers(title="data commands", metavar="COMMAND")
    info = data_commands.add_parser(
        "info", help="rows, columns, time range, frequency, gaps and duplicates of a series",
        description="Read and validate DATA as fitting would, then summarise it.")
    info.add_argument("data", metavar="DATA", help=data_help)
    _add_read_options(info)
    info.add_argument("--lookback", type=int, default=0, help="check the series can hold one window")
    info.add_argument("--horizon", type=int, default=0, help="check the series can hold one window")
    info.set_defaults(run=_data_info)
    fetch = data_commands.add_parser("fetch", help="write a named dataset to a CSV file")
    fetch.add_argument("name", metavar="NAME", help="etth1, weather, stock:AAPL, stocks:AAPL,MSFT")
    fetch.add_argument("-o", "--output", required=True, help="CSV file to write")
    fetch.add_argument("--start", help="first date to keep (e.g. 2018-01-01)")
    fetch.add_argument("--end", help="last date to keep")
    fetch.add_argument("--interval", default="1d", choices=["1d"], help="bar size (daily only)")
    fetch.set_defaults(run=_data_fetch)
    return parser


def _add_read_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--target", help="target column(s), comma-separated (default: all numeric)")
    parser.add_argument("--covariates", help="past covariate column(s), comma-separated")
    parser.add_argument("--time-col", help="time column (default: inferred)")
    parser.add_argument("--id-col", help="series id column of a long-layout file")
    parser.add_argument("--freq", help="pandas frequency alias (default: inferred)")
    parser.add_argument("--fill", choices=["ffill", "interpolate"],
                        help="fill missing values and gaps (default: report them as errors)")
    parser.add_argument("--duplicates", choices=["error", "drop", "keep"], default=None,
                        help="what to do with duplicated timestamps (default: error)")
    parser.add_argument("--sort", action="store_true", default=None,
                        help="sort rows that are out of time order")


def read_data(source: str, **options):
    """The series named on the command line: a file path or a registry name; None options unset."""
    from forecast.data.reading import read_series
    from forecast.data.registry import is_registered, load_dataset

    options = {k: v for k, v in options.items() if v is not None}
    if not Path(source).exists() and is_registered(source):
        return load_dataset(source, **options)
    return read_series(source, **options)


def _read_options(settings) -> dict:
    """read_series options from parsed flags (a Namespace) or fit settings (a dict)."""
    get = settings.get if isinstance(settings, dict) else lambda key: getattr(settings, key)
    return {key: get(key) for key in ("time_col", "id_col", "freq", "fill", "duplicates")} | \
        {"sort": bool(get("sort"))}


def _data_info(args: argparse.Namespace) -> None:
    data = read_data(args.data, target=args.target, covariates=args.covariates,
                     min_rows=max(3, args.lookback + args.horizon), **_read_options(args))
    print(data.describe())


def _data_fetch(args: argparse.Namespace) -> None:
    from forecast.atomic import write_atomically
    from forecast.data.registry import is_registered, load_dataset

    if not is_registered(args.name):
        raise DataError(f"unknown dataset '{args.name}'; known: etth1, weather, stock:TICKER, stocks:T1,T2")
    frame = load_dataset(args.name).to_frame()
    index = frame.index
    if args.start:
        frame = frame[index >= _timestamp(args.start, "--start")]
    if args.end:
        frame = frame[frame.index <= _timestamp(args.end, "--end")]
    if frame.empty:
        raise DataError(f"{args.name}: no rows between {args.start or 'the start'} and {args.end or 'the end'}")
    write_atomically(args.output, lambda path: frame.to_csv(path, index_label="date"))
    print(f"wrote {len(frame)} rows of {args.name} to {args.output}", file=sys.stderr)


def _timestamp(text: str, flag: str):
    import pandas as pd

    try:
        return pd.Timestamp(text)
    except ValueError:
        raise DataError(f"{flag} '{text}' is not a date") from None


def fit_settings(args: argparse.Namespace) -> dict:
    """Defaults, then the YAML config, then the flags given: every setting of the run."""
    settings = dict(FIT_DEFAULTS)
    if args.config:
        settings.update(_read_config(args.config))
    for key in FIT_DEFAULTS:
        value = getattr(args, key, None)
        if value is not None:
            settings[key] = value
    for key in ("target", "covariates", "future_covariates", "quantiles"):
        if isinstance(settings[key], str):
            settings[key] = [part.strip() for part in settings[key].split(",") if part.strip()]
    if settings["quantiles"]:
        try:
            settings["quantiles"] = [float(q) for q in settings["quantiles"]]
        except ValueError:
            raise DataError(f"--quantiles must be numbers such as 0.1,0.5,0.9, not {settings['quantiles']}") from None
        if not all(0 < q < 1 for q in settings["quantiles"]):
            raise DataError("--quantiles must lie strictly between 0 and 1")
    if settings["model"] not in MODELS:
        raise DataError(f"unknown model '{settings['model']}'; known: {', '.join(MODELS)}")
    if settings["quantiles"] and not MODELS[settings["model"]].lstm_head:
        raise DataError(f"--quantiles needs a model with an LSTM head, not {settings['model']}")
    if settings["model"] == "seasonal-naive" and not settings["season"]:
        raise DataError("--model seasonal-naive needs --season (e.g. 24 for hourly data)")
    for key in ("horizon", "lookback", "max_epochs", "batch_size"):
        if not isinstance(settings[key], int) or settings[key] < 1:
            raise DataError(f"--{key.replace('_', '-')} must be a positive whole number")
    if not (0 < settings["val"] < 1 and 0 <= settings["test"] < 1 and settings["val"] + settings["test"] < 1):
        raise DataError("--val and --test must be shares of the rows whose sum is below 1")
    cap = os.environ.get(MAX_EPOCHS_VARIABLE)
    if cap:
        settings["max_epochs"] = min(settings["max_epochs"], int(cap))
    return settings


def _read_config(path: str) -> dict:
    import yaml

    try:
        loaded = yaml.safe_load(Path(path).read_text()) or {}
    except OSError:
        raise DataError(f"{path}: no such config file") from None
    except yaml.YAMLError as error:
        raise DataError(f"{path}: not valid YAML ({str(error).splitlines()[0]})") from None
    if not isinstance(loaded, dict):
        raise DataError(f"{path}: a config file holds 'setting: value' lines")
    loaded = {str(key).replace("-", "_"): value for key, value in loaded.items()}
    unknown = sorted(set(loaded) - set(FIT_DEFAULTS))
    if unknown:
        raise DataError(f"{path}: unknown setting '{unknown[0]}'; known: {', '.join(FIT_DEFAULTS)}")
    return loaded


def _fit(args: argparse.Namespace) -> None:
    settings = fit_settings(args)
    columns = (settings["covariates"] or []) + (settings["future_covariates"] or [])
    data = read_data(args.data, target=settings["target"], covariates=columns or None,
                     min_rows=settings["lookback"] + settings["horizon"], **_read_options(settings))
    _train_and_write(data, settings, Path(args.out), quiet=args.quiet,
                     source=args.data, config_path=args.config)


def _train_and_write(data, settings: dict, out: Path, quiet: bool, source: str,
                     config_path: str | None = None, split=None, summary: bool = True) -> dict:
    """Fit, evaluate model and naive on val and test, and write the run folder all at once."""
    import yaml

    import forecast
    from forecast.atomic import write_atomically

    accelerator = {"auto": "auto", "cpu": "cpu", "cuda": "gpu"}[settings["device"]]
    out.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=out.parent, prefix=f".{out.name}.") as scratch:
        model = forecast.Forecaster(
            model=settings["model"], lookback=settings["lookback"], horizon=settings["horizon"],
            target=settings["target"], covariates=settings["covariates"],
            future_covariates=settings["future_covariates"], head=settings["head"],
            quantiles=settings["quantiles"], season=settings["season"],
            max_epochs=settings["max_epochs"], batch_size=settings["batch_size"], lr=settings["lr"],
            patience=settings["patience"], accelerator=accelerator, seed=settings["seed"],
            log_dir=str(Path(scratch) / "logs"), progress=not quiet)
        if split is None:
            model.fit(data, val=settings["val"], test=settings["test"])
        else:
            model.fit(data, split=split)
        for note in model.notes_:
            print(f"note: {note}", file=sys.stderr)
        metrics = {part: model.evaluate(part=part) for part in ("val", "test")
                   if len(model.data_.datasets[part])}
        out.mkdir(parents=True, exist_ok=True)
        model.save(out / "model.pt")
        write_atomically(out / "metrics.json", lambda p: Path(p).write_text(json.dumps(metrics, indent=2)))
        used = {**settings, "data": source, "config": config_path}
        write_atomically(out / "config.yaml", lambda p: Path(p).write_text(yaml.safe_dump(used, sort_keys=False)))
        if (Path(scratch) / "logs").exists():
            shutil.rmtree(out / "logs", ignore_errors=True)
            shutil.move(str(Path(scratch) / "logs"), out / "logs")
    if summary:
        print(_table(metrics, settings["model"]))
        print(f"wrote {out}/model.pt, metrics.json, config.yaml", file=sys.stderr)
    return metrics


def _table(metrics: dict, name: str) -> str:
    lines = [f"{'part':<6} {'model':<16} {'mse':>12} {'mae':>12} {'mse_scaled':>11} {'mae_scaled':>11}"]
    for part, result in metrics.items():
        lines.append(f"{part:<6} {name:<16} {result['mse']:>12.4f} {result['mae']:>12.4f} "
                     f"{result['mse_scaled']:>11.4f} {result['mae_scaled']:>11.4f}")
        lines.append(f"{part:<6} {'naive':<16} {result['naive_mse']:>12.4f} {result['naive_mae']:>12.4f}")
    return "\n".join(lines)


def _load_model(path: str):
    import forecast

    return forecast.load(path)


def _predict(args: argparse.Namespace) -> None:
    from forecast.atomic import write_atomically

    model = _load_model(args.model)
    forecasts = model.predict(args.data)
    rows = _long_rows(forecasts, model.schema_.target)
    if args.out:
        write_atomically(args.out, lambda path: rows.to_csv(path, index=False))
        print(f"wrote {len(rows)} forecast rows to {args.out}", file=sys.stderr)
    else:
        rows.to_csv(sys.stdout, index=False)


def _long_rows(forecasts, targets: list[str]):
    """One row per future timestamp and target: [unique_id,] time, target, forecast[, q...]."""
    import pandas as pd

    frame = forecasts.reset_index()
    keys = [c for c in ("unique_id", "time") if c in frame.columns]
    parts = []
    for target in targets:
        quantile_columns = [c for c in frame.columns if c.startswith(f"{target}_q")]
        part = frame[keys + [target] + quantile_columns].rename(columns={target: "forecast"})
        part = part.rename(columns={c: c[len(target) + 1:] for c in quantile_columns})
        part.insert(len(keys), "target", target)
        parts.append(part)
    return pd.concat(parts, ignore_index=True).sort_values(keys + ["target"], kind="stable")


def _evaluate(args: argparse.Namespace) -> None:
    model = _load_model(args.model)
    result = model.evaluate(args.data, in_sample=args.all_windows)
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        print(_table({result["part"]: result}, model.model))
        scope = "every window, in-sample" if result["in_sample"] else "after the training data"
        print(f"windows: {result['windows']} ({scope})")


def _demo(args: argparse.Namespace) -> None:
    from forecast.data.registry import load_dataset
    from forecast.data.splits import ltsf_split

    try:
        data = load_dataset("etth1")
    except DataError as error:
        raise DataError(f"the demo needs ETTh1: {error}") from None
    split = ltsf_split(data, "etth1")
    out = Path(args.out)
    cap = int(os.environ.get(MAX_EPOCHS_VARIABLE, 4))
    base = {**FIT_DEFAULTS, "lookback": 336, "horizon": 96, "head": "direct",
            "batch_size": 128, "max_epochs": min(4, cap), "patience": 2}
    results = {}
    for name in ("densenet-lstm", "linear", "dlinear", "naive"):
        settings = {**base, "model": name, "lr": 1e-4 if name == "densenet-lstm" else None}
        folder = out if name == "densenet-lstm" else out / "baselines" / name
        metrics = _train_and_write(data, settings, folder, quiet=args.quiet, source="etth1",
                                   split=split, summary=False)
        results[name] = metrics["test"]
    print("ETTh1, L=336, H=96, LTSF split, test windows: "
          f"{results['naive']['windows']} (normalized scale, as the LTSF papers report)")
    print(f"{'model':<16} {'mse':>8} {'mae':>8}")
    for name, result in results.items():
        print(f"{name:<16} {result['mse_scaled']:>8.4f} {result['mae_scaled']:>8.4f}")
    print(f"run folder: {out}")


if __name__ == "__main__":
    sys.exit(main())
