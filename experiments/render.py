"""Render the results summary (experiments/results/README.md), its figure and the main README's
headline table from the studies' records; nothing in them is written by hand but the verdicts in
experiments/verdicts/.

    python -m experiments.render [--records DIR] [--out DIR] [--check]

``--check`` writes nothing and exits 1 when a committed file differs from what the records give.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import matplotlib

from experiments import records
from experiments.ltsf import table as ltsf_tables
from experiments.ltsf.protocol import PUBLISHED, RIDGE, UNTRAINED
from experiments.tables import commands, markdown, plain, provenance, unique

HERE = Path(__file__).resolve().parent
VERDICTS = HERE / "verdicts"
MAIN_README = HERE.parent / "README.md"
HEADLINE = ("<!-- headline: rendered by python -m experiments.render -->", "<!-- end of headline -->")
BEFORE = "4703d85"  # the last commit with the Markdown result files this summary replaced
FIGURE = "ltsf.svg"


@dataclass(frozen=True)
class Study:
    name: str  # its records file, records/<name>.jsonl, and its verdict, verdicts/<name>.md
    title: str
    what: str
    table: Callable[[list[dict[str, Any]]], str] | None = None  # its own table; else one row per cell
    parts: dict[str, str] | None = None  # the titles of its tables, when it has several


def by_table(study: Study, items: list[dict[str, Any]]) -> str:
    if not study.parts:
        return plain(items)
    return "\n\n".join(f"{title}:\n\n" + plain([item for item in items if item["table"] == part])
                       for part, title in study.parts.items() if any(item["table"] == part for item in items))


STUDIES = (
    Study("ltsf", "LTSF table: ETTh1, Weather and an unseen index",
          "Look-back 336, every channel, every stride-1 test window scored; 3 seeds for each trained row; "
          "▼ / ▲: significantly below / above the closed-form ridge (one-sided Diebold-Mariano with the "
          "HLN correction, 5 %, in every seed, and a gap beyond the seed spread and 0.1 % of the ridge's MSE); "
          "unmarked: level. "
          f"`python -m experiments.ltsf.run --datasets etth1 --jobs 2` and the commands below. Figure: [{FIGURE}]({FIGURE}).",
          ltsf_tables.ltsf),
    Study("ablation", "Ablations of the DenseNet-LSTM",
          "One setting of the base (RevIN, direct head, highway started from the ridge) changed per row, "
          "3 seeds, at H=96; each against the ridge and, seed against seed, against the base run beside it. "
          "`python -m experiments.ltsf.ablate --variants ...`.", ltsf_tables.ablation),
    Study("shift", "Do validation and test agree? The ridge damped",
          "The closed-form ridge's forecasts (look-back 336, every stride-1 window) damped by a fixed share toward "
          "the training mean (0 on the normalized scale) or toward each window's own look-back mean, scored on the "
          "validation and the test windows; the change is against the ridge on the same part. Nothing is trained or "
          "chosen. `python -m experiments.ltsf.shift --datasets etth1,weather`."),
    Study("tune", "The configuration search",
          "Optuna TPE on validation MSE only (the test rows are cut from the data the search sees); the "
          "objective is the mean over ETTh1-96 and Weather-96 of each trial's validation MSE over the ridge's. "
          "`python -m experiments.ltsf.tune --datasets etth1,weather --trials 30 --train-stride 8,64` writes "
          "experiments/configs/densenet-lstm.yaml.", ltsf_tables.search),
    Study("stocks", "Stocks: skill against the random walk",
          "40 tickers, 2017-2019: log returns forecast two days ahead from the last 60, one model for all tickers, "
          "refit every 63 rows, 753 origins a ticker. Skill: per test, the tickers with p < 0.05 (direction: the "
          "next day, against the base rate), the chance of that many with no skill if tickers were independent, "
          "and those surviving Benjamini-Hochberg. Trading: the equal-weight sleeves on the sign of the step-2 "
          "forecast (the day a next-close fill holds), 5 bps of the value traded, beside buy-and-hold valued the "
          "same way; neural models over 3 seeds. `python -m experiments.stocks.run --jobs 2`.",
          None, {"skill": "Skill per ticker, counted over the 40", "trading": "Trading"}),
    Study("image", "DenseNet-BC against ResNet-18 on the digits",
          "scikit-learn's 1,797 8x8 digits, stratified 70/10/20, one budget for both. `python -m experiments.image.run`."),
    Study("train_speed", "Training speed",
          "The YAML DenseNet-LSTM's training and inference against a plain fp32 PyTorch loop in the same process "
          "(ratio > 1: faster), in fp32, bf16 and compiled, with the epoch's time by part and the achieved GFLOP/s "
          "against the machine's measured peak, and the same loop with the encoder on the 1D kernels it ran on before "
          "channels-last; beside neuralforecast; then the library's defaults. "
          "`python -m experiments.bench.train_speed --datasets etth1,weather --peer none` and "
          "`... --compile no --config defaults`; a fit now against the issue's start: "
          "`python -m experiments.bench.since --commit 54ec61d`; the test suite likewise: "
          "`python -m experiments.bench.suite --commit 54ec61d`.",
          None, {"peak": "The machine's peak", "speed": "Training against the plain loop",
                 "profile": "Where one epoch of ours goes (seconds)", "inference": "Inference against the plain loop",
                 "peer": "Beside neuralforecast (one seed each: not a ranking)",
                 "speed (defaults)": "The library's defaults (seq2seq head, every channel in one sample, batch 128; "
                                     "`--config defaults`): training against the plain loop",
                 "profile (defaults)": "The library's defaults: where one epoch of ours goes (seconds)",
                 "inference (defaults)": "The library's defaults: inference against the plain loop",
                 "since": "A fit now against the same fit at the issue's start (the same machine, the same run)",
                 "suite": "The test suite now against the same suite at the issue's start (the same machine, the same run)"}),
    Study("contention", "Two fits side by side",
          "A DenseNet-LSTM fit (ETTh1's first 6,000 rows, the defaults, 2 epochs) alone, then two started together in "
          "processes of their own, with the cores shared between fits (the default) and blind to each other (before; "
          "stopped at 6 times the time alone). `python -m experiments.bench.contention`."),
    Study("backtest_speed", "Backtest speed",
          "Walk-forward backtests on AAPL returns, ours beside Darts on the same work; the DenseNet-LSTM's refit "
          "cost; growth with tickers and origins. `python -m experiments.bench.backtest`.",
          None, {"darts": "DLinear, ours beside Darts", "densenet": "DenseNet-LSTM refits",
                               "growth": "Growth with tickers (fit once, or refit every 63 rows)",
                               "steps": "Fewer origins: every 1, 2 or 4 rows (the ridge, refit every 63 rows)",
                               "parallel": "Folds in parallel against one process"}),
    Study("windows", "Window throughput",
          "Weather training windows (L=336, H=96, batch 256) through our DataModule against numpy's gather bound "
          "and a per-window pandas loop; peak memory of each alone. `python -m experiments.bench.windows`."),
    Study("densenet", "DenseNet-121 training step",
          "Ours against torchvision in the same process, batch 32 at 224x224, SGD step included; memory-efficient "
          "mode against the standard one. `python -m experiments.bench.densenet --device cpu|cuda [--compile]`.",
          None, {"speed": "Images per second", "memory": "Peak activation memory of one step"}),
)


def section(study: Study, items: list[dict[str, Any]]) -> str:
    verdict = VERDICTS / f"{study.name}.md"
    table = study.table(items) if study.table else by_table(study, items)
    return "\n\n".join([f"## {study.title}", study.what, table, provenance(items), commands(items),
                        verdict.read_text().strip() if verdict.is_file() else "(no verdict written yet)"])


def summary(folder: Path) -> str:
    studies = [(study, records.load(study.name, folder)) for study in STUDIES]
    contents = " · ".join(f"[{study.title}](#{anchor(study.title)})" for study, items in studies if items)
    parts = ["# Results",
             "Rendered by `python -m experiments.render` from the records in [records/](records/) (one JSON Lines "
             "file per study: a record per cell and seed, with its command, commit, machine, device, data sha256 "
             "and wall time); each study's runner appends them, replacing the cells it ran again. Do not edit "
             "this file: a test re-renders it from the records. Only the verdicts under experiments/verdicts/ "
             f"are written by hand. The Markdown tables this page replaced are in git history (`git show {BEFORE}:experiments/results/`).",
             contents]
    parts += [section(study, items) for study, items in studies if items]
    return "\n\n".join(parts) + "\n"


def anchor(title: str) -> str:
    return "".join(c for c in title.lower().replace(" ", "-") if c.isalnum() or c in "-_")


def headline(folder: Path) -> str:
    """The main README's one table: the DenseNet-LSTM beside the ridge, naive and published figures."""
    items = records.load("ltsf", folder)
    row = "DenseNet-LSTM (RevIN and direct head)"
    lines = []
    for dataset in [name for name in ltsf_tables.datasets(items) if name in PUBLISHED]:
        cells, verdicts = ltsf_tables.group([item for item in items if item["dataset"] == dataset])
        horizons = sorted(unique(h for r, _, h in cells if r == RIDGE))
        budget = ltsf_tables.fullest(cells, row, horizons)
        name = ltsf_tables.NAMES[dataset]
        for label, key in ((f"{row} [{ltsf_tables.short(budget)}]", (row, budget)), (RIDGE, (RIDGE, UNTRAINED)),
                           ("naive", ("naive", UNTRAINED))):
            shown = [ltsf_tables.spread(*ltsf_tables.summary(cells[(*key, h)], "mse"))
                     + ltsf_tables.MARK[verdicts.get((*key, h, RIDGE), "level")] for h in horizons]
            lines.append([name, label, *shown])
        patch = PUBLISHED[dataset]["PatchTST (TFB/OpenTS)"]
        lines.append([name, "PatchTST, published", *(f"{patch[i]:.3f}" for i in range(len(horizons)))])
    table = markdown(["data", "model", "H=96", "H=192", "H=336", "H=720"], lines)
    return (f"{HEADLINE[0]}\n{table}\n\nTest MSE (normalized), mean ± std over 3 seeds; ▼ significantly below the "
            "closed-form ridge, unmarked: level. Every row, seed, verdict and run: "
            f"[experiments/results/README.md](experiments/results/README.md).\n{HEADLINE[1]}")


