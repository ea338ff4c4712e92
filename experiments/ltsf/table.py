"""The LTSF, ablation and search tables, and the LTSF figure, rendered from their records."""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Callable
from typing import Any

import numpy as np
from matplotlib.figure import Figure

from experiments.ltsf.protocol import (HORIZON_COLUMN, NEGLIGIBLE, PLAIN, PUBLISHED, RIDGE, ROWS, START, UNTRAINED,
                                       verdict_word)
from experiments.tables import markdown, number, unique

MARK = {"better": " ▼", "worse": " ▲", "level": ""}
NAMES = {"etth1": "ETTh1", "weather": "Weather", "stock:GSPC_2000-2017": "S&P 500 index, 2000-2017 (no search saw it)"}
OTHER_BARS = {START: "the untrained start (what training adds)", PLAIN: "the plain LSTM, seed against seed (what the encoder adds)",
              "naive": "naive"}


def budget_order(budget: str) -> tuple:
    """No training first, then every window, then thinner strides; more epochs later, and more
    validations an epoch later."""
    if budget == UNTRAINED:
        return (0, 0, 0, 0, budget)
    stride = re.match(r"every (\d+)", budget)
    epochs = re.search(r"(\d+) epochs", budget)
    validations = re.search(r"(\d+) validations an epoch", budget)
    return (1, int(stride.group(1)) if stride else 1, int(epochs.group(1)) if epochs else 0,
            int(validations.group(1)) if validations else 1, budget)


def summary(runs: list[dict[str, Any]], key: str) -> tuple[float, float | None]:
    """Mean and sample std over seeds: from per-seed records, or as a migrated record stored them."""
    if len(runs) == 1 and f"{key}_std" in runs[0]["metrics"]:
        return runs[0]["metrics"][key], runs[0]["metrics"][f"{key}_std"]
    values = np.array([run["metrics"][key] for run in runs], dtype=float)
    return float(values.mean()), (float(values.std(ddof=1)) if len(values) > 1 else None)


def spread(mean: float, std: float | None) -> str:
    return f"{mean:.4f}" + ("" if std is None else f" ± {std:.4f}")


def kept(runs: list[dict[str, Any]]) -> int:
    return int(sum(run["metrics"].get("kept_start") or 0 for run in runs))


def still_falling(runs: list[dict[str, Any]]) -> int:
    """The seeds whose best validation was their last (of more than one; in any of a seed's networks
    for a row that averages several); records written before
    fits validated inside an epoch count epochs, one validation each."""
    def last_best(metrics: dict[str, Any]) -> bool:
        best, validations = metrics.get("best_validation", metrics.get("best_epoch")), metrics.get("validations", metrics.get("epochs", 0))
        return best == validations > 1
    return sum(1 for run in runs if any(last_best(metrics) for metrics in run["metrics"].get("members", [run["metrics"]])))


def mean_below_networks(runs: list[dict[str, Any]]) -> int:
    """The seeds of a row that averages several networks whose mean's test losses are significantly
    below those of every one of its networks, by more than rounding (NEGLIGIBLE of its MSE)."""
    def below(mse: float, member: dict[str, Any]) -> bool:
        return member.get("mean_better_p", 1.0) < 0.05 and member["mse"] - mse > NEGLIGIBLE * member["mse"]
    return sum(1 for run in runs if run["metrics"].get("members")
               and all(below(run["metrics"]["mse"], member) for member in run["metrics"]["members"]))


def seeds(runs: list[dict[str, Any]]) -> int:
    return int(sum(run["metrics"].get("seeds", 1) for run in runs))


def group(items: list[dict[str, Any]]) -> tuple[dict, dict]:
    """Figure records by (row, budget, horizon), verdict words by (row, budget, horizon, bar)."""
    cells, verdicts = defaultdict(list), {}
    for item in items:
        key = (item["row"], item["budget"], item["horizon"])
        if item["table"] == "verdict":
            verdicts[(*key, item["against"])] = verdict_word(item["metrics"]["verdict"])
        else:
            cells[key].append(item)
    return cells, verdicts


def datasets(items: list[dict[str, Any]]) -> list[str]:
    """The benchmark sets first, in the papers' order, then the rest as first run."""
    names = unique(item["dataset"] for item in items)
    return [name for name in PUBLISHED if name in names] + [name for name in names if name not in PUBLISHED]


