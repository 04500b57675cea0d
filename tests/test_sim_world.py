"""World file schema of the simulated backend: loading, validation, lookups, packaged worlds."""

from __future__ import annotations

import asyncio
import copy
from pathlib import Path

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from flowcompile.backends import CallRequest
from flowcompile.compiler import import_spec, the_workflow
from flowcompile.runtime import reference_assignment, run_many
from flowcompile.sim import (
    DEFAULT_WORLD,
    ReasoningCurve,
    RoleSpec,
    SimWorld,
    World,
    WorldError,
    build_messages,
    correlated_world_path,
    generate_dataset,
    load_world,
    parse_world,
)
from flowcompile.sim.backend import SimBackend
from flowcompile.sim.world import FaultSpec


@pytest.fixture(scope="module")
def raw() -> dict:
    return yaml.safe_load(DEFAULT_WORLD.read_text())


def _write(tmp_path: Path, data: dict) -> Path:
    path = tmp_path / "world.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


def _error_for(tmp_path: Path, data: dict) -> str:
    path = _write(tmp_path, data)
    with pytest.raises(WorldError) as info:
        load_world(path)
    message = str(info.value)
    assert "\n" not in message
    assert message.startswith(f"{path}: ")
    return message


def test_default_world_is_a_labelled_qwen3_pool() -> None:
    assert DEFAULT_WORLD.is_file()
    header = DEFAULT_WORLD.read_text().splitlines()[0]
    assert "SIMULATED" in header and "simulation" in header
    world = load_world(DEFAULT_WORLD)
    assert world.model_names() == ["qwen3-0.6b", "qwen3-1.7b", "qwen3-4b", "qwen3-8b", "qwen3-14b", "qwen3-32b"]
    models = world.models
    sizes = [m.params_b for m in models]
    assert sizes == sorted(sizes)
    for small, big in zip(models, models[1:]):
        assert small.capability < big.capability
        assert small.decode_tok_per_s > big.decode_tok_per_s
        assert small.ttft_s < big.ttft_s
        assert small.price_out <= big.price_out
    assert all(m.provider_model and m.provider_model.startswith("hosted_vllm/Qwen/Qwen3-") for m in models)
    assert world.faults.total == 0.0


def test_every_default_model_number_cites_a_source() -> None:
    lines = DEFAULT_WORLD.read_text().splitlines()
    cited = ("capability:", "ttft_s:", "decode_tok_per_s:", "price_in:", "price_out:", "prefill_tok_per_s:")
    for line in lines:
        if line.strip().startswith(cited):
            assert "#" in line and "[" in line.split("#", 1)[1], line


def test_correlated_world_is_the_default_pool_with_other_interactions() -> None:
    path = correlated_world_path()
    assert path.is_file() and path.parent == DEFAULT_WORLD.parent
    header = path.read_text().splitlines()[0]
    assert "SIMULATED" in header and "simulation" in header
    default, world = load_world(DEFAULT_WORLD), load_world(path)
    assert world.name == "qwen3-correlated-sim" != default.name
    assert world.models == default.models
    assert world.roles.keys() == default.roles.keys()
    assert {name: r.kind for name, r in world.roles.items()} == {name: r.kind for name, r in default.roles.items()}
    assert world.queries.routes() == default.queries.routes() == ["math", "code"]
    assert world.seed == default.seed and world.faults == default.faults
    # what differs
    assert (world.queries.difficulty_sd, world.queries.agent_noise_sd) == (1.5, 0.2)
    assert world.roles["aggregator"].aggregate_rule == "plurality"
    assert default.roles["aggregator"].aggregate_rule == "select"
    changed = {name for name in world.roles if world.roles[name] != default.roles[name]}
    assert changed == {"aggregator", "ensembler", "checker", "reviser", "critic", "solver"}
    assert world.roles["ensembler"].aggregate_rule == "plurality" != default.roles["ensembler"].aggregate_rule
    assert (world.roles["checker"].recovery, world.roles["checker"].upstream_bonus) == (0.2, 0.3)
    assert world.roles["reviser"].upstream_bonus == 0.3
    assert world.roles["critic"].false_accept == 0.4
    assert world.roles["solver"].upstream_bonus == 0.0


def test_every_correlated_model_number_cites_a_source() -> None:
    cited = ("capability:", "ttft_s:", "decode_tok_per_s:", "price_in:", "price_out:", "prefill_tok_per_s:")
    for line in correlated_world_path().read_text().splitlines():
        if line.strip().startswith(cited):
            assert "#" in line and "[" in line.split("#", 1)[1], line


def test_correlated_world_keeps_single_agent_accuracy_sensible() -> None:
    sim = SimWorld(correlated_world_path())

    def accuracy(model: str, budget: int) -> float:
        n, ok = 1000, 0
        for i in range(n):
            msgs = build_messages("solver", "s", f"[sim-query q{i:05d}] x")
            ok += sim.trace(CallRequest(model=model, budget=budget, messages=msgs)).correct
        return ok / n

    assert 0.2 < accuracy("qwen3-0.6b", 0) < 0.35
    assert 0.8 < accuracy("qwen3-32b", 16384) < 0.95


@pytest.mark.parametrize("name", ["chain", "mixture", "refine", "router", "self_consistency"])
def test_every_example_runs_on_the_correlated_world(name: str) -> None:
    examples = Path(__file__).resolve().parent.parent / "examples"
    wf = the_workflow(import_spec(examples / f"{name}.yaml"))
    backend = SimBackend(correlated_world_path())
    results = asyncio.run(run_many(wf, reference_assignment(wf), backend, generate_dataset(backend.sim, 5)))
    assert all(r.ok and r.output for r in results)
    assert backend.total_calls >= 5


