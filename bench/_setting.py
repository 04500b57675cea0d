"""One (workflow, world) of a benchmark: its space, held-out set, oracle and
the in-process `flowcompile compile` run whose calls are counted. The oracle
measures every configuration on a selection split of its own and is scored,
like every method, on held-out.

Shared by `peers.py` and `profiling.py`, so both judge the compiled set against
the same oracle on the same held-out queries.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from flowcompile.proxy import hypervolume_2d

from _measure import Memo, Reference, Table, hv, nondominated
from _space import Config, Space, heuristics, restrict_spec

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ("chain", "self_consistency", "router", "refine", "mixture")
WORLDS = {"default": None, "correlated": "correlated"}
MAX_SPACE = 2000
HELDOUT_SEED = 1000
SELECTION_SEED = 2000
"""The oracle's own split: it picks its front there and is scored on held-out."""
CONFIRMATION_SEED = 3000
"""The confirmation split: more queries than held-out, to tell apart what held-out's noise cannot."""
CONFIRMATION_QUERIES, CONFIRMATION_QUERIES_QUICK = 8000, 1000
"""Its size (with --quick): two configurations that differ in one agent
differ on 2000 queries by about +-0.012 of luck (their paired standard
error), as much as the differences the benchmarks' criteria turn on; on
8000, by half that."""


def arguments(doc: str, quick: str) -> argparse.ArgumentParser:
    """The options every benchmark over examples and worlds takes."""
    parser = argparse.ArgumentParser(description=doc.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help=quick)
    parser.add_argument("--only", nargs="*", help="examples to run (default: all)")
    parser.add_argument("--worlds", nargs="*", choices=list(WORLDS), help="worlds to run (default: all)")
    parser.add_argument("--jobs", type=int, default=2, help="processes (default 2)")
    parser.add_argument(
        "--confirm", type=_positive,
        help=f"confirmation queries (default {CONFIRMATION_QUERIES}, {CONFIRMATION_QUERIES_QUICK} with --quick)",
    )
    parser.add_argument("--out", default=str(Path(__file__).resolve().parent / "results"))
    return parser


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive count of queries, got {text!r}")
    return value


def confirmation_queries(args: argparse.Namespace) -> int:
    """The confirmation split's size the options ask for."""
    return args.confirm or (CONFIRMATION_QUERIES_QUICK if args.quick else CONFIRMATION_QUERIES)


def world_path(world: str) -> str | None:
    if WORLDS[world] is None:
        return None
    from flowcompile.sim.world import correlated_world_path

    return str(correlated_world_path())


@dataclass
class Setting:
    """A workflow's benchmark space in one SIMULATED world, measured on held-out."""

    example: str
    world: str
    spec: Path
    """The spec compiled: the example's, or its 3x2 cut."""
    space_name: str
    workflow: object
    space: Space
    heldout: list
    held: Table
    ref: Reference
    oracle_points: np.ndarray
    """Every configuration of the space, in `space.all()` order, measured on
    the oracle's selection split (as many queries as held-out, disjoint)."""
    oracle_configs: list[Config]
    """The oracle: the configurations non-dominated on the selection split."""
    scratch: tempfile.TemporaryDirectory
    """The compiles' outputs and caches: removed with the setting."""

    @property
    def tmp(self) -> Path:
        return Path(self.scratch.name)


def prepare(example: str, world: str, heldout: int) -> Setting:
    """The example's space (cut to 3 models x 2 budgets per agent past
    MAX_SPACE configurations), `heldout` held-out queries, and the oracle."""
    from flowcompile.compiler import import_spec, the_workflow
    from flowcompile.profiling.dataset import as_query
    from flowcompile.sim import SimWorld, generate_dataset
    from flowcompile.sim.backend import SimBackend

    sim = SimWorld(world_path(world))
    spec = ROOT / "examples" / f"{example}.yaml"
    full = the_workflow(import_spec(spec))
    scratch = tempfile.TemporaryDirectory(prefix=f"bench-{example}-{world}-")
    tmp = Path(scratch.name)
    space_name = "full"
    if Space.of(full).size > MAX_SPACE:
        spec = restrict_spec(spec, full, tmp / f"{example}.yaml")
        space_name = "3x2"
    workflow = the_workflow(import_spec(spec))
    space = Space.of(workflow)
    queries = [as_query(r) for r in generate_dataset(sim, heldout, HELDOUT_SEED)]
    selection = [as_query(r) for r in generate_dataset(sim, heldout, SELECTION_SEED)]
    shared = {q.id for q in queries} & {q.id for q in selection} | {q.input for q in queries} & {q.input for q in selection}
    assert not shared, f"the oracle's selection split overlaps held-out: {sorted(shared)[:3]}"
    held = Table(workflow, space, queries, Memo(SimBackend(sim), {}))
    everything = list(space.all())
    # Selected where it is scored, the best of hundreds of configurations
    # would be partly the luck of those queries (a winner's curse no method
    # can match); selected on its own split, the oracle is what exhaustive
    # measurement finds, scored like every method.
    oracle_points = Table(workflow, space, selection, Memo(SimBackend(sim), {})).points(everything)
    oracle_configs = [everything[i] for i in nondominated(oracle_points)]
    strongest = held.measure([heuristics(space, workflow)["all-strongest"]])[0]
    oracle_held = held.points(oracle_configs)
    ref_acc = float(min(oracle_points[:, 0].min(), oracle_held[:, 0].min()))
    ref_lat = float(max(oracle_points[:, 1].max(), oracle_held[:, 1].max()))
    ref = Reference(
        ref_acc, ref_lat, (strongest.acc, strongest.lat),
        hypervolume_2d(oracle_held[:, 0], oracle_held[:, 1], ref_acc, ref_lat),
    )
    return Setting(
        example, world, spec, space_name, workflow, space, queries, held, ref, oracle_points, oracle_configs, scratch
    )