def ltsf(items: list[dict[str, Any]]) -> str:
    parts = []
    for dataset in datasets(items):
        mine = [item for item in items if item["dataset"] == dataset]
        cells, verdicts = group(mine)
        horizons = sorted(unique(h for _, _, h in cells))
        order = sorted(unique((row, budget) for row, budget, _ in cells),
                       key=lambda rb: (list(ROWS).index(rb[0]), budget_order(rb[1])))
        rows = []
        for row, budget in order:
            shown, seconds = [], []
            for horizon in horizons:
                runs = cells.get((row, budget, horizon))
                if not runs:
                    shown.append("")
                    continue
                mark = MARK[verdicts.get((row, budget, horizon, RIDGE), "level")]
                shown.append(spread(*summary(runs, "mse")) + mark)
                seconds.append(summary(runs, "fit_s")[0])
            rows.append([row, budget, *shown, f"{np.mean(seconds):,.0f}"])
        for source, figures in PUBLISHED.get(dataset, {}).items():
            rows.append([f"{source}, published", "", *(f"{figures[HORIZON_COLUMN[h]]:.3f}" for h in horizons), ""])
        first = mine[0]
        parts.append(f"#### {NAMES.get(dataset, dataset)}\n\n{first.get('rows_of_data', '?')} rows, "
                     f"{first.get('split', '')}, data sha256 {first['data_sha256'].get(dataset, '?')[:16]}. "
                     "Test MSE on the normalized scale, mean ± std over the seeds.\n\n"
                     + markdown(["model", "training", *(f"H={h}" for h in horizons), "fit s"], rows)
                     + "\n\n" + others(cells, verdicts, dataset))
    return "\n\n".join(parts)


def others(cells: dict, verdicts: dict, dataset: str) -> str:
    """The verdicts against the other bars that are not level, and the seeds that kept the start."""
    lines = []
    for bar, name in OTHER_BARS.items():
        if bar == "naive" and not dataset.startswith("stock:"):
            continue  # on ETTh1 and Weather every row beats naive by far; on prices it is the bar
        said = defaultdict(list)
        for (row, budget, horizon, against), word in verdicts.items():
            if against == bar:
                said[word].append((row, budget, horizon))
        if not any(said.values()):
            continue
        words = [f"{word} at " + "; ".join(f"{row} [{budget}] H={','.join(str(h) for h in hs)}"
                                           for (row, budget), hs in by_row(said[word]).items())
                 for word in ("better", "worse") if said[word]]
        lines.append(f"- Against {name}: " + ("; ".join(words) + "; level elsewhere." if words else "level everywhere."))
    lines.append(seed_counts(cells, kept, "Seeds in which no epoch beat the untrained start on validation (it was kept)"))
    lines.append(seed_counts(cells, mean_below_networks, "Seeds whose mean of several networks tested below each of "
                                                         "its own networks (one-sided DM, 5 %)"))
    lines.append(seed_counts(cells, still_falling, "Seeds whose validation loss still fell at their last validation "
                                                   "(a longer budget may pay)"))
    return "\n".join(line for line in lines if line)


def seed_counts(cells: dict, count: Callable[[list[dict[str, Any]]], int], what: str) -> str:
    """A line naming, row by row, the seeds ``count`` counts at each horizon; empty when it counts none."""
    found = defaultdict(list)
    for (row, budget, horizon), runs in cells.items():
        if count(runs):
            found[(row, budget)].append(f"{count(runs)}/{seeds(runs)} at {horizon}")
    if not found:
        return ""
    return (f"- {what}: " + "; ".join(f"{row} [{budget}] {', '.join(sorted(v, key=lambda s: int(s.split()[-1])))}"
                                      for (row, budget), v in found.items()) + ".")


def by_row(cells: list[tuple]) -> dict[tuple, list[int]]:
    grouped: dict[tuple, list[int]] = defaultdict(list)
    for row, budget, horizon in cells:
        grouped[(row, budget)].append(horizon)
    return {key: sorted(value) for key, value in grouped.items()}


def short(budget: str) -> str:
    return budget.split(", patience")[0]


def fullest(cells: dict, row: str, horizons: list[int]) -> str:
    """The row's budget that covers the most horizons, then trains on the most windows: the one
    figure per row the headline and the figure show (chosen by rule, not by its score)."""
    budgets = unique(b for r, b, _ in cells if r == row)
    return min(budgets, key=lambda b: (-sum((row, b, h) in cells for h in horizons), budget_order(b)))


