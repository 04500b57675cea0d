"""Property: on random profiled workflows in flow IR, `enumerate` + `pareto`
(without k) give exactly the brute-force Pareto set of the proxy.

Workflows are random YAML specs (chains with shared inputs, forks with votes,
replicated samples and aggregators, switches, refine loops, optional agents
that pass their input on, optional proposers whose skip leaves no value,
agents reading a shared value and, redundantly, what it is built on,
aggregators that may be switched off, passing a proposal or a value on,
shared agents called at two sites with one configuration)
lowered by the frontend; profiles and branch probabilities are random, and
most aggregators' profiles carry random per-level rates (`by_right`), which
compose turns into isotonic curves, and most agents a random `wrong_agree`,
which compose pools into each vote's parameter. Half the agents' profiles
carry random mixed rates (`mixed`): the solver that reads a plan beside the
value it is built on (the "redundant" shape, when that value is an agent's)
is then composed by the mixed rule, which the search conditions on.
"""

from __future__ import annotations

import random

from hypothesis import example, given, settings
from hypothesis import strategies as st
from xdsl.dialects.builtin import ArrayAttr, DictionaryAttr, FloatAttr, IntegerAttr, f64, i64

from flowcompile.compiler import run_passes
from flowcompile.dialects.flow import AgentOp, ConfigSetOp, ForkOp, ProfileAttr, SwitchOp, WorkflowOp
from flowcompile.dialects.syntax import float_array
from flowcompile.frontend.load import load_spec_text
from flowcompile.frontend.lower import lower_spec

MODELS = {name: {"litellm": f"openai/{name}"} for name in ("s", "m", "l")}


