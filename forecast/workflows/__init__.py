"""The top floor: runs made of the rooms below (fit runs, walk-forward and strategy backtests, reports, run folders)."""
