"""`flowcompile`: the user-facing commands.

compile   YAML spec in; profiled IR, compiled IR, JSON artifact and report out
run       execute a compiled workflow under one chosen point
evaluate  measure chosen points end to end on held-out queries: estimate vs measured
report    the frontier table and the Pareto plot (PNG)
select    pick a point of a JSON artifact by preset, latency budget, accuracy target or weight
serve     a compiled workflow behind an OpenAI-compatible endpoint, a point chosen per request
train-router  a per-query router over the compiled set, stored in its artifact
serve-sim the SIMULATED world as an OpenAI-compatible server on loopback
bench-latency  each pool model's speeds on its endpoint: a speed table for `retarget`
sim-dataset  a profiling dataset of simulated queries
"""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import NoReturn

import click

from flowcompile.passes.registry import option_bound
from flowcompile.tools.common import guard_main
from flowcompile.tools.progress import Bar, Stages

BACKENDS = click.Choice(["sim", "litellm", "replay"])


def _say(message: str) -> None:
    click.echo(message, err=True)


class CommandError(click.ClickException):
    """A diagnostic, printed as it is (`file:line:col: error: message`); exit status 1."""

    def show(self, file: object = None) -> None:
        click.echo(self.message, err=True)


def fail(message: str, where: str | None = None) -> NoReturn:
    """Stop the command with `[where: ]error: message`; a message that starts
    with its own location (`path:line:col: ...`, `path: ...`) keeps it in front."""
    raise CommandError(f"{where}: error: {message}" if where else _diagnostic(message))


_LOCATED = re.compile(r"(?P<file>[^\s:]+):(?P<line>\d+)(?::(?P<col>\d+))?: (?P<rest>.*)", re.DOTALL)
_FILE_FIRST = re.compile(r"(?P<file>[^\s:]+): (?P<rest>.*)", re.DOTALL)
_LINE_COLUMN = re.compile(r"^(?P<rest>.*) \(line (?P<line>\d+), column (?P<col>\d+)\)$", re.DOTALL)


def _diagnostic(message: str) -> str:
    """`message` as `path:line:col: error: ...` when it names an existing file
    first (the readers' messages do), else `error: message`: one format for all."""
    if (m := _LOCATED.fullmatch(message)) and Path(m["file"]).exists():
        where = f"{m['file']}:{m['line']}" + (f":{m['col']}" if m["col"] else "")
        return f"{where}: error: {m['rest']}"
    if (m := _FILE_FIRST.fullmatch(message)) and Path(m["file"]).exists():
        rest = m["rest"]
        if at := _LINE_COLUMN.match(rest):
            return f"{m['file']}:{at['line']}:{at['col']}: error: {at['rest']}"
        return f"{m['file']}: error: {rest}"
    return f"error: {message}"


def _file_kind(path: str) -> str:
    """`spec`, `ir`, `artifact`, `evaluation` or `unknown`, from the name and the first bytes."""
    suffix = Path(path).suffix.lower()
    if suffix in (".yaml", ".yml"):
        return "spec"
    if suffix == ".mlir":
        return "ir"
    try:
        head = Path(path).read_text(encoding="utf-8", errors="replace")[:4096]
    except OSError:
        return "unknown"
    body = "\n".join(line for line in head.splitlines() if not line.lstrip().startswith(("#", "//")))
    text = body.lstrip()
    if text.startswith("{"):
        if '"format"' in head and "config-set" in head:
            return "artifact"
        if '"agents"' in head and '"steps"' in head:
            return "spec"
        return "evaluation" if '"baselines"' in head else "unknown"
    if re.match(r"(workflow|models|agents|steps|description)\s*:", text):
        return "spec"
    if re.match(r'(flow\.|builtin\.|module\b|"flow\.|"builtin\.)', text):
        return "ir"
    return "unknown"


def _workflow_name(spec: str) -> str:
    """The spec's `workflow:` name, or the file's stem (for the paths compile writes)."""
    match = re.search(r"^workflow:\s*['\"]?([A-Za-z_][A-Za-z0-9_.$-]*)", Path(spec).read_text(errors="replace"), re.M)
    return match.group(1) if match else Path(spec).stem


def _expect_kind(path: str, command: str, wanted: str) -> None:
    """Stop with what `command` expected and how to get it, when `path` is another kind of file."""
    kind = _file_kind(path)
    if kind in (wanted, "unknown"):
        return
    if kind == "spec" and wanted == "ir":
        name = _workflow_name(path)
        hint = (f"`flowcompile {command}` takes compiled IR: compile the spec first with "
                f"`flowcompile compile {path}`, then `flowcompile {command} out/{name}/{name}.compiled.mlir`")
    elif kind == "spec":  # an artifact was wanted
        name = _workflow_name(path)
        hint = (f"`flowcompile {command}` takes a JSON artifact: `flowcompile compile {path}` "
                f"writes out/{name}/{name}.artifact.json")
    elif kind == "ir" and wanted == "artifact":
        hint = (f"`flowcompile {command}` takes the JSON artifact (`<name>.artifact.json`, written by "
                f"`flowcompile compile`, or `flowcompile-translate --export-json {path} -o a.json`)")
    elif kind == "ir":  # a spec was wanted
        hint = (f"`flowcompile {command}` takes a YAML workflow spec; to compile flow IR, run its passes: "
                f"`flowcompile-opt {path} --profile --compose --pareto`")
    elif kind == "artifact":
        hint = (f"`flowcompile {command}` takes the compiled IR the artifact came from "
                "(out/<name>/<name>.compiled.mlir); `flowcompile select` reads artifacts")
    else:
        hint = f"`flowcompile {command}` takes {'compiled IR' if wanted == 'ir' else 'a ' + wanted}"
    fail(f"this is {_KINDS[kind]}; {hint}", path)


