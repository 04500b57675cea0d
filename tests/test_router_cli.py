"""`flowcompile train-router`, `run --router knn` and `serve`'s router header, on
a small workflow compiled with the sim: the router stored in the artifact,
versioned, checked against the compiled set it routes, and a clear error
whenever there is none to use."""

from __future__ import annotations

import json
import threading
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from flowcompile import api
from flowcompile.artifact import load
from flowcompile.router import load_router
from flowcompile.selection import SelectionError, Selector
from flowcompile.serve import make_server, served_workflow
from flowcompile.tools.cli import run_cli
from helpers.specs import TWO_MODELS

SPEC = """\
workflow: qa
""" + TWO_MODELS + """defaults: {budgets: [0, 1024]}
agents:
  planner: {role: planner, prompt: "Break the problem into steps.\\n{query}"}
  solver: {role: solver, inputs: [query, planner], prompt: "Problem: {query}\\nPlan: {planner}"}
steps: [planner, solver]
"""


@pytest.fixture(scope="module")
def compiled(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("router")
    spec = folder / "qa.yaml"
    spec.write_text(SPEC, encoding="utf-8")
    assert run_cli(["compile", str(spec), "-o", str(folder), "--cache", "none", "--samples", "12",
                    "--max-samples", "0", "--no-validate"]) == 0
    return folder / "qa.compiled.mlir"


@pytest.fixture(scope="module")
def routed(compiled: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("routed") / "qa.artifact.json"
    assert run_cli(["train-router", str(compiled), "--samples", "16", "-o", str(out)]) == 0
    return out


def test_train_router_writes_a_versioned_router_section(compiled: Path, routed: Path,
                                                        capsys: pytest.CaptureFixture[str]) -> None:
    data = json.loads(routed.read_text())
    router = data["router"]
    assert router["version"] == 1 and router["kind"] == "knn"
    points = len(data["points"])
    assert len(router["queries"]) == 16 and all(q.startswith("q3000-") for q in router["queries"])
    assert all(len(row) == points for row in router["correct"]) and len(router["latency"]) == 16
    assert 1 <= router["k"] <= 16 and router["cv"]
    # the compile's own artifact is untouched (-o), and both still load and select
    own = json.loads((compiled.parent / "qa.artifact.json").read_text())
    assert "router" not in own
    assert load(routed).points == load(compiled.parent / "qa.artifact.json").points
    assert run_cli(["select", str(routed), "--preset", "fast"]) == 0


def test_train_router_is_deterministic(compiled: Path, routed: Path, tmp_path: Path) -> None:
    again = tmp_path / "again.json"
    assert run_cli(["train-router", str(compiled), "--samples", "16", "-o", str(again)]) == 0
    assert again.read_bytes() == routed.read_bytes()


def test_run_with_the_router_names_each_querys_point(compiled: Path, routed: Path,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    code = run_cli(["run", str(compiled), "--router", "knn", "--artifact", str(routed), "--preset", "fast",
                    "--samples", "4"])
    out, err = capsys.readouterr()
    assert code == 0, err
    assert "router knn (k=" in err and "preset fast" in err
    lines = [line for line in out.splitlines() if line.startswith("q")]
    assert len(lines) == 4 and all(": point " in line for line in lines)
    assert "accuracy" in out


def test_the_router_picks_what_its_section_says(compiled: Path, routed: Path) -> None:
    workflow = api.load_ir(compiled)
    router = load_router(str(routed), workflow.module, workflow.op)
    texts = [f"[sim-query z{i}] Solve the simulated task." for i in range(6)]
    first = router.route(texts, Selector(preset="balanced"))
    assert first == router.route(texts, Selector(preset="balanced"))  # same artifact, same choice
    assert all(0 <= p < len(workflow.points) for p in first)


def test_run_router_without_a_router_is_a_clear_error(compiled: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = run_cli(["run", str(compiled), "--router", "knn", "--samples", "2"])
    err = capsys.readouterr().err
    assert code == 1
    assert "the artifact has no router: train one with `flowcompile train-router" in err
    assert "Traceback" not in err


def test_run_router_errors(compiled: Path, routed: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run_cli(["run", str(compiled), "--router", "knn", "--artifact", str(routed), "--point", "0"]) == 1
    assert "--router and --point both choose a point" in capsys.readouterr().err
    assert run_cli(["run", str(compiled), "--router", "bogus", "--artifact", str(routed)]) == 1
    assert "unknown router 'bogus'" in capsys.readouterr().err
    assert run_cli(["run", str(compiled), "--router", "knn", "--artifact", str(tmp_path / "none.json")]) == 1
    assert "no artifact at" in capsys.readouterr().err


def test_a_newer_router_version_is_refused_at_its_line(compiled: Path, routed: Path, tmp_path: Path,
                                                       capsys: pytest.CaptureFixture[str]) -> None:
    data = json.loads(routed.read_text())
    data["router"]["version"] = 2
    newer = tmp_path / "newer.json"
    newer.write_text(json.dumps(data, indent=2, sort_keys=True))
    assert run_cli(["run", str(compiled), "--router", "knn", "--artifact", str(newer), "--samples", "1"]) == 1
    err = capsys.readouterr().err
    assert f"{newer}:" in err and "router.version" in err and "router version 2 is not one" in err


def test_a_router_of_other_points_is_refused(compiled: Path, routed: Path, tmp_path: Path,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    data = json.loads(routed.read_text())
    data["router"]["points"] = "sha256:" + "0" * 64
    stale = tmp_path / "stale.json"
    stale.write_text(json.dumps(data))
    assert run_cli(["run", str(compiled), "--router", "knn", "--artifact", str(stale), "--samples", "1"]) == 1
    assert "trained for other points" in capsys.readouterr().err


def test_train_router_refuses_profiled_queries(compiled: Path, tmp_path: Path,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    dataset = tmp_path / "profiled.jsonl"
    assert run_cli(["sim-dataset", "-n", "6", "--seed", "0", "-o", str(dataset)]) == 0  # the compile's own ids
    capsys.readouterr()
    assert run_cli(["train-router", str(compiled), "--dataset", str(dataset), "-o", str(tmp_path / "a.json")]) == 1
    err = capsys.readouterr().err
    assert "shares 6 of its 6 queries with the profiling set" in err
    assert not (tmp_path / "a.json").exists()


def test_train_router_bad_options(compiled: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run_cli(["train-router", str(compiled), "--k", "0"]) == 1
    assert "k takes an integer >= 1 or auto" in capsys.readouterr().err
    assert run_cli(["train-router", str(compiled), "--features", "bert"]) == 1
    assert "expected hashed, hashed:DIM or litellm:MODEL" in capsys.readouterr().err
    assert run_cli(["train-router", str(compiled), "--artifact", str(tmp_path / "missing.json")]) == 1
    assert "no artifact at" in capsys.readouterr().err


def _post(url: str, headers: dict[str, str]) -> tuple[int, dict]:
    body = json.dumps({"messages": [{"role": "user", "content": "[sim-query z1] Solve the simulated task."}]})
    request = urllib.request.Request(f"{url}/v1/chat/completions", data=body.encode(), method="POST",
                                     headers={"Content-Type": "application/json", **headers})
    try:
        with urllib.request.urlopen(request, timeout=60) as reply:
            return reply.status, json.loads(reply.read())
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read())


@pytest.mark.parametrize("with_router", [True, False])
def test_serve_routes_a_request_that_asks_for_the_router(compiled: Path, routed: Path, with_router: bool) -> None:
    from flowcompile.api import make_backend

    workflow = api.load_ir(compiled)
    router = load_router(str(routed), workflow.module, workflow.op) if with_router else None
    served = served_workflow(workflow.op, workflow.config_points(), router=router)
    lines: list[str] = []
    server = make_server(served, make_backend("sim"), port=0, concurrency=2, log=lines.append)
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        status, reply = _post(url, {"X-FlowCompile-Router": "knn", "X-FlowCompile-Preset": "fast"})
        if with_router:
            assert status == 200, reply
            assert reply["flowcompile"]["selected_by"] == "router knn, preset fast"
            assert router is not None
            expected = router.route(["[sim-query z1] Solve the simulated task."], Selector(preset="fast"))[0]
            assert reply["flowcompile"]["point"] == expected
            assert any("(router knn, preset fast)" in line for line in lines)
            status, reply = _post(url, {"X-FlowCompile-Router": "knn", "X-FlowCompile-Point": "0"})
            assert status == 400 and "router and point both choose a point" in reply["error"]["message"]
        else:
            assert status == 400
            assert "this server has no router" in reply["error"]["message"]
            assert reply["error"]["param"] == "X-FlowCompile-Router"
    finally:
        server.shutdown()
        server.server_close()


def test_a_default_router_needs_the_router(compiled: Path, routed: Path) -> None:
    workflow = api.load_ir(compiled)
    with pytest.raises(SelectionError, match="needs the artifact's router"):
        served_workflow(workflow.op, workflow.config_points(), Selector(preset="fast", router="knn"))
    router = load_router(str(routed), workflow.module, workflow.op)
    served = served_workflow(workflow.op, workflow.config_points(), Selector(preset="fast", router="knn"), router)
    text = "[sim-query z2] Solve the simulated task."
    assert served.choose(Selector(), text) == router.route([text], Selector(preset="fast"))[0]


def test_the_api_trains_the_router_the_command_stores(compiled: Path, routed: Path) -> None:
    from flowcompile.artifact import dumps

    workflow = api.load_ir(compiled)
    trained = api.train_router(workflow, samples=16)
    assert dumps(trained) == routed.read_text()
    with pytest.raises(api.FlowCompileError, match="k=0"):
        api.train_router(workflow, samples=16, k=0)
