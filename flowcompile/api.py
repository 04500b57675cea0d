"""FlowCompile as a Python library: load a workflow, compile it, select a point,
run it and evaluate it, in process.

```python
from flowcompile import api

workflow = api.load_yaml("examples/chain.yaml")      # or parse_yaml(text), load_ir(path)
compiled = api.compile(workflow, api.CompileOptions(samples=24, cache="out/c.sqlite"))
point = api.select(compiled, max_latency=10)         # the most accurate point within 10 s
fast = api.select(compiled, preset="fast")           # or "balanced", "accurate", the spec's own
results = api.run(compiled, point, "What is 17 * 23?")
evaluation = api.evaluate(compiled, which="ends", samples=60)
routed = api.train_router(compiled, samples=64)      # the artifact, with a per-query KNN router
```

These are the functions the `flowcompile` commands run (the commands wrap
them with option parsing and messages), so the same configuration gives the
same estimates, points and selections as `flowcompile compile`, `run`,
`select` and `evaluate`. Every user error is a `FlowCompileError` whose text is
the diagnostic the commands print (`file:line:col: error: ...`); a bad input
file (dataset, world, trace, cache) raises its own `ValueError` subclass,
naming the file.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the heavy modules load when a function needs them
    from xdsl.dialects.builtin import ModuleOp

    from flowcompile.artifact import Artifact, Point
    from flowcompile.backends.base import Backend
    from flowcompile.dialects.flow import PointAttr, WorkflowOp
    from flowcompile.evaluation import Evaluation
    from flowcompile.frontend.load import Locator
    from flowcompile.frontend.spec import WorkflowSpec
    from flowcompile.profiling.dataset import Query
    from flowcompile.runtime import RunResult
    from flowcompile.selection import Preference

__all__ = [
    "CompileOptions",
    "FlowCompileError",
    "Workflow",
    "compile",
    "evaluate",
    "load_ir",
    "load_yaml",
    "make_backend",
    "parse_ir",
    "parse_yaml",
    "run",
    "select",
    "select_index",
    "train_router",
]


class FlowCompileError(Exception):
    """A user error; its text is the diagnostic the `flowcompile` commands print."""


@dataclass
class Workflow:
    """One workflow in flow IR: as lowered from a spec, or compiled (with a config set)."""

    module: ModuleOp
    source: str
    """The file (or name) the workflow came from, for diagnostics."""
    spec: tuple[WorkflowSpec, Locator] | None = field(default=None, repr=False)
    """The YAML spec and its locator, when loaded from YAML (to check the pool at its line)."""

    @property
    def op(self) -> WorkflowOp:
        """The module's one `flow.workflow`."""
        # lazy: `import flowcompile.api` (and so the `flowcompile` CLI) loads no xDSL, numpy or pass
        from flowcompile.compiler import CompileError, the_workflow

        try:
            return the_workflow(self.module)
        except CompileError as e:
            raise FlowCompileError(f"{self.source}: error: {e.diagnostic.message}") from None

    @property
    def name(self) -> str:
        return self.op.sym_name.data

    @property
    def compiled(self) -> bool:
        """Whether the module holds a config set for the workflow."""
        return self._config_points() is not None

    @property
    def presets(self) -> dict[str, Preference]:
        """The workflow's own presets (`presets:` in its spec), by name."""
        # lazy: `import flowcompile.api` (and so the `flowcompile` CLI) loads no xDSL, numpy or pass
        from flowcompile.artifact import workflow_presets

        return workflow_presets(self.op)

    @property
    def points(self) -> list[Point]:
        """The config set's points, fastest first, as in the JSON artifact."""
        return list(self.artifact().points)

    def artifact(self) -> Artifact:
        """The JSON artifact `flowcompile compile` writes (`artifact.dumps` gives its text)."""
        # lazy: `import flowcompile.api` (and so the `flowcompile` CLI) loads no xDSL, numpy or pass
        from flowcompile.artifact import ArtifactError, from_config_set

        try:
            return from_config_set(self.module)
        except ArtifactError as e:
            raise FlowCompileError(f"{self.source}: error: {e}") from None

    def ir(self) -> str:
        """The module's text, as flowcompile-opt prints it."""
        # lazy: `import flowcompile.api` (and so the `flowcompile` CLI) loads no xDSL, numpy or pass
        from flowcompile.irtext import print_module

        return print_module(self.module)

    def _config_points(self) -> list[PointAttr] | None:
        # lazy: `import flowcompile.api` (and so the `flowcompile` CLI) loads no xDSL, numpy or pass
        from flowcompile.evaluation import config_set_of

        try:
            return list(config_set_of(self.module, self.op).points)
        except ValueError:
            return None

    def config_points(self) -> list[PointAttr]:
        """The config set's `#flow.point`s; FlowCompileError when not compiled."""
        # lazy: `import flowcompile.api` (and so the `flowcompile` CLI) loads no xDSL, numpy or pass
        from flowcompile.diagnostics import at_op

        points = self._config_points()
        if points is None:
            message = f"no flow.config_set for @{self.name}: compile it first (flowcompile compile, or the pareto pass)"
            located = at_op(self.op, message)  # IR from a spec has no op locations: name the file
            raise FlowCompileError(str(located) if located.file else f"{self.source}: error: {message}")
        return points