_KINDS = {
    "spec": "a workflow spec",
    "ir": "flow IR",
    "artifact": "a JSON artifact",
    "evaluation": "an evaluation (from `flowcompile evaluate -o`)",
}


def _input_errors() -> tuple[type[Exception], ...]:
    """What a bad input file or cache raises (all ValueErrors with the path in
    the message): reported as they are, never as internal errors."""
    # lazy: `flowcompile --help` and each command load only what that command runs
    from flowcompile.backends.replay import TraceError
    from flowcompile.backends.store import StoreError
    from flowcompile.profiling.dataset import DatasetError
    from flowcompile.sim.world import WorldError

    return (DatasetError, StoreError, TraceError, WorldError)


def _fail_on_input(error: Exception) -> NoReturn:
    # lazy: `flowcompile --help` and each command load only what that command runs
    from flowcompile.profiling.dataset import DatasetError

    if isinstance(error, DatasetError):  # one `<path>:<line>: <reason>` per problem
        raise CommandError("\n".join(_located(problem) for problem in error.problems)) from None
    fail(str(error))


def _located(problem: str) -> str:
    """`path:line: reason` as `path:line: error: reason`."""
    where, sep, reason = problem.partition(": ")
    return f"{where}: error: {reason}" if sep and where.rsplit(":", 1)[-1].isdigit() else f"error: {problem}"


def _bounded(pass_name: str, option: str, kind: type[int] | type[float] = int) -> click.ParamType:
    """The click type of a command option that sets a pass option: the same
    range as the pass option (passes/registry.py holds the bounds)."""
    bound = option_bound(pass_name, option)
    assert bound is not None, (pass_name, option)
    if kind is int:
        return click.IntRange(min=bound.low, max=bound.high, min_open=bound.low_open)  # pyright: ignore
    return click.FloatRange(min=bound.low, max=bound.high, min_open=bound.low_open)


def _check_weight(ctx: click.Context, param: click.Parameter, value: float | None) -> float | None:
    if value is not None and not 0.0 <= value <= 1.0:  # NaN too
        raise click.BadParameter(f"weight must be in [0, 1], got {value:g}")
    return value


COUNT = _bounded("profile", "samples")
"""A query count (0: all): profiling's range, so no command generates more queries than memory holds."""


@contextmanager
def _reported() -> Iterator[None]:
    """The library's errors as the commands' diagnostics: an API error is
    printed as it is, a bad input file (dataset, world, trace, cache) as
    `_fail_on_input` reports it."""
    # lazy: `flowcompile --help` and each command load only what that command runs
    from flowcompile.api import FlowCompileError

    try:
        yield
    except FlowCompileError as e:
        raise CommandError(str(e)) from None
    except _input_errors() as e:
        _fail_on_input(e)


def _backend(backend: str, world: str | None, trace: str | None, timeout: float, retries: int):
    # lazy: `flowcompile --help` and each command load only what that command runs
    from flowcompile.api import make_backend

    with _reported():
        return make_backend(backend, world, trace, timeout=timeout, retries=retries)


def _queries(dataset: str | None, samples: int, seed: int, backend: str, world: str | None):
    # lazy: `flowcompile --help` and each command load only what that command runs
    from flowcompile.api import queries

    with _reported():
        return queries(dataset, samples, seed, backend, world)


def _compiled(path: str):
    """The module of a compiled IR file, its one workflow and the points of its config set."""
    # lazy: `flowcompile --help` and each command load only what that command runs
    from flowcompile.compiler import CompileError, load, the_workflow
    from flowcompile.diagnostics import at_op
    from flowcompile.evaluation import config_set_of

    _expect_kind(path, click.get_current_context().info_name or "run", "ir")
    try:
        module = load(path)
    except CompileError as e:
        raise CommandError(str(e)) from None
    try:
        workflow = the_workflow(module)
    except CompileError as e:  # not about one op: at the module, or the file
        located = at_op(module, e.diagnostic.message)
        raise CommandError(str(located) if located.file else f"{path}: error: {located.message}") from None
    try:
        points = list(config_set_of(module, workflow).points)
    except ValueError as e:  # no config set for the workflow
        raise CommandError(str(at_op(workflow, f"{e} (flowcompile compile, or the pareto pass)"))) from None
    return module, workflow, points


def _write_text(path: str | Path, text: str) -> Path:
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    except OSError as e:
        fail(f"cannot write: {e.strerror or e}", str(path))
    return path