def with_headline(text: str, block: str) -> str:
    start, end = text.index(HEADLINE[0]), text.index(HEADLINE[1]) + len(HEADLINE[1])
    return text[:start] + block + text[end:]


def figure_svg(folder: Path) -> bytes:
    import io

    with matplotlib.rc_context({"svg.hashsalt": "forecast", "svg.fonttype": "none"}):
        buffer = io.BytesIO()
        ltsf_tables.ltsf_figure(records.load("ltsf", folder)).savefig(
            buffer, format="svg", metadata={"Date": None, "Creator": None})
    return buffer.getvalue()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    records.add_records_option(parser)
    parser.add_argument("--out", default=str(records.RESULTS), help="folder for README.md and the figure")
    parser.add_argument("--check", action="store_true", help="compare with the files instead of writing them")
    args = parser.parse_args(argv)
    folder, out = Path(args.records), Path(args.out)
    wanted = {out / "README.md": summary(folder)}
    if MAIN_README.is_file() and HEADLINE[0] in MAIN_README.read_text() and out == records.RESULTS:
        wanted[MAIN_README] = with_headline(MAIN_README.read_text(), headline(folder))
    if args.check:
        stale = [str(path) for path, text in wanted.items() if not path.is_file() or path.read_text() != text]
        for path in stale:
            print(f"{path} differs from what the records give; run python -m experiments.render", file=sys.stderr)
        return 1 if stale else 0
    out.mkdir(parents=True, exist_ok=True)
    for path, text in wanted.items():
        path.write_text(text)
    (out / FIGURE).write_bytes(figure_svg(folder))
    print("\n".join(str(path) for path in [*wanted, out / FIGURE]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
