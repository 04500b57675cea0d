"""Reports: the frontier as a table, and a Pareto plot (PNG).

The plot shows the proxy's estimated frontier, the measured values of the
evaluated points (joined to their estimates), and the heuristic baselines
(every agent strongest, every agent cheapest), estimated and measured.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

from pydantic import TypeAdapter, ValidationError

from flowcompile.diagnostics import Diagnostic
from flowcompile.dialects.flow import PointAttr
from flowcompile.evaluation import Evaluation, Row


class EvaluationFileError(ValueError):
    """An evaluation file that cannot be used; the message is a located diagnostic."""


def load_evaluation(path: str | Path, workflow: str | None = None) -> Evaluation:
    """Read an evaluation JSON (`flowcompile evaluate -o`), checked field by field;
    with `workflow`, it must be an evaluation of that workflow. Problems are
    EvaluationFileErrors at the field's `file:line:col`."""
    from flowcompile.frontend.load import Locator, format_loc

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


def pareto_plot(
    points: Sequence[PointAttr],
    path: str | Path,
    *,
    title: str,
    evaluation: Evaluation | None = None,
    baselines: Sequence[Row] = (),
) -> Path:
    """Write the Pareto plot; deterministic for the same inputs."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig, ax = plt.subplots(figsize=(7, 4.5), dpi=120)
    lat = [p.get("lat") for p in points]
    acc = [p.get("acc") for p in points]
    ax.step(lat, acc, where="post", color="#1f77b4", alpha=0.5)
    ax.plot(lat, acc, "o", color="#1f77b4", label="frontier (estimated)")
    if evaluation is not None:
        for row in evaluation.points:
            ax.annotate("", xy=(row.lat, row.acc), xytext=(row.est_lat, row.est_acc),
                        arrowprops={"arrowstyle": "->", "color": "#999999", "lw": 0.8})
        ax.plot([r.lat for r in evaluation.points], [r.acc for r in evaluation.points], "x",
                color="#d62728", markersize=8, label="measured")
    markers = {"all-strongest": "*", "all-cheapest": "s"}
    for row in baselines:
        ax.plot(row.est_lat, row.est_acc, markers.get(row.label, "^"), color="#2ca02c", fillstyle="none",
                markersize=10, label=f"{row.label} (estimated)")
        if row.n:
            ax.plot(row.lat, row.acc, markers.get(row.label, "^"), color="#2ca02c", markersize=10,
                    label=f"{row.label} (measured)")
    all_lat = [*lat, *(r.lat for r in baselines), *(r.est_lat for r in baselines)]
    if min(all_lat) > 0 and max(all_lat) / min(all_lat) > 20:
        ax.set_xscale("log")  # strongest configurations can be 100x slower
    ax.set_xlabel("latency per query (s)")
    ax.set_ylabel("accuracy")
    ax.set_title(title)
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=8, loc="lower right")
    fig.tight_layout()
    fig.savefig(path, metadata={"Software": None})
    plt.close(fig)
    return path
