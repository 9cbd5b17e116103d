"""Tests for backprop_helper.graph: the drawn computational graph."""

from __future__ import annotations

import re

import matplotlib.pyplot as plt
import pytest
from backprop_helper.graph import EDGES, NODES, PARTS, draw_graph
from matplotlib.colors import to_hex
from matplotlib.figure import Figure
from matplotlib.text import Annotation

NUMBER = re.compile(r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?")


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def node_faces(figure: Figure) -> dict[str, str]:
    """Node id -> facecolour of the boxed label drawn at that node's position."""
    by_position = {(x, y): node for node, (_, x, y, _) in NODES.items()}
    faces = {}
    for text in figure.axes[0].texts:
        patch = text.get_bbox_patch()
        if patch is None:
            continue
        node = by_position[text.get_position()]
        assert text.get_text() == NODES[node][0]
        faces[node] = to_hex(patch.get_facecolor())
    return faces


def plain_texts(figure: Figure) -> list:
    """Text artists without a box: the values and gradients written on the figure."""
    return [
        t
        for t in figure.axes[0].texts
        if t.get_bbox_patch() is None and not isinstance(t, Annotation)
    ]


def numbers_in(text: str) -> list[float]:
    return [float(match) for match in NUMBER.findall(text)]


# --- the tables -----------------------------------------------------------------


def test_every_edge_endpoint_is_a_node():
    """EDGES only connect ids that NODES defines."""
    endpoints = {node for edge in EDGES for node in edge}
    assert endpoints - set(NODES) == set()


def test_every_node_is_connected():
    """No node is drawn without an edge."""
    endpoints = {node for edge in EDGES for node in edge}
    assert set(NODES) - endpoints == set()


def test_loss_is_the_only_sink():
    """Every node but the loss feeds into another node."""
    sources = {source for source, _ in EDGES}
    assert set(NODES) - sources == {"loss"}


@pytest.mark.parametrize(
    ("node", "kind"),
    [*((f"w{i}", "weight") for i in range(1, 10)),
     *((f"x{i}", "input") for i in range(1, 6))],
)  # fmt: skip
def test_weights_and_inputs_have_nodes(node, kind):
    """w1..w9 and x1..x5 each have a node of the right kind."""
    assert NODES[node][3] == kind


@pytest.mark.parametrize("part", sorted(PARTS))
def test_parts_name_existing_nodes(part):
    """Every node of a part is defined in NODES."""
    assert set(PARTS[part]) <= set(NODES)


# --- drawing --------------------------------------------------------------------


def test_draw_graph_returns_a_figure_with_every_node():
    """draw_graph() returns a Figure with one boxed label per node."""
    figure = draw_graph()
    assert isinstance(figure, Figure)
    assert set(node_faces(figure)) == set(NODES)


def test_draw_graph_sets_title():
    """The title argument is the axes title."""
    assert draw_graph(title="Forward pass").axes[0].get_title() == "Forward pass"


@pytest.mark.parametrize(
    ("highlight", "expected"),
    [
        ((), set()),
        (("sigmoid",), {"sigmoid"}),
        (("w3",), {"w3"}),
        (("tanh_branch",), set(PARTS["tanh_branch"])),
        (("sigmoid_branch",), set(PARTS["sigmoid_branch"])),
        (("output",), set(PARTS["output"])),
        (("output", "w9", "x1"), {*PARTS["output"], "w9", "x1"}),
        (iter(["exp", "tanh"]), {"exp", "tanh"}),
    ],
    ids=["none", "op", "weight", "tanh_branch", "sigmoid_branch", "output", "mix",
         "iterator"],
)  # fmt: skip
def test_highlight_colours_exactly_those_nodes(highlight, expected):
    """Highlighted nodes change to one shared colour; no other node changes."""
    plain = node_faces(draw_graph())
    lit = node_faces(draw_graph(highlight=highlight))
    changed = {node for node in NODES if lit[node] != plain[node]}
    assert changed == expected
    assert len({lit[node] for node in expected}) <= 1
    highlight_colours = {lit[node] for node in expected}
    assert not highlight_colours & {plain[node] for node in NODES}


@pytest.mark.parametrize(
    "highlight", [["nope"], ["tanh_branch", "bogus"], ["W1"]], ids=str
)
def test_unknown_name_raises_listing_known_names(highlight):
    """An unknown node or part raises ValueError naming it and every known name."""
    figures_before = plt.get_fignums()
    with pytest.raises(ValueError) as excinfo:
        draw_graph(highlight=highlight)
    message = str(excinfo.value)
    assert repr(highlight[-1]) in message
    for name in [*PARTS, *NODES]:
        assert name in message
    assert plt.get_fignums() == figures_before, "no figure is left open"


def test_values_are_written_under_their_nodes():
    """Each forward value is written as text at its node's x, below the node."""
    values = {"exp": 1.1272967040973583, "tanh": 0.8417934192562146, "loss": 0.93}
    texts = plain_texts(draw_graph(values=values))
    assert len(texts) == len(values)
    for node, value in values.items():
        _, x, y, _ = NODES[node]
        here = [t for t in texts if t.get_position()[0] == x]
        assert len(here) == 1, node
        assert here[0].get_position()[1] < y
        (shown,) = numbers_in(here[0].get_text())
        assert shown == pytest.approx(value, rel=1e-3)


def test_gradients_are_written_beside_their_weights():
    """Each gradient is written as text naming its weight, left of the weight."""
    gradients = {"w1": -0.0123456, "w5": 2.5e-7, "w9": 1.75}
    figure = draw_graph(gradients=gradients)
    texts = plain_texts(figure)
    assert len(texts) == len(gradients)
    for weight, value in gradients.items():
        _, x, y, _ = NODES[weight]
        (text,) = [t for t in texts if t.get_position()[1] == y]
        assert text.get_position()[0] < x
        label, number = text.get_text().split("=")
        assert weight in label
        assert float(number) == pytest.approx(value, rel=1e-3)


def test_gradient_labels_fit_inside_the_axes():
    """The widened axes keep the longest gradient labels fully in view."""
    gradients = {f"w{i}": -1.23456789e-10 for i in range(1, 10)}
    figure = draw_graph(gradients=gradients)
    renderer = figure.canvas.get_renderer()
    axes_box = figure.axes[0].get_window_extent(renderer)
    for text in plain_texts(figure):
        box = text.get_window_extent(renderer)
        assert box.x0 >= axes_box.x0, text.get_text()


def test_no_values_or_gradients_means_no_extra_text():
    """Without values or gradients only the node labels are drawn."""
    assert plain_texts(draw_graph()) == []


# --- legibility: labels clear of the nodes, every arrow with its head --------------


def _boxes(figure: Figure) -> dict[str, object]:
    """Node id -> the display extent of its drawn box."""
    by_position = {(x, y): node for node, (_, x, y, _) in NODES.items()}
    return {
        by_position[text.get_position()]: text.get_bbox_patch().get_window_extent()
        for text in figure.axes[0].texts
        if text.get_bbox_patch() is not None
    }


def test_no_gradient_label_overlaps_a_node_or_another_label():
    """With every gradient written out at full length, no label touches a node's
    box or another label (∂L/∂w8 used to sit on the sin node)."""
    gradients = {f"w{i}": -1.23456789e-10 for i in range(1, 10)}
    figure = draw_graph(gradients=gradients)
    figure.draw_without_rendering()
    boxes = _boxes(figure)
    labels = [text.get_window_extent() for text in plain_texts(figure)]
    for index, label in enumerate(labels):
        hits = [node for node, box in boxes.items() if label.overlaps(box)]
        assert hits == [], (plain_texts(figure)[index].get_text(), hits)
        for other in labels[index + 1 :]:
            assert not label.overlaps(other)


def _arrow_tips(figure: Figure) -> dict[tuple[str, str], tuple[float, float]]:
    """(source, target) -> the display point of that edge's arrow tip."""
    ax = figure.axes[0]
    arrows = [text for text in ax.texts if isinstance(text, Annotation)]
    assert len(arrows) == len(EDGES)
    tips = {}
    for (source, target), arrow in zip(EDGES, arrows):
        # an annotation's arrow is drawn in display coordinates (identity transform)
        patch = arrow.arrow_patch
        points = patch.get_transform().transform(patch.get_path().vertices)
        centre = ax.transData.transform(NODES[target][1:3])
        tips[(source, target)] = min(
            points,
            key=lambda point: (point[0] - centre[0]) ** 2 + (point[1] - centre[1]) ** 2,
        )
    return tips


@pytest.mark.parametrize("dpi", [72, 100, 200])
def test_every_arrow_ends_with_its_head_just_outside_the_node_it_enters(dpi):
    """Each arrow's tip lies outside its target's box, within a few points of it,
    at any resolution: the arrows into L and y' show their heads too."""
    figure = draw_graph()
    figure.set_dpi(dpi)
    figure.draw_without_rendering()
    boxes = _boxes(figure)
    points = dpi / 72
    for (source, target), (x, y) in _arrow_tips(figure).items():
        box = boxes[target]
        inside = box.x0 < x < box.x1 and box.y0 < y < box.y1
        assert not inside, f"{source} -> {target}: the head is under the box"
        gap = max(box.x0 - x, x - box.x1, box.y0 - y, y - box.y1)
        assert gap <= 4 * points, f"{source} -> {target}: {gap / points:.1f} pt short"
