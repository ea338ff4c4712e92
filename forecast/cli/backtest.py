"""`forecast backtest`: a strategy backtest run (forecast.workflows.strategy), printed."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from forecast.cli.settings import BACKTEST_SETTINGS, run_config
from forecast.cli.tables import number
from forecast.config import BACKTEST_DEFAULTS


def backtest(args: argparse.Namespace) -> None:
    config = run_config(args, BACKTEST_SETTINGS, BACKTEST_DEFAULTS)
    from forecast.workflows.runs import command_line
    from forecast.workflows.strategy import backtest_run

    result = backtest_run(args.data, config, Path(args.out), report=args.report,
                          progress=not args.quiet and sys.stderr.isatty(), command=command_line())
    _summary(result.stats)
    for line in result.stats["warnings"]:
        print(f"note: {line}", file=sys.stderr)
    print(f"wrote {args.out}/forecasts.csv, equity.csv, trades.csv, stats.json, config.yaml, run.json"
          + (", report.html, report.md" if args.report else ""), file=sys.stderr)


def _summary(stats: dict) -> None:
    """Strategy beside buy-and-hold, then the skill of each series against the random walk."""
    keys = ("total_return", "cagr", "sharpe", "sortino", "max_drawdown", "turnover", "exposure", "trades")
    print(f"{'':<14}" + "".join(f"{k:>14}" for k in keys))
    for name in ("strategy", "buy_and_hold"):
        print(f"{name:<14}" + "".join(f"{_value(stats[name][k]):>14}" for k in keys))
    print(f"(annualized: {stats['annualization']}; {stats['fills']})")
    print(f"\n{'series':<10} {'origins':>8} {'mase':>8} {'direction':>10} {'binom p':>8} {'PT p':>8} {'DM p':>8}")
    for row in stats["skill"]:
        print(f"{str(row['series']):<10} {row['origins']:>8} {_value(row['mase']):>8} "
              f"{_value(row['direction']):>10} {_value(row['direction_binomial_p']):>8} "
              f"{_value(row['direction_pt_p']):>8} {_value(row['dm_p']):>8}"
              + (f"  ({row['note']})" if row.get("note") else ""))


def _value(value) -> str:
    return "nan" if value is None else number(value)
