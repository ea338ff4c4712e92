"""Markdown tables from records: the formatting every study's table shares."""

from __future__ import annotations

import math
import statistics
from collections.abc import Iterable, Sequence
from typing import Any


def number(value: Any) -> str:
    """A figure at the precision a reader needs: four significant digits below 100, whole above."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        return f"{value:,.0f}" if abs(value) >= 100 else f"{value:.4g}"
    return str(value)


def markdown(head: Sequence[str], rows: Iterable[Sequence[str]]) -> str:
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    lines += ["| " + " | ".join(str(cell).replace("|", "/") for cell in row) + " |" for row in rows]
    return "\n".join(lines)


def unique(values: Iterable[Any]) -> list[Any]:
    """Distinct values in the order first seen."""
    seen: list[Any] = []
    for value in values:
        if value not in seen:
            seen.append(value)
    return seen


def plain(items: list[dict[str, Any]]) -> str:
    """One row per cell, one column per metric (in the order first seen); a cell run with several
    seeds shows each number's mean ± sample std and its seed count. The dataset, the horizon and
    the budget get a column when the records differ in them."""
    keys = unique(key for item in items for key in item["metrics"])
    context = [field for field in ("dataset", "horizon", "budget") if len(unique(item[field] for item in items)) > 1]
    cells: dict[tuple, list[dict[str, Any]]] = {}
    for position, item in enumerate(items):  # seeds of one cell together; records without a seed alone
        alone = () if item.get("seed") is not None else (position,)
        cells.setdefault((item["row"], *(item[field] for field in context), *alone), []).append(item)
    seeded = any(len(group) > 1 for group in cells.values())
    head = ["row", *context, *(["seeds"] if seeded else []), *keys]
    width = 1 + len(context)
    rows = [[*(part or "" for part in key[:width]), *([str(len(group))] if seeded else []),
             *(summarized([item["metrics"].get(k) for item in group]) for k in keys)]
            for key, group in cells.items()]
    return markdown(head, rows)


def summarized(values: list[Any]) -> str:
    """One value as it is; numbers of several seeds as mean ± sample std."""
    numbers = [v for v in values if isinstance(v, (int, float)) and not isinstance(v, bool) and v is not None]
    if len(values) == 1 or len(numbers) != len(values):
        return number(values[0])
    mean, std = statistics.mean(numbers), statistics.stdev(numbers)
    if std <= 1e-6 * max(1.0, abs(mean)):  # the seeds agree: one value says it
        return number(float(mean) if isinstance(mean, float) or mean != int(mean) else int(mean))
    return f"{number(float(mean))} ± {number(float(std))}"


def provenance(items: list[dict[str, Any]]) -> str:
    """Where the figures come from, in one line: commits, machines, devices, and what was migrated."""
    commits = ", ".join(unique(str(item.get("commit")) for item in items))
    machines = "; ".join(unique(str(item.get("machine")) for item in items))
    devices = ", ".join(unique(str(item.get("device")) for item in items))
    migrated = unique(item["migrated_from"].split(" ")[0] for item in items if item.get("migrated_from"))
    line = f"Commits {commits}; {machines}; device {devices}."
    if migrated:
        line += (f" {len(migrated)} of the runs predate records: their figures were migrated from the "
                 "Markdown tables they wrote" + (" (seed means and spreads, no per-seed figure)." if any(
                     isinstance(item.get("seed"), list) for item in items) else "."))
    return line


def commands(items: list[dict[str, Any]]) -> str:
    """The commands that wrote these records, with their commit and wall time, folded away."""
    runs = unique((item.get("command"), item.get("commit"), item.get("run_wall_s")) for item in items)
    lines = [f"- `{command}` (commit {commit}" + (f", {wall:,} s" if wall is not None else "") + ")"
             for command, commit, wall in runs]
    return "<details><summary>The runs (" + str(len(runs)) + ")</summary>\n\n" + "\n".join(lines) + "\n\n</details>"
