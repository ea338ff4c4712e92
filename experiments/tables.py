"""Markdown tables from records: the formatting every study's table shares."""

from __future__ import annotations

import math
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
    """One row per record, one column per metric (in the order first seen); the dataset and the
    budget get a column when the records differ in them."""
    keys = unique(key for item in items for key in item["metrics"])
    context = [field for field in ("dataset", "budget") if len(unique(item[field] for item in items)) > 1]
    head = ["row", *context, *keys]
    rows = [[item["row"], *(item[field] or "" for field in context), *(number(item["metrics"].get(key)) for key in keys)]
            for item in items]
    return markdown(head, rows)


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
