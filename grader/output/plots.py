"""The report's figures: matplotlib Figure objects (never pyplot) as inline PNG.

Figures are made with matplotlib.figure.Figure, so a run leaves no pyplot state
behind and needs no display; the report embeds each as a data: URI, so it opens
offline.
"""

from __future__ import annotations

import base64
import io

import numpy as np
from matplotlib.figure import Figure
from matplotlib.patches import Patch

from ..course import NOTEBOOKS
from ..model import ClassResults, Status
from .misconceptions import Misconception
from .stats import (
    FailureCount,
    format_points,
    max_total,
    notebook_columns,
    notebook_max_scores,
    short_name,
    student_totals,
)
from .text import shorten

BAR_COLOUR = "#4c72b0"
MAX_COLOUR = "#c44e52"
LABEL_CHARS = 40  # longest notebook or test name drawn in full
MISCONCEPTION_CHARS = 55  # longest misconception drawn in full
# One colour per notebook, in course order (matplotlib's default cycle); any other
# notebook is grey.
NOTEBOOK_COLOURS = dict(zip(NOTEBOOKS, ("#4c72b0", "#dd8452", "#55a868", "#c44e52",
                                        "#8172b3")))  # fmt: skip
OTHER_COLOUR = "#8c8c8c"


class DataUri(str):
    """An image the grader drew, inline: a page shows it whole (not student text)."""


def png_data_uri(figure: Figure) -> DataUri:
    """The figure as an inline PNG (no Software/URL metadata in the file)."""
    buffer = io.BytesIO()
    figure.savefig(
        buffer, format="png", dpi=100, bbox_inches="tight", metadata={"Software": None}
    )
    encoded = base64.b64encode(buffer.getvalue()).decode("ascii")
    return DataUri(f"data:image/png;base64,{encoded}")


def plot_label(text: str) -> str:
    """Text matplotlib shows literally ("$" would start mathtext), cut to
    LABEL_CHARS so a long name cannot squeeze the axes away."""
    return shorten(text, LABEL_CHARS).replace("$", r"\$")


def score_bins(scores: list[float], max_score: float) -> np.ndarray:
    """Bin edges centred on a 1, 0.5 or 0.25 point grid (≤ 40 bins), else 20 bins."""
    low, high = min(0.0, *scores), max(max_score, *scores)
    for step in (1.0, 0.5, 0.25):
        on_grid = all(float(score / step).is_integer() for score in scores)
        if on_grid and (high - low) / step <= 40:
            return np.arange(low - step / 2, high + step, step)
    return np.linspace(low, max(high, low + 1), 21)


def draw_histogram(ax, scores: list[float], max_score: float) -> None:
    """Scores as bars centred on their values, the max score as a dashed line."""
    ax.tick_params(labelsize=7)
    ax.yaxis.get_major_locator().set_params(integer=True)
    if scores:
        bins = score_bins(scores, max_score)
        ax.hist(scores, bins=bins, color=BAR_COLOUR, edgecolor="white")
    else:
        ax.text(0.5, 0.5, "none graded", ha="center", transform=ax.transAxes)
    if max_score > 0:
        ax.axvline(max_score, color=MAX_COLOUR, linestyle="--", linewidth=1)


def distribution_figure(results: ClassResults) -> Figure:
    """One small histogram of graded scores per notebook, max score dashed."""
    notebooks = notebook_columns(results)
    maxima = notebook_max_scores(results)
    figure = Figure(figsize=(2.6 * len(notebooks), 2.4))
    axes = figure.subplots(1, len(notebooks), squeeze=False)[0]
    for ax, notebook in zip(axes, notebooks):
        scores = [
            grade.score
            for grade in results.grades
            if grade.notebook == notebook and grade.status == Status.OK
        ]
        max_score = maxima.get(notebook, 0.0)
        title = f"{len(scores)} graded, max {format_points(max_score)}"
        ax.set_title(f"{plot_label(notebook)}\n{title}", fontsize=8)
        ax.set_xlabel("score", fontsize=8)
        draw_histogram(ax, scores, max_score)
    axes[0].set_ylabel("students", fontsize=8)
    figure.tight_layout()
    return figure


def totals_figure(results: ClassResults) -> Figure:
    """A histogram of the students' totals (every row counts, graded or not)."""
    figure = Figure(figsize=(6, 2.4))
    ax = figure.subplots()
    draw_histogram(ax, list(student_totals(results).values()), max_total(results))
    ax.set_xlabel("total score", fontsize=8)
    ax.set_ylabel("students", fontsize=8)
    figure.tight_layout()
    return figure


def failures_figure(failures: list[FailureCount]) -> Figure:
    """Horizontal bars: how many students failed each of the given tests."""
    figure = Figure(figsize=(7, 0.9 + 0.3 * len(failures)))
    ax = figure.subplots()
    labels = [
        plot_label(f"{short_name(count.notebook)} {count.test}") for count in failures
    ]
    positions = np.arange(len(failures))
    ax.barh(positions, [count.failed for count in failures], color=MAX_COLOUR)
    ax.set_yticks(positions, labels=labels, fontsize=8)
    ax.invert_yaxis()
    ax.set_xlabel("students who failed", fontsize=8)
    ax.xaxis.get_major_locator().set_params(integer=True)
    figure.tight_layout()
    return figure


def misconceptions_figure(misconceptions: list[Misconception], students: int) -> Figure:
    """Horizontal bars, most common first: how many students showed each
    misconception, coloured by notebook, with the share of the class at the bar's
    end; a failing test's own message (no known mistake) is hatched."""
    figure = Figure(figsize=(8, 1.2 + 0.32 * len(misconceptions)))
    ax = figure.subplots()
    positions = np.arange(len(misconceptions))
    colours = [
        NOTEBOOK_COLOURS.get(row.notebook, OTHER_COLOUR) for row in misconceptions
    ]
    bars = ax.barh(positions, [row.count for row in misconceptions], color=colours)
    for bar, row in zip(bars, misconceptions):
        if row.mistake is None:
            bar.set_hatch("//")
            bar.set_alpha(0.6)
        share = row.count / students if students else 0.0
        ax.annotate(
            f" {row.count} ({share:.0%})" if share >= 0.01 else f" {row.count}",
            (bar.get_width(), bar.get_y() + bar.get_height() / 2),
            va="center", fontsize=7,
        )  # fmt: skip
    labels = [
        f"{short_name(row.notebook)}  "
        + shorten(row.label, MISCONCEPTION_CHARS).replace("$", r"\$")
        for row in misconceptions
    ]
    ax.set_yticks(positions, labels=labels, fontsize=8)
    ax.invert_yaxis()
    ax.set_xlabel("students", fontsize=8)
    ax.xaxis.get_major_locator().set_params(integer=True)
    ax.set_xlim(0, max(row.count for row in misconceptions) * 1.18 + 0.5)
    present = {row.notebook for row in misconceptions}
    handles = [
        Patch(color=colour, label=f"notebook {short_name(stem)}")
        for stem, colour in NOTEBOOK_COLOURS.items()
        if stem in present
    ]
    if any(row.mistake is None for row in misconceptions):
        handles.append(
            Patch(facecolor="white", edgecolor="#555", hatch="//",
                  label="no known mistake")
        )  # fmt: skip
    # Above the bars, in one row: beside them it would squeeze the labels.
    ax.legend(handles=handles, fontsize=7, loc="lower left", ncols=len(handles),
              bbox_to_anchor=(0.0, 1.01), frameon=False)  # fmt: skip
    figure.tight_layout()
    return figure