def _text_file(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    """A file option whose file, when it exists, must be UTF-8 text (the world
    and trace readers would fail on it with no file name)."""
    if value is not None and Path(value).is_file():
        try:
            Path(value).read_bytes().decode("utf-8")
        except UnicodeDecodeError as e:
            raise click.BadParameter(f"{value}: not UTF-8 text ({e.reason} at byte {e.start})") from None
        except OSError as e:
            raise click.BadParameter(f"{value}: {e.strerror or e}") from None
    return value


common_backend = [
    click.option("--backend", type=BACKENDS, default="sim", show_default=True, help="where calls go"),
    click.option("--world", type=click.Path(dir_okay=False), callback=_text_file,
                 help="sim world file (default: bundled Qwen3 world)"),
    click.option("--trace", type=click.Path(dir_okay=False), callback=_text_file,
                 help="with --backend replay: recorded JSONL trace"),
]


def backend_options(f):
    for option in reversed(common_backend):
        f = option(f)
    return f


def call_options(f):
    """`--concurrency`, `--timeout`, `--retries`: the `profile` pass's options of
    those names (its ranges, defaults and meaning), for the commands that run
    the compiled workflow."""
    # lazy: `flowcompile --help` and each command load only what that command runs
    from flowcompile.api import CALL_RETRIES, RUN_CONCURRENCY

    for option in reversed([
        click.option("--concurrency", type=_bounded("profile", "concurrency"), default=RUN_CONCURRENCY,
                     show_default=True, help="queries run at once"),
        click.option("--timeout", type=_bounded("profile", "timeout", float), default=0.0, show_default=True,
                     help="seconds per litellm call (0: each call's own, from its tokens and the model's pace)"),
        click.option("--retries", type=_bounded("profile", "retries"), default=CALL_RETRIES, show_default=True,
                     help="attempts per call on 429, 5xx, time-outs and malformed replies"),
    ]):
        f = option(f)
    return f


def selection_options(f):
    """`--preset`, `--max-latency`, `--min-acc`, `--weight`: how `run`, `select`
    and `serve` choose a point (flowcompile.selection has the rules)."""
    for option in reversed([
        click.option("--preset", help="a named preference: fast, balanced, accurate, or one of the spec's presets"),
        click.option("--max-latency", type=_bounded("pareto", "max_latency", float),
                     help="the most accurate point within this latency (s)"),
        click.option("--min-acc", type=_bounded("pareto", "min_acc", float),
                     help="the fastest point reaching this accuracy"),
        click.option("--weight", type=float, callback=_check_weight,
                     help="accuracy weight in [0, 1] (1: most accurate, 0: fastest)"),
    ]):
        f = option(f)
    return f


def _check_router(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    """A router name flowcompile.selection knows (imported here, not at start-up)."""
    # lazy: `flowcompile --help` and each command load only what that command runs
    from flowcompile.selection import ROUTERS

    if value is not None and value not in ROUTERS:
        raise click.BadParameter(f"unknown router {value!r} (routers: {', '.join(ROUTERS)})")
    return value


def router_options(f):
    """`--router`, `--artifact`: route each query to its own point (flowcompile.router)."""
    for option in reversed([
        click.option("--router", callback=_check_router, metavar="knn",
                     help="choose the point per query under the preference (knn: the artifact's trained router)"),
        click.option("--artifact", "artifact_file", type=click.Path(dir_okay=False),
                     help="the artifact holding the router (default: <name>.artifact.json beside COMPILED)"),
    ]):
        f = option(f)
    return f


def _load_router(compiled: str, artifact_file: str | None, module, workflow):
    """The router of COMPILED's artifact; a diagnostic when there is none."""
    # lazy: `flowcompile --help` and each command load only what that command runs
    from flowcompile.router import RouterError, artifact_path, load_router

    path = artifact_file or artifact_path(compiled)
    if not Path(path).exists():
        fail(f"no artifact at {path} for the router: `flowcompile compile` writes it beside the compiled IR, "
             "then `flowcompile train-router` trains its router (or give --artifact)")
    try:
        return load_router(path, module, workflow)
    except RouterError as e:
        fail(str(e))


def _k_option(ctx: click.Context, param: click.Parameter, value: str) -> int | str:
    if value == "auto":
        return value
    if not value.isdigit() or int(value) < 1:
        raise click.BadParameter(f"k takes an integer >= 1 or auto, got {value!r}")
    return int(value)


class _Group(click.Group):
    """click's group, with the tools' exit statuses even in click's standalone
    mode (`CliRunner`, a plain `cli()` call): every user error, usage errors
    included, is one diagnostic and status 1, where click exits 2 on usage."""

    def main(self, args=None, prog_name=None, complete_var=None, standalone_mode=True, **extra):  # type: ignore[override]
        if not standalone_mode:  # the caller handles click's exceptions (run_cli, bench/)
            return super().main(args, prog_name, complete_var, standalone_mode=False, **extra)
        sys.exit(_status(lambda: super(_Group, self).main(
            args, prog_name or "flowcompile", complete_var, standalone_mode=False, **extra
        )))


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option("0.1.0", prog_name="flowcompile")
def cli() -> None:
    """FlowCompile: compile a structured LLM workflow into Pareto-optimal configurations."""


@cli.command()
@click.argument("spec", type=click.Path(exists=True, dir_okay=False))
@click.option("-o", "--out", type=click.Path(file_okay=False), help="output folder (default: out/<workflow>)")
@backend_options
@click.option("--dataset", type=click.Path(exists=True, dir_okay=False), help="profiling set (JSONL)")
@click.option("--samples", type=_bounded("profile", "samples"), default=0,
              help="profiling queries (0: all, or 32 generated by the sim)")
@click.option("--max-samples", type=_bounded("profile", "max_samples"), default=None,
              help="adaptive profiling: up to this many queries for the candidates that can reach the frontier "
              "(default 256; 0: uniform on --samples)")
@click.option("--profile-budget", type=_bounded("profile", "budget"), default=0,
              help="adaptive profiling: calls at most (0: no cap)")
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--cache", type=click.Path(dir_okay=False), help="profile store (default: .flowcompile/profile-cache.sqlite)")
@click.option("--concurrency", type=_bounded("profile", "concurrency"), default=8, show_default=True)
@click.option("--timeout", type=_bounded("profile", "timeout", float), default=0.0, show_default=True,
              help="seconds per litellm call (0: each call's own, from its tokens and the model's pace)")
@click.option("--retries", type=_bounded("profile", "retries"), default=6, show_default=True,
              help="attempts per call on 429, 5xx, time-outs and malformed replies")
@click.option("--recovery/--no-recovery", default=True, show_default=True,
              help="also measure how often agents recover from a wrong input (sharper estimates, more calls)")
@click.option("--validate/--no-validate", "validate", default=True, show_default=True,
              help="measure the frontier's candidates end to end on a validation split before emitting")
@click.option("--validation-samples", type=_bounded("validate", "samples"), default=64, show_default=True,
              help="validation queries at most (disjoint from the profiling set)")
@click.option("--validation-budget", type=_bounded("validate", "budget"), default=0,
              help="validation calls at most (0: as many as profiling made)")
@click.option("-k", type=_bounded("pareto", "k"), default=None, help="keep the k most diverse Pareto points")
@click.option("--max-latency", type=_bounded("pareto", "max_latency", float), help="keep points at most this slow (s)")
@click.option("--min-acc", type=_bounded("pareto", "min_acc", float), help="keep points at least this accurate")
@click.option("--max-cost", type=_bounded("pareto", "max_cost", float),
              help="keep points at most this expensive ($/query)")
def compile(spec, out, backend, world, trace, dataset, samples, max_samples, profile_budget, seed, cache,
            concurrency, timeout, retries, recovery, validate, validation_samples, validation_budget, k, max_latency, min_acc, max_cost):
    """Import SPEC (YAML), profile, compose, find the Pareto set, export and report."""
    _expect_kind(spec, "compile", "spec")
    # lazy: `flowcompile --help` and each command load only what that command runs
    from flowcompile import api
    from flowcompile.artifact import dumps
    from flowcompile.report import frontier_table, provenance_line

    options = api.CompileOptions(
        backend=backend, world=world, trace=trace, dataset=dataset, samples=samples, max_samples=max_samples,
        profile_budget=profile_budget, seed=seed, cache=cache, concurrency=concurrency, timeout=timeout,
        retries=retries, recovery=recovery,
        validate=validate, validation_samples=validation_samples, validation_budget=validation_budget, k=k,
        max_latency=max_latency, min_acc=min_acc, max_cost=max_cost,
    )
    with _reported():
        workflow = api.load_yaml(spec)  # the frontend's own errors keep their `file:line:col`
        name = workflow.name
        folder = Path(out or Path("out") / name)
        try:
            with Stages(f"compile @{name}") as stages:
                compiled = api.compile(workflow, options, out=folder, on_stage=stages.start)
        except OSError as e:  # the output folder
            fail(f"cannot write: {e.strerror or e}", e.filename or str(folder))
        artifact = compiled.artifact()
    written = [folder / f"{name}{suffix}.mlir" for suffix in ("", ".profiled", ".compiled")]
    written.append(_write_text(folder / f"{name}.artifact.json", dumps(artifact)))
    points = compiled.config_points()
    table = frontier_table(points)
    measured = provenance_line(compiled.op)
    written.append(_write_text(
        folder / f"{name}.report.md", f"# @{name}: Pareto-optimal configurations\n\n{measured}\n{table}"
    ))
    written.append(_plot(points, folder / f"{name}.pareto.png", title=f"@{name}: estimated frontier"))
    click.echo(table, nl=False)
    _say(measured.rstrip())
    for path in written:
        _say(f"wrote {path}")


def _plot(points, path: Path, **options) -> Path:
    # lazy: `flowcompile --help` and each command load only what that command runs
    from flowcompile.report import pareto_plot

    try:
        return pareto_plot(points, path, **options)
    except OSError as e:
        fail(f"cannot write: {e.strerror or e}", str(path))


def _choose(workflow, points, point, **selector) -> int:
    """The index of the point the selector options name (flowcompile.selection)."""
    # lazy: `flowcompile --help` and each command load only what that command runs
    from flowcompile.api import select_index
    from flowcompile.artifact import workflow_presets

    if point is not None and not 0 <= point < len(points):  # named as the option, before any other check
        fail(f"--point {point}: no point {point}, the config set has {len(points)} points (0..{len(points) - 1})")
    with _reported():
        return select_index(points, presets=workflow_presets(workflow), point=point, **selector)


def _failed_runs(results, queries) -> None:
    """A run that could not answer is an error of the command, not a result."""
    failed = [(q.id, r.error) for r, q in zip(results, queries, strict=True) if r.error]
    if failed:
        first_id, first_error = failed[0]
        fail(f"{len(failed)} of {len(queries)} queries failed (first: {first_id}: {first_error})")


@cli.command()
@click.argument("compiled", type=click.Path(exists=True, dir_okay=False))
@click.option("--query", "text", help="one query's input text")
@click.option("--dataset", type=click.Path(exists=True, dir_okay=False), help="queries (JSONL); accuracy is reported")
@click.option("--samples", type=COUNT, default=0, help="how many queries (0: all; 5 generated by the sim)")
@click.option("--point", type=COUNT, help="the point's index in the config set")
@selection_options
@router_options
@backend_options
@call_options
@click.option("--seed", type=int, default=0, show_default=True)
def run(compiled, text, dataset, samples, point, preset, max_latency, min_acc, weight, router, artifact_file,
        backend, world, trace, concurrency, timeout, retries, seed):
    """Execute COMPILED (a .compiled.mlir) under one point of its config set (by default the most accurate),
    or, with --router, under the point the router picks for each query."""
    # lazy: `flowcompile --help` and each command load only what that command runs
    from flowcompile.api import RUN_SEED_OFFSET
    from flowcompile.profiling.dataset import Query
    from flowcompile.runtime import score

    module, workflow, points = _compiled(compiled)
    if router is not None and point is not None:
        fail("--router and --point both choose a point: give one of them")
    index = _choose(workflow, points, point, preset=preset, max_latency=max_latency, min_acc=min_acc,
                    weight=weight)
    routed = _load_router(compiled, artifact_file, module, workflow) if router is not None else None
    queries = [Query("q", text, "")] if text is not None else _queries(dataset, samples or 5, seed + RUN_SEED_OFFSET, backend, world)
    calls = _backend(backend, world, trace, timeout, retries)
    if routed is None:
        chosen = points[index]
        _say(f"point {index}: est. acc {chosen.get('acc'):.3f}, est. latency {chosen.get('lat'):.2f} s"
             + (f" (preset {preset})" if preset else ""))
        per_query = [index] * len(queries)
    else:
        # lazy: `flowcompile --help` and each command load only what that command runs
        from flowcompile.router import RouterError
        from flowcompile.selection import Selector

        try:
            per_query = routed.route([q.input for q in queries], Selector(None, preset, max_latency, min_acc, weight))
        except RouterError as e:
            fail(str(e))
        used = {i: per_query.count(i) for i in sorted(set(per_query))}
        _say(f"router {router} (k={routed.section.k}, {Selector(None, preset, max_latency, min_acc, weight).describe()}): "
             + ", ".join(f"point {i} for {n} of {len(queries)} queries" for i, n in used.items()))
    _say_what_answers(workflow, backend)
    results = _run_routed(workflow, points, per_query, calls, queries, seed, concurrency)
    correct = 0
    for result, query, used_point in zip(results, queries, per_query, strict=True):
        via = f"point {used_point}, " if routed is not None else ""
        if result.error:
            click.echo(f"{query.id}: {via}error: {result.error}")
            continue
        good = bool(query.reference) and score(result, query)
        correct += good
        mark = "" if not query.reference else (" [correct]" if good else " [wrong]")
        first = (result.output or "").strip().splitlines()[:1]
        click.echo(
            f"{query.id}: {via}answer {result.reader.answer_key(result.output or '')!r}, {result.latency:.2f} s, "
            f"${result.cost:.6f}{mark}\n  {first[0][:160] if first else ''}"
        )
    if any(q.reference for q in queries):
        click.echo(f"accuracy {correct}/{len(queries)} = {correct / len(queries):.3f}")
    _failed_runs(results, queries)


def _say_what_answers(workflow, backend: str) -> None:
    """A SIMULATED run says so; so does a run whose estimates a simulation measured."""
    # lazy: `flowcompile --help` and each command load only what that command runs
    from flowcompile.artifact import workflow_provenance

    profiled = workflow_provenance(workflow).get("profiled", {})
    if backend == "sim":
        _say("SIMULATED run: the sim backend answers from its world; no model is called")
    elif "simulation" in profiled:
        _say(f"note: the estimates below were measured on the SIMULATED world `{profiled['simulation']}`, "
             f"not on the `{backend}` backend this run calls")


def _run_routed(workflow, points, per_query, backend, queries, seed: int, concurrency: int):
    """Run each query under its point (`per_query[i]`); results in query order."""
    import asyncio

    # lazy: `flowcompile --help` and each command load only what that command runs
    from flowcompile.runtime import run_many

    async def all_points():
        results = [None] * len(queries)
        for index in sorted(set(per_query)):
            mine = [i for i, p in enumerate(per_query) if p == index]
            ran = await run_many(workflow, dict(points[index].assign), backend, [queries[i] for i in mine],
                                 seed=seed, concurrency=concurrency)
            for i, result in zip(mine, ran, strict=True):
                results[i] = result
        return results

    return asyncio.run(all_points())


def _failed_rows(evaluation) -> None:
    """Runs that failed are no measurement: the evaluation is an error, not a result."""
    rows = [r for r in [*evaluation.points, *evaluation.baselines] if r.errors]
    if rows:
        lost = sum(r.errors for r in rows)
        total = sum(r.n for r in [*evaluation.points, *evaluation.baselines])
        fail(f"{lost} of {total} runs failed, so nothing was written (first: {rows[0].label}: {rows[0].error})")


@cli.command()
@click.argument("compiled", type=click.Path(exists=True, dir_okay=False))
@click.option("--points", "which", default="all", show_default=True, help="all, ends, or indices like 0,3")
@click.option("--dataset", type=click.Path(exists=True, dir_okay=False), help="held-out queries (JSONL)")
@click.option("--samples", type=COUNT, default=0, help="held-out queries (0: all, or 100 generated by the sim)")
@backend_options
@call_options
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--no-baselines", is_flag=True, help="skip the all-strongest and all-cheapest baselines")
@click.option("-o", "--out", type=click.Path(dir_okay=False), help="write the evaluation (JSON) here")
@click.option("--write-ir", type=click.Path(dir_okay=False), help="write the IR with measured values on the points")
def evaluate(compiled, which, dataset, samples, backend, world, trace, concurrency, timeout, retries, seed,
             no_baselines, out, write_ir):
    """Measure points of COMPILED end to end: estimated vs measured, rank correlation."""
    # lazy: `flowcompile --help` and each command load only what that command runs
    from flowcompile import api
    from flowcompile.evaluation import record_measurements
    from flowcompile.report import evaluation_table
    from flowcompile.irtext import print_module

    module, workflow, points = _compiled(compiled)
    with _reported(), Bar(f"evaluate @{workflow.sym_name.data}") as bar:
        evaluation = api.evaluate(
            api.Workflow(module, compiled), which=which, dataset=dataset, samples=samples, backend=backend,
            world=world, trace=trace, seed=seed, baselines=not no_baselines, progress=bar.update,
            concurrency=concurrency, timeout=timeout, retries=retries,
        )
    click.echo(evaluation_table(evaluation), nl=False)
    _failed_rows(evaluation)
    if out:
        text = json.dumps(evaluation.to_json(), indent=2, sort_keys=True) + "\n"
        _say(f"wrote {_write_text(out, text)}")
    if write_ir:
        record_measurements(module, workflow, evaluation)
        _say(f"wrote {_write_text(write_ir, print_module(module))}")


@cli.command()
@click.argument("compiled", type=click.Path(exists=True, dir_okay=False))
@click.option("--evaluation", type=click.Path(exists=True, dir_okay=False), help="an evaluation JSON (from evaluate -o)")
@click.option("-o", "--out", type=click.Path(dir_okay=False), default=None,
              help="PNG path (default: <workflow>.pareto.png beside COMPILED, compile's plot, now with the measurements)")
def report(compiled, evaluation, out):
    """The frontier table and a Pareto plot of estimates, measurements and baselines."""
    # lazy: `flowcompile --help` and each command load only what that command runs
    from flowcompile.report import EvaluationFileError, evaluation_table, frontier_table, load_evaluation, provenance_line

    module, workflow, points = _compiled(compiled)
    try:
        loaded = load_evaluation(evaluation, workflow.sym_name.data) if evaluation else None
    except EvaluationFileError as e:
        raise CommandError(str(e)) from None
    click.echo(provenance_line(workflow))
    click.echo(frontier_table(points), nl=False)
    if loaded is not None:
        click.echo("")
        click.echo(evaluation_table(loaded), nl=False)
    path = Path(out or Path(compiled).parent / f"{workflow.sym_name.data}.pareto.png")  # the file compile wrote
    _plot(
        points, path, title=f"@{workflow.sym_name.data}",
        evaluation=loaded, baselines=loaded.baselines if loaded else (),
    )
    _say(f"wrote {path}")


@cli.command()
@click.argument("artifact", type=click.Path(exists=True, dir_okay=False))
@selection_options
def select(artifact, preset, max_latency, min_acc, weight):
    """Pick a point of a JSON ARTIFACT (by default the most accurate); prints it as JSON."""
    _expect_kind(artifact, "select", "artifact")
    # lazy: `flowcompile --help` and each command load only what that command runs
    from flowcompile.artifact import ArtifactError, load
    from flowcompile.artifact import select as pick_point

    try:
        loaded = load(artifact)
        chosen = pick_point(loaded.points, presets=loaded.presets, preset=preset, max_latency=max_latency,
                            min_acc=min_acc, weight=weight)
    except ArtifactError as e:
        fail(str(e))
    click.echo(json.dumps(chosen.model_dump(mode="json"), indent=2, sort_keys=True))


@cli.command("train-router")
@click.argument("compiled", type=click.Path(exists=True, dir_okay=False))
@click.option("--artifact", "artifact_file", type=click.Path(dir_okay=False),
              help="the artifact to store the router in (default: <name>.artifact.json beside COMPILED)")
@click.option("-o", "--out", type=click.Path(dir_okay=False), help="write the artifact with its router here "
              "(default: over --artifact)")
@click.option("--dataset", type=click.Path(exists=True, dir_okay=False),
              help="routing queries (JSONL), none of them profiled or validated")
@click.option("--samples", type=COUNT, default=0, help="routing queries (0: all, or 128 generated by the sim)")
@click.option("--k", "k", default="auto", show_default=True, callback=_k_option,
              help="neighbours: an integer, or auto (leave-one-out over the routing queries)")
@click.option("--features", default="hashed", show_default=True,
              help="query features: hashed (word and character n-grams), hashed:DIM, or litellm:MODEL "
              "(an embedding model through litellm)")
@backend_options
@call_options
@click.option("--seed", type=int, default=0, show_default=True)
def train_router(compiled, artifact_file, out, dataset, samples, k, features, backend, world, trace, concurrency,
                 timeout, retries, seed):
    """Train a per-query KNN router over COMPILED's points and store it in its artifact: every point
    runs on a routing split (disjoint from profiling and validation); `run --router knn` then routes."""
    # lazy: `flowcompile --help` and each command load only what that command runs
    from flowcompile import api
    from flowcompile.artifact import ArtifactError, dumps, load
    from flowcompile.router import artifact_path

    module, workflow, points = _compiled(compiled)
    path = artifact_file or artifact_path(compiled)
    if not Path(path).exists():
        fail(f"no artifact at {path}: `flowcompile compile` writes it beside the compiled IR "
             f"(or `flowcompile-translate --export-json {compiled} -o {path}`)")
    try:
        artifact = load(path)
    except ArtifactError as e:
        fail(str(e))
    with _reported(), Bar(f"train-router @{workflow.sym_name.data}") as bar:
        trained = api.train_router(
            api.Workflow(module, compiled), artifact, dataset=dataset, samples=samples, k=k, features=features,
            backend=backend, world=world, trace=trace, seed=seed, concurrency=concurrency, timeout=timeout,
            retries=retries, progress=bar.update,
        )
    section = trained.router
    assert section is not None
    split = section.split
    target = out or path
    _write_text(target, dumps(trained))
    n = len(section.queries)
    how = "chosen by leave-one-out" if k == "auto" else "as given"
    note = (f"; all {n} routing queries are every query's neighbours: in leave-one-out no k routed better than "
            "the preset's single point beyond the noise, so the router picks that point" if k == "auto" and section.k == n else "")
    _say(f"router knn: {len(points)} points x {n} routing queries ({split}), k={section.k} ({how}){note}")
    _say(f"wrote {target}")


@cli.command("sim-dataset")
@click.option("--samples", "count", type=_bounded("validate", "samples"), default=32, show_default=True,
              help="how many queries")
# `-n` was this option's name before every command's query count became `--samples`; kept for old scripts.
@click.option("-n", "old_count", type=click.IntRange(min=1), default=None, hidden=True)
@click.option("--seed", type=int, default=0, show_default=True, help="seeds give disjoint query ids")
@click.option("--world", type=click.Path(exists=True, dir_okay=False), callback=_text_file, help="sim world file")
@click.option("--task", help="a task family of the world (math, hotpotqa, code in the bundled ones): its queries")
@click.option("-o", "--out", type=click.Path(dir_okay=False), required=True, help="JSONL file to write")
def sim_dataset(count, old_count, seed, world, task, out):
    """Write a profiling dataset of SIMULATED queries (JSONL: id, input, reference)."""
    # lazy: `flowcompile --help` and each command load only what that command runs
    from flowcompile.sim import SimWorld, generate_dataset, write_jsonl

    if old_count is not None:
        if click.get_current_context().get_parameter_source("count") is click.core.ParameterSource.COMMANDLINE:
            raise click.UsageError("-n is the old name of --samples: give one of them")
        count = old_count

    try:
        rows = generate_dataset(SimWorld(world), count, seed, task)
    except _input_errors() as e:
        _fail_on_input(e)
    except ValueError as e:  # an unknown task
        fail(str(e), "--task")
    try:
        write_jsonl(out, rows)
    except OSError as e:
        fail(f"cannot write: {e.strerror or e}", out)
    _say(f"wrote {count} simulated queries to {out}")


@cli.command()
@click.argument("compiled", type=click.Path(exists=True, dir_okay=False))
@click.option("--host", default="127.0.0.1", show_default=True, help="loopback only unless --allow-remote")
@click.option("--port", type=click.IntRange(0, 65535), default=8000, show_default=True, help="0: a free port")
@click.option("--preset", help="the point of a request that names none (default: the most accurate)")
@click.option("--router", callback=_check_router, metavar="knn",
              help="route a request that names no point with the artifact's router (under --preset)")
@click.option("--artifact", "artifact_file", type=click.Path(dir_okay=False),
              help="load the router of this artifact, for --router and X-FlowCompile-Router requests "
              "(with --router, default: <name>.artifact.json beside COMPILED)")
@backend_options
@call_options
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--allow-remote", is_flag=True, help="allow binding a non-loopback address")
def serve(compiled, host, port, preset, router, artifact_file, backend, world, trace, concurrency, timeout, retries,
          seed, allow_remote):
    """Serve COMPILED (a .compiled.mlir) as an OpenAI-compatible /v1/chat/completions,
    the point chosen per request (X-FlowCompile-Preset, -Point, -Max-Latency, -Min-Acc, -Weight, -Router
    headers, or a "flowcompile" body field); one log line per request on stderr."""
    # lazy: `flowcompile --help` and each command load only what that command runs
    from flowcompile.selection import SelectionError, Selector
    from flowcompile.serve import make_server, served_workflow

    module, workflow, points = _compiled(compiled)
    routed = (_load_router(compiled, artifact_file, module, workflow)
              if router is not None or artifact_file is not None else None)
    try:
        served = served_workflow(workflow, points, Selector(preset=preset, router=router), routed)
    except SelectionError as e:
        fail(str(e))
    calls = _backend(backend, world, trace, timeout, retries)
    try:
        server = make_server(served, calls, host=host, port=port, concurrency=concurrency, seed=seed,
                             allow_remote=allow_remote, log=_say)
    except (OSError, ValueError) as e:
        fail(str(e))
    bound_host, bound_port = server.server_address[:2]
    _say(f"serving @{workflow.sym_name.data} ({len(points)} points, {backend} backend"
         + (f", router knn k={routed.section.k}" if routed is not None else "") + ") at "
         f"http://{bound_host}:{bound_port}/v1 (Ctrl-C stops)")
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


@cli.command("serve-sim")
@click.option("--host", default="127.0.0.1", show_default=True, help="loopback only unless --allow-remote")
@click.option("--port", type=click.IntRange(0, 65535), default=8765, show_default=True)
@click.option("--world", type=click.Path(exists=True, dir_okay=False), callback=_text_file, help="sim world file")
@click.option("--time-scale", type=click.FloatRange(min=0.0), default=0.0, show_default=True,
              help="SIMULATION ONLY: sleep this fraction of each simulated latency (1: real time, 0: reply at once)")
@click.option("--allow-remote", is_flag=True, help="allow binding a non-loopback address")
def serve_sim(host, port, world, time_scale, allow_remote):
    """Serve the SIMULATED world as an OpenAI-compatible /v1/chat/completions."""
    # lazy: `flowcompile --help` and each command load only what that command runs
    from flowcompile.sim.server import serve_forever

    try:
        serve_forever(
            world, host=host, port=port, time_scale=time_scale, allow_remote=allow_remote,
            on_ready=lambda url: _say(f"serving the simulated world at {url} (Ctrl-C stops)"),
        )
    except (OSError, ValueError) as e:
        fail(str(e))


@cli.command("bench-latency")
@click.argument("spec_or_ir", type=click.Path(exists=True, dir_okay=False))
@click.option("--backend", type=click.Choice(["sim", "litellm"]), default="sim", show_default=True,
              help="sim: a SIMULATED server started on loopback in real time; litellm: each model's own endpoint")
@click.option("--world", type=click.Path(exists=True, dir_okay=False), callback=_text_file,
              help="with --backend sim: sim world file")
@click.option("--concurrency", type=click.IntRange(1, 64), default=1, show_default=True,
              help="requests in flight per model (1: no queueing)")
@click.option("--requests", type=click.IntRange(4, 1000), default=16, show_default=True,
              help="timed requests per model")
@click.option("-o", "--out", type=click.Path(dir_okay=False), help="speed table to write (default: stdout)")
def bench_latency(spec_or_ir, backend, world, concurrency, requests, out):
    """Measure each pool model's time to first token, prefill and decode rates on its
    serving endpoint (litellm, streaming, cold-cache prompts): a speed table for the retarget pass."""
    # lazy: `flowcompile --help` and each command load only what that command runs
    from flowcompile.compiler import CompileError, import_spec, load, the_workflow
    from flowcompile.backends.litellm_backend import scrub
    from flowcompile.latency_bench import BenchError, Endpoint, measure

    try:
        module = import_spec(spec_or_ir) if _file_kind(spec_or_ir) == "spec" else load(spec_or_ir)
        pool = the_workflow(module).model_pool()
    except CompileError as e:
        raise CommandError(str(e)) from None
    if not pool:
        fail("the workflow has no model pool to measure", spec_or_ir)
    endpoints = {
        name: Endpoint(name, m.get("provider"), m.get("api_base"), m.get("api_key_env")) for name, m in pool.items()
    }
    server = None
    if backend == "sim":
        # lazy: `flowcompile --help` and each command load only what that command runs
        from flowcompile.sim.server import start_server

        with _reported():
            server, _thread, url = start_server(world, time_scale=1.0)
        endpoints = {name: Endpoint(name, e.provider, url, "none") for name, e in endpoints.items()}
        _say(f"bench-latency: a SIMULATED server at {url}, in real time")
    try:
        table = measure(endpoints, requests=requests, concurrency=concurrency, backend=backend,
                        simulated=backend == "sim")
    except BenchError as e:
        fail(f"bench-latency: {scrub(str(e), limit=600)}", spec_or_ir)
    finally:
        if server is not None:
            server.shutdown()
            server.server_close()
    if out:
        _write_text(out, table.to_json())
        _say(f"wrote the speeds of {len(table.models)} models (concurrency {concurrency}) to {out}")
    else:
        click.echo(table.to_json(), nl=False)


def _show_usage_error(error: click.exceptions.UsageError) -> None:
    """A usage error in the tools' one format, `error: message`, then the usage line."""
    message = error.format_message()
    click.echo(f"error: {message[:1].lower()}{message[1:]}", err=True)
    if error.ctx is not None:
        usage = error.ctx.get_usage().strip().removeprefix("Usage: ")
        click.echo(f"usage: {usage} ('{error.ctx.command_path} --help' for more)", err=True)


def _status(body) -> int:
    """The exit status of click's non-standalone `body()`, its errors printed."""
    try:
        returned = body()
    except click.exceptions.Abort:
        return 130
    except click.exceptions.UsageError as e:
        _show_usage_error(e)
        return 1
    except click.exceptions.ClickException as e:
        e.show()
        return 1  # every user error is status 1, as in the other tools
    return returned if isinstance(returned, int) else 0  # click.exceptions.Exit's code (--help: 0)


def run_cli(args: Sequence[str] | None = None) -> int:
    """`flowcompile ARGS`: the exit status; every error a one-line diagnostic, status 1."""
    return _status(lambda: cli.main(
        args=list(args) if args is not None else None, prog_name="flowcompile", standalone_mode=False
    ))


def main() -> None:
    sys.exit(guard_main("flowcompile", lambda: run_cli()))