def random_spec(rng: random.Random) -> dict:
    agents: dict[str, dict] = {}
    values = ["query"]
    steps: list = []

    def agent(role: str, inputs: list[str] | None = None, **extra) -> str:
        name = f"a{len(agents)}"
        spec = {"role": role, "models": rng.sample(list(MODELS), rng.randint(1, 2)),
                "budgets": rng.sample([0, 512, 2048], rng.randint(1, 2))}
        if inputs is not None:
            spec["inputs"] = inputs
        if rng.random() < 0.3:
            spec["recovery"] = round(rng.uniform(0, 0.4), 2)
        spec.update(extra)
        agents[name] = spec
        return name

    for index in range(rng.randint(1, 3)):
        kind = rng.choice(
            ["agent", "shared", "vote", "samples", "aggregate", "switch", "loop", "optional", "redundant", "absent",
             "ensemble", "reuse"]
        )
        block = f"b{index}"
        if kind == "agent":
            name = agent("solver", rng.sample(values, min(len(values), rng.randint(1, 2))))
            steps.append(name)
            values.append(name)
        elif kind == "shared":
            up = rng.choice(values)
            left, right = agent("solver", [up]), agent("solver", [up])
            join = agent("aggregator", [left, right])
            steps += [left, right, join]
            values.append(join)
        elif kind in ("vote", "samples", "aggregate"):
            up = rng.choice(values)
            sampled = kind == "samples" or (kind == "aggregate" and rng.random() < 0.3)
            count = 1 if sampled else rng.randint(2, 3)
            branches = [[agent("proposer", [up])] for _ in range(count)]
            fork = {"as": block, "branches": branches}
            if sampled:
                fork["samples"] = [1, 3]
            if kind == "aggregate":
                fork["combine"] = agent("aggregator", [up])
            steps.append({"fork": fork})
            values.append(block)
        elif kind == "switch":
            router = agent("router", [rng.choice(values)])
            steps.append(router)
            cases = {label: [agent("solver", ["query"])] for label in ("x", "y")}
            steps.append({"switch": {"as": block, "route": router, "cases": cases}})
            values.append(block)
        elif kind == "loop":
            critic = agent("critic", ["query", "draft"])
            reviser = agent("reviser", ["draft", critic])
            steps.append({"loop": {"as": block, "carry": {"draft": rng.choice(values)},
                                   "body": [critic, reviser], "until": critic,
                                   "next": {"draft": reviser}, "max_iters": rng.choice([[1, 2], [0, 2]])}})
            values.append(block)
        elif kind == "redundant":
            # a value two agents read, one of them also reading what it is built
            # on: an input the proxy ignores (effective_inputs), which must not
            # keep the shared value from being pinned
            up = rng.choice(values)
            mid = agent("planner", [up])
            left, right = agent("solver", [mid]), agent("solver", [mid, up])
            join = agent("aggregator", [left, right, up])
            steps += [mid, left, right, join]
            values.append(join)
        elif kind == "absent":
            # proposers that a skip leaves out (one always runs), combined by a
            # vote or an aggregator over the present ones
            up = rng.choice(values)
            count = rng.randint(2, 3)
            branches = [[agent("proposer", [up], **({"optional": "absent"} if i else {}))] for i in range(count)]
            rng.shuffle(branches)
            fork = {"as": block, "branches": branches}
            if rng.random() < 0.6:
                fork["combine"] = agent("aggregator", [up])
            steps.append({"fork": fork})
            values.append(block)
        elif kind == "ensemble":
            # an aggregator that may be switched off: a skip passes one proposal
            # (or the step value it also reads) on, the other branches still run
            up = rng.choice(values)
            if up != "query" and rng.random() < 0.3:  # over a replicated fork: it passes a value on
                proposer = agent("proposer", [up])
                fork = {"as": block, "branches": [[proposer]], "samples": [1, 2]}
                # the value it also reads, or the first sample (no draw: the examples' streams stay)
                passed = up if len(agents) % 2 else proposer
            else:
                count = rng.randint(2, 3)
                branches = [[agent("proposer", [up], **({"optional": "absent"} if i and rng.random() < 0.5 else {}))]
                            for i in range(count)]
                rng.shuffle(branches)
                fork = {"as": block, "branches": branches}
                present = [b[0] for b in branches if "optional" not in agents[b[0]]]
                passed = rng.choice(present + ([up] if up != "query" else []))
            fork["combine"] = agent("aggregator", [up], optional={"pass": passed})
            steps.append({"fork": fork})
            values.append(block)
        elif kind == "reuse":
            # a shared agent: one solver at two sites (on the value before and
            # on a planner's plan), one configuration, read by a vote or an aggregator
            up = rng.choice(values)
            solver = agent("solver")
            planner = agent("planner", [up])
            fork = {"as": block, "branches": [[solver], [planner, solver]]}
            if rng.random() < 0.5:
                fork["combine"] = agent("aggregator", [up])
            steps.append({"fork": fork})
            values.append(block)
        else:
            name = agent("editor", [values[-1]], optional="pass")
            steps.append(name)
            values.append(name)
    return {"workflow": "w", "models": MODELS, "agents": agents, "steps": steps, "output": values[-1]}


def checked_spec(rng: random.Random) -> dict:
    """A random workflow whose output a plan -> solve -> check chain reads:
    the checker reads the plan beside the answer built on it."""
    spec = random_spec(rng)
    up = spec.pop("output")
    for name, role, inputs in (
        ("plan", "planner", [up]),
        ("solve", "solver", ["query", "plan"]),
        ("check", "checker", ["query", "plan", "solve"]),
    ):
        spec["agents"][name] = {"role": role, "inputs": inputs, "models": ["s", "m"], "budgets": [0, 512]}
        spec["steps"].append(name)
    return spec


