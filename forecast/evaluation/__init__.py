"""Metrics, walk-forward backtests, trading simulation and reports."""
