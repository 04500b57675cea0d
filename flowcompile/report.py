"""Reports: the frontier as a table, and a Pareto plot (PNG).

The plot shows the proxy's estimated frontier, the measured values of the
evaluated points (joined to their estimates), and the heuristic baselines
(every agent strongest, every agent cheapest), estimated and measured. Each
point is labelled with its row in the table, colour is cost, and the legend is
outside the axes (issue 13: a dot must be matchable to a row, and no legend may
hide a measurement).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from pydantic import TypeAdapter, ValidationError

from flowcompile.diagnostics import Diagnostic
from flowcompile.artifact import workflow_provenance
from flowcompile.dialects.flow import PointAttr, WorkflowOp
from flowcompile.evaluation import Evaluation, Row
from flowcompile.frontend.load import Locator, format_loc

if TYPE_CHECKING:  # matplotlib is imported when a plot is drawn
    from matplotlib.figure import Figure


class EvaluationFileError(ValueError):
    """An evaluation file that cannot be used; the message is a located diagnostic."""


def load_evaluation(path: str | Path, workflow: str | None = None) -> Evaluation:
    """Read an evaluation JSON (`flowcompile evaluate -o`), checked field by field;
    with `workflow`, it must be an evaluation of that workflow. Problems are
    EvaluationFileErrors at the field's `file:line:col`."""
    name = str(path)

    def problem(message: str, line: int | None = None, col: int | None = None) -> EvaluationFileError:
        return EvaluationFileError(str(Diagnostic(message, name, line, col) if line else f"{name}: error: {message}"))

    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as e:
        raise problem(f"cannot read: {getattr(e, 'strerror', None) or e}") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as e:
        raise problem(f"invalid JSON: {e.msg}", e.lineno, e.colno) from None
    if not isinstance(data, dict):
        raise problem("not an evaluation: expected the JSON object `flowcompile evaluate -o` writes", 1, 1)
    try:
        evaluation = _EVALUATION.validate_json(text, strict=True)
    except ValidationError as e:
        first = e.errors(include_url=False)[0]
        loc = tuple(first["loc"])
        line, col = Locator(text).find(loc)
        field = format_loc(loc)
        raise problem(f"{field + ': ' if field else ''}{first['msg']}", line, col) from None
    if workflow is not None and evaluation.workflow != workflow:
        line, col = Locator(text).find(("workflow",))
        raise problem(f"an evaluation of @{evaluation.workflow}, not of @{workflow}", line, col)
    return evaluation


_EVALUATION = TypeAdapter(Evaluation)


def _assign_text(point: PointAttr) -> str:
    parts = []
    for key, value in sorted(point.assign.items()):
        shown = getattr(value, "key", None)
        if shown is None:
            number = getattr(getattr(value, "value", None), "data", None)  # a knob, 0 included
            shown = number if number is not None else getattr(value, "data", value)
        parts.append(f"{key}={shown}")
    return ", ".join(parts)


def provenance_line(workflow: WorkflowOp) -> str:
    """One sentence on what measured the estimates (from the `profiled` and
    `validated` records): a simulation says SIMULATED, with its world."""
    records = workflow_provenance(workflow)
    profiled = records.get("profiled")
    if not profiled:
        return "Estimates: not measured (no `profiled` record).\n"
    if "simulation" in profiled:
        source = f"the SIMULATED world `{profiled['simulation']}` (digest {profiled.get('world_digest', '?')})"
    else:
        source = f"the `{profiled.get('backend', '?')}` backend" + (
            f" ({profiled['client']})" if "client" in profiled else ""
        )
    line = (f"Estimates measured on {source}, on {profiled.get('queries', '?')} profiling queries "
            f"(digest {profiled.get('queries_digest', '?')})")
    if validated := records.get("validated"):
        line += (f", validated on {validated.get('queries', '?')} more "
                 f"(digest {validated.get('queries_digest', '?')})")
    return line + f"; FlowCompile {profiled.get('flowcompile', '?')}.\n"