# Loading ---------------------------------------------------------------------


def parse_yaml(text: str, name: str = "<string>") -> Workflow:
    """Lower a YAML (or JSON) workflow spec given as text; `name` locates its diagnostics."""
    # lazy: `import flowcompile.api` (and so the `flowcompile` CLI) loads no xDSL, numpy or pass
    from flowcompile.frontend.load import SpecError, load_spec_text
    from flowcompile.frontend.lower import lower_spec

    try:
        spec, locator = load_spec_text(text, name)
        return Workflow(lower_spec(spec, locator, name), name, (spec, locator))
    except SpecError as e:
        raise FlowCompileError(str(e)) from None


def load_yaml(path: str | Path) -> Workflow:
    """Lower the YAML workflow spec at `path` (what `flowcompile compile` reads)."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as e:
        raise FlowCompileError(f"{path}: error: {e.strerror or e}") from None
    except UnicodeDecodeError as e:
        raise FlowCompileError(f"{path}: error: not UTF-8 text ({e.reason} at byte {e.start})") from None
    return parse_yaml(text, str(path))


def parse_ir(text: str, name: str = "<string>") -> Workflow:
    """Parse and verify flow IR given as text (lowered, profiled or compiled)."""
    # lazy: `import flowcompile.api` (and so the `flowcompile` CLI) loads no xDSL, numpy or pass
    from flowcompile.compiler import CompileError, parse

    try:
        return Workflow(parse(text, name), name)
    except CompileError as e:
        raise FlowCompileError(str(e)) from None


def load_ir(path: str | Path) -> Workflow:
    """Parse and verify the flow IR file at `path` (e.g. `out/chain/chain.compiled.mlir`)."""
    # lazy: `import flowcompile.api` (and so the `flowcompile` CLI) loads no xDSL, numpy or pass
    from flowcompile.compiler import CompileError, load

    try:
        return Workflow(load(path), str(path))
    except CompileError as e:
        raise FlowCompileError(str(e)) from None


# Compiling -------------------------------------------------------------------


RUN_CONCURRENCY = 8
"""Queries `run`, `evaluate` and `serve` run at once by default (profile's `concurrency`)."""
CALL_RETRIES = 6
"""Attempts per call by default (profile's `retries`)."""


@dataclass(frozen=True)
class CompileOptions:
    """`flowcompile compile`'s options, with its defaults (`tests/test_api.py` keeps them equal)."""

    backend: str = "sim"
    world: str | None = None
    trace: str | None = None
    dataset: str | None = None
    samples: int = 0
    """Profiling queries (0: all, or 32 generated by the sim)."""
    max_samples: int | None = None
    """Adaptive profiling's query count at most (None: the profile pass's default, 256)."""
    profile_budget: int = 0
    seed: int = 0
    cache: str | None = None
    """The profile store (None: $FLOWCOMPILE_CACHE or .flowcompile/profile-cache.sqlite)."""
    concurrency: int = 8
    timeout: float = 0.0
    """Seconds per litellm call (0: each call's own, from its tokens and the model's pace)."""
    retries: int = CALL_RETRIES
    recovery: bool = True
    validate: bool = True
    validation_samples: int = 64
    validation_budget: int = 0
    k: int | None = None
    max_latency: float | None = None
    min_acc: float | None = None
    max_cost: float | None = None

    def _calls(self) -> dict[str, object]:
        """The call options that differ from the passes' defaults (so the pipeline reads as before)."""
        return {
            "timeout": self.timeout or None,
            "retries": self.retries if self.retries != CALL_RETRIES else None,
        }

    def profile_pipeline(self) -> str:
        """The `-p` pipeline of the profiling stage."""
        return _pass_spec(
            "profile", recovery=self.recovery, backend=self.backend, dataset=self.dataset, samples=self.samples,
            max_samples=self.max_samples, budget=self.profile_budget or None, seed=self.seed, cache=self.cache,
            world=self.world, trace=self.trace, concurrency=self.concurrency, **self._calls(),
        )

    def search_pipeline(self) -> str:
        """The `-p` pipeline after profiling: compose, enumerate, validate, pareto."""
        validation = ""
        if self.validate:
            validation = _pass_spec(
                "validate", backend=self.backend, dataset=self.dataset, samples=self.validation_samples,
                budget=self.validation_budget or None, seed=self.seed, cache=self.cache, world=self.world,
                trace=self.trace, concurrency=self.concurrency, **self._calls(),
            ) + ","
        pareto = _pass_spec("pareto", k=self.k, max_latency=self.max_latency, min_acc=self.min_acc,
                            max_cost=self.max_cost)
        return f"compose,enumerate,{validation}{pareto}"


def _pipeline_option(name: str, value: object) -> str:
    if value is None or value == "":
        return ""
    if isinstance(value, bool):
        return f"{name}={'true' if value else 'false'}"
    if isinstance(value, str):
        return f'{name}="{value}"'
    return f"{name}={value}"


def _pass_spec(name: str, **options: object) -> str:
    """`name{k=v ...}` in the -p syntax, unset options left out."""
    parts = [_pipeline_option(key.replace("_", "-"), value) for key, value in options.items()]
    return name + "{" + " ".join(p for p in parts if p) + "}"


def sim_model_names(world: str | None = None) -> list[str]:
    """The model names of the sim world (the bundled one by default); WorldError if unreadable."""
    # lazy: `import flowcompile.api` (and so the `flowcompile` CLI) loads no xDSL, numpy or pass
    from flowcompile.sim.world import default_world_path, load_world

    return load_world(world or default_world_path()).model_names()


def compile(
    workflow: Workflow,
    options: CompileOptions | None = None,
    *,
    out: str | Path | None = None,
    on_stage: Callable[[str], None] | None = None,
    **overrides: object,
) -> Workflow:
    """Profile, compose, search (validating by default) and emit the Pareto set,
    as `flowcompile compile` does; returns a new compiled Workflow (the input is
    left as it was). `options` fields can be given as keywords instead
    (`compile(wf, samples=24)`). With `out`, the IR after each stage is written
    there as compile writes it (`<name>.mlir`, `.profiled.mlir`, `.compiled.mlir`).
    `on_stage(text)` hears when each long stage starts."""
    # lazy: `import flowcompile.api` (and so the `flowcompile` CLI) loads no xDSL, numpy or pass
    from flowcompile.compiler import CompileError, run_passes, write
    from flowcompile.frontend.load import SpecError
    from flowcompile.frontend.lower import check_pool

    options = replace(options or CompileOptions(), **overrides)  # pyright: ignore[reportArgumentType]
    if options.backend == "sim" and workflow.spec is not None:  # pool names checked at their line, before any call
        try:
            check_pool(*workflow.spec, workflow.source, sim_model_names(options.world))
        except SpecError as e:
            raise FlowCompileError(str(e)) from None
    module = workflow.module.clone()
    name = Workflow(module, workflow.source).name
    folder = Path(out) if out is not None else None
    say = on_stage or (lambda text: None)
    try:
        if folder is not None:
            write(module, folder / f"{name}.mlir")
        say(f"profiling every agent's candidates ({options.backend} backend)")
        run_passes(module, options.profile_pipeline())
        if folder is not None:
            write(module, folder / f"{name}.profiled.mlir")
        say("composing, searching the frontier" + (", validating its candidates end to end" if options.validate else ""))
        run_passes(module, options.search_pipeline())
        if folder is not None:
            write(module, folder / f"{name}.compiled.mlir")
    except CompileError as e:
        raise FlowCompileError(str(e)) from None
    return Workflow(module, workflow.source)


# Selecting -------------------------------------------------------------------


def select_index(
    points: Sequence[PointAttr],
    *,
    presets: Mapping[str, Preference] | None = None,
    point: int | None = None,
    preset: str | None = None,
    max_latency: float | None = None,
    min_acc: float | None = None,
    weight: float | None = None,
) -> int:
    """The index of the point `flowcompile run` picks among `points`, by
    `flowcompile.selection`'s rules: a point index, a preset (built in, or of
    `presets`), the most accurate within `max_latency`, the fastest reaching
    `min_acc`, the best `weight`-ed score; with no selector the most accurate."""
    # lazy: `import flowcompile.api` (and so the `flowcompile` CLI) loads no xDSL, numpy or pass
    from flowcompile.selection import SelectionError, Selector
    from flowcompile.selection import select as pick

    estimates = [(p.get("acc"), p.get("lat")) for p in points]
    try:
        return pick(estimates, Selector(point, preset, max_latency, min_acc, weight), presets)  # pyright: ignore
    except SelectionError as e:
        raise FlowCompileError(f"error: {e}") from None


def select(
    workflow: Workflow,
    *,
    point: int | None = None,
    preset: str | None = None,
    max_latency: float | None = None,
    min_acc: float | None = None,
    weight: float | None = None,
) -> Point:
    """The compiled workflow's point picked by `select_index`'s rules, with its presets."""
    index = select_index(
        workflow.config_points(), presets=workflow.presets, point=point, preset=preset,
        max_latency=max_latency, min_acc=min_acc, weight=weight,
    )
    return workflow.points[index]


# Running ---------------------------------------------------------------------




def check_call_options(**options: float) -> None:
    """FlowCompileError naming the first of `options` (concurrency, timeout,
    retries) out of the bounds the `profile` pass gives it (passes/registry.py),
    as `flowcompile-opt` reports it."""
    # lazy: `import flowcompile.api` (and so the `flowcompile` CLI) loads no xDSL, numpy or pass
    from flowcompile.passes.registry import option_bound

    for name, value in options.items():
        bound = option_bound("profile", name)
        assert bound is not None, name
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise FlowCompileError(f"error: option {name}={value!r}: must be a number")
        if (problem := bound.problem(value)) is not None:
            raise FlowCompileError(f"error: option {name}={value:g}: {problem}")


def make_backend(
    backend: str = "sim",
    world: str | None = None,
    trace: str | None = None,
    *,
    timeout: float = 0.0,
    retries: int = CALL_RETRIES,
) -> Backend:
    """The backend `flowcompile run`, `evaluate` and `serve` call: sim and litellm
    with `retries` attempts per call, or replay; `timeout` seconds per litellm
    call (0: each call's own, from its tokens and the model's pace)."""
    # lazy: `import flowcompile.api` (and so the `flowcompile` CLI) loads no xDSL, numpy or pass
    from flowcompile.backends import open_backend
    from flowcompile.backends.middleware import RetryingBackend

    check_call_options(timeout=timeout, retries=retries)
    if backend not in ("sim", "litellm", "replay"):
        raise FlowCompileError(f"error: unknown backend {backend!r} (sim, litellm or replay)")
    if backend == "replay" and not trace:
        raise FlowCompileError("error: --backend replay needs --trace PATH (trace= in Python)")
    calls = open_backend(backend, world=world, trace=trace, timeout=timeout)
    return calls if backend == "replay" else RetryingBackend(calls, max_attempts=retries)


def queries(
    dataset: str | None, samples: int, seed: int, backend: str = "sim", world: str | None = None
) -> list[Query]:
    """The first `samples` queries of `dataset` (0: all), or `samples` fresh
    simulated ones drawn with `seed` (the sim only)."""
    # lazy: `import flowcompile.api` (and so the `flowcompile` CLI) loads no xDSL, numpy or pass
    from flowcompile.backends import generated_queries
    from flowcompile.profiling.dataset import as_query, load_dataset

    if dataset:
        loaded = load_dataset(dataset)
        return loaded[:samples] if samples else loaded
    rows = generated_queries(backend, samples or 50, seed, world=world)
    if rows is None:
        raise FlowCompileError(f"error: --backend {backend} needs --dataset PATH (dataset= in Python)")
    return [as_query(r) for r in rows]


RUN_SEED_OFFSET = 7919
"""`run` draws its simulated queries with seed + this (none of profiling's)."""
HELD_OUT_SEED_OFFSET = 1000
"""`evaluate` draws its held-out queries with seed + this (disjoint ids)."""


def run(
    workflow: Workflow,
    point: int | Point,
    query: str | Sequence[str | Query] | None = None,
    *,
    samples: int = 5,
    backend: str = "sim",
    world: str | None = None,
    trace: str | None = None,
    seed: int = 0,
    concurrency: int = RUN_CONCURRENCY,
    timeout: float = 0.0,
    retries: int = CALL_RETRIES,
) -> list[RunResult]:
    """Run the compiled workflow under one point (an index or a `Point`) on
    `query` (one text, or a list of texts and `Query`s), or on `samples`
    simulated queries as `flowcompile run` does; one `RunResult` per query.
    `concurrency` queries run at once; `timeout` and `retries` as `make_backend`'s."""
    # lazy: `import flowcompile.api` (and so the `flowcompile` CLI) loads no xDSL, numpy or pass
    from flowcompile.profiling.dataset import Query
    from flowcompile.runtime import run_many

    check_call_options(concurrency=concurrency, timeout=timeout, retries=retries)
    points = workflow.config_points()
    index = point if isinstance(point, int) else point.index
    if not 0 <= index < len(points):
        raise FlowCompileError(f"error: no point {index}: the config set has {len(points)} points (0..{len(points) - 1})")
    if query is None:
        batch = queries(None, samples, seed + RUN_SEED_OFFSET, backend, world)
    else:
        texts = [query] if isinstance(query, str) else list(query)
        batch = [q if isinstance(q, Query) else Query(f"q{i}" if len(texts) > 1 else "q", q, "")
                 for i, q in enumerate(texts)]
    calls = make_backend(backend, world, trace, timeout=timeout, retries=retries)
    return asyncio.run(run_many(workflow.op, dict(points[index].assign), calls, batch, seed=seed,
                                concurrency=concurrency))


# Evaluating ------------------------------------------------------------------


def check_held_out(workflow: Workflow, held_out: Sequence[Query]) -> None:
    """FlowCompileError when a held-out query was seen by profiling or validation."""
    # lazy: `import flowcompile.api` (and so the `flowcompile` CLI) loads no xDSL, numpy or pass
    from flowcompile.passes.profile import recorded_ids

    for record, what in (("profiled", "profiling"), ("validated", "validation")):
        seen = set(recorded_ids(workflow.op, record))
        shared = [q.id for q in held_out if q.id in seen]
        if shared:
            raise FlowCompileError(
                f"error: the held-out set shares {len(shared)} of its {len(held_out)} queries with the {what} set "
                f"recorded in the IR ({', '.join(shared[:3])}{', ...' if len(shared) > 3 else ''}); "
                "evaluate on other queries (another --seed or --dataset)"
            )


def evaluate(
    workflow: Workflow,
    *,
    which: str = "all",
    dataset: str | None = None,
    samples: int = 0,
    backend: str = "sim",
    world: str | None = None,
    trace: str | None = None,
    seed: int = 0,
    baselines: bool = True,
    progress: Callable[[int, int], None] | None = None,
    concurrency: int = RUN_CONCURRENCY,
    timeout: float = 0.0,
    retries: int = CALL_RETRIES,
) -> Evaluation:
    """Measure points (`all`, `ends` or `0,3`) end to end on held-out queries
    (the dataset's, or `samples` simulated ones, 100 by default) beside their
    estimates, with the all-strongest and all-cheapest baselines, as
    `flowcompile evaluate` does. `progress(done, total)` hears each finished run;
    `concurrency` queries run at once; `timeout` and `retries` as `make_backend`'s."""
    # lazy: `import flowcompile.api` (and so the `flowcompile` CLI) loads no xDSL, numpy or pass
    from flowcompile.evaluation import evaluate_points, pick

    check_call_options(concurrency=concurrency, timeout=timeout, retries=retries)

    points = workflow.config_points()
    try:
        pick(points, which)  # a bad selection fails before any call
    except ValueError as e:
        raise FlowCompileError(f"error: {e}") from None
    held_out = queries(dataset, samples or 100, seed + HELD_OUT_SEED_OFFSET, backend, world)
    check_held_out(workflow, held_out)
    try:
        return evaluate_points(
            workflow.module, workflow.op, make_backend(backend, world, trace, timeout=timeout, retries=retries),
            held_out, which=which, baselines=baselines, seed=seed, concurrency=concurrency, progress=progress,
        )
    except ValueError as e:
        raise FlowCompileError(f"error: {e}") from None


# Routing ---------------------------------------------------------------------


def train_router(
    workflow: Workflow,
    artifact: Artifact | None = None,
    *,
    dataset: str | None = None,
    samples: int = 0,
    k: int | str = "auto",
    features: str = "hashed",
    backend: str = "sim",
    world: str | None = None,
    trace: str | None = None,
    seed: int = 0,
    concurrency: int = RUN_CONCURRENCY,
    timeout: float = 0.0,
    retries: int = CALL_RETRIES,
    progress: Callable[[int, int], None] | None = None,
) -> Artifact:
    """`artifact` (by default the compiled workflow's own) with a KNN router
    trained on a routing split, as `flowcompile train-router` does: the
    dataset's queries, or `samples` simulated ones (128 by default) from seed +
    ROUTER_SEED_OFFSET; FlowCompileError when the split shares a query with the
    profiling or validation set recorded in the IR, or the artifact is not the
    workflow's. `features`: hashed, hashed:DIM or litellm:MODEL."""
    # lazy: `import flowcompile.api` (and so the `flowcompile` CLI) loads no xDSL, numpy or pass
    from flowcompile.passes.profile import recorded_ids
    from flowcompile.router import (
        DEFAULT_SAMPLES, ROUTER_SEED_OFFSET, RouterError, check_artifact, fit, parse_features, run_points,
    )

    check_call_options(concurrency=concurrency, timeout=timeout, retries=retries)
    if k != "auto" and (isinstance(k, bool) or not isinstance(k, int) or k < 1):
        raise FlowCompileError(f"error: k={k!r}: an integer >= 1 or auto")
    artifact = artifact or workflow.artifact()
    points = workflow.config_points()
    try:
        mine = check_artifact(artifact, workflow.module, workflow.op)
        chosen = parse_features(features)
    except RouterError as e:
        raise FlowCompileError(f"error: {e}") from None
    split = queries(dataset, samples or DEFAULT_SAMPLES, seed + ROUTER_SEED_OFFSET, backend, world)
    ids = {q.id for q in split}
    for record, what in (("profiled", "profiling"), ("validated", "validation")):
        shared = [i for i in recorded_ids(workflow.op, record) if i in ids]
        if shared:
            raise FlowCompileError(
                f"error: the routing set shares {len(shared)} of its {len(split)} queries with the {what} set "
                f"recorded in the IR ({', '.join(shared[:3])}{', ...' if len(shared) > 3 else ''}): its outcomes "
                "would flatter the points chosen on them; train on other queries (another --seed or --dataset)"
            )
    calls = make_backend(backend, world, trace, timeout=timeout, retries=retries)
    try:
        outcomes = run_points(workflow.op, [p.assign for p in points], calls, split, seed=seed,
                              concurrency=concurrency, progress=progress)
        section = fit(
            [q.input for q in split], [q.id for q in split], outcomes, [(p.acc, p.lat) for p in artifact.points],
            artifact.presets, points=mine,
            split=f"dataset {Path(dataset).name}" if dataset else f"sim seed {seed + ROUTER_SEED_OFFSET}",
            k=k, features=chosen, seed=seed,  # pyright: ignore[reportArgumentType]
        )
    except RouterError as e:
        raise FlowCompileError(f"error: {e}") from None
    return artifact.model_copy(update={"router": section})
