"""The flow dialect built from Python: constructors, accessors, verifiers, and
print -> parse round trips (the lit tests cover the textual side)."""

from __future__ import annotations

import math
from io import StringIO

import pytest
from xdsl.context import Context
from xdsl.dialects.builtin import (
    ArrayAttr,
    Builtin,
    DictionaryAttr,
    FloatAttr,
    IntegerAttr,
    ModuleOp,
    StringAttr,
    f64,
    i64,
)
from xdsl.ir import Attribute, Block, Operation, Region
from xdsl.parser import Parser
from xdsl.printer import Printer
from xdsl.utils.exceptions import VerifyException

from flowcompile.dialects.flow import (
    AgentOp,
    ConfigAttr,
    ConfigSetOp,
    EstimateAttr,
    Flow,
    ForkOp,
    LoopOp,
    ModelAttr,
    MsgType,
    PointAttr,
    ProfileAttr,
    ReturnOp,
    SwitchOp,
    UntilOp,
    VoteOp,
    WorkflowOp,
    YieldOp,
    msg,
    new_block_region,
)
from flowcompile.dialects.syntax import check_range, float_array, format_float


def context() -> Context:
    ctx = Context()
    ctx.load_dialect(Builtin)
    ctx.load_dialect(Flow)
    return ctx


def text(op: Operation, generic: bool = False) -> str:
    out = StringIO()
    Printer(stream=out, print_generic_format=generic).print_op(op)
    return out.getvalue()


def parse(source: str) -> ModuleOp:
    return Parser(context(), source).parse_module()


def attr_text(attr: Attribute) -> str:
    out = StringIO()
    Printer(stream=out).print_attribute(attr)
    return out.getvalue()


def parse_attr(source: str) -> Attribute:
    return Parser(context(), source).parse_attribute()


def build_module() -> tuple[ModuleOp, dict[str, Operation]]:
    """One workflow using every op, plus a config set for it."""
    body = Block(arg_types=[msg])
    q = body.args[0]
    plan = AgentOp(
        "plan", [q], "planner", ["m1", "m2"], [0, 1024], prompt="Plan {q}", recovery=0.25, args=["q"]
    )
    polish = AgentOp("polish", [plan], "editor", ["m1"], [0], optional="pass")
    s1 = AgentOp("s1", [polish], "solver", ["m1"], [0])
    fork = ForkOp([new_block_region(s1, YieldOp(s1)), new_block_region(YieldOp(polish))])
    s2 = AgentOp("s2", [polish], "solver", ["m2"], [256])
    sampled = ForkOp([new_block_region(s2, YieldOp(s2))], samples=[1, 3, 5], name="votes")
    vote = VoteOp([fork.res[0], fork.res[1], sampled.res[0]])
    switch = SwitchOp(
        vote,
        {"math": new_block_region(YieldOp(vote)), "other": new_block_region(YieldOp(q))},
    )
    loop_body = Block(arg_types=[msg])
    critic = AgentOp("critic", [loop_body.args[0]], "critic", ["m2"], [0])
    until = UntilOp(critic, critic)
    loop_body.add_ops([critic, until])
    loop = LoopOp([switch], [1, 2, 3], Region(loop_body), name="refine")
    ret = ReturnOp(loop)
    body.add_ops([plan, polish, fork, sampled, vote, switch, loop, ret])
    pool = {
        "m1": ModelAttr.build(provider="openai/m1"),
        "m2": ModelAttr.build(provider="hosted_vllm/m2", price_in=5e-8, price_out=2e-7),
    }
    workflow = WorkflowOp("w", 1, 1, Region(body), pool=pool)
    point = PointAttr.build(
        acc=0.7,
        lat=5.4,
        measured_acc=0.68,
        assign=DictionaryAttr(
            {"plan": ConfigAttr.of("m2", 1024), "votes.samples": IntegerAttr(3, i64)}
        ),
    )
    config_set = ConfigSetOp("w_pareto", "w", [point])
    module = ModuleOp([workflow, config_set])
    ops = {
        "workflow": workflow,
        "plan": plan,
        "polish": polish,
        "s1": s1,
        "fork": fork,
        "sampled": sampled,
        "vote": vote,
        "switch": switch,
        "loop": loop,
        "until": until,
        "return": ret,
        "config_set": config_set,
    }
    return module, ops


# Attributes ------------------------------------------------------------------