def profiled_module(seed: int, shape=random_spec):
    import yaml

    rng = random.Random(seed)
    spec, locator = load_spec_text(yaml.safe_dump(shape(rng)), "random.yaml")
    module = lower_spec(spec, locator)
    mixed_rng = random.Random(seed + 1)  # its own stream: the examples' specs and profiles stay as they were
    for op in module.walk():
        if isinstance(op, AgentOp):
            mixed = mixed_rng.random() < 0.5
            levels = proposal_count(op) if rng.random() < 0.7 else 0
            op.attributes["profiles"] = DictionaryAttr({
                c.key: ProfileAttr.build(
                    acc=round(rng.uniform(0.05, 1.0), 3),
                    acc_n=rng.randint(0, 40),
                    lat=round(rng.uniform(0.1, 5.0), 2),
                    cost=round(rng.uniform(0, 0.001), 6),
                    **({"rec": round(rng.uniform(0, 0.5), 3), "rec_n": rng.randint(1, 20)} if rng.random() < 0.3 else {}),
                    **({"by_right": [round(rng.uniform(0, 1), 3) for _ in range(levels + 1)],
                        "by_right_n": [rng.randint(0, 30) for _ in range(levels + 1)]}
                       if levels and rng.random() < 0.9 else {}),
                    **({"mixed": round(mixed_rng.uniform(0, 1), 3), "mixed_n": mixed_rng.randint(0, 20)} if mixed else {}),
                )
                for c in op.candidates()
            })
            if rng.random() < 0.7:  # how alike the agent's mistakes are (a vote's parameter)
                op.attributes["wrong_agree"] = FloatAttr(round(rng.uniform(0, 1), 3), f64)
                op.attributes["wrong_agree_n"] = IntegerAttr(rng.randint(1, 500), i64)
        if isinstance(op, SwitchOp):
            p = round(rng.uniform(0.1, 0.9), 2)
            op.attributes["probs"] = float_array([p, round(1 - p, 2)])
    return module


def proposal_count(agent: AgentOp) -> int:
    """How many proposals an agent reads from forks (a replicated fork's largest
    sample count); 0 for an agent that reads no fork."""
    count = 0
    for value in agent.inputs:
        if isinstance(value.owner, ForkOp):
            samples = value.owner.samples
            count += max(samples.iter_values()) if samples is not None else 1  # pyright: ignore
    return count


def frontier_of(module) -> list[tuple[float, float, str]]:
    (workflow,) = [op for op in module.ops if isinstance(op, WorkflowOp)]
    frontier = workflow.attributes["frontier"]
    assert isinstance(frontier, ArrayAttr)
    return [(p.get("acc"), p.get("lat")) for p in frontier.data]  # pyright: ignore


@settings(deadline=None, max_examples=60)
@given(st.integers(0, 10**9))
@example(496719)  # an exact accuracy tie that float noise once split (fronts.pareto)
def test_enumerate_and_pareto_equal_brute_force(seed: int) -> None:
    search = run_passes(profiled_module(seed), "compose,enumerate")
    (workflow,) = [op for op in search.ops if isinstance(op, WorkflowOp)]
    if workflow.attributes["space"].value.data > 20_000:  # pyright: ignore
        return
    brute = run_passes(profiled_module(seed), "compose,enumerate{exhaustive=true}")
    assert_same(frontier_of(search), frontier_of(brute))
    # pareto without k emits exactly that set, whether or not enumerate ran first
    direct = run_passes(profiled_module(seed), "compose,pareto")
    (config_set,) = [op for op in direct.ops if isinstance(op, ConfigSetOp)]
    assert_same([(p.get("acc"), p.get("lat")) for p in config_set.points], frontier_of(brute))


@settings(deadline=None, max_examples=25)
@given(st.integers(0, 10**9))
def test_the_mixed_rule_is_searched_exactly(seed: int) -> None:
    search = run_passes(profiled_module(seed, checked_spec), "compose,enumerate")
    (workflow,) = [op for op in search.ops if isinstance(op, WorkflowOp)]
    if workflow.attributes["space"].value.data > 20_000:  # pyright: ignore
        return
    brute = run_passes(profiled_module(seed, checked_spec), "compose,enumerate{exhaustive=true}")
    assert_same(frontier_of(search), frontier_of(brute))


def assert_same(found: list[tuple[float, float]], expected: list[tuple[float, float]]) -> None:
    """The same points, up to the IR's last printed decimal: an exact tie at
    the rounding boundary may print one unit apart (float noise decides)."""
    assert len(found) == len(expected)
    for (a1, t1), (a2, t2) in zip(found, expected, strict=True):
        assert abs(a1 - a2) <= 1.5e-6 and abs(t1 - t2) <= 1.5e-6