def frontier_table(points: Sequence[PointAttr]) -> str:
    """A markdown table of the config set's points, fastest first."""
    lines = [
        "| # | est. acc | est. latency (s) | est. cost ($) | measured acc | measured latency (s) | configuration |",
        "|---|---|---|---|---|---|---|",
    ]
    for i, p in enumerate(points):
        m_acc, m_lat = p.get("measured_acc"), p.get("measured_lat")
        lines.append(
            f"| {i} | {p.get('acc'):.3f} | {p.get('lat'):.2f} | {(p.get('cost') or 0.0):.6f} | "  # pyright: ignore
            f"{'' if m_acc is None else f'{m_acc:.3f}'} | {'' if m_lat is None else f'{m_lat:.2f}'} | "
            f"{_assign_text(p)} |"
        )
    return "\n".join(lines) + "\n"


def evaluation_table(evaluation: Evaluation) -> str:
    """Estimated vs measured, per evaluated point and baseline, with the rank correlations."""
    lines = [
        f"Evaluation of @{evaluation.workflow} on {evaluation.queries} held-out queries",
        "",
        "| configuration | est. acc | measured acc (95% CI) | est. latency (s) | measured latency (s) | p95 (s) | measured cost ($) | speed-up vs all-strongest | failed runs |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    strongest = next((r for r in evaluation.baselines if r.label == "all-strongest"), None)
    for r in [*evaluation.points, *evaluation.baselines]:
        speedup = f"{strongest.lat / r.lat:.1f}x" if strongest and r.lat > 0 else ""
        lines.append(
            f"| {r.label} | {r.est_acc:.3f} | {r.acc:.3f} ({r.acc_lo:.2f}-{r.acc_hi:.2f}) | "
            f"{r.est_lat:.2f} | {r.lat:.2f} | {r.lat_p95:.2f} | {r.cost:.6f} | {speedup} | {r.errors} |"
        )
    lines += [
        "",
        f"Spearman rank correlation, estimate vs measured: accuracy {evaluation.spearman_acc:.3f}, "
        f"latency {evaluation.spearman_lat:.3f} (over {len(evaluation.points) + len(evaluation.baselines)} configurations)",
    ]
    return "\n".join(lines) + "\n"


COST_MAP = "viridis"
"""Colour is cost ($ per query) on every marker: dark is cheap, yellow expensive."""
SHAPES = {"frontier": "o", "measured": "X", "all-strongest": "*", "all-cheapest": "s"}
"""Marker shape is what a point is; the legend shows the shapes in grey, since colour is cost."""


def _index(label: str) -> str | None:
    """The table row of an evaluated point (`point 3` -> `3`); None for a baseline."""
    head, _, number = label.partition(" ")
    return number if head == "point" and number.isdigit() else None


def _latency_frontier(lat: Sequence[float], acc: Sequence[float]) -> list[int]:
    """The points no other point beats on both latency and accuracy, fastest first:
    the frontier is over cost too, so the rest are there for being cheaper."""
    best, kept = float("-inf"), []
    for i in sorted(range(len(lat)), key=lambda i: (lat[i], -acc[i])):
        if acc[i] > best:
            kept.append(i)
            best = acc[i]
    return kept


def pareto_figure(
    points: Sequence[PointAttr],
    *,
    title: str,
    evaluation: Evaluation | None = None,
    baselines: Sequence[Row] = (),
) -> Figure:
    """The Pareto plot as a matplotlib Figure (pareto_plot saves it). Every
    frontier point is labelled with its row of the report table (`#`), as is
    each measured point; colour is cost on every marker (one colour bar); the
    legend sits outside the axes, so it can cover no point."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.colors import Normalize
    from matplotlib.lines import Line2D
    from matplotlib.ticker import ScalarFormatter

    fig, ax = plt.subplots(figsize=(9, 4.8), dpi=120, layout="constrained")
    lat = [float(p.get("lat")) for p in points]  # pyright: ignore[reportArgumentType]
    acc = [float(p.get("acc")) for p in points]  # pyright: ignore[reportArgumentType]
    cost = [float(p.get("cost") or 0.0) for p in points]  # pyright: ignore[reportArgumentType]
    measured = list(evaluation.points) if evaluation is not None else []
    costs = [*cost, *(r.cost for r in measured), *(r.est_cost for r in baselines),
             *(r.cost for r in baselines if r.n)]
    norm = Normalize(min(costs, default=0.0), max(costs, default=1.0))
    colour = {"cmap": COST_MAP, "norm": norm}

    envelope = _latency_frontier(lat, acc)
    ax.step([lat[i] for i in envelope], [acc[i] for i in envelope], where="post", color="#1f77b4", alpha=0.4,
            zorder=1)
    dots = ax.scatter(lat, acc, c=cost, marker=SHAPES["frontier"], s=30, edgecolors="#1f77b4", linewidths=0.6,
                      zorder=3, gid="frontier", **colour)
    for i, (x, y) in enumerate(zip(lat, acc, strict=True)):
        ax.annotate(str(i), (x, y), xytext=(3, 3), textcoords="offset points", fontsize=6, color="#1f3f66",
                    gid=f"index:{i}")
    if measured:
        for row in measured:
            ax.annotate("", xy=(row.lat, row.acc), xytext=(row.est_lat, row.est_acc),
                        arrowprops={"arrowstyle": "->", "color": "#999999", "lw": 0.8})
        ax.scatter([r.lat for r in measured], [r.acc for r in measured], c=[r.cost for r in measured],
                   marker=SHAPES["measured"], s=70, edgecolors="#d62728", linewidths=0.8, zorder=4,
                   gid="measured", **colour)
        for row in measured:
            if (index := _index(row.label)) is not None:
                ax.annotate(index, (row.lat, row.acc), xytext=(4, -9), textcoords="offset points", fontsize=7,
                            color="#d62728", fontweight="bold", zorder=5, gid=f"measured-index:{index}")
    for row in baselines:
        shape = SHAPES.get(row.label, "^")
        ax.scatter([row.est_lat], [row.est_acc], c=[row.est_cost], marker=shape, s=110, edgecolors="#2ca02c",
                   linewidths=1.2, zorder=4, gid=f"{row.label} (estimated)", **colour)
        if row.n:
            ax.scatter([row.lat], [row.acc], c=[row.cost], marker=shape, s=110, edgecolors="black",
                       linewidths=1.2, zorder=4, gid=f"{row.label} (measured)", **colour)
    all_lat = [*lat, *(r.lat for r in measured), *(r.lat for r in baselines), *(r.est_lat for r in baselines)]
    if all_lat and min(all_lat) > 0 and max(all_lat) / min(all_lat) > 20:
        ax.set_xscale("log")  # strongest configurations can be 100x slower
        ax.xaxis.set_major_formatter(ScalarFormatter())  # "20", not "2x10^1"
    ax.set_xlabel("latency per query (s)")
    ax.set_ylabel("accuracy")
    ax.set_title(title)
    ax.grid(True, alpha=0.3)
    fig.colorbar(dots, ax=ax, label="cost ($ per query)", pad=0.02)

    def shape(marker: str, edge: str, label: str, size: float = 7) -> Line2D:
        return Line2D([], [], linestyle="none", marker=marker, markersize=size, markerfacecolor="#bbbbbb",
                      markeredgecolor=edge, label=label)

    handles = [shape(SHAPES["frontier"], "#1f77b4", "frontier (estimated),\nlabel: table row #")]
    if measured:
        handles.append(shape(SHAPES["measured"], "#d62728", "measured\n(arrow from its estimate)", 9))
    for row in baselines:
        handles.append(shape(SHAPES.get(row.label, "^"), "#2ca02c", f"{row.label} (estimated)", 10))
        if row.n:
            handles.append(shape(SHAPES.get(row.label, "^"), "black", f"{row.label} (measured)", 10))
    fig.legend(handles=handles, loc="outside right upper", fontsize=7, title="colour: cost", title_fontsize=7)
    return fig


def pareto_plot(
    points: Sequence[PointAttr],
    path: str | Path,
    *,
    title: str,
    evaluation: Evaluation | None = None,
    baselines: Sequence[Row] = (),
) -> Path:
    """Write the Pareto plot (pareto_figure) as a PNG; deterministic for the same inputs."""
    import matplotlib.pyplot as plt

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig = pareto_figure(points, title=title, evaluation=evaluation, baselines=baselines)
    fig.savefig(path, metadata={"Software": None})
    plt.close(fig)
    return path
