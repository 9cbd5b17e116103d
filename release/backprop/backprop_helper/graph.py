"""Draw the course's computational graph with matplotlib (no image files needed)."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping

import matplotlib.pyplot as plt
from matplotlib.figure import Figure

# node id -> (label, x, y, kind); kind is "input", "weight", "op" or "output".
NODES: dict[str, tuple[str, float, float, str]] = {
    "w1": ("$w_1$", 0, 10, "weight"),
    "x1": ("$x_1$", 0, 9, "input"),
    "w2": ("$w_2$", 0, 8, "weight"),
    "x2": ("$x_2$", 0, 7, "input"),
    "w3": ("$w_3$", 0, 5.5, "weight"),
    "x3": ("$x_3$", 0, 4.5, "input"),
    "w4": ("$w_4$", 0, 3.5, "weight"),
    "x4": ("$x_4$", 0, 2.5, "input"),
    "w5": ("$w_5$", 0, 1.5, "weight"),
    "x5": ("$x_5$", 0, 0.5, "input"),
    "mul1": ("×", 1.5, 9.5, "op"),
    "mul2": ("×", 1.5, 7.5, "op"),
    "add12": ("+", 3, 8.5, "op"),
    "square": ("$(\\cdot)^2$", 4.5, 8.5, "op"),
    "w6": ("$w_6$", 4.5, 10.2, "weight"),
    "add6": ("+", 6, 8.5, "op"),
    "exp": ("exp", 7.5, 8.5, "op"),
    "w7": ("$w_7$", 7.5, 10.2, "weight"),
    "add7": ("+", 9, 8.5, "op"),
    "tanh": ("tanh", 10.5, 8.5, "op"),
    "mul3": ("×", 1.5, 5, "op"),
    "sin": ("sin", 3, 5, "op"),
    "mul4": ("×", 1.5, 3, "op"),
    "mul5": ("×", 1.5, 1, "op"),
    "add45": ("+", 3, 2, "op"),
    "mul_sc": ("×", 4.5, 3.5, "op"),
    "w8": ("$w_8$", 4.5, 5.3, "weight"),
    "add8": ("+", 6, 3.5, "op"),
    "sigmoid": ("σ", 7.5, 3.5, "op"),
    "w9": ("$w_9$", 7.5, 1.8, "weight"),
    "mul9": ("×", 9, 3.5, "op"),
    "y_pred": ("+\n$y'$", 12, 6, "op"),
    "y": ("$y$", 12, 3.8, "input"),
    "loss": ("$(y-y')^2$\n$L$", 13.8, 6, "output"),
}

EDGES: tuple[tuple[str, str], ...] = (
    ("w1", "mul1"), ("x1", "mul1"), ("w2", "mul2"), ("x2", "mul2"),
    ("mul1", "add12"), ("mul2", "add12"), ("add12", "square"),
    ("square", "add6"), ("w6", "add6"), ("add6", "exp"),
    ("exp", "add7"), ("w7", "add7"), ("add7", "tanh"), ("tanh", "y_pred"),
    ("w3", "mul3"), ("x3", "mul3"), ("mul3", "sin"),
    ("w4", "mul4"), ("x4", "mul4"), ("w5", "mul5"), ("x5", "mul5"),
    ("mul4", "add45"), ("mul5", "add45"), ("sin", "mul_sc"), ("add45", "mul_sc"),
    ("mul_sc", "add8"), ("w8", "add8"), ("add8", "sigmoid"),
    ("sigmoid", "mul9"), ("w9", "mul9"), ("mul9", "y_pred"),
    ("y_pred", "loss"), ("y", "loss"),
)  # fmt: skip

# Named parts of the graph that a notebook can highlight at once.
PARTS: dict[str, tuple[str, ...]] = {
    "tanh_branch": ("mul1", "mul2", "add12", "square", "add6", "exp", "add7", "tanh"),
    "sigmoid_branch": (
        "mul3", "sin", "mul4", "mul5", "add45", "mul_sc", "add8", "sigmoid", "mul9",
    ),
    "output": ("y_pred", "loss"),
}  # fmt: skip

_FILL = {"input": "#e8eef7", "weight": "#fff2cc", "op": "#ffffff", "output": "#e2f0d9"}
_HIGHLIGHT = "#f4b183"
# Gradient labels go left of their weight, except where a node sits there.
_GRADIENT_ON_RIGHT = frozenset({"w8"})
_ARROW_GAP = 2.0  # points between an arrow's ends and the boxes it joins


def _expand(highlight: Iterable[str]) -> set[str]:
    """Node ids for a mix of node ids and part names; unknown names raise."""
    nodes: set[str] = set()
    for name in highlight:
        if name in PARTS:
            nodes.update(PARTS[name])
        elif name in NODES:
            nodes.add(name)
        else:
            known = ", ".join(sorted([*PARTS, *NODES]))
            raise ValueError(f"unknown node or part {name!r}; known: {known}")
    return nodes


def _to_boundary(half_size: tuple[float, float], direction: tuple[float, float]):
    """How far from a box's centre its edge is, along a unit direction (points)."""
    half_width, half_height = half_size
    dx, dy = abs(direction[0]), abs(direction[1])
    along_x = half_width / dx if dx > 1e-9 else math.inf
    along_y = half_height / dy if dy > 1e-9 else math.inf
    return min(along_x, along_y)