def ltsf_figure(items: list[dict[str, Any]]) -> Figure:
    """Each trained row's test MSE over the ridge's, per horizon, with the seed spread, for every
    benchmark set; per row the budget that covers the most horizons (then the most windows)."""
    shown = [name for name in datasets(items) if name in PUBLISHED]
    figure = Figure(figsize=(11, 6), layout="constrained")
    axes = figure.subplots(1, len(shown), squeeze=False)[0]
    for ax, dataset in zip(axes, shown):
        cells, _ = group([item for item in items if item["dataset"] == dataset])
        ridge = {h: summary(runs, "mse")[0] for (row, _, h), runs in cells.items() if row == RIDGE}
        horizons = sorted(ridge)
        present = unique(row for row, _, _ in cells)
        top = 1.25  # a row far above the ridge is drawn at the edge with its value, not squashing the rest
        for index, row in enumerate(r for r in ROWS if r in present and r not in ("naive", RIDGE)):
            budget = fullest(cells, row, horizons)
            points = [(h, *summary(cells[(row, budget, h)], "mse")) for h in horizons if (row, budget, h) in cells]
            x = np.array([horizons.index(h) for h, _, _ in points]) + (index - 4) * 0.03
            y = np.array([mean / ridge[h] for h, mean, _ in points])
            error = np.array([(std or 0.0) / ridge[h] for h, _, std in points])
            line = ax.errorbar(x, np.minimum(y, top), yerr=error, marker="o", markersize=3, capsize=2, linewidth=1,
                               label=row if budget == UNTRAINED else f"{row} [{short(budget)}]")
            for xi, yi in zip(x, y):
                if yi > top:
                    ax.annotate(f"{yi:.2f}", (xi, top), textcoords="offset points", xytext=(4, -10), fontsize=7,
                                color=line[0].get_color())
        ax.axhline(1.0, color="black", linewidth=0.8)
        ax.set_ylim(top=top + 0.01)
        ax.set_xticks(range(len(horizons)), [str(h) for h in horizons])
        ax.set_xlabel("horizon")
        ax.set_ylabel("test MSE / the closed-form ridge's (below 1: better)")
        ax.set_title(NAMES.get(dataset, dataset))
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7, loc="upper center", bbox_to_anchor=(0.5, -0.12))
    return figure


def ablation(items: list[dict[str, Any]]) -> str:
    parts = []
    for dataset, horizon in [(d, h) for d in datasets(items)
                             for h in sorted(unique(i["horizon"] for i in items if i["dataset"] == d))]:
        mine = [item for item in items if item["dataset"] == dataset and item["horizon"] == horizon]
        cells, verdicts = group(mine)
        changes = {(item["row"], item["budget"]): item.get("changes", "") for item in mine}
        rows = []
        for (row, budget, _), runs in sorted(cells.items(), key=lambda kv: budget_order(kv[0][1])):
            val = summary(runs, "val_mse") if "val_mse" in runs[0]["metrics"] else None
            past = f"{seeds(runs) - kept(runs)}/{seeds(runs)}" if runs[0]["metrics"].get("epochs") else ""
            rows.append([row, changes[(row, budget)], budget, spread(*val) if val else "", past, spread(*summary(runs, "mse")),
                         verdicts.get((row, budget, horizon, "ridge"), ""), paired_verdict(verdicts, (row, budget, horizon)),
                         f"{summary(runs, 'fit_s')[0]:.0f}"])
        parts.append(f"#### {NAMES.get(dataset, dataset)}, H={horizon}\n\n"
                     + markdown(["variant", "what changes", "training", "validation MSE", "seeds past the start", "test MSE",
                                 "vs the ridge", "vs the base", "fit s"], rows))
    return "\n\n".join(parts)


def paired_verdict(verdicts: dict, cell: tuple) -> str:
    """A variant's seed-against-seed verdict: against the base, or against the variant named."""
    bar = next((against for (*key, against) in verdicts if tuple(key) == cell and against != "ridge"), None)
    if bar is None:
        return ""
    return verdicts[(*cell, bar)] + ("" if bar == "base" else f" (vs {bar})")


def search(items: list[dict[str, Any]]) -> str:
    rows = []
    for item in items:
        metrics = item["metrics"]
        scores = [f"{key.removeprefix('val_mse_')} {value:.4f}" for key, value in metrics.items() if key.startswith("val_mse_")]
        chosen = "chosen" if metrics.get("chosen") else ""
        settings = ", ".join(f"{k}={number(v) if isinstance(v, float) else v}" for k, v in (item.get("settings") or {}).items()
                             if k != "model")
        rows.append([item["row"], "; ".join(scores), number(metrics.get("objective")), chosen, settings])
    return markdown(["trial", "validation MSE", "mean ratio to the ridge", "", "settings"], rows)