def test_config_attr_accessors_and_syntax():
    config = ConfigAttr.of("qwen3-8b", 1024)
    assert (config.model, config.budget, config.key) == ("qwen3-8b", 1024, "qwen3-8b@1024")
    assert attr_text(config) == '#flow.config<model = "qwen3-8b", budget = 1024>'
    assert parse_attr(attr_text(config)) == config


def test_optional_fields_are_none_and_not_printed():
    profile = ProfileAttr.build(acc=0.83, acc_n=200, lat=1.92)
    assert profile.get("cost") is None and profile.get("lat_p95") is None
    assert profile.get("acc_n") == 200
    assert attr_text(profile) == "#flow.profile<acc = 0.83, acc_n = 200, lat = 1.92>"


@pytest.mark.parametrize(
    "attr",
    [
        ConfigAttr.of("m", 0),
        ModelAttr.build(provider="p"),
        ModelAttr.build(provider="p", api_base="http://h:1/v1", price_in=5e-8, price_out=0.0),
        ProfileAttr.build(acc=0.0, acc_n=0, lat=0.0),
        ProfileAttr.build(
            acc=1.0, acc_n=3, lat=1e-7, lat_p95=3.1, tok_in=1.5, tok_out=512.0, cost=4e-4
        ),
        EstimateAttr.build(acc=0.71, lat=5.4),
        EstimateAttr.build(acc=0.71, lat=5.4, acc_lo=0.6, acc_hi=0.8, cost=12345678.9),
        PointAttr.build(acc=0.5, lat=1.0, assign=DictionaryAttr({})),
        PointAttr.build(
            acc=0.5,
            lat=1.0,
            cost=0.1,
            measured_acc=0.4,
            measured_lat=1.5,
            assign=DictionaryAttr({"a": ConfigAttr.of("m", 8), "k": IntegerAttr(2, i64)}),
        ),
        msg,
    ],
    ids=lambda a: a.name,
)
def test_attribute_print_parse_equality(attr: Attribute):
    printed = attr_text(attr)
    again = parse_attr(printed)
    assert again == attr
    assert attr_text(again) == printed


def test_fields_parse_in_any_order_and_print_in_declaration_order():
    attr = parse_attr("#flow.estimate<cost = 1, lat = 2, acc = 0.5>")
    assert attr == EstimateAttr.build(acc=0.5, lat=2.0, cost=1.0)
    assert attr_text(attr) == "#flow.estimate<acc = 0.5, lat = 2.0, cost = 1.0>"


def test_point_assign_accessor():
    point = PointAttr.build(
        acc=0.5, lat=1.0, assign=DictionaryAttr({"a": ConfigAttr.of("m", 8)})
    )
    assert dict(point.assign) == {"a": ConfigAttr.of("m", 8)}
    assert point.get("measured_acc") is None


@pytest.mark.parametrize(
    ("cls", "values", "message"),
    [
        (ConfigAttr, {"model": "", "budget": 0}, "model name must not be empty"),
        (ConfigAttr, {"model": "m", "budget": -1}, "budget must be >= 0, got -1"),
        (ModelAttr, {"provider": ""}, "provider model string must not be empty"),
        (ModelAttr, {"provider": "p", "price_in": -1.0}, "price_in must be >= 0"),
        (ModelAttr, {"provider": "p", "price_out": -1.0}, "price_out must be >= 0"),
        (ProfileAttr, {"acc": 1.5, "acc_n": 1, "lat": 1.0}, r"acc must be in \[0, 1\]"),
        (ProfileAttr, {"acc": 0.5, "acc_n": -1, "lat": 1.0}, "acc_n must be >= 0"),
        (ProfileAttr, {"acc": 0.5, "acc_n": 1, "lat": -1.0}, "lat must be >= 0"),
        (ProfileAttr, {"acc": 0.5, "acc_n": 1, "lat": math.inf}, "lat must be in"),
        (ProfileAttr, {"acc": 0.5, "acc_n": 1, "lat": math.nan}, "lat must be in"),
        (ProfileAttr, {"acc": math.nan, "acc_n": 1, "lat": 1.0}, r"acc must be in \[0, 1\]"),
        (ProfileAttr, {"acc": 0.5, "acc_n": 1, "lat": 1.0, "cost": -1e-9}, "cost"),
        (EstimateAttr, {"acc": 0.5, "lat": 1.0, "acc_hi": 1.1}, "acc_hi"),
        (EstimateAttr, {"acc": 0.5, "lat": 1.0, "acc_lo": -0.1}, "acc_lo"),
        (PointAttr, {"acc": 0.5, "lat": 1.0, "assign": StringAttr("x")}, "dictionary"),
        (
            PointAttr,
            {"acc": 0.5, "lat": 1.0, "assign": DictionaryAttr({"a": StringAttr("x")})},
            r"assign\['a'\] must be a #flow.config, \"skip\" or an integer knob",
        ),
        (
            PointAttr,
            {"acc": 0.5, "lat": 1.0, "measured_lat": -1.0, "assign": DictionaryAttr({})},
            "measured_lat",
        ),
    ],
)
def test_build_rejects_bad_values(cls, values, message):
    with pytest.raises(VerifyException, match=message):
        cls.build(**values)


