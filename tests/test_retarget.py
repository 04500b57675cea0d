"""The `retarget` pass and the speed table it reads."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from flowcompile.compiler import parse, run_passes
from flowcompile.dialects.flow import AgentOp, ProfileAttr, WorkflowOp
from flowcompile.latency import ModelSpeed, SpeedTable, SpeedTableError, load
from flowcompile.passes.retarget import retarget_profile
from flowcompile.sim.world import default_world_path
from flowcompile.irtext import print_module
from flowcompile.tools.opt import run

ONE_AGENT = """
flow.workflow @w(%q: !flow.msg) -> !flow.msg {
  %s = flow.agent @solve(%q) {role = "solver", prompt = "Solve: {query}", args = ["query"],
    models = ["qwen3-0.6b", "qwen3-8b"], budgets = [0, 1024]}
  flow.return %s
}
"""


def table(models: dict[str, ModelSpeed], concurrency: int = 1) -> SpeedTable:
    return SpeedTable(models, concurrency, "litellm")


def write_table(tmp_path: Path, speeds: SpeedTable, name: str = "speeds.json") -> Path:
    path = tmp_path / name
    path.write_text(speeds.to_json(), encoding="utf-8")
    return path


def test_profile_latencies_follow_the_law_and_spread_scales() -> None:
    profile = ProfileAttr.build(acc=0.5, acc_n=10, lat=2.0, lat_p95=3.0, tok_in=100.0, tok_out=51.0,
                                lat_max=[2.0, 2.5], lat_q=[1.0, 3.0])
    speeds = table({"m": ModelSpeed(ttft_s=0.2, decode_tok_per_s=25.0, prefill_tok_per_s=500.0)})
    new = retarget_profile(profile, speeds, "m")
    assert new.get("lat") == pytest.approx(0.2 + 100 / 500 + 50 / 25)  # 2.4 s: x 1.2
    assert new.get("lat_p95") == pytest.approx(3.6)
    assert list(new.get("lat_max")) == pytest.approx([2.4, 3.0])
    assert list(new.get("lat_q")) == pytest.approx([1.2, 3.6])
    assert new.get("acc") == 0.5 and new.get("tok_out") == 51.0  # nothing else moves


def test_table_round_trips_and_its_digest_names_its_bytes(tmp_path: Path) -> None:
    speeds = table({"m": ModelSpeed(0.1, 40.0, None, "hosted_vllm/m", "http://h:1/v1", 8)}, concurrency=4)
    loaded, digest = load(write_table(tmp_path, speeds))
    assert loaded == speeds
    other = table({"m": ModelSpeed(0.1, 41.0, None, "hosted_vllm/m", "http://h:1/v1", 8)}, concurrency=4)
    assert load(write_table(tmp_path, other, "other.json"))[1] != digest


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda d: d.update(format="x"), "not a speed table"),
        (lambda d: d.update(version=2), "speed table version 2"),
        (lambda d: d.update(concurrency=True), "concurrency\" must be a positive integer"),
        (lambda d: d.update(models={}), "\"models\" must map"),
        (lambda d: d["models"]["m"].update(decode_tok_per_s=0), "model 'm': decode_tok_per_s must be > 0"),
        (lambda d: d["models"]["m"].update(ttft_s=-0.1), "model 'm': ttft_s must be >= 0"),
        (lambda d: d["models"]["m"].update(prefill_tok_per_s=-5), "prefill_tok_per_s must be > 0"),
        (lambda d: d["models"]["m"].update(ttft_s="fast"), "ttft_s must be a finite number"),
        (lambda d: d["models"]["m"].update(decode_tok_per_s=float("nan")), "decode_tok_per_s must be a finite number"),
        (lambda d: d["models"]["m"].update(requests="many"), "requests must be a non-negative integer"),
    ],
)
def test_bad_tables_name_the_file_and_the_field(tmp_path: Path, edit, message: str) -> None:
    doc = json.loads(table({"m": ModelSpeed(0.1, 40.0)}).to_json())
    edit(doc)
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(doc), encoding="utf-8")
    with pytest.raises(SpeedTableError, match=message) as caught:
        load(path)
    assert str(caught.value).startswith(f"{path}: ")


def test_broken_json_is_located_in_the_table(tmp_path: Path) -> None:
    path = tmp_path / "broken.json"
    path.write_text('{"format": "flowcompile-speed-table",\n "models": [,\n', encoding="utf-8")
    with pytest.raises(SpeedTableError, match=rf"^{path}:2:13: the speed table is not JSON"):
        load(path)


def _opt(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    capsys.readouterr()
    code = run(list(args))
    out = capsys.readouterr()
    return code, out.out, out.err


PROFILED = """flow.workflow @w(%q: !flow.msg) -> !flow.msg {
  %s = flow.agent @solve(%q) {role = "solver", models = ["s", "b"], budgets = [0], profiles = {
    "s@0" = #flow.profile<acc = 0.6, acc_n = 40, lat = 1.0, tok_in = 50.0, tok_out = 201.0>,
    "b@0" = #flow.profile<acc = 0.8, acc_n = 40, lat = 2.0, tok_in = 400.0, tok_out = 101.0>}}
  flow.return %s
}
"""


def test_a_model_missing_from_the_table_is_located_at_its_agent(tmp_path, capsys) -> None:
    ir = tmp_path / "w.mlir"
    ir.write_text(PROFILED, encoding="utf-8")
    speeds = write_table(tmp_path, table({"s": ModelSpeed(0.1, 40.0)}))
    code, out, err = _opt(capsys, str(ir), "-p", f'retarget{{speeds="{speeds}"}}')
    assert code == 1 and out == ""
    assert err.startswith(f"{ir}:2:3: error: retarget: model 'b' (candidate b@0) is not in the speed table"), err
    assert "Traceback" not in err


def test_retargeting_is_deterministic_and_recorded(tmp_path) -> None:
    speeds = write_table(tmp_path, table({"s": ModelSpeed(0.1, 40.0), "b": ModelSpeed(0.3, 20.0, 800.0)}))
    _table, digest = load(speeds)
    texts = [print_module(run_passes(parse(PROFILED, "t"), f'retarget{{speeds="{speeds}"}}')) for _ in range(2)]
    assert texts[0] == texts[1]
    assert f'retargeted = {{speeds = "{digest}", backend = "litellm", concurrency = 1, simulated = 0}}' in texts[0]
    assert "lat = 5.1" in texts[0]  # s: 0.1 + 200 / 40
    assert "lat = 5.8" in texts[0]  # b: 0.3 + 400 / 800 + 100 / 20


def _exact_speeds(world: dict) -> SpeedTable:
    """A test fixture (never the compiler): the world's own speeds in the law's
    terms (the sim's first token is in its decode time, the law's in ttft_s)."""
    return table({
        m["name"]: ModelSpeed(m["ttft_s"] + 1 / m["decode_tok_per_s"], m["decode_tok_per_s"], m["prefill_tok_per_s"])
        for m in world["models"]
    })


def test_with_the_worlds_own_speeds_retarget_gives_back_the_profiled_latencies(tmp_path) -> None:
    world = yaml.safe_load(Path(default_world_path()).read_text(encoding="utf-8"))
    speeds = write_table(tmp_path, _exact_speeds(world))
    module = run_passes(
        parse(ONE_AGENT, "t"), f'profile{{samples=48 max-samples=0 cache="{tmp_path / "c.sqlite"}"}}'
    )
    before = _latencies(module)
    after = _latencies(run_passes(module, f'retarget{{speeds="{speeds}"}}'))
    assert before.keys() == after.keys() == {"qwen3-0.6b@0", "qwen3-0.6b@1024", "qwen3-8b@0", "qwen3-8b@1024"}
    for key, lat in before.items():
        # profiled: the mean of noisy calls (lognormal sd 0.15, 48 calls); the law: no noise
        assert after[key] == pytest.approx(lat, rel=0.08), key


def _latencies(module) -> dict[str, float]:
    agent = next(op for op in module.walk() if isinstance(op, AgentOp))
    return {k: v.get("lat") for k, v in agent.attributes["profiles"].data.items()}  # pyright: ignore


def test_profiling_again_drops_the_retargeted_record(tmp_path) -> None:
    speeds = write_table(tmp_path, table({"s": ModelSpeed(0.1, 40.0), "b": ModelSpeed(0.3, 20.0)}))
    module = run_passes(parse(PROFILED, "t"), f'retarget{{speeds="{speeds}"}}')
    workflow = next(op for op in module.walk() if isinstance(op, WorkflowOp))
    assert "retargeted" in workflow.attributes
    from flowcompile.passes.invalidation import invalidate

    invalidate(workflow, "profile")
    assert "retargeted" not in workflow.attributes