@dataclass
class Compiled:
    """One `flowcompile compile` run: its IR, points and what it spent."""

    module: object
    workflow: object
    configs: list[Config]
    estimates: np.ndarray
    """(acc, lat) the compiled set states for each point."""
    seconds: float
    calls: int


def compile_counted(setting: Setting, name: str, extra: Sequence[str] = ()) -> Compiled:
    """Run `flowcompile compile` on the setting's spec with its defaults (and
    `extra` options) in process, on a fresh cache, counting every backend call;
    assert it saw no held-out query."""
    from flowcompile.backends import register_backend
    from flowcompile.compiler import load, the_workflow
    from flowcompile.dialects.flow import ConfigSetOp
    from flowcompile.passes.profile import recorded_ids
    from flowcompile.sim.backend import SimBackend
    from flowcompile.tools.cli import cli

    made: list[SimBackend] = []

    def counted(**options):
        backend = SimBackend(options.get("world"))
        made.append(backend)
        return backend

    out = setting.tmp / name
    register_backend("sim", counted)
    args = ["compile", str(setting.spec), "-o", str(out), "--cache", str(out / "cache.sqlite")]
    if (wpath := world_path(setting.world)) is not None:
        args += ["--world", wpath]
    args += list(extra)
    start = time.perf_counter()
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()) as err:
        try:
            cli.main(args, standalone_mode=False)
        except BaseException as e:  # a failed compile is reported, never silently measured
            raise RuntimeError(f"compile {setting.spec} failed: {e}\n{err.getvalue()}") from e
        finally:
            register_backend("sim", "flowcompile.sim.backend:SimBackend")
    elapsed = time.perf_counter() - start
    module = load(out / f"{setting.workflow.sym_name.data}.compiled.mlir")  # pyright: ignore
    compiled = the_workflow(module)
    seen = set(recorded_ids(compiled, "profiled")) | set(recorded_ids(compiled, "validated"))
    assert seen and not seen & {q.id for q in setting.heldout}, "the compile saw held-out queries"
    config_set = next(op for op in module.ops if isinstance(op, ConfigSetOp))
    configs = [setting.space.config_of(dict(p.assign)) for p in config_set.points]
    estimates = np.array([(p.get("acc"), p.get("lat")) for p in config_set.points])
    return Compiled(module, compiled, configs, estimates, elapsed, sum(b.total_calls for b in made))


@dataclass
class Confirmation:
    """A confirmation split of one setting: its table, and the reference its
    hypervolumes are judged by (the setting's corner; the oracle's area and
    all-strongest as this split measures them)."""

    queries: list
    table: Table
    ref: Reference


def confirmation(setting: Setting, count: int, seen: Sequence[str] = ()) -> Confirmation:
    """`count` fresh queries, asserted disjoint from held-out, the oracle's
    selection split and `seen` (ids the compiles recorded)."""
    from flowcompile.profiling.dataset import as_query
    from flowcompile.sim import SimWorld, generate_dataset
    from flowcompile.sim.backend import SimBackend

    sim = SimWorld(world_path(setting.world))
    queries = [as_query(r) for r in generate_dataset(sim, count, CONFIRMATION_SEED)]
    selection = [as_query(r) for r in generate_dataset(sim, len(setting.heldout), SELECTION_SEED)]
    used = {q.id for q in (*setting.heldout, *selection)} | {q.input for q in (*setting.heldout, *selection)}
    overlap = (used | set(seen)) & ({q.id for q in queries} | {q.input for q in queries})
    assert not overlap, f"the confirmation split overlaps another set: {sorted(overlap)[:3]}"
    table = Table(setting.workflow, setting.space, queries, Memo(SimBackend(sim), {}))
    strong = table.measure([heuristics(setting.space, setting.workflow)["all-strongest"]])[0]
    area = hv(table.points(setting.oracle_configs), setting.ref)
    return Confirmation(queries, table, Reference(setting.ref.ref_acc, setting.ref.ref_lat, (strong.acc, strong.lat), area))