def test_build_rejects_unknown_fields():
    with pytest.raises(ValueError, match=r"has no field\(s\) \['size'\]"):
        ConfigAttr.build(model="m", budget=0, size=3)


def test_check_range_bounds():
    check_range("x", None)
    check_range("x", 0.0, 0.0, 1.0)
    check_range("x", 1.0, 0.0, 1.0)
    check_range("x", 1e300)
    for bad in (-1e-12, 1.0 + 1e-12, math.nan, math.inf):
        with pytest.raises(VerifyException):
            check_range("x", bad, 0.0, 1.0)
    for bad in (-1.0, math.inf, -math.inf, math.nan):
        with pytest.raises(VerifyException):
            check_range("x", bad)


def test_format_float_is_the_shortest_mlir_literal():
    assert format_float(1.0) == "1.0"
    assert format_float(4e-07) == "4.0e-07"
    assert format_float(0.1 + 0.2) == "0.30000000000000004"
    assert format_float(1e22) == "1.0e+22"
    with pytest.raises(ValueError):
        format_float(math.inf)


# Ops -------------------------------------------------------------------------


def test_built_module_verifies():
    module, _ = build_module()
    module.verify()


def test_agent_accessors_and_candidates():
    _, ops = build_module()
    plan, polish = ops["plan"], ops["polish"]
    assert isinstance(plan, AgentOp) and isinstance(polish, AgentOp)
    assert plan.agent_name == "plan"
    assert plan.role.data == "planner"
    assert plan.prompt is not None and plan.prompt.data == "Plan {q}"
    assert plan.model_names == ["m1", "m2"]
    assert plan.budget_values == [0, 1024]
    assert plan.recovery == FloatAttr(0.25, f64)
    assert plan.optional is None and polish.optional is not None
    assert polish.prompt is None and polish.recovery is None
    assert [c.key for c in plan.candidates()] == ["m1@0", "m1@1024", "m2@0", "m2@1024"]
    assert plan.output.type == MsgType()


def test_structural_accessors():
    _, ops = build_module()
    fork, sampled, switch, loop = ops["fork"], ops["sampled"], ops["switch"], ops["loop"]
    assert isinstance(fork, ForkOp) and isinstance(sampled, ForkOp)
    assert len(fork.branches) == len(fork.res) == 2 and fork.samples is None
    assert list(sampled.samples.iter_values()) == [1, 3, 5]  # pyright: ignore
    assert isinstance(switch, SwitchOp)
    assert switch.label_names == ["math", "other"]
    assert switch.branch_probs() is None
    switch.attributes["probs"] = float_array([0.25, 0.75])
    assert switch.branch_probs() == [0.25, 0.75]
    assert isinstance(loop, LoopOp)
    assert loop.max_iter_values == [1, 2, 3]
    assert len(loop.body.block.args) == len(loop.init) == len(loop.res) == 1
    vote = ops["vote"]
    assert isinstance(vote, VoteOp) and vote.method.data == "majority"
    assert len(vote.inputs) == 3
    until = loop.body.block.last_op
    assert isinstance(until, UntilOp)
    assert until.verdict is until.operands[0]
    assert list(until.next_values) == list(until.operands[1:]) and len(until.next_values) == 1


