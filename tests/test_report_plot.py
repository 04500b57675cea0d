"""The Pareto plot (issue 13, point 9): every frontier dot carries its row of the
report table, every measured point its row too; colour is cost, with a colour
bar; the legend sits outside the axes, so it covers no point; same input, same PNG."""

from __future__ import annotations

import re

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import pytest
from xdsl.dialects.builtin import DictionaryAttr

from flowcompile.dialects.flow import PointAttr
from flowcompile.evaluation import Evaluation, Row
from flowcompile.report import _latency_frontier, frontier_table, pareto_figure, pareto_plot

# (acc, lat, cost): index 2 is on the frontier only for being cheap (slower and less accurate than 1)
ESTIMATES = [(0.40, 2.0, 0.0001), (0.55, 5.0, 0.0004), (0.50, 9.0, 0.0002), (0.70, 60.0, 0.0020)]


def point(acc: float, lat: float, cost: float) -> PointAttr:
    return PointAttr.build(acc=acc, lat=lat, cost=cost, assign=DictionaryAttr({}))


def row(label: str, est: tuple[float, float, float], acc: float, lat: float, cost: float) -> Row:
    return Row(label=label, est_acc=est[0], est_lat=est[1], est_cost=est[2], acc=acc, acc_lo=acc - 0.1,
               acc_hi=acc + 0.1, lat=lat, lat_p95=lat * 1.2, cost=cost, n=30, errors=0)


POINTS = [point(*e) for e in ESTIMATES]
MEASURED = [row("point 1", ESTIMATES[1], 0.60, 5.5, 0.00045), row("point 3", ESTIMATES[3], 0.74, 58.0, 0.0019)]
BASELINES = [row("all-strongest", (0.69, 62.0, 0.0021), 0.74, 58.0, 0.0019),
             row("all-cheapest", (0.31, 1.9, 0.00005), 0.35, 1.8, 0.00004)]
EVALUATION = Evaluation(workflow="chain", queries=30, points=MEASURED, baselines=BASELINES,
                        spearman_acc=1.0, spearman_lat=1.0)


@pytest.fixture
def figure():
    fig = pareto_figure(POINTS, title="@chain", evaluation=EVALUATION, baselines=BASELINES)
    fig.canvas.draw()  # lays out the legend and colour bar
    yield fig
    plt.close(fig)


def by_gid(fig, gid: str) -> list:
    """The artists whose gid is `gid`, or starts with it when it ends in ':'."""
    def match(have: str) -> bool:
        return have.startswith(gid) if gid.endswith(":") else have == gid

    return [a for a in fig.axes[0].get_children() if match(a.get_gid() or "")]


def test_every_frontier_dot_carries_its_table_row(figure) -> None:
    labels = {a.get_gid(): a for a in by_gid(figure, "index:")}
    assert sorted(labels) == [f"index:{i}" for i in range(len(POINTS))]
    table_rows = {int(m.group(1)): float(m.group(2)) for m in re.finditer(r"^\| (\d+) \| ([0-9.]+) \|",
                                                                         frontier_table(POINTS), re.M)}
    for i, (acc, lat, _) in enumerate(ESTIMATES):
        text = labels[f"index:{i}"]
        assert text.get_text() == str(i) and tuple(text.xy) == (lat, acc)  # the dot at row i's estimate
        assert table_rows[i] == pytest.approx(acc, abs=5e-4)


def test_every_measured_point_carries_its_row(figure) -> None:
    labels = {a.get_text(): tuple(a.xy) for a in by_gid(figure, "measured-index:")}
    assert labels == {"1": (5.5, 0.60), "3": (58.0, 0.74)}


def test_colour_is_cost_on_one_scale(figure) -> None:
    (dots,) = by_gid(figure, "frontier")
    assert list(dots.get_array()) == [c for _, _, c in ESTIMATES]
    (measured,) = by_gid(figure, "measured")
    assert list(measured.get_array()) == [0.00045, 0.0019]
    assert measured.norm is dots.norm or (measured.norm.vmin, measured.norm.vmax) == (dots.norm.vmin, dots.norm.vmax)
    assert dots.norm.vmin == pytest.approx(0.00004) and dots.norm.vmax == pytest.approx(0.0021)
    colours = dots.get_facecolors()
    assert not np.allclose(colours[0], colours[3])  # cheap and expensive dots differ
    bars = [ax for ax in figure.axes[1:] if "cost" in ax.get_ylabel()]
    assert bars, "a colour bar labelled with cost"


def test_the_legend_covers_no_point(figure) -> None:
    (legend,) = figure.legends
    box = legend.get_window_extent()
    axes = figure.axes[0]
    assert not box.overlaps(axes.get_window_extent())
    for x, y in [(lat, acc) for acc, lat, _ in ESTIMATES] + [(r.lat, r.acc) for r in MEASURED]:
        px, py = axes.transData.transform((x, y))
        assert not box.contains(px, py)
    texts = [t.get_text() for t in legend.get_texts()]
    assert any("table row" in t for t in texts) and any("measured" in t for t in texts)
    assert "cost" in legend.get_title().get_text()


def test_the_latency_frontier_line_skips_points_kept_for_cost() -> None:
    acc = [a for a, _, _ in ESTIMATES]
    lat = [t for _, t, _ in ESTIMATES]
    assert _latency_frontier(lat, acc) == [0, 1, 3]


def test_the_png_is_deterministic(tmp_path) -> None:
    one = pareto_plot(POINTS, tmp_path / "a.png", title="@chain", evaluation=EVALUATION, baselines=BASELINES)
    two = pareto_plot(POINTS, tmp_path / "b.png", title="@chain", evaluation=EVALUATION, baselines=BASELINES)
    assert one.read_bytes() == two.read_bytes() and one.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_a_frontier_without_measurements_still_plots(tmp_path) -> None:
    fig = pareto_figure(POINTS, title="@chain")
    try:
        assert len(by_gid(fig, "index:")) == len(POINTS) and not by_gid(fig, "measured")
    finally:
        plt.close(fig)
