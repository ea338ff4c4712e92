"""Plain-text tables of the command's results, with significant digits (not fixed decimals)."""

from __future__ import annotations


def number(value: float) -> str:
    """Five significant digits: an MSE of 0.000123 stays 0.000123, not 0.0001."""
    return f"{value:.5g}"


def metrics_table(metrics: dict[str, dict], name: str) -> str:
    """One row for the model and one for the naive forecast per part."""
    lines = [f"{'part':<15} {'model':<16} {'mse':>12} {'mae':>12} {'mse_scaled':>11} {'mae_scaled':>11}"]
    for part, result in metrics.items():
        lines.append(f"{part:<15} {name:<16} {number(result['mse']):>12} {number(result['mae']):>12} "
                     f"{number(result['mse_scaled']):>11} {number(result['mae_scaled']):>11}")
        lines.append(f"{part:<15} {'naive':<16} {number(result['naive_mse']):>12} "
                     f"{number(result['naive_mae']):>12}")
    return "\n".join(lines)
