"""The compiled artifact: a workflow's Pareto-optimal configurations as JSON.

`flowcompile-translate --export-json` writes it from a `flow.config_set`;
`select` picks one point of it by the rules of `flowcompile.selection` (a
preset, a latency budget, an accuracy target or a weighted preference). The
schema is versioned; the workflow hash (of its structure and choice spaces, not
its measurements or presets) ties the artifact to the workflow it was compiled
from. `flowcompile train-router` adds a `router` section (`flowcompile.router`),
with a version of its own, so an artifact without one reads as before.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from xdsl.dialects.builtin import ArrayAttr, DictionaryAttr, FloatAttr, IntegerAttr, ModuleOp, StringAttr

from flowcompile.dialects.flow import SKIP, ConfigAttr, ConfigSetOp, PointAttr, WorkflowOp
from flowcompile.router import RouterSection
from flowcompile.runtime.assignment import active_agents, assignment_from_point
from flowcompile.selection import Preference, SelectionError, Selector
from flowcompile.selection import select as select_index
from flowcompile.frontend.load import Locator
from flowcompile.irtext import print_module
from flowcompile.passes.strip_profiles import MEASUREMENT_ATTRS

FORMAT = "flowcompile.config-set"
VERSION = 1


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class AgentChoice(_Model):
    model: str
    budget: int = Field(ge=0)


class PoolModel(_Model):
    litellm: str
    api_base: str | None = None
    api_key_env: str | None = None
    price_in: float | None = None
    price_out: float | None = None


class Point(_Model):
    """One workflow configuration and what the proxy (and evaluation) says of it."""

    index: int
    acc: float = Field(ge=0.0, le=1.0)
    lat: float = Field(ge=0.0)
    cost: float | None = None
    measured_acc: float | None = None
    measured_lat: float | None = None
    assign: dict[str, AgentChoice | int | Literal["skip"]]
    active: list[str] = []
    """The agents that may make calls under `assign` (not skipped, not in a
    loop of 0 iterations): what the point's structure choices leave running."""


class Artifact(_Model):
    format: Literal["flowcompile.config-set"] = FORMAT
    version: Literal[1] = VERSION
    name: str
    workflow: str
    workflow_hash: str
    pool: dict[str, PoolModel]
    points: list[Point] = Field(min_length=1)
    presets: dict[str, Preference] = {}
    """The workflow's own presets (the built-in ones are not repeated)."""
    router: RouterSection | None = None
    """The per-query router `flowcompile train-router` trained (versioned on its own)."""
    provenance: dict[str, dict[str, str | int | float]] = {}
    """What measured the estimates: the workflow's `profiled` and `validated`
    records (backend; a simulation's world and its digest; the query sets'
    digests; the FlowCompile version), a query id list as its length."""


class ArtifactError(Exception):
    """An artifact that cannot be read, or a selection nothing satisfies."""


def workflow_hash(workflow: WorkflowOp) -> str:
    """sha256 of the workflow's structure: measurements and estimates removed."""
    clone = workflow.clone()
    clone.properties.pop("presets", None)  # how a point is chosen, not what was measured
    for op in clone.walk():
        for key in MEASUREMENT_ATTRS & op.attributes.keys():
            del op.attributes[key]
        # one order: the frontend builds an op's properties in another order than the parser reads them
        for table in (op.properties, op.attributes):
            ordered = sorted(table.items())
            table.clear()
            table.update(ordered)
    text = print_module(ModuleOp([clone]), generic=True)
    return "sha256:" + hashlib.sha256(text.encode("utf-8")).hexdigest()


def _choice(value: object) -> AgentChoice | int | Literal["skip"]:
    if isinstance(value, ConfigAttr):
        return AgentChoice(model=value.model, budget=value.budget)
    if isinstance(value, IntegerAttr):
        return int(value.value.data)
    assert isinstance(value, StringAttr) and value.data == SKIP
    return "skip"


