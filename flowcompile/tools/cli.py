"""`flowcompile`: the user-facing commands.

compile   YAML spec in; profiled IR, compiled IR, JSON artifact and report out
run       execute a compiled workflow under one chosen point
evaluate  measure chosen points end to end on held-out queries: estimate vs measured
report    the frontier table and the Pareto plot (PNG)
select    pick a point of a JSON artifact by latency budget, accuracy target or weight
serve-sim the SIMULATED world as an OpenAI-compatible server on loopback
sim-dataset  a profiling dataset of simulated queries
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from flowcompile.tools.common import guard_main

BACKENDS = click.Choice(["sim", "litellm", "replay"])


def _say(message: str) -> None:
    click.echo(message, err=True)


def _pipeline_option(name: str, value: object) -> str:
    if value is None or value == "":
        return ""
    if isinstance(value, str):
        return f'{name}="{value}"'
    return f"{name}={value}"


def _profile_spec(backend, dataset, samples, seed, cache, world, trace, concurrency, recovery) -> str:
    options = [
        "recovery=true" if recovery else "",
        _pipeline_option("backend", backend),
        _pipeline_option("dataset", dataset),
        _pipeline_option("samples", samples),
        _pipeline_option("seed", seed),
        _pipeline_option("cache", cache),
        _pipeline_option("world", world),
        _pipeline_option("trace", trace),
        _pipeline_option("concurrency", concurrency),
    ]
    return "profile{" + " ".join(o for o in options if o) + "}"


def _validate_spec(backend, dataset, samples, budget, seed, cache, world, trace, concurrency) -> str:
    options = [
        _pipeline_option("backend", backend),
        _pipeline_option("dataset", dataset),
        _pipeline_option("samples", samples),
        _pipeline_option("budget", budget or None),
        _pipeline_option("seed", seed),
        _pipeline_option("cache", cache),
        _pipeline_option("world", world),
        _pipeline_option("trace", trace),
        _pipeline_option("concurrency", concurrency),
    ]
    return "validate{" + " ".join(o for o in options if o) + "}"


def _backend(backend: str, world: str | None, trace: str | None):
    from flowcompile.backends import get_backend
    from flowcompile.backends.middleware import RetryingBackend

    if backend == "sim":
        return RetryingBackend(get_backend("sim", world=world))
    if backend == "replay":
        if not trace:
            raise click.ClickException("--backend replay needs --trace PATH")
        return get_backend("replay", trace=trace)
    return RetryingBackend(get_backend("litellm"))


def _queries(dataset: str | None, samples: int, seed: int, backend: str, world: str | None):
    from flowcompile.profiling.dataset import DatasetError, as_query, load_dataset

    if dataset:
        try:
            queries = load_dataset(dataset)
        except DatasetError as e:
            raise click.ClickException(str(e)) from None
        return queries[:samples] if samples else queries
    if backend != "sim":
        raise click.ClickException(f"--backend {backend} needs --dataset PATH")
    from flowcompile.sim import SimWorld, generate_dataset

    return [as_query(r) for r in generate_dataset(SimWorld(world), samples or 50, seed)]


def _check_held_out(workflow, queries) -> None:
    """Refuse held-out queries that profiling or validation already saw."""
    from flowcompile.passes.profile import recorded_ids

    for record, what in (("profiled", "profiling"), ("validated", "validation")):
        seen = set(recorded_ids(workflow, record))
        shared = [q.id for q in queries if q.id in seen]
        if shared:
            raise click.ClickException(
                f"the held-out set shares {len(shared)} of its {len(queries)} queries with the {what} set "
                f"recorded in the IR ({', '.join(shared[:3])}{', ...' if len(shared) > 3 else ''}); "
                "evaluate on other queries (another --seed or --dataset)"
            )


def _compiled(path: str):
    from flowcompile.compiler import CompileError, load, the_workflow

    try:
        module = load(path)
        return module, the_workflow(module)
    except CompileError as e:
        raise click.ClickException(str(e)) from None


common_backend = [
    click.option("--backend", type=BACKENDS, default="sim", show_default=True, help="where calls go"),
    click.option("--world", type=click.Path(dir_okay=False), help="sim world file (default: bundled Qwen3 world)"),
    click.option("--trace", type=click.Path(dir_okay=False), help="with --backend replay: recorded JSONL trace"),
]


def backend_options(f):
    for option in reversed(common_backend):
        f = option(f)
    return f


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option("0.1.0", prog_name="flowcompile")
def cli() -> None:
    """FlowCompile: compile a structured LLM workflow into Pareto-optimal configurations."""


@cli.command()
@click.argument("spec", type=click.Path(exists=True, dir_okay=False))
@click.option("-o", "--out", type=click.Path(file_okay=False), help="output folder (default: out/<workflow>)")
@backend_options
@click.option("--dataset", type=click.Path(exists=True, dir_okay=False), help="profiling set (JSONL)")
@click.option("--samples", type=int, default=0, help="profiling queries (0: all, or 32 generated by the sim)")
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--cache", type=click.Path(dir_okay=False), help="profile store (default: .flowcompile/profile-cache.sqlite)")
@click.option("--concurrency", type=int, default=8, show_default=True)
@click.option("--recovery/--no-recovery", default=True, show_default=True,
              help="also measure how often agents recover from a wrong input (sharper estimates, more calls)")
@click.option("--validate/--no-validate", "validate", default=True, show_default=True,
              help="measure the frontier's candidates end to end on a validation split before emitting")
@click.option("--validation-samples", type=int, default=64, show_default=True,
              help="validation queries at most (disjoint from the profiling set)")
@click.option("--validation-budget", type=int, default=0,
              help="validation calls at most (0: as many as profiling made)")
@click.option("-k", type=int, default=None, help="keep the k most diverse Pareto points")
@click.option("--max-latency", type=float, help="keep points at most this slow (s)")
@click.option("--min-acc", type=float, help="keep points at least this accurate")
@click.option("--max-cost", type=float, help="keep points at most this expensive ($/query)")
def compile(spec, out, backend, world, trace, dataset, samples, seed, cache, concurrency, recovery,
            validate, validation_samples, validation_budget, k, max_latency, min_acc, max_cost):
    """Import SPEC (YAML), profile, compose, find the Pareto set, export and report."""
    from flowcompile.artifact import dumps, from_config_set
    from flowcompile.compiler import CompileError, import_spec, run_passes, the_workflow, write
    from flowcompile.report import frontier_table, pareto_plot

    try:
        module = import_spec(spec)
        name = the_workflow(module).sym_name.data
        folder = Path(out or Path("out") / name)
        written = [write(module, folder / f"{name}.mlir")]
        run_passes(module, _profile_spec(backend, dataset, samples, seed, cache, world, trace, concurrency, recovery))
        written.append(write(module, folder / f"{name}.profiled.mlir"))
        pareto = "pareto{" + " ".join(
            o for o in (
                _pipeline_option("k", k),
                _pipeline_option("max-latency", max_latency),
                _pipeline_option("min-acc", min_acc),
                _pipeline_option("max-cost", max_cost),
            ) if o
        ) + "}"
        validation = ""
        if validate:
            validation = _validate_spec(
                backend, dataset, validation_samples, validation_budget, seed, cache, world, trace, concurrency
            ) + ","
        run_passes(module, f"compose,enumerate,{validation}{pareto}")
        written.append(write(module, folder / f"{name}.compiled.mlir"))
        artifact = from_config_set(module)
    except CompileError as e:
        raise click.ClickException(str(e)) from None
    artifact_path = folder / f"{name}.artifact.json"
    artifact_path.write_text(dumps(artifact), encoding="utf-8")
    written.append(artifact_path)
    points = [p for p in _config_points(module)]
    table = frontier_table(points)
    (folder / f"{name}.report.md").write_text(f"# @{name}: Pareto-optimal configurations\n\n{table}", encoding="utf-8")
    written.append(folder / f"{name}.report.md")
    written.append(pareto_plot(points, folder / f"{name}.pareto.png", title=f"@{name}: estimated frontier"))
    click.echo(table, nl=False)
    for path in written:
        _say(f"wrote {path}")


def _config_points(module):
    from flowcompile.dialects.flow import ConfigSetOp

    for op in module.ops:
        if isinstance(op, ConfigSetOp):
            return list(op.points)
    return []


def _choose(points, point, max_latency, min_acc, weight):
    from flowcompile.artifact import ArtifactError, select
    from flowcompile.artifact import Point as APoint

    if point is not None:
        if not 0 <= point < len(points):
            raise click.ClickException(f"no point {point}: the config set has {len(points)} points (0..{len(points) - 1})")
        return point
    proxies = [APoint(index=i, acc=p.get("acc"), lat=p.get("lat"), assign={}) for i, p in enumerate(points)]
    if max_latency is None and min_acc is None and weight is None:
        weight = 1.0  # the most accurate point
    try:
        return select(proxies, max_latency=max_latency, min_acc=min_acc, weight=weight).index
    except ArtifactError as e:
        raise click.ClickException(str(e)) from None


@cli.command()
@click.argument("compiled", type=click.Path(exists=True, dir_okay=False))
@click.option("--query", "text", help="one query's input text")
@click.option("--dataset", type=click.Path(exists=True, dir_okay=False), help="queries (JSONL); accuracy is reported")
@click.option("--samples", type=int, default=0, help="how many queries (0: all; 5 generated by the sim)")
@click.option("--point", type=int, help="the point's index in the config set")
@click.option("--max-latency", type=float, help="the most accurate point within this latency (s)")
@click.option("--min-acc", type=float, help="the fastest point reaching this accuracy")
@click.option("--weight", type=float, help="accuracy weight in [0, 1] (1: most accurate, 0: fastest)")
@backend_options
@click.option("--seed", type=int, default=0, show_default=True)
def run(compiled, text, dataset, samples, point, max_latency, min_acc, weight, backend, world, trace, seed):
    """Execute COMPILED (a .compiled.mlir) under one point of its config set."""
    import asyncio

    from flowcompile.evaluation import config_set_of
    from flowcompile.profiling.dataset import Query
    from flowcompile.runtime import answer_key, run_many, score

    module, workflow = _compiled(compiled)
    points = list(config_set_of(module, workflow).points)
    index = _choose(points, point, max_latency, min_acc, weight)
    chosen = points[index]
    queries = [Query("q", text, "")] if text is not None else _queries(dataset, samples or 5, seed + 7919, backend, world)
    _say(f"point {index}: est. acc {chosen.get('acc'):.3f}, est. latency {chosen.get('lat'):.2f} s")
    results = asyncio.run(run_many(workflow, dict(chosen.assign), _backend(backend, world, trace), queries, seed=seed))
    correct = 0
    for result, query in zip(results, queries, strict=True):
        if result.error:
            click.echo(f"{query.id}: error: {result.error}")
            continue
        good = bool(query.reference) and score(result, query)
        correct += good
        mark = "" if not query.reference else (" [correct]" if good else " [wrong]")
        first = (result.output or "").strip().splitlines()[:1]
        click.echo(
            f"{query.id}: answer {answer_key(result.output or '')!r}, {result.latency:.2f} s, "
            f"${result.cost:.6f}{mark}\n  {first[0][:160] if first else ''}"
        )
    if any(q.reference for q in queries):
        click.echo(f"accuracy {correct}/{len(queries)} = {correct / len(queries):.3f}")


@cli.command()
@click.argument("compiled", type=click.Path(exists=True, dir_okay=False))
@click.option("--points", "which", default="all", show_default=True, help="all, ends, or indices like 0,3")
@click.option("--dataset", type=click.Path(exists=True, dir_okay=False), help="held-out queries (JSONL)")
@click.option("--samples", type=int, default=0, help="held-out queries (0: all, or 100 generated by the sim)")
@backend_options
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--no-baselines", is_flag=True, help="skip the all-strongest and all-cheapest baselines")
@click.option("-o", "--out", type=click.Path(dir_okay=False), help="write the evaluation (JSON) here")
@click.option("--write-ir", type=click.Path(dir_okay=False), help="write the IR with measured values on the points")
def evaluate(compiled, which, dataset, samples, backend, world, trace, seed, no_baselines, out, write_ir):
    """Measure points of COMPILED end to end: estimated vs measured, rank correlation."""
    from flowcompile.compiler import write
    from flowcompile.evaluation import evaluate_points, record_measurements
    from flowcompile.report import evaluation_table

    module, workflow = _compiled(compiled)
    # Held-out: the sim draws from another seed than profiling's (disjoint ids).
    queries = _queries(dataset, samples or 100, seed + 1000, backend, world)
    _check_held_out(workflow, queries)
    try:
        evaluation = evaluate_points(
            module, workflow, _backend(backend, world, trace), queries,
            which=which, baselines=not no_baselines, seed=seed,
        )
    except ValueError as e:
        raise click.ClickException(str(e)) from None
    click.echo(evaluation_table(evaluation), nl=False)
    if out:
        Path(out).write_text(json.dumps(evaluation.to_json(), indent=2, sort_keys=True) + "\n", encoding="utf-8")
        _say(f"wrote {out}")
    if write_ir:
        record_measurements(module, workflow, evaluation)
        _say(f"wrote {write(module, write_ir)}")


@cli.command()
@click.argument("compiled", type=click.Path(exists=True, dir_okay=False))
@click.option("--evaluation", type=click.Path(exists=True, dir_okay=False), help="an evaluation JSON (from evaluate -o)")
@click.option("-o", "--out", type=click.Path(dir_okay=False), default=None, help="PNG path (default: <compiled>.png)")
def report(compiled, evaluation, out):
    """The frontier table and a Pareto plot of estimates, measurements and baselines."""
    from flowcompile.evaluation import Evaluation, config_set_of
    from flowcompile.report import evaluation_table, frontier_table, pareto_plot

    module, workflow = _compiled(compiled)
    points = list(config_set_of(module, workflow).points)
    loaded = Evaluation.from_json(json.loads(Path(evaluation).read_text())) if evaluation else None
    click.echo(frontier_table(points), nl=False)
    if loaded is not None:
        click.echo("")
        click.echo(evaluation_table(loaded), nl=False)
    path = out or str(Path(compiled).with_suffix(".png"))
    pareto_plot(
        points, path, title=f"@{workflow.sym_name.data}",
        evaluation=loaded, baselines=loaded.baselines if loaded else (),
    )
    _say(f"wrote {path}")


@cli.command()
@click.argument("artifact", type=click.Path(exists=True, dir_okay=False))
@click.option("--max-latency", type=float, help="the most accurate point within this latency (s)")
@click.option("--min-acc", type=float, help="the fastest point reaching this accuracy")
@click.option("--weight", type=float, help="accuracy weight in [0, 1]")
def select(artifact, max_latency, min_acc, weight):
    """Pick a point of a JSON ARTIFACT; prints it as JSON."""
    from flowcompile.artifact import ArtifactError, load
    from flowcompile.artifact import select as pick_point

    try:
        chosen = pick_point(load(artifact).points, max_latency=max_latency, min_acc=min_acc, weight=weight)
    except ArtifactError as e:
        raise click.ClickException(str(e)) from None
    click.echo(json.dumps(chosen.model_dump(mode="json"), indent=2, sort_keys=True))


@cli.command("sim-dataset")
@click.option("-n", "count", type=int, default=32, show_default=True, help="how many queries")
@click.option("--seed", type=int, default=0, show_default=True, help="seeds give disjoint query ids")
@click.option("--world", type=click.Path(exists=True, dir_okay=False), help="sim world file")
@click.option("-o", "--out", type=click.Path(dir_okay=False), required=True, help="JSONL file to write")
def sim_dataset(count, seed, world, out):
    """Write a profiling dataset of SIMULATED queries (JSONL: id, input, reference)."""
    from flowcompile.sim import SimWorld, generate_dataset, write_jsonl

    write_jsonl(out, generate_dataset(SimWorld(world), count, seed))
    _say(f"wrote {count} simulated queries to {out}")


@cli.command("serve-sim")
@click.option("--host", default="127.0.0.1", show_default=True, help="loopback only unless --allow-remote")
@click.option("--port", type=int, default=8765, show_default=True)
@click.option("--world", type=click.Path(exists=True, dir_okay=False), help="sim world file")
@click.option("--time-scale", type=float, default=0.0, show_default=True,
              help="SIMULATION ONLY: sleep this fraction of each simulated latency (1: real time, 0: reply at once)")
@click.option("--allow-remote", is_flag=True, help="allow binding a non-loopback address")
def serve_sim(host, port, world, time_scale, allow_remote):
    """Serve the SIMULATED world as an OpenAI-compatible /v1/chat/completions."""
    from flowcompile.sim.server import serve_forever

    try:
        serve_forever(
            world, host=host, port=port, time_scale=time_scale, allow_remote=allow_remote,
            on_ready=lambda url: _say(f"serving the simulated world at {url} (Ctrl-C stops)"),
        )
    except (OSError, ValueError) as e:
        raise click.ClickException(str(e)) from None


def main() -> None:
    def body() -> int:
        try:
            cli.main(standalone_mode=False)
        except click.exceptions.Abort:
            return 130
        except click.exceptions.ClickException as e:
            e.show()
            return e.exit_code
        return 0

    sys.exit(guard_main("flowcompile", body))
