"""Reports of a fitted model or a backtest: one self-contained HTML file (images inline as base64
PNG, no fetch of scripts, styles or fonts) and the same content as Markdown with image files.

The content (:mod:`forecast.evaluation.sections`, from tidy forecast frames) is assembled by
:mod:`forecast.workflows.reports` and rendered here through Jinja2 templates.
"""

from __future__ import annotations

import base64
import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd


@dataclass
class Table:
    """A captioned table of text cells; ``best`` holds the (row, column) cells to mark."""

    caption: str
    columns: list[str]
    rows: list[list[str]]
    best: set = field(default_factory=set)
    id: str = ""


@dataclass
class Figure:
    name: str
    caption: str
    png: bytes

    @property
    def base64(self) -> str:
        return base64.b64encode(self.png).decode("ascii")


@dataclass
class Section:
    title: str
    text: str = ""
    tables: list[Table] = field(default_factory=list)
    figures: list[Figure] = field(default_factory=list)


@dataclass
class Report:
    """Title, the facts of the run (source, checksum, rows, split, configuration, versions),
    a plain sentence when the model does not beat its yardstick, and sections."""

    title: str
    facts: dict[str, str]
    verdict: str | None
    sections: list[Section]


# ---- writing ---------------------------------------------------------------------------------
def write_report(report: Report, folder: str | os.PathLike) -> Path:
    """``folder``/report.html (self-contained) and report.md with report_files/*.png; each file
    appears whole or not at all. Returns the HTML file's path."""
    import jinja2

    from forecast.atomic import write_atomically

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    environment = jinja2.Environment(loader=jinja2.PackageLoader("forecast.evaluation", "templates"),
                                     autoescape=jinja2.select_autoescape(["html"]), keep_trailing_newline=True)
    html = environment.get_template("report.html.j2").render(report=report)
    markdown = environment.get_template("report.md.j2").render(report=report)
    images = folder / "report_files"
    scratch = folder / ".report_files.partial"
    shutil.rmtree(scratch, ignore_errors=True)
    scratch.mkdir()
    for section in report.sections:
        for figure in section.figures:
            (scratch / f"{figure.name}.png").write_bytes(figure.png)
    shutil.rmtree(images, ignore_errors=True)
    os.replace(scratch, images)
    write_atomically(folder / "report.md", lambda p: Path(p).write_text(markdown, encoding="utf-8"))
    return write_atomically(folder / "report.html", lambda p: Path(p).write_text(html, encoding="utf-8"))


def cell(value) -> str:
    """A table cell: numbers with four significant digits, a dash for a missing one, timestamps
    at their resolution (the date alone at midnight)."""
    if isinstance(value, pd.Timestamp):
        return when(value)
    if isinstance(value, (float, np.floating)):
        return "–" if not np.isfinite(value) else f"{value:.4g}"
    return str(value)


def when(stamp) -> str:
    """A timestamp at the data's resolution: 2019-01-15, or 2019-01-15 13:00 within a day."""
    stamp = pd.Timestamp(stamp)
    return str(stamp.date()) if stamp == stamp.normalize() else stamp.strftime("%Y-%m-%d %H:%M")