def from_config_set(module: ModuleOp, name: str | None = None) -> Artifact:
    """The artifact of a config set in `module` (the only one, or by name)."""
    sets = [op for op in module.ops if isinstance(op, ConfigSetOp)]
    if name is not None:
        sets = [s for s in sets if s.sym_name.data == name]
    if not sets:
        raise ArtifactError(
            "no flow.config_set" + (f" named @{name}" if name else "")
            + " in the input: run the pareto pass first"
        )
    if len(sets) > 1:
        names = ", ".join("@" + s.sym_name.data for s in sets)
        raise ArtifactError(f"several config sets ({names}): choose one with --config-set")
    config_set = sets[0]
    workflow = next(
        op for op in module.ops
        if isinstance(op, WorkflowOp) and op.sym_name.data == config_set.workflow.root_reference.data
    )
    pool = {
        key: PoolModel(
            litellm=m.get("provider"),  # pyright: ignore[reportArgumentType]
            api_base=m.get("api_base"),  # pyright: ignore[reportArgumentType]
            api_key_env=m.get("api_key_env"),  # pyright: ignore[reportArgumentType]
            price_in=m.get("price_in"),  # pyright: ignore[reportArgumentType]
            price_out=m.get("price_out"),  # pyright: ignore[reportArgumentType]
        )
        for key, m in workflow.model_pool().items()
    }
    points = [_point(i, p, workflow) for i, p in enumerate(config_set.points)]
    return Artifact(
        name=config_set.sym_name.data,
        workflow=workflow.sym_name.data,
        workflow_hash=workflow_hash(workflow),
        pool=pool,
        points=points,
        presets=workflow_presets(workflow),
        provenance=workflow_provenance(workflow),
    )


def workflow_provenance(workflow: WorkflowOp) -> dict[str, dict[str, str | int | float]]:
    """The workflow's `profiled` and `validated` records: scalars as they are,
    lists (query ids) as their lengths."""
    found: dict[str, dict[str, str | int | float]] = {}
    for key in ("profiled", "validated"):
        record = workflow.attributes.get(key)
        if not isinstance(record, DictionaryAttr):
            continue
        fields: dict[str, str | int | float] = {}
        for name, value in record.data.items():
            if isinstance(value, StringAttr):
                fields[name] = value.data
            elif isinstance(value, IntegerAttr):
                fields[name] = value.value.data
            elif isinstance(value, FloatAttr):
                fields[name] = value.value.data
            elif isinstance(value, ArrayAttr):
                fields[name] = len(value.data)
        found[key] = fields
    return found


def workflow_presets(workflow: WorkflowOp) -> dict[str, Preference]:
    """The presets of a (verified) `flow.workflow`, by name."""
    return {name: Preference(**fields) for name, fields in workflow.preset_fields().items()}


def _point(index: int, point: PointAttr, workflow: WorkflowOp) -> Point:
    return Point(
        index=index,
        acc=point.get("acc"),  # pyright: ignore[reportArgumentType]
        lat=point.get("lat"),  # pyright: ignore[reportArgumentType]
        cost=point.get("cost"),  # pyright: ignore[reportArgumentType]
        measured_acc=point.get("measured_acc"),  # pyright: ignore[reportArgumentType]
        measured_lat=point.get("measured_lat"),  # pyright: ignore[reportArgumentType]
        assign={key: _choice(value) for key, value in point.assign.items()},
        active=active_agents(workflow, assignment_from_point(point)),
    )


def dumps(artifact: Artifact) -> str:
    """Deterministic JSON: sorted keys, two-space indent, trailing newline. An
    artifact without presets (a router, a provenance) has no `presets`
    (`router`, `provenance`) key, as before those existed, so that the readers
    of those load it."""
    empty = {key for key in ("presets", "router", "provenance") if not getattr(artifact, key)}
    data = artifact.model_dump(mode="json", exclude=empty or None)
    return json.dumps(data, indent=2, sort_keys=True) + "\n"


def load(path: str | Path) -> Artifact:
    path = Path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except OSError as e:
        raise ArtifactError(f"{path}: {e.strerror or e}") from None
    except json.JSONDecodeError as e:
        raise ArtifactError(f"{path}:{e.lineno}:{e.colno}: invalid JSON: {e.msg}") from None
    try:
        return Artifact.model_validate(data)
    except ValidationError as e:
        first = e.errors(include_url=False)[0]
        where = ".".join(str(p) for p in first["loc"])
        line, col = Locator(path.read_text(encoding="utf-8")).find(tuple(first["loc"]))
        at = f" (line {line}, column {col})" if line else ""
        raise ArtifactError(f"{path}: {where}: {first['msg']}{at}") from None


def select(
    points: Sequence[Point],
    *,
    presets: Mapping[str, Preference] | None = None,
    point: int | None = None,
    preset: str | None = None,
    max_latency: float | None = None,
    min_acc: float | None = None,
    weight: float | None = None,
) -> Point:
    """The point `flowcompile.selection.select` picks among `points` (with the
    artifact's own `presets`); ArtifactError when none qualifies."""
    selector = Selector(point, preset, max_latency, min_acc, weight)
    try:
        return points[select_index([(p.acc, p.lat) for p in points], selector, presets)]
    except SelectionError as e:
        raise ArtifactError(str(e)) from None