def test_aggregate_rule_is_checked(tmp_path: Path, raw: dict) -> None:
    assert RoleSpec().aggregate_rule == "select"
    data = copy.deepcopy(raw)
    data["roles"]["aggregator"]["aggregate_rule"] = "majority"
    assert ": roles.aggregator.aggregate_rule: Input should be 'select' or 'plurality'" in _error_for(tmp_path, data)


def test_unknown_key_is_reported_with_its_field_path(tmp_path: Path, raw: dict) -> None:
    data = copy.deepcopy(raw)
    data["models"][0]["bogus"] = 1
    assert ": models.0.bogus: Extra inputs are not permitted" in _error_for(tmp_path, data)


def test_bad_number_is_reported_with_its_field_path(tmp_path: Path, raw: dict) -> None:
    data = copy.deepcopy(raw)
    data["models"][1]["capability"] = "high"
    assert ": models.1.capability: " in _error_for(tmp_path, data)
    data = copy.deepcopy(raw)
    data["models"][2]["decode_tok_per_s"] = -5
    assert ": models.2.decode_tok_per_s: Input should be greater than 0" in _error_for(tmp_path, data)
    data = copy.deepcopy(raw)
    data["roles"]["critic"]["false_accept"] = 1.5
    assert ": roles.critic.false_accept: " in _error_for(tmp_path, data)
    data = copy.deepcopy(raw)
    data["models"][0]["reasoning"]["usage"] = 0
    assert ": models.0.reasoning.usage: " in _error_for(tmp_path, data)


def test_cross_field_rules(tmp_path: Path, raw: dict) -> None:
    data = copy.deepcopy(raw)
    data["faults"].update(rate_limit=0.6, server_error=0.6)
    assert ": faults: fault rates sum to 1.2 > 1" in _error_for(tmp_path, data)
    data = copy.deepcopy(raw)
    data["models"][1]["name"] = data["models"][0]["name"]
    assert ": models: duplicate model name 'qwen3-0.6b'" in _error_for(tmp_path, data)
    data = copy.deepcopy(raw)
    data["queries"]["route_categories"] = 3
    assert ": queries: route_names has 2 entries but route_categories is 3" in _error_for(tmp_path, data)
    data = copy.deepcopy(raw)
    data["roles"]["Critic"] = data["roles"].pop("critic")
    assert ": roles: role name 'Critic' must be lowercase" in _error_for(tmp_path, data)


def test_file_and_yaml_errors(tmp_path: Path) -> None:
    missing = tmp_path / "nope.yaml"
    with pytest.raises(WorldError, match=r"nope\.yaml: <file>: "):
        load_world(missing)
    bad = tmp_path / "bad.yaml"
    bad.write_text("models: [\n  - name: x\n  bad: : :\n")
    with pytest.raises(WorldError, match=r"bad\.yaml: line \d+: invalid YAML"):
        load_world(bad)
    empty = tmp_path / "empty.yaml"
    empty.write_text("")
    with pytest.raises(WorldError, match=r"empty\.yaml: models: Field required"):
        load_world(empty)
    with pytest.raises(WorldError, match=r"<world>: <root>: expected a mapping"):
        parse_world([1, 2])  # type: ignore[arg-type]


def _tiny(**extra: object) -> World:
    model = {"name": "m", "capability": 0, "ttft_s": 0.1, "decode_tok_per_s": 10, "price_in": 0, "price_out": 0}
    data: dict[str, object] = {"models": [model]}
    data.update(extra)
    return parse_world(data)


def test_lookups_and_role_fallback(raw: dict) -> None:
    world = parse_world(raw)
    assert world.model("Qwen3-8B").name == "qwen3-8b"
    with pytest.raises(ValueError, match="qwen3-0.6b, qwen3-1.7b"):
        world.model("gpt-4")
    assert world.role("Critic") is world.roles["critic"]
    assert world.role("summoner") is world.roles["default"]
    assert _tiny().role("anything") == RoleSpec()
    assert _tiny(roles={"default": {"kind": "plan"}}).role("x").kind == "plan"
    assert _tiny().queries.routes() == ["math", "code", "science", "writing"]
    assert _tiny(queries={"route_categories": 8}).queries.routes()[-1] == "cat7"


def test_reasoning_curve_has_diminishing_returns() -> None:
    curve = ReasoningCurve(gain=0.6, scale=1024, max_budget=8192)
    gains = [curve.gain_at(b) for b in (0, 1024, 2048, 4096, 8192)]
    assert gains[0] == 0.0
    steps = [b - a for a, b in zip(gains, gains[1:])]
    assert all(s > 0 for s in steps)
    assert curve.gain_at(1 << 20) == curve.gain_at(8192)  # clipped at max_budget
    assert curve.gain_at(2048) - curve.gain_at(1024) > curve.gain_at(3072) - curve.gain_at(2048)


@given(st.integers(0, 1 << 18), st.integers(0, 1 << 18))
def test_reasoning_gain_is_monotone(a: int, b: int) -> None:
    curve = ReasoningCurve(gain=0.5, scale=512, max_budget=65536)
    lo, hi = sorted((a, b))
    assert curve.gain_at(lo) <= curve.gain_at(hi)


@given(st.lists(st.floats(0, 1), min_size=4, max_size=4))
def test_fault_rates_accepted_iff_they_sum_to_at_most_one(rates: list[float]) -> None:
    fields = dict(zip(("rate_limit", "server_error", "timeout", "malformed"), rates))
    if sum(rates) <= 1.0:
        assert FaultSpec(**fields).total == pytest.approx(sum(rates))
    elif sum(rates) > 1.0 + 1e-9:
        with pytest.raises(ValueError):
            FaultSpec(**fields)