def _draw_edges(figure: Figure, ax, boxes: dict[str, object]) -> None:
    """Arrows between the node boxes, each ending just outside the box it enters.

    The boxes are measured once drawn (in points, so any dpi gives the same
    picture), so an arrow into a big box (the loss, y') still shows its head.
    """
    figure.draw_without_rendering()
    to_points = 72.0 / figure.dpi
    half = {}
    for node, text in boxes.items():
        extent = text.get_bbox_patch().get_window_extent()
        half[node] = (extent.width / 2 * to_points, extent.height / 2 * to_points)
    for source, target in EDGES:
        start = ax.transData.transform(NODES[source][1:3])
        end = ax.transData.transform(NODES[target][1:3])
        length = math.dist(start, end)
        direction = ((end[0] - start[0]) / length, (end[1] - start[1]) / length)
        ax.annotate(
            "",
            xy=NODES[target][1:3],
            xytext=NODES[source][1:3],
            arrowprops={
                "arrowstyle": "-|>",
                "color": "#7f7f7f",
                "shrinkA": _to_boundary(half[source], direction) + _ARROW_GAP,
                "shrinkB": _to_boundary(half[target], direction) + _ARROW_GAP,
                "lw": 1,
            },
            zorder=2,
        )


def draw_graph(
    highlight: Iterable[str] = (),
    values: Mapping[str, float] | None = None,
    gradients: Mapping[str, float] | None = None,
    title: str | None = None,
) -> Figure:
    """Draw the graph; return the figure.

    highlight: node ids (e.g. "sigmoid", "w3") or parts ("tanh_branch",
      "sigmoid_branch", "output") to colour.
    values: node id -> forward value, written under the node.
    gradients: weight id ("w1".."w9") -> dL/dw, written in red beside the weight.
    """
    highlighted = _expand(highlight)
    for label, given in (("values", values), ("gradients", gradients)):
        unknown = sorted(set(given or ()) - set(NODES))
        if unknown:
            raise ValueError(
                f"draw_graph {label}: unknown node(s) {', '.join(unknown)}; use "
                'node ids such as "exp", "loss", or "w1" (not "dw1")'
            )
    figure, ax = plt.subplots(figsize=(11, 6.2))
    left = -3.2 if gradients else -0.8
    ax.set_xlim(left, 15)
    ax.set_ylim(-0.3, 11)
    ax.axis("off")
    if title:
        ax.set_title(title)
    boxes = {}
    for node, (label, x, y, kind) in NODES.items():
        face = _HIGHLIGHT if node in highlighted else _FILL[kind]
        shape = "round,pad=0.35" if kind in ("op", "output") else "circle,pad=0.25"
        boxes[node] = ax.text(
            x, y, label, ha="center", va="center", fontsize=11, zorder=3,
            bbox={"boxstyle": shape, "facecolor": face, "edgecolor": "#404040"},
        )  # fmt: skip
        if values and node in values:
            ax.text(x, y - 0.75, f"{values[node]:.4g}", ha="center", fontsize=9,
                    color="#1f4e79")  # fmt: skip
        if gradients and node in gradients:
            right = node in _GRADIENT_ON_RIGHT
            ax.text(x + 0.45 if right else x - 0.45, y,
                    f"∂L/∂{node} = {gradients[node]:.4g}",
                    ha="left" if right else "right", va="center", fontsize=9,
                    color="#c00000")  # fmt: skip
    figure.tight_layout()
    _draw_edges(figure, ax, boxes)
    return figure