def test_struct_fields_follow_the_parameter_types():
    fields = ProfileAttr.fields()
    assert list(fields)[:3] == ["acc", "acc_n", "lat"]
    assert (fields["acc"].kind, fields["acc"].optional) == ("float", False)
    assert (fields["acc_n"].kind, fields["acc_n"].optional) == ("int", False)
    assert (fields["by_right"].kind, fields["by_right"].optional) == ("floats", True)
    assert (fields["by_right_n"].kind, fields["hits"].kind) == ("ints", "str")
    # a trailing `_` leaves the name to a property; `assign` takes any attribute
    assert [(f.name, f.param) for f in ConfigAttr.fields().values()] == [
        ("model", "model_"), ("budget", "budget_")
    ]
    assign = PointAttr.fields()["assign"]
    assert (assign.kind, assign.optional) == ("attr", False)


def test_typed_parameters_reject_a_value_of_the_wrong_type():
    good = ConfigAttr.of("m", 1)
    with pytest.raises(VerifyException):
        ConfigAttr.new([good.model_, StringAttr("1")])
    with pytest.raises(VerifyException):
        ProfileAttr.build(acc=0.5, acc_n=3, lat=1.0).new([StringAttr("x")] * len(ProfileAttr.fields()))


def test_workflow_accessors():
    _, ops = build_module()
    workflow = ops["workflow"]
    assert isinstance(workflow, WorkflowOp)
    assert workflow.sym_name.data == "w"
    assert [a.agent_name for a in workflow.agents] == [
        "plan", "polish", "s1", "s2", "critic",
    ]
    assert sorted(workflow.model_pool()) == ["m1", "m2"]
    assert workflow.model_pool()["m2"].get("price_out") == 2e-7  # pyright: ignore
    assert list(workflow.function_type.inputs) == [msg]
    config_set = ops["config_set"]
    assert isinstance(config_set, ConfigSetOp)
    assert config_set.workflow.root_reference.data == "w"
    assert config_set.points.data[0].assign["plan"] == ConfigAttr.of("m2", 1024)


def test_print_parse_round_trip_is_identical():
    module, _ = build_module()
    printed = text(module)
    parsed = parse(printed)
    parsed.verify()
    assert parsed.is_structurally_equivalent(module)
    assert text(parsed) == printed


def test_generic_form_round_trips_to_the_same_custom_form():
    module, _ = build_module()
    generic = text(module, generic=True)
    assert '"flow.agent"' in generic and "budgets = array<i64: 0, 1024>" in generic
    parsed = parse(generic)
    assert text(parsed) == text(module)
    assert text(parsed, generic=True) == generic


def test_non_finite_discardable_float_prints_and_parses_back():
    module, ops = build_module()
    ops["plan"].attributes["weight"] = FloatAttr(math.inf, f64)
    printed = text(module)
    assert "weight = 0x7ff0000000000000 : f64" in printed
    assert text(parse(printed)) == printed


def _expect_invalid(op: Operation, message: str) -> None:
    with pytest.raises(VerifyException, match=message):
        op.verify()


def test_verifiers_of_built_ops():
    module, ops = build_module()
    ops["vote"].properties["method"] = StringAttr("mean")
    _expect_invalid(module, "unknown vote method 'mean'")

    module, ops = build_module()
    ops["switch"].attributes["probs"] = float_array([0.5, 0.6])
    _expect_invalid(module, "branch probabilities sum to 1.1, not 1")

    module, ops = build_module()
    fork = ops["fork"]
    fork.properties["samples"] = ops["sampled"].samples  # pyright: ignore
    _expect_invalid(module, "samples is only allowed on a single-branch fork")

    module, ops = build_module()
    ops["s1"].properties["sym_name"] = StringAttr("plan")
    _expect_invalid(module, "@plan is called at several sites \\(a shared agent\\), which must agree on role")

    module, ops = build_module()
    config_set = ops["config_set"]
    assign = DictionaryAttr({"plan": ConfigAttr.of("m1", 7)})
    config_set.properties["points"] = ArrayAttr([PointAttr.build(acc=0.5, lat=1.0, assign=assign)])
    _expect_invalid(module, "point #0: m1@7 is not a candidate of @plan")


def test_agent_outside_pool_and_vote_without_inputs():
    body = Block(arg_types=[msg])
    agent = AgentOp("a", [body.args[0]], "s", ["unknown"], [0])
    body.add_ops([agent, ReturnOp(agent)])
    workflow = WorkflowOp("w", 1, 1, Region(body), pool={"m": ModelAttr.build(provider="p")})
    with pytest.raises(VerifyException, match="model 'unknown' is not in the workflow's pool"):
        ModuleOp([workflow]).verify()
    with pytest.raises(VerifyException, match="a vote needs at least one input"):
        VoteOp([]).verify()
