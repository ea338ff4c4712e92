"""The test suite now against the same suite at a past commit (issue 31's start), on this machine in
this run: the README's test command, ``pytest``, run in each commit's tree by a process of its own,
the two alternated ``--pairs`` times, the faster run of each counting. Set side by side: the whole
run's wall time, and the summed time of the tests both commits have (the same file, class and
name, from each run's JUnit report), so that the tests added since do not count against now.

    FORECAST_DATA_DIR=../shared/datasets python -m experiments.bench.suite --commit 54ec61d [--pairs 2]

``--tests`` narrows both runs to some of the tests (and ``-n 0`` runs them in one process). Writes
records to the records' train_speed.jsonl (table suite), replacing this machine's earlier ones.
"""

from __future__ import annotations

import argparse
import os
import shlex
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ElementTree
from dataclasses import dataclass
from pathlib import Path

from experiments import records
from experiments.bench.worktree import checked_out


@dataclass
class Suite:
    """One run of the suite: its wall time, and each test's seconds and outcome by its id."""

    seconds: float
    tests: dict[str, tuple[float, str]]

    def count(self, outcome: str) -> int:
        return sum(1 for _, result in self.tests.values() if result == outcome)


OUTCOMES = {"failure": "failed", "error": "error", "skipped": "skipped"}  # a test case's mark: its outcome


def outcomes(report: Path) -> dict[str, tuple[float, str]]:
    """Each test case of a JUnit report: its seconds (set-up, call and tear-down) and its outcome
    (passed, failed, error or skipped), by "module::name"."""
    return {f"{case.get('classname')}::{case.get('name')}":
            (float(case.get("time") or 0.0), next((OUTCOMES[mark.tag] for mark in case if mark.tag in OUTCOMES), "passed"))
            for case in ElementTree.parse(report).getroot().iter("testcase")}


def run_suite(tree: Path, selection: list[str]) -> Suite:
    """``pytest`` in ``tree``, importing that tree's package and tests, timed whole."""
    environment = {**os.environ, "PYTHONPATH": str(tree)}
    imported = subprocess.run([sys.executable, "-c", "import forecast; print(forecast.__file__)"], cwd=tree,
                              env=environment, capture_output=True, text=True, check=True).stdout.strip()
    if not Path(imported).resolve().is_relative_to(tree.resolve()):
        raise RuntimeError(f"pytest in {tree} would import forecast from {imported}")
    with tempfile.TemporaryDirectory() as folder:
        report = Path(folder) / "junit.xml"
        start = time.perf_counter()
        subprocess.run([sys.executable, "-m", "pytest", "-q", f"--junitxml={report}", *selection], cwd=tree,
                       env=environment, capture_output=True, text=True)
        seconds = time.perf_counter() - start
        if not report.is_file():
            raise RuntimeError(f"pytest in {tree} wrote no report")
        return Suite(seconds, outcomes(report))


def shared_seconds(suite: Suite, ids: set[str]) -> float:
    return sum(suite.tests[name][0] for name in ids)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--commit", required=True, help="the past commit (issue 31's start: 54ec61d)")
    parser.add_argument("--pairs", type=int, default=2, help="runs of each, alternated")
    parser.add_argument("--tests", default="", help="pytest arguments narrowing both runs (default: the whole suite)")
    records.add_records_option(parser)
    args = parser.parse_args(argv)
    wall = time.perf_counter()
    selection = shlex.split(args.tests)
    facts = records.provenance("cpu")
    runs: dict[str, list[Suite]] = {"then": [], "now": []}
    with checked_out(args.commit) as (past, tree):
        for _ in range(args.pairs):
            for when, code in (("then", tree), ("now", records.REPOSITORY)):
                runs[when].append(run_suite(code, selection))
                suite = runs[when][-1]
                failing = [name for name, (_, outcome) in suite.tests.items() if outcome in ("failed", "error")]
                print(when, f"{suite.seconds:.0f} s, {len(suite.tests)} tests", *(f"failed: {name}" for name in failing),
                      sep="\n  " if failing else ", ", flush=True)
    best = {when: min(suites, key=lambda s: s.seconds) for when, suites in runs.items()}
    then, now = best["then"], best["now"]
    both = set(then.tests) & set(now.tests)
    if not both:
        raise SystemExit("the two runs have no test in common")
    then_shared, now_shared = shared_seconds(then, both), shared_seconds(now, both)
    budget = f"`pytest{' ' + args.tests if args.tests else ''}` at {past} and now, faster of {args.pairs}, {facts['machine']}"
    counts = {f"{what} {when}": count for when, suite in (("then", then), ("now", now)) for what, count in (
        ("tests", len(suite.tests)), ("failed", suite.count("failed") + suite.count("error")),
        ("skipped", suite.count("skipped")))}
    written = [
        records.record("train_speed", "the whole suite", table="suite", budget=budget, **facts, metrics={
            "s then": then.seconds, "s now": now.seconds, "times as fast as then": then.seconds / now.seconds,
            **counts}),
        records.record("train_speed", "the tests both commits have (summed over both workers)", table="suite",
                       budget=budget, **facts,
                       metrics={"s then": then_shared, "s now": now_shared,
                                "times as fast as then": then_shared / now_shared, "tests": len(both)}),
    ]
    print(f"records: {records.save_machine_rows('train_speed', written, args.records, {'suite'}, wall)}")


if __name__ == "__main__":
    main()
