"""Running the experiments' studies from the tests: as `python -m experiments.<study>` from the
repository root, and their sections rendered from the records they wrote."""

import subprocess
import sys
from pathlib import Path

from experiments import records, render

ROOT = Path(__file__).resolve().parents[1]


def run(module: str, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", f"experiments.{module}", *args], capture_output=True,
                          text=True, cwd=ROOT, timeout=600)


def rendered(study: str, folder: Path) -> str:
    """The study's section of the summary, rendered from the records in ``folder``."""
    chosen = next(s for s in render.STUDIES if s.name == study)
    return render.section(chosen, records.load(study, folder))
