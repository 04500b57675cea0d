"""Provenance: what measured a compiled set is recorded in the IR and the
artifact (backend; a simulation's world and a digest of its parameters; digests
of the profiling and validation query sets; the FlowCompile version), and the
report and `run` say SIMULATED when a simulation answered."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from flowcompile import installed_version
from flowcompile.artifact import workflow_provenance
from flowcompile.backends.base import backend_provenance
from flowcompile.backends.litellm_backend import LiteLLMBackend
from flowcompile.compiler import import_spec, run_passes, the_workflow
from flowcompile.profiling.dataset import as_query, queries_digest
from flowcompile.sim import SimWorld, generate_dataset
from flowcompile.sim.backend import SimBackend
from flowcompile.sim.world import correlated_world_path
from flowcompile.tools.cli import cli

ROOT = Path(__file__).resolve().parent.parent


def test_a_world_digest_tells_worlds_apart_and_is_stable():
    default, again = SimBackend().provenance(), SimBackend().provenance()
    other = SimBackend(str(correlated_world_path())).provenance()
    assert default == again
    assert default["world_digest"] != other["world_digest"]
    assert default["simulation"] == SimBackend().world.name


def test_a_backend_that_says_nothing_records_nothing():
    class Quiet:
        name = "quiet"

    assert backend_provenance(Quiet()) == {}
    assert backend_provenance(LiteLLMBackend())["client"].startswith("litellm ")


def test_the_queries_digest_names_the_query_set():
    sim = SimWorld()
    first = [as_query(r) for r in generate_dataset(sim, 6, 0)]
    assert queries_digest(first) == queries_digest([as_query(r) for r in generate_dataset(sim, 6, 0)])
    assert queries_digest(first) != queries_digest([as_query(r) for r in generate_dataset(sim, 6, 1)])
    assert queries_digest(first) != queries_digest(first[:5])


def test_the_profiled_record_holds_the_world_queries_and_version():
    module = import_spec(ROOT / "examples" / "self_consistency.yaml")
    run_passes(module, "profile{samples=6 max-samples=0 cache=none}")
    record = workflow_provenance(the_workflow(module))["profiled"]
    sim = SimWorld()
    assert record["world_digest"] == SimBackend(sim).provenance()["world_digest"]
    assert record["queries"] == 6
    assert record["queries_digest"] == queries_digest([as_query(r) for r in generate_dataset(sim, 6, 0)])
    assert record["flowcompile"] == installed_version()


def test_artifact_report_and_run_say_what_measured(tmp_path: Path):
    runner = CliRunner()
    args = ["compile", str(ROOT / "examples" / "self_consistency.yaml"), "-o", str(tmp_path), "--samples", "6",
            "--max-samples", "0", "--validation-samples", "6", "--cache", str(tmp_path / "c.sqlite")]
    assert runner.invoke(cli, args).exit_code == 0
    artifact = json.loads((tmp_path / "self_consistency.artifact.json").read_text())
    assert artifact["provenance"]["profiled"]["simulation"] == SimWorld().world.name
    assert artifact["provenance"]["validated"]["queries"] >= 1
    assert "queries_digest" in artifact["provenance"]["validated"]
    assert "SIMULATED world" in (tmp_path / "self_consistency.report.md").read_text()
    compiled = str(tmp_path / "self_consistency.compiled.mlir")
    shown = runner.invoke(cli, ["report", compiled, "-o", str(tmp_path / "r.png")])
    assert shown.exit_code == 0 and "SIMULATED world" in shown.output
    ran = runner.invoke(cli, ["run", compiled, "--samples", "1"])
    assert ran.exit_code == 0 and "SIMULATED run" in ran.output


def test_a_real_run_of_simulated_estimates_says_so(capsys):
    from flowcompile.tools.cli import _say_what_answers

    module = import_spec(ROOT / "examples" / "self_consistency.yaml")
    run_passes(module, "profile{samples=2 max-samples=0 cache=none}")
    _say_what_answers(the_workflow(module), "litellm")
    assert "measured on the SIMULATED world" in capsys.readouterr().err
    _say_what_answers(the_workflow(import_spec(ROOT / "examples" / "self_consistency.yaml")), "litellm")
    assert capsys.readouterr().err == ""
