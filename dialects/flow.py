"""The `flow` dialect: structured LLM workflows.

A workflow is a fixed graph of LLM sub-agents. `flow.workflow` holds one region
of `flow.agent` calls wired by `!flow.msg` values and structured like `scf`:
`flow.fork` runs branches in parallel, `flow.vote` combines them, `flow.switch`
picks one branch from a router's output, and `flow.loop` repeats a body until a
verdict approves. Each agent declares its choice space (models x budgets); the
compiler's passes annotate the IR with measurements (`#flow.profile`), proxy
estimates (`#flow.estimate`) and finally emit a `flow.config_set` of
Pareto-optimal workflow configurations (`#flow.point`).

The generic form stays plain MLIR, readable by upstream tools with
`--allow-unregistered-dialect`. See `DESIGN.md` for the proxy semantics.
"""

from __future__ import annotations

import re
import string
from collections.abc import Iterator, Mapping, Sequence
from typing import Any, ClassVar, TypeAlias, TypeVar

from xdsl.dialects.builtin import (
    ArrayAttr,
    BoolAttr,
    DenseArrayBase,
    DictionaryAttr,
    I64,
    FloatAttr,
    FloatData,
    Float64Type,
    FunctionType,
    IntAttr,
    IntegerAttr,
    NoneAttr,
    StringAttr,
    SymbolNameConstraint,
    SymbolRefAttr,
    UnitAttr,
    i1,
    i64,
)
from xdsl.ir import (
    Attribute,
    Block,
    Dialect,
    OpResult,
    Operation,
    ParametrizedAttribute,
    Region,
    SSAValue,
    TypeAttribute,
)
from xdsl.irdl import (
    IRDLOperation,
    irdl_attr_definition,
    irdl_op_definition,
    lazy_traits_def,
    ParsePropInAttrDict,
    operand_def,
    opt_prop_def,
    prop_def,
    region_def,
    result_def,
    traits_def,
    var_operand_def,
    var_region_def,
    var_result_def,
)
from xdsl.dialects.utils import parse_assignment, print_assignment
from xdsl.parser import AttrParser, Parser
from xdsl.printer import Printer
from xdsl.traits import HasParent, IsTerminator, SymbolOpInterface, SymbolTable
from xdsl.utils.exceptions import VerifyException

from flowcompile.dialects.syntax import (
    Field,
    OpDictSpec,
    list_values,
    struct_fields,
    array_values,
    attr_to_field,
    check_list,
    check_range,
    field_to_attr,
    int_array,
    int_values,
    parse_keyword_struct,
    parse_op_dict,
    print_keyword_struct,
    print_op_dict,
    string_list,
)

# Types ----------------------------------------------------------------------


@irdl_attr_definition
class MsgType(ParametrizedAttribute, TypeAttribute):
    """A message flowing between agents: a query, a plan, an answer, a verdict."""

    name = "flow.msg"


msg = MsgType()

AttributeT = TypeVar("AttributeT", bound=Attribute)

#: An environment variable name (`api_key_env`); its value is never printed.
_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")

SKIP = "skip"
"""The assignment of an optional agent that does not run."""

SKIP_PASS = "pass"
"""`optional = "pass"`: a skipped agent passes one of its inputs on as its
output (a checker or reviser of an answer of the same kind; an aggregator
switched off, its `passes` naming the proposal that flows on instead)."""
SKIP_ABSENT = "absent"
"""`optional = "absent"`: a skipped agent produces no value; the vote or
aggregator reading its fork branch runs over the values that are present."""
SKIP_MODES = (SKIP_PASS, SKIP_ABSENT)


# Attributes -----------------------------------------------------------------


class KeywordStructAttr(ParametrizedAttribute):
    """An attribute printed as `<field = value, ...>`, fields by name.

    The fields are the typed parameters, in order (see `syntax.Field`); a
    parameter typed `... | NoneAttr` is optional and absent as `#builtin.none`,
    and a trailing `_` leaves the field's name to a Python-valued property. A
    value that fails `verify` while parsing is reported at its location.
    """

    @classmethod
    def fields(cls) -> Mapping[str, Field]:
        return struct_fields(cls)

    @classmethod
    def parse_parameters(cls, parser: AttrParser) -> list[Attribute]:
        start = parser.pos
        params = parse_keyword_struct(parser, cls.fields(), cls.name)
        try:
            cls.new(params)
        except VerifyException as e:
            parser.raise_error(f"#{cls.name}: {e}", start, parser.pos)
        return params

    def print_parameters(self, printer: Printer) -> None:
        print_keyword_struct(printer, self.fields(), self.parameters)

    def get(self, field: str) -> Any:
        """The Python value of a field (None when an optional field is absent)."""
        return attr_to_field(getattr(self, self.fields()[field].param))

    @classmethod
    def build(cls, **values: Any):
        """Build from Python values, verifying them."""
        fields = cls.fields()
        if unknown := set(values) - set(fields):
            raise ValueError(f"#{cls.name} has no field(s) {sorted(unknown)}")
        return cls.new([field_to_attr(f.kind, values.get(f.name)) for f in fields.values()])


@irdl_attr_definition
class ConfigAttr(KeywordStructAttr):
    """One sub-agent configuration: a model of the pool and a reasoning budget.

    `#flow.config<model = "qwen3-8b", budget = 1024>`
    """

    name = "flow.config"

    model_: StringAttr
    budget_: IntAttr

    @staticmethod
    def of(model: str, budget: int) -> ConfigAttr:
        return ConfigAttr.build(model=model, budget=budget)

    @property
    def model(self) -> str:
        return self.model_.data

    @property
    def budget(self) -> int:
        return self.budget_.data

    @property
    def key(self) -> str:
        """The key of this configuration in an agent's `profiles`: `model@budget`."""
        return f"{self.model}@{self.budget}"

    def verify(self) -> None:
        if not self.model:
            raise VerifyException("model name must not be empty")
        check_range("budget", self.budget)


@irdl_attr_definition
class ModelAttr(KeywordStructAttr):
    """A model of the workflow's pool: provider model string, endpoint, key, prices.

    `#flow.model<provider = "hosted_vllm/Qwen/Qwen3-8B", api_base = "...",
    api_key_env = "VLLM_KEY", price_in = 5.0e-08, price_out = 2.0e-07>` (prices
    in dollars per token). `api_key_env` names the environment variable that
    holds the key, or is `"none"` for a server that needs none; the key itself
    is never in the IR. `reasoning = false` declares a model that does not
    reason: agents choosing it have one candidate for it, at their smallest budget.
    """

    name = "flow.model"

    provider: StringAttr
    api_base: StringAttr | NoneAttr
    api_key_env: StringAttr | NoneAttr
    price_in: FloatData | NoneAttr
    price_out: FloatData | NoneAttr
    reasoning_: BoolAttr | NoneAttr

    @property
    def reasoning(self) -> bool:
        """Whether a reasoning budget can change what the model does (absent: yes)."""
        return not isinstance(self.reasoning_, IntegerAttr) or bool(self.reasoning_.value.data)

    def verify(self) -> None:
        if not self.provider.data:
            raise VerifyException("provider model string must not be empty")
        if isinstance(self.api_key_env, StringAttr) and not _ENV_NAME.fullmatch(self.api_key_env.data):
            raise VerifyException("api_key_env must name an environment variable (or be \"none\")")
        check_range("price_in", self.price_in)
        check_range("price_out", self.price_out)


#: Sampling temperatures every provider litellm reaches accepts at most.
MAX_TEMPERATURE = 2.0


@irdl_attr_definition
class SamplingAttr(KeywordStructAttr):
    """How one agent's replies are sampled; every field optional.

    `#flow.sampling<temperature = 0.7, top_p = 0.9, max_tokens = 256, seed = 7,
    stop = ["\n\n"]>`. Absent fields take the runtime's defaults (temperature
    0, or a replica temperature inside a replicated fork; the service's own
    limit, seed and stops).
    """

    name = "flow.sampling"

    temperature: FloatData | NoneAttr
    top_p: FloatData | NoneAttr
    max_tokens: IntAttr | NoneAttr
    seed: IntAttr | NoneAttr
    stop_: ArrayAttr[StringAttr] | NoneAttr

    @property
    def stop(self) -> list[str] | None:
        return None if isinstance(self.stop_, NoneAttr) else string_list(self.stop_)

    def verify(self) -> None:
        check_range("temperature", self.temperature, 0.0, MAX_TEMPERATURE)
        check_range("top_p", self.top_p, 0.0, 1.0)
        if isinstance(self.top_p, FloatData) and self.top_p.data == 0.0:
            raise VerifyException("top_p must be in (0, 1], got 0.0")
        check_range("max_tokens", self.max_tokens, 1)
        check_range("seed", self.seed)
        if (stop := self.stop) is not None:
            if not stop or any(not text for text in stop):
                raise VerifyException("stop must be a non-empty list of non-empty strings")
            _check_choices("stop", stop)


FloatList = DenseArrayBase[Float64Type]
IntList = DenseArrayBase[I64]


@irdl_attr_definition
class ProfileAttr(KeywordStructAttr):
    """What profiling measured for one agent under one configuration.

    acc is the success rate on `acc_n` profiling inputs, lat the mean and
    lat_p95 the 95th percentile latency in seconds, tok_in/tok_out mean tokens
    per call, cost mean dollars per call; rec is the recovery rate (a correct
    output from a wrong input) measured on `rec_n` perturbed inputs, mixed the
    success rate on `mixed_n` mixed inputs (right, but with an output they
    were derived from wrong: a checker's right answer beside a wrong plan). On an
    aggregator (an agent reading fork results), `by_right[j]` is the success
    rate on `by_right_n[j]` inputs in which exactly j of its proposals are right.
    What a fork's latency (its slowest branch) needs: inside a replicated fork,
    `lat_max[k-1]` estimates the expected maximum latency of k calls on one
    input, k = 1..K (K: the most replicas the forks around it run); at the end
    of one branch of a fork of several, `lat_q` is the latency distribution in
    equal-probability atoms (each the mean of its quantile bin, ascending).
    Per query, in the order of the workflow's `profiled` query ids, for
    estimates that compose agents query by query (correlated difficulty):
    `hits[q]` counts its right calls on a right input ('.': none measured), of
    `hits_k` calls (default 1), and `rec_hits[q]` ('0', '1' or '.') whether
    its first call on a wrong input was right; on an aggregator, `level_hits`
    holds one such string of single calls per level j = 0..n, joined by '|'.
    """

    name = "flow.profile"

    acc: FloatData
    acc_n: IntAttr
    lat: FloatData
    lat_p95: FloatData | NoneAttr
    tok_in: FloatData | NoneAttr
    tok_out: FloatData | NoneAttr
    cost: FloatData | NoneAttr
    rec: FloatData | NoneAttr
    rec_n: IntAttr | NoneAttr
    mixed: FloatData | NoneAttr
    mixed_n: IntAttr | NoneAttr
    by_right: FloatList | NoneAttr
    by_right_n: IntList | NoneAttr
    lat_max: FloatList | NoneAttr
    lat_q: FloatList | NoneAttr
    hits: StringAttr | NoneAttr
    hits_k: IntAttr | NoneAttr
    rec_hits: StringAttr | NoneAttr
    level_hits: StringAttr | NoneAttr

    def verify(self) -> None:
        check_range("acc", self.acc, 0.0, 1.0)
        check_range("rec", self.rec, 0.0, 1.0)
        check_range("mixed", self.mixed, 0.0, 1.0)
        _check_hits(self)
        for name in ("acc_n", "lat", "lat_p95", "tok_in", "tok_out", "cost", "rec_n", "mixed_n"):
            check_range(name, getattr(self, name))
        if (self.get("mixed") is None) != (self.get("mixed_n") is None):
            raise VerifyException("mixed and mixed_n go together: give both or neither")
        rates, counts = list_values(self.by_right), list_values(self.by_right_n)
        if (rates is None) != (counts is None):
            raise VerifyException("by_right and by_right_n go together: give both or neither")
        if rates is not None and counts is not None:
            if not rates or len(rates) != len(counts):
                raise VerifyException(
                    f"by_right and by_right_n need one entry per level, the same number: "
                    f"got {len(rates)} and {len(counts)}"
                )
            check_list("by_right", rates, 0.0, 1.0)
            check_list("by_right_n", counts)
        _check_latencies(self)


@irdl_attr_definition
class EstimateAttr(KeywordStructAttr):
    """A proxy estimate: success probability (with its interval), latency,
    cost, the recovery rate on a wrong input and the success rate on a mixed
    one (`#flow.profile`'s `mixed`). On an aggregator `by_right[j]`
    is its success probability when j of its proposals are right, non-decreasing
    in j (the proxy's rule and the exactness of the search rely on that).
    `lat_max[k-1]` is the expected latency of the slowest of k replicas
    (non-decreasing, from `lat` at k = 1), `lat_q` the latency distribution
    in ascending equal-probability atoms, as in `#flow.profile`."""

    name = "flow.estimate"

    acc: FloatData
    lat: FloatData
    acc_lo: FloatData | NoneAttr
    acc_hi: FloatData | NoneAttr
    cost: FloatData | NoneAttr
    rec: FloatData | NoneAttr
    mixed: FloatData | NoneAttr
    by_right: FloatList | NoneAttr
    lat_max: FloatList | NoneAttr
    lat_q: FloatList | NoneAttr

    def verify(self) -> None:
        for name in ("acc", "acc_lo", "acc_hi", "rec", "mixed"):
            check_range(name, getattr(self, name), 0.0, 1.0)
        check_range("lat", self.lat)
        check_range("cost", self.cost)
        curve = list_values(self.by_right)
        if curve is not None:
            if not curve:
                raise VerifyException("by_right needs at least one level")
            check_list("by_right", curve, 0.0, 1.0)
            for j in range(1, len(curve)):
                if curve[j] < curve[j - 1]:
                    raise VerifyException(
                        f"by_right must be non-decreasing (more right proposals never hurt): "
                        f"by_right[{j}] = {curve[j]} < by_right[{j - 1}] = {curve[j - 1]}"
                    )
        _check_latencies(self, ordered=("lat_max", "lat_q"))


def _check_hits(profile: ProfileAttr) -> None:
    """`hits` digits up to `hits_k` (or '.'); `rec_hits` and `level_hits`
    levels of '0', '1' or '.', each as long as `hits` when both are given."""
    hits, k, levels = profile.get("hits"), profile.get("hits_k"), profile.get("level_hits")
    rec = profile.get("rec_hits")
    if isinstance(rec, str):
        if bad := [c for c in rec if c not in "01."]:
            raise VerifyException(f"rec_hits: '{bad[0]}' is not '0', '1' or '.'")
        if isinstance(hits, str) and len(rec) != len(hits):
            raise VerifyException("rec_hits needs one entry per profiling query, as hits has")
    if k is not None and (hits is None or not 1 <= k <= 9):
        raise VerifyException("hits_k needs hits and counts 1 to 9 calls per query")
    if isinstance(hits, str):
        top = str(k or 1)
        if bad := [c for c in hits if not (c == "." or "0" <= c <= top)]:
            raise VerifyException(f"hits: '{bad[0]}' is not '.' or a count of right calls from 0 to {top}")
    if isinstance(levels, str):
        rows = levels.split("|")
        if bad := [c for c in levels if c not in "01.|"]:
            raise VerifyException(f"level_hits: '{bad[0]}' is not '0', '1', '.' or the level separator '|'")
        if len({len(r) for r in rows}) != 1 or (isinstance(hits, str) and len(rows[0]) != len(hits)):
            raise VerifyException("level_hits: every level needs one entry per profiling query, as hits has")
        counts = list_values(profile.by_right_n)
        if counts is not None and len(counts) != len(rows):
            raise VerifyException(f"level_hits has {len(rows)} levels, by_right_n {len(counts)}")


def _check_latencies(
    attr: ProfileAttr | EstimateAttr, ordered: Sequence[str] = ("lat_q",)
) -> None:
    """`lat_max` and `lat_q`, when given: latencies (>= 0), at least one, and
    non-decreasing where `ordered` names them (atoms ascend; the slowest of
    k + 1 replicas is never faster, in expectation, than the slowest of k)."""
    for name, values in (("lat_max", list_values(attr.lat_max)), ("lat_q", list_values(attr.lat_q))):
        if values is None:
            continue
        if not values:
            raise VerifyException(f"{name} needs at least one entry")
        check_list(name, values)
        if name in ordered:
            for j in range(1, len(values)):
                if values[j] < values[j - 1]:
                    raise VerifyException(
                        f"{name} must be non-decreasing: {name}[{j}] = {values[j]} < "
                        f"{name}[{j - 1}] = {values[j - 1]}"
                    )


@irdl_attr_definition
class PointAttr(KeywordStructAttr):
    """One workflow configuration with its estimate (and measurements, if any).

    `acc`/`lat` are the estimate the set is ranked by. After `validate` that
    combines the proxy's estimate (kept as `proxy_acc`/`proxy_lat`) with
    `val_acc`/`val_lat` measured end to end on `val_n` validation queries;
    `measured_acc`/`measured_lat` are held-out measurements (`evaluate`).
    `assign` maps agent names to `#flow.config`s (or `"skip"` for a skipped
    optional agent), and structure knobs (`answer.samples`, `final.max_iters`)
    to integers.
    """

    name = "flow.point"

    acc: FloatData
    lat: FloatData
    cost: FloatData | NoneAttr
    proxy_acc: FloatData | NoneAttr
    proxy_lat: FloatData | NoneAttr
    val_acc: FloatData | NoneAttr
    val_lat: FloatData | NoneAttr
    val_n: IntAttr | NoneAttr
    measured_acc: FloatData | NoneAttr
    measured_lat: FloatData | NoneAttr
    assign_: Attribute

    @property
    def assign(self) -> Mapping[str, Attribute]:
        assert isinstance(self.assign_, DictionaryAttr)
        return self.assign_.data

    def verify(self) -> None:
        for name in ("acc", "proxy_acc", "val_acc", "measured_acc"):
            check_range(name, getattr(self, name), 0.0, 1.0)
        for name in ("lat", "proxy_lat", "val_lat", "measured_lat", "cost", "val_n"):
            check_range(name, getattr(self, name))
        if not isinstance(self.assign_, DictionaryAttr):
            raise VerifyException("assign must be a dictionary")
        if set(map(type, self.assign_.data.values())) <= _PLAIN_LABELS:  # a frontier holds many points: be quick
            return
        for key, value in self.assign.items():
            if type(value) in _PLAIN_LABELS:
                continue
            skip = isinstance(value, StringAttr) and value.data == SKIP
            if not (skip or isinstance(value, ConfigAttr | IntegerAttr)):
                raise VerifyException(
                    f"assign['{key}'] must be a #flow.config, \"skip\" or an integer knob"
                )


_PLAIN_LABELS = frozenset({ConfigAttr, IntegerAttr})
"""The label types a point's assign usually holds (a skip is a StringAttr)."""


# Ops ------------------------------------------------------------------------


def _print_operand_list(printer: Printer, operands: Sequence[SSAValue]) -> None:
    printer.print_string("(")
    printer.print_list(operands, printer.print_operand)
    printer.print_string(")")


def _parse_operand_list(parser: Parser) -> list[SSAValue]:
    return parser.parse_comma_separated_list(
        parser.Delimiter.PAREN, lambda: _parse_msg_operand(parser)
    )


def _print_regions(printer: Printer, regions: Sequence[Region]) -> None:
    for region in regions:
        printer.print_string(" ")
        printer.print_region(region, print_entry_block_args=False)


def _parse_msg_operand(parser: Parser) -> SSAValue:
    return parser.resolve_operand(parser.parse_unresolved_operand(), msg)


def _terminator_operands(region: Region, kind: type[Operation]) -> Sequence[SSAValue]:
    block = region.block
    last = block.last_op
    if not isinstance(last, kind):
        raise VerifyException(f"each region must end with {kind.name}")
    return last.operands


PRESET_RANGES: Mapping[str, tuple[float, float]] = {
    "max_latency": (0.0, float("inf")),
    "min_acc": (0.0, 1.0),
    "weight": (0.0, 1.0),
}
"""The fields a workflow preset may give and their ranges (flowcompile.selection.Preference)."""


def _verify_preset(name: str, fields: Attribute) -> None:
    if not isinstance(fields, DictionaryAttr) or not fields.data:
        raise VerifyException(f"preset '{name}' must be a non-empty dictionary of {', '.join(PRESET_RANGES)}")
    for key, value in fields.data.items():
        if key not in PRESET_RANGES:
            raise VerifyException(f"preset '{name}': unknown field '{key}' (fields: {', '.join(PRESET_RANGES)})")
        low, high = PRESET_RANGES[key]
        if not isinstance(value, FloatAttr) or not low <= value.value.data <= high:
            shown = f"in [{low:g}, {high:g}]" if high < float("inf") else f">= {low:g}"
            raise VerifyException(f"preset '{name}': {key} must be a float {shown}")


@irdl_op_definition
class WorkflowOp(IRDLOperation):
    """A workflow: a symbol with one region from its inputs to its outputs.

    ```mlir
    flow.workflow @chain(%q: !flow.msg) -> !flow.msg attributes {pool = {...}, presets = {cheap = {max_latency = 5.0}}} {
      %0 = flow.agent @solver(%q) {role = "solver", models = ["m"], budgets = [0]}
      flow.return %0
    }
    ```

    `presets` names selections of a compiled point (`run --preset cheap`), each a
    dictionary of `max_latency`, `min_acc` and `weight` (see flowcompile.selection).
    """

    name = "flow.workflow"

    sym_name = prop_def(SymbolNameConstraint())
    function_type = prop_def(FunctionType)
    pool = opt_prop_def(DictionaryAttr)
    presets = opt_prop_def(DictionaryAttr)
    body = region_def("single_block")

    traits = traits_def(SymbolOpInterface())

    def __init__(
        self,
        name: str,
        num_inputs: int,
        num_outputs: int,
        body: Region,
        pool: Mapping[str, ModelAttr] | None = None,
        presets: Mapping[str, Mapping[str, float]] | None = None,
    ):
        props: dict[str, Attribute] = {
            "sym_name": StringAttr(name),
            "function_type": FunctionType.from_lists(
                [msg] * num_inputs, [msg] * num_outputs
            ),
        }
        if pool is not None:
            props["pool"] = DictionaryAttr(dict(pool))
        if presets:
            props["presets"] = DictionaryAttr({
                preset: DictionaryAttr({k: FloatAttr(v, 64) for k, v in fields.items()})
                for preset, fields in presets.items()
            })
        super().__init__(properties=props, regions=[body])

    @property
    def agents(self) -> Iterator[StepOp]:
        """The steps with configurations, agents and tools, in walk order."""
        for op in self.walk():
            if isinstance(op, AgentOp | ToolOp):
                yield op

    def distinct_agents(self) -> list[StepOp]:
        """Each agent and tool once, at its first site: a shared agent's sites
        are one agent with one configuration, measured once."""
        first: dict[str, StepOp] = {}
        for op in self.agents:
            first.setdefault(op.agent_name, op)
        return list(first.values())

    def model_pool(self) -> Mapping[str, ModelAttr]:
        return self.pool.data if self.pool else {}  # pyright: ignore[reportReturnType]

    def preset_fields(self) -> dict[str, dict[str, float]]:
        """The presets, by name: the fields each gives (verified: floats in range)."""
        presets = self.presets.data if self.presets else {}
        return {
            name: {k: v.value.data for k, v in fields.data.items()}  # pyright: ignore
            for name, fields in presets.items()
        }

    def verify_(self) -> None:
        ftype = self.function_type
        if any(t != msg for t in (*ftype.inputs, *ftype.outputs)):
            raise VerifyException("workflow inputs and outputs must be !flow.msg")
        if tuple(self.body.block.arg_types) != tuple(ftype.inputs):
            raise VerifyException(
                f"entry block has {len(self.body.block.args)} arguments, "
                f"the signature {len(ftype.inputs)} inputs"
            )
        if not isinstance(self.body.block.last_op, ReturnOp):
            raise VerifyException("workflow body must end with flow.return")
        for name, model in self.model_pool().items():
            if not isinstance(model, ModelAttr):
                raise VerifyException(f"pool entry '{name}' must be a #flow.model")
        for name, fields in (self.presets.data if self.presets else {}).items():
            _verify_preset(name, fields)
        seen: dict[str, Operation] = {}
        for op in self.walk():
            if isinstance(op, AgentOp | ToolOp):
                name = op.agent_name
            elif isinstance(op, _StructureOp) and op.region_name:
                name = op.region_name
            else:
                continue
            first = seen.setdefault(name, op)
            if first is not op:
                if not (isinstance(op, AgentOp) and isinstance(first, AgentOp)):
                    raise VerifyException(f"@{name} is defined twice in the workflow")
                verify_shared_site(first, op)

    def knobs(self) -> dict[str, list[int]]:
        """Structure knobs by key (`answer.samples`) with their choices."""
        found: dict[str, list[int]] = {}
        for op in self.walk():
            if isinstance(op, _StructureOp) and (key := op.knob_key):
                found[key] = int_values(op.properties[op.KNOB])  # pyright: ignore
        return found

    def print(self, printer: Printer) -> None:
        printer.print_string(" ")
        printer.print_symbol_name(self.sym_name.data)
        with printer.in_parens():
            printer.print_list(self.body.block.args, printer.print_block_argument)
        if outputs := self.function_type.outputs.data:
            printer.print_string(" -> ")
            printer.print_list(outputs, printer.print_attribute)
        print_op_dict(printer, self, keyword="attributes", skip=("sym_name", "function_type"))
        printer.print_string(" ")
        printer.print_region(self.body, print_entry_block_args=False)

    @classmethod
    def parse(cls, parser: Parser) -> WorkflowOp:
        name = parser.parse_symbol_name()
        args = parser.parse_comma_separated_list(parser.Delimiter.PAREN, parser.parse_argument)
        outputs: list[Attribute] = []
        if parser.parse_optional_punctuation("->"):
            outputs = parser.parse_comma_separated_list(parser.Delimiter.NONE, parser.parse_type)
        props, attrs = parse_op_dict(parser, cls, keyword="attributes")
        body = parser.parse_region(args)
        signature = FunctionType.from_lists([a.type for a in args], outputs)
        return cls.create(
            properties={"sym_name": name, "function_type": signature, **props},
            attributes=attrs,
            regions=[body],
        )


@irdl_op_definition
class AgentOp(IRDLOperation):
    """One sub-agent call; its choice space is the cross product models x budgets.

    ```mlir
    %1 = flow.agent @solver(%q, %0) {role = "solver", prompt = "Solve {q} by {plan}",
        args = ["q", "plan"], models = ["qwen3-1.7b", "qwen3-8b"], budgets = [0, 1024]}
    ```

    `args` names the inputs for the prompt template's `{placeholders}`;
    `recovery` is the chance to succeed on a wrong input; `optional` makes
    skipping the agent part of the space and says what a skip produces:
    `optional = "pass"` passes its single input on (a checker or reviser), or
    with several inputs the one `passes` gives the index of (an ensemble
    switched off: one proposal flows on; see `_verify_optional`),
    `optional = "absent"` produces no value (a proposer of a fork: the vote
    or aggregator reading the branch runs over the present ones; see
    `verify_absent`); `sampling` (a `#flow.sampling`) is how its replies are sampled.
    Profiling adds `wrong_agree`: how often two wrong answers of the agent to
    the same input agree, over `wrong_agree_n` pairs; and `judged` when its
    profiles' `acc` is not a success rate by the reference answers:
    `"reference output"`, agreement with the reference run's output (a plan, a route).
    """

    name = "flow.agent"

    inputs = var_operand_def(MsgType)
    output = result_def(MsgType)
    sym_name = prop_def(SymbolNameConstraint())
    role = prop_def(StringAttr)
    prompt = opt_prop_def(StringAttr)
    args = opt_prop_def(ArrayAttr[StringAttr])
    models = prop_def(ArrayAttr[StringAttr])
    budgets = prop_def(DenseArrayBase)
    recovery = opt_prop_def(FloatAttr)
    optional = opt_prop_def(StringAttr | UnitAttr)
    passes = opt_prop_def(IntegerAttr)
    sampling = opt_prop_def(SamplingAttr)

    DICT: ClassVar[OpDictSpec] = OpDictSpec(
        int_arrays=frozenset({"budgets"}), floats=frozenset({"recovery", "wrong_agree"})
    )

    def __init__(
        self,
        name: str,
        inputs: Sequence[SSAValue | Operation],
        role: str,
        models: Sequence[str],
        budgets: Sequence[int],
        prompt: str | None = None,
        recovery: float | None = None,
        optional: str | None = None,
        args: Sequence[str] | None = None,
        sampling: SamplingAttr | None = None,
        passes: int | None = None,
    ):
        props: dict[str, Attribute] = {
            "sym_name": StringAttr(name),
            "role": StringAttr(role),
            "models": ArrayAttr([StringAttr(m) for m in models]),
            "budgets": int_array(budgets),
        }
        if prompt is not None:
            props["prompt"] = StringAttr(prompt)
        if args is not None:
            props["args"] = ArrayAttr([StringAttr(a) for a in args])
        if recovery is not None:
            props["recovery"] = FloatAttr(recovery, 64)
        if optional is not None:
            props["optional"] = StringAttr(optional)
        if passes is not None:
            props["passes"] = IntegerAttr(passes, i64)
        if sampling is not None:
            props["sampling"] = sampling
        super().__init__(operands=[inputs], result_types=[msg], properties=props)

    @property
    def agent_name(self) -> str:
        return self.sym_name.data

    @property
    def model_names(self) -> list[str]:
        return string_list(self.models)

    @property
    def skip_mode(self) -> str | None:
        """What skipping the agent produces (`SKIP_PASS`, `SKIP_ABSENT`), or
        None for an agent that always runs."""
        return self.optional.data if isinstance(self.optional, StringAttr) else None

    @property
    def passed_index(self) -> int | None:
        """The operand a skip passes on (`optional = "pass"`), or None."""
        if self.skip_mode != SKIP_PASS:
            return None
        return self.passes.value.data if self.passes is not None else 0

    @property
    def budget_values(self) -> list[int]:
        return int_values(self.budgets)

    def budgets_of(self, model: str) -> list[int]:
        """The budgets `model` is a candidate at: all of them, or only the
        smallest for a model its pool declares `reasoning = false`."""
        entry = self._pool().get(model)
        if entry is not None and not entry.reasoning:
            return [min(self.budget_values)]
        return self.budget_values

    def candidates(self) -> list[ConfigAttr]:
        """The candidate configurations, models major, in declaration order."""
        return [ConfigAttr.of(m, b) for m in self.model_names for b in self.budgets_of(m)]

    def _pool(self) -> Mapping[str, ModelAttr]:
        """The pool of the enclosing workflow (empty outside one, or without a pool)."""
        workflow = self.parent_op()
        while workflow is not None and not isinstance(workflow, WorkflowOp):
            workflow = workflow.parent_op()
        return workflow.model_pool() if workflow is not None and workflow.pool is not None else {}

    def per_candidate(self, table: str, kind: type[AttributeT]) -> list[AttributeT | None]:
        """Each candidate's entry of the `table` dictionary attribute (`profiles`,
        `estimates`), in candidate order; None where it has none."""
        found = self.attributes.get(table)
        entries = found.data if isinstance(found, DictionaryAttr) else {}
        return [
            e if isinstance(e := entries.get(c.key), kind) else None for c in self.candidates()
        ]

    def verify_(self) -> None:
        if not self.inputs:
            raise VerifyException(f"agent @{self.agent_name} has no inputs")
        if not self.agent_name:
            raise VerifyException("agent name must not be empty")
        _check_choices(f"agent @{self.agent_name}: models", self.model_names)
        if self.budgets.elt_type != i64:
            raise VerifyException("budgets must be an array of i64")
        _check_choices(f"agent @{self.agent_name}: budgets", self.budget_values)
        for budget in self.budget_values:
            check_range(f"agent @{self.agent_name}: budget", budget)
        if self.recovery is not None:
            check_range("recovery", self.recovery.value.data, 0.0, 1.0)
        self._verify_prompt()
        self._verify_optional()
        verify_present_inputs(self, f"agent @{self.agent_name}")
        self._verify_models_in_pool()
        self._verify_profiles()
        verify_wrong_agree(self, f"agent @{self.agent_name}")
        judged = self.attributes.get("judged")
        if judged is not None and not (isinstance(judged, StringAttr) and judged.data in JUDGES):
            raise VerifyException(f"agent @{self.agent_name}: judged must be one of {', '.join(map(repr, JUDGES))}")

    def _verify_optional(self) -> None:
        if self.passes is not None and self.skip_mode != SKIP_PASS:
            raise VerifyException(f'agent @{self.agent_name}: passes says which input a skip passes on; it needs optional = "pass"')
        if self.optional is None:
            return
        if self.skip_mode not in SKIP_MODES:
            raise VerifyException(
                f"agent @{self.agent_name}: optional says what a skip produces: "
                'optional = "pass" (its one input passes on) or optional = "absent" (no value)'
            )
        if self.skip_mode == SKIP_PASS:
            self._verify_passes()
        if self.skip_mode == SKIP_ABSENT:
            verify_absent(self)

    def _verify_passes(self) -> None:
        """`passes`: given with several inputs, the index of one that is an
        answer always present (not an `optional = "absent"` branch; a
        replicated fork's samples pass their first sample on)."""
        what = f'agent @{self.agent_name}: optional = "pass"'
        if self.passes is None:
            if len(self.inputs) != 1:
                raise VerifyException(
                    f"{what} with {len(self.inputs)} inputs needs passes = <index>: the input a skip "
                    'passes on; optional = "absent" produces no value'
                )
            return
        index = self.passes.value.data
        if not 0 <= index < len(self.inputs):
            raise VerifyException(f"{what}: passes = {index} is not the index of an input (it has {len(self.inputs)})")
        value = self.inputs[index]
        if absent_branch(value) is not None:
            raise VerifyException(f'{what}: input {index} is an optional = "absent" branch and may be no value')
        if is_verdict(value):
            raise VerifyException(f"{what}: input {index} is a loop's verdict, not an answer")

    @property
    def arg_names(self) -> list[str] | None:
        return string_list(self.args) if self.args is not None else None

    def placeholders(self) -> list[str]:
        """The `{name}` fields of the prompt template."""
        if self.prompt is None:
            return []
        try:
            fields = [f for _, f, _, _ in string.Formatter().parse(self.prompt.data) if f]
        except ValueError as e:
            raise VerifyException(f"agent @{self.agent_name}: bad prompt template: {e}")
        return fields

    def _verify_prompt(self) -> None:
        args = self.arg_names
        if args is not None:
            if len(args) != len(self.inputs):
                raise VerifyException(
                    f"agent @{self.agent_name}: {len(args)} args for {len(self.inputs)} inputs"
                )
            _check_choices(f"agent @{self.agent_name}: args", args)
        for field in self.placeholders():
            if args is None or field not in args:
                raise VerifyException(
                    f"agent @{self.agent_name}: prompt placeholder {{{field}}} names no "
                    "input (args = [...] names them)"
                )

    def _verify_models_in_pool(self) -> None:
        pool = self._pool()
        if not pool:
            return
        for model in self.model_names:
            if model not in pool:
                raise VerifyException(
                    f"agent @{self.agent_name}: model '{model}' is not in the "
                    f"workflow's pool ({', '.join(pool)})"
                )

    def _verify_profiles(self) -> None:
        profiles = self.attributes.get("profiles")
        if profiles is None:
            return
        if not isinstance(profiles, DictionaryAttr):
            raise VerifyException("profiles must be a dictionary")
        keys = {c.key for c in self.candidates()}
        for key, profile in profiles.data.items():
            if key not in keys:
                raise VerifyException(
                    f"agent @{self.agent_name}: profile for '{key}', which is not "
                    "one of its candidate configurations"
                )
            if not isinstance(profile, ProfileAttr):
                raise VerifyException(f"profiles['{key}'] must be a #flow.profile")

    def print(self, printer: Printer) -> None:
        printer.print_string(" ")
        printer.print_symbol_name(self.agent_name)
        _print_operand_list(printer, self.inputs)
        print_op_dict(printer, self, self.DICT)

    @classmethod
    def parse(cls, parser: Parser) -> AgentOp:
        name = parser.parse_symbol_name()
        inputs = _parse_operand_list(parser)
        props, attrs = parse_op_dict(parser, cls, cls.DICT)
        return cls.create(
            operands=inputs,
            result_types=[msg],
            properties={"sym_name": name, **props},
            attributes=attrs,
        )


TOOL_MODEL_PREFIX = "tool:"
"""A tool's one configuration is `#flow.config<model = "tool:<name>", budget = 0>`:
the trace, profiles and points treat it as an agent with a single candidate."""


@irdl_op_definition
class ToolOp(IRDLOperation):
    """A deterministic, non-LLM step, a Python tool registered by name.

    ```mlir
    %a = flow.tool @extract(%s) {tool = "extract_answer", params = {number = true}}
    ```

    It reads like an agent with one configuration (`tool:<name>` at budget 0)
    so profiling, composition and search need no case of their own; `params`
    (strings, integers, floats) configure the tool. Whether `tool` names a
    registered tool is checked where tools are known (`flowcompile.steps`),
    not by the dialect, which knows none.
    """

    name = "flow.tool"

    inputs = var_operand_def(MsgType)
    output = result_def(MsgType)
    sym_name = prop_def(SymbolNameConstraint())
    tool = prop_def(StringAttr)
    params = opt_prop_def(DictionaryAttr)


    def __init__(
        self,
        name: str,
        inputs: Sequence[SSAValue | Operation],
        tool: str,
        params: Mapping[str, str | int | float | bool] | None = None,
    ):
        props: dict[str, Attribute] = {"sym_name": StringAttr(name), "tool": StringAttr(tool)}
        if params:
            props["params"] = DictionaryAttr({k: _param_attr(v) for k, v in params.items()})
        super().__init__(operands=[inputs], result_types=[msg], properties=props)

    @property
    def agent_name(self) -> str:
        return self.sym_name.data

    @property
    def recovery(self) -> None:
        """What an agent reads as its recovery rate, sampling, skip mode: a tool has none."""
        return None

    optional = sampling = prompt = arg_names = skip_mode = passed_index = recovery

    @property
    def tool_name(self) -> str:
        return self.tool.data

    def param_values(self) -> dict[str, str | int | float | bool]:
        """The params as Python values (verified: strings, integers, floats, booleans)."""
        found: dict[str, str | int | float | bool] = {}
        for key, value in (self.params.data if self.params else {}).items():
            if isinstance(value, StringAttr):
                found[key] = value.data
            elif isinstance(value, FloatAttr):
                found[key] = value.value.data
            elif isinstance(value, IntegerAttr):
                data = value.value.data
                found[key] = bool(data) if value.type == i1 else data
        return found

    @property
    def model_names(self) -> list[str]:
        return [TOOL_MODEL_PREFIX + self.tool_name]

    @property
    def budget_values(self) -> list[int]:
        return [0]

    def budgets_of(self, model: str) -> list[int]:
        return [0]

    def candidates(self) -> list[ConfigAttr]:
        """Its one configuration."""
        return [ConfigAttr.of(self.model_names[0], 0)]

    def per_candidate(self, table: str, kind: type[AttributeT]) -> list[AttributeT | None]:
        """Its one configuration's entry of `table` (None when it has none)."""
        found = self.attributes.get(table)
        entry = found.data.get(self.candidates()[0].key) if isinstance(found, DictionaryAttr) else None
        return [entry if isinstance(entry, kind) else None]

    def verify_(self) -> None:
        if not self.inputs:
            raise VerifyException(f"tool @{self.agent_name} has no inputs")
        if not self.tool_name:
            raise VerifyException(f"tool @{self.agent_name}: tool must name a registered tool, not be empty")
        for key, value in (self.params.data if self.params else {}).items():
            if not isinstance(value, StringAttr | IntegerAttr | FloatAttr):
                raise VerifyException(
                    f"tool @{self.agent_name}: params['{key}'] must be a string, integer or float"
                )
        profiles = self.attributes.get("profiles")
        if profiles is None:
            return
        key = self.candidates()[0].key
        if not isinstance(profiles, DictionaryAttr):
            raise VerifyException("profiles must be a dictionary")
        for found, profile in profiles.data.items():
            if found != key:
                raise VerifyException(f"tool @{self.agent_name}: profile for '{found}'; its one configuration is '{key}'")
            if not isinstance(profile, ProfileAttr):
                raise VerifyException(f"profiles['{found}'] must be a #flow.profile")

    def print(self, printer: Printer) -> None:
        printer.print_string(" ")
        printer.print_symbol_name(self.agent_name)
        _print_operand_list(printer, self.inputs)
        print_op_dict(printer, self)

    @classmethod
    def parse(cls, parser: Parser) -> ToolOp:
        name = parser.parse_symbol_name()
        inputs = _parse_operand_list(parser)
        props, attrs = parse_op_dict(parser, cls)
        return cls.create(
            operands=inputs,
            result_types=[msg],
            properties={"sym_name": name, **props},
            attributes=attrs,
        )


StepOp: TypeAlias = AgentOp | ToolOp
"""A step of a workflow that has configurations: an agent or a tool."""


def _param_attr(value: str | int | float | bool) -> Attribute:
    if isinstance(value, bool):
        return IntegerAttr.from_bool(value)
    if isinstance(value, int):
        return IntegerAttr(value, i64)
    if isinstance(value, float):
        return FloatAttr(value, 64)
    return StringAttr(value)


SHARED_FIELDS = ("role", "prompt", "models", "budgets", "recovery", "optional", "sampling")
"""What the sites of a shared agent (one name, several `flow.agent` ops) agree
on: one agent, one configuration per point, called at each site."""


def verify_shared_site(first: AgentOp, site: AgentOp) -> None:
    """A second site of agent `first` is the same call on other inputs."""
    for field in SHARED_FIELDS:
        if first.properties.get(field) != site.properties.get(field):
            raise VerifyException(
                f"@{first.agent_name} is called at several sites (a shared agent), which must agree on "
                f"{field}: every site is one agent with one configuration"
            )


def is_verdict(value: SSAValue) -> bool:
    """Whether `value` is the verdict of a loop (what its `flow.until` judges)."""
    return any(isinstance(use.operation, UntilOp) and use.index == 0 for use in value.uses)


def absent_branch(value: SSAValue) -> AgentOp | None:
    """The agent with `optional = "absent"` whose skip leaves `value` (a fork
    result) without a value, or None for a value that is always present."""
    owner = value.owner
    if not isinstance(owner, ForkOp) or not isinstance(value, OpResult):
        return None
    last = owner.branches[value.index].block.last_op
    if not isinstance(last, YieldOp) or len(last.values) != 1:
        return None
    source = last.values[0].owner
    return source if isinstance(source, AgentOp) and source.skip_mode == SKIP_ABSENT else None


def verify_absent(agent: AgentOp) -> None:
    """Where an agent that a skip leaves without a value may stand: alone in a
    branch of a fork without `samples`, that branch's result read once, by an
    agent (an aggregator, as a proposal) or a vote. Its absence then ends at
    that reader, which the verifiers of agents and votes keep with at least
    one proposal that always runs (`verify_present_inputs`)."""
    what = f'agent @{agent.agent_name}: optional = "absent"'
    fork = agent.parent_op()
    block = agent.parent_block()
    if not isinstance(fork, ForkOp) or block is None:
        raise VerifyException(f"{what} needs the agent to be a branch of a flow.fork (its skip leaves the branch without a value)")
    ops = list(block.ops)
    if len(ops) != 2 or ops[0] is not agent or not isinstance(ops[1], YieldOp) or tuple(ops[1].operands) != (agent.output,):
        raise VerifyException(f"{what} needs the agent alone in its fork branch, the value the branch yields")
    if fork.samples is not None:
        raise VerifyException(f"{what} is not allowed in a fork with samples (every replica would be absent)")
    index = next(i for i, region in enumerate(fork.branches) if region.block is block)
    uses = list(fork.res[index].uses)
    if len(uses) != 1 or not isinstance(uses[0].operation, AgentOp | VoteOp):
        raise VerifyException(f"{what} needs its branch's result read exactly once, by an agent or a vote")


def verify_present_inputs(op: Operation, what: str) -> None:
    """A vote, or an agent reading fork results, keeps at least one of those
    that always runs: when every input may be absent it could have nothing to
    combine (refused here rather than defined at run time)."""
    forked = [v for v in op.operands if isinstance(v.owner, ForkOp)] if isinstance(op, AgentOp) else list(op.operands)
    absent = [a.agent_name for v in forked if (a := absent_branch(v)) is not None]
    if absent and len(absent) == len(forked):
        names = ", ".join(f"@{n}" for n in absent)
        raise VerifyException(
            f"{what}: every proposal may be absent ({names} {'has' if len(absent) == 1 else 'have'} "
            'optional = "absent"); at least one must always run'
        )


JUDGED_BY_REFERENCE_OUTPUT = "reference output"
"""An agent's `judged`: its profiles' `acc` is agreement with the reference
run's output, not a success rate (its outputs are plans or routes, which no
reference answer judges)."""
JUDGES = (JUDGED_BY_REFERENCE_OUTPUT,)


def verify_wrong_agree(op: Operation, what: str) -> None:
    """`wrong_agree` (a rate in [0, 1]) and `wrong_agree_n` (a pair count >= 0),
    where present, on an agent (measured) or a vote (the rule's parameter)."""
    rate = op.attributes.get("wrong_agree")
    if rate is not None:
        if not isinstance(rate, FloatAttr):
            raise VerifyException(f"{what}: wrong_agree must be a float")
        check_range(f"{what}: wrong_agree", rate.value.data, 0.0, 1.0)
    pairs = op.attributes.get("wrong_agree_n")
    if pairs is not None:
        if not isinstance(pairs, IntegerAttr):
            raise VerifyException(f"{what}: wrong_agree_n must be an integer")
        check_range(f"{what}: wrong_agree_n", pairs.value.data)


def _check_choices(what: str, values: Sequence[object]) -> None:
    if not values:
        raise VerifyException(f"{what}: the choice space is empty")
    if len(set(values)) != len(values):
        raise VerifyException(f"{what}: duplicate choices")


def _check_int_choices(what: str, attr: DenseArrayBase | None, low: int) -> None:
    if attr is None:
        return
    if attr.elt_type != i64:
        raise VerifyException(f"{what} must be an array of i64")
    values = array_values(attr)
    _check_choices(what, values)
    for value in values:
        check_range(what, value, low)


@irdl_op_definition
class YieldOp(IRDLOperation):
    """Ends a fork or switch branch with the value(s) it produces."""

    name = "flow.yield"

    values = var_operand_def(msg)

    traits = lazy_traits_def(lambda: (IsTerminator(), HasParent(ForkOp, SwitchOp)))

    assembly_format = "$values attr-dict"

    def __init__(self, *values: SSAValue | Operation):
        super().__init__(operands=[values])


class _StructureOp(IRDLOperation):
    """An op with regions and an optional name (`flow.fork @answer ...`).

    The name keys the op's structure knob in a `#flow.point`'s `assign`
    (`answer.samples`, `final.max_iters`); it shares the agents' namespace.
    """

    DICT: ClassVar[OpDictSpec]
    KNOB: ClassVar[str | None] = None

    @property
    def region_name(self) -> str | None:
        name = self.properties.get("sym_name")
        return name.data if isinstance(name, StringAttr) else None

    @property
    def knob_key(self) -> str | None:
        """The key of this op's structure knob, when it has one."""
        if self.KNOB is None or self.KNOB not in self.properties or not self.region_name:
            return None
        return f"{self.region_name}.{self.KNOB}"

    def _verify_knob_named(self) -> None:
        if self.KNOB in self.properties and not self.region_name:
            raise VerifyException(
                f"{self.name} with a {self.KNOB} knob needs a name "
                f"({self.name} @name ...) to key it in configurations"
            )

    def _print_name(self, printer: Printer) -> None:
        if self.region_name:
            printer.print_string(" ")
            printer.print_symbol_name(self.region_name)

    @staticmethod
    def _parse_name(parser: Parser) -> dict[str, Attribute]:
        name = parser.parse_optional_symbol_name()
        return {} if name is None else {"sym_name": name}

    def _regions_yield(self, regions: Sequence[Region], per_region: int) -> None:
        for index, region in enumerate(regions):
            values = _terminator_operands(region, YieldOp)
            if len(values) != per_region:
                raise VerifyException(
                    f"region #{index} yields {len(values)} value(s), expected {per_region}"
                )


@irdl_op_definition
class ForkOp(_StructureOp):
    """Parallel branches; each region yields one message, latency is the slowest.

    ```mlir
    %a, %b = flow.fork @proposals {
      %0 = flow.agent @p1(%q) {...}
      flow.yield %0
    } {
      %1 = flow.agent @p2(%q) {...}
      flow.yield %1
    }
    ```

    With one region and `samples = [1, 3, 5]` the branch is replicated: the
    number of samples, all under the same configuration, is a structure knob.
    """

    name = "flow.fork"

    branches = var_region_def("single_block")
    res = var_result_def(MsgType)
    sym_name = opt_prop_def(SymbolNameConstraint())
    samples = opt_prop_def(DenseArrayBase)

    DICT: ClassVar[OpDictSpec] = OpDictSpec(int_arrays=frozenset({"samples"}))
    KNOB: ClassVar[str | None] = "samples"

    def __init__(
        self,
        branches: Sequence[Region],
        samples: Sequence[int] | None = None,
        name: str | None = None,
    ):
        props: dict[str, Attribute] = {}
        if name is not None:
            props["sym_name"] = StringAttr(name)
        if samples is not None:
            props["samples"] = int_array(samples)
        super().__init__(
            result_types=[[msg] * len(branches)], regions=[branches], properties=props
        )

    def verify_(self) -> None:
        if not self.branches:
            raise VerifyException("a fork needs at least one branch")
        if len(self.res) != len(self.branches):
            raise VerifyException(
                f"a fork has one result per branch: {len(self.branches)} branches, "
                f"{len(self.res)} results"
            )
        self._regions_yield(self.branches, 1)
        if self.samples is not None and len(self.branches) != 1:
            raise VerifyException("samples is only allowed on a single-branch fork")
        _check_int_choices("samples", self.samples, 1)
        self._verify_knob_named()

    def print(self, printer: Printer) -> None:
        self._print_name(printer)
        print_op_dict(printer, self, self.DICT, keyword="attributes")
        _print_regions(printer, self.branches)

    @classmethod
    def parse(cls, parser: Parser) -> ForkOp:
        name = cls._parse_name(parser)
        props, attrs = parse_op_dict(parser, cls, cls.DICT, keyword="attributes")
        regions: list[Region] = []
        while (region := parser.parse_optional_region()) is not None:
            regions.append(region)
        return cls.create(
            result_types=[msg] * len(regions),
            regions=regions,
            properties={**name, **props},
            attributes=attrs,
        )


@irdl_op_definition
class VoteOp(IRDLOperation):
    """A non-LLM aggregator: the most common answer of its inputs
    (self-consistency; ties go to the earliest input).

    `%v = flow.vote(%a, %b, %c) {method = "majority"}`

    `compose` adds the proxy's `wrong_agree`: how often two wrong inputs agree.
    """

    name = "flow.vote"

    inputs = var_operand_def(MsgType)
    output = result_def(MsgType)
    method = prop_def(StringAttr)

    METHODS: ClassVar[tuple[str, ...]] = ("majority",)
    DICT: ClassVar[OpDictSpec] = OpDictSpec(floats=frozenset({"wrong_agree"}))

    def __init__(self, inputs: Sequence[SSAValue | Operation], method: str = "majority"):
        super().__init__(
            operands=[inputs],
            result_types=[msg],
            properties={"method": StringAttr(method)},
        )

    def verify_(self) -> None:
        if not self.inputs:
            raise VerifyException("a vote needs at least one input")
        if self.method.data not in self.METHODS:
            raise VerifyException(
                f"unknown vote method '{self.method.data}' (known: {', '.join(self.METHODS)})"
            )
        verify_wrong_agree(self, "flow.vote")
        verify_present_inputs(self, "flow.vote")

    def print(self, printer: Printer) -> None:
        _print_operand_list(printer, self.inputs)
        print_op_dict(printer, self, self.DICT)

    @classmethod
    def parse(cls, parser: Parser) -> VoteOp:
        inputs = _parse_operand_list(parser)
        props, attrs = parse_op_dict(parser, cls, cls.DICT)
        return cls.create(
            operands=inputs, result_types=[msg], properties=props, attributes=attrs
        )


@irdl_op_definition
class SwitchOp(_StructureOp):
    """A conditional: the router's output `%route` picks one labelled branch.

    ```mlir
    %r = flow.switch %route attributes {probs = [0.7, 0.3]}
        case "math" { ... flow.yield %x } case "code" { ... flow.yield %y }
    ```

    `probs`, the branch probabilities, come from profiling.
    """

    name = "flow.switch"

    route = operand_def(MsgType)
    res = var_result_def(MsgType)
    sym_name = opt_prop_def(SymbolNameConstraint())
    labels = prop_def(ArrayAttr[StringAttr])
    cases = var_region_def("single_block")

    DICT: ClassVar[OpDictSpec] = OpDictSpec(float_arrays=frozenset({"probs"}))

    def __init__(
        self,
        route: SSAValue | Operation,
        cases: Mapping[str, Region],
        num_results: int = 1,
        name: str | None = None,
    ):
        props: dict[str, Attribute] = {} if name is None else {"sym_name": StringAttr(name)}
        props["labels"] = ArrayAttr([StringAttr(k) for k in cases])
        super().__init__(
            operands=[route],
            result_types=[[msg] * num_results],
            regions=[list(cases.values())],
            properties=props,
        )

    @property
    def label_names(self) -> list[str]:
        return string_list(self.labels)

    def branch_probs(self) -> list[float] | None:
        probs = self.attributes.get("probs")
        return [float(p) for p in probs.iter_values()] if isinstance(probs, DenseArrayBase) else None

    def verify_(self) -> None:
        labels = self.label_names
        if len(labels) != len(self.cases):
            raise VerifyException(
                f"{len(labels)} labels for {len(self.cases)} cases"
            )
        _check_choices("switch labels", labels)
        self._regions_yield(self.cases, len(self.res))
        probs = self.attributes.get("probs")
        if probs is None:
            return
        if not isinstance(probs, DenseArrayBase):
            raise VerifyException("probs must be a list of floats")
        values = array_values(probs)
        if len(values) != len(labels):
            raise VerifyException(f"{len(values)} probs for {len(labels)} cases")
        for p in values:
            check_range("branch probability", p, 0.0, 1.0)
        if abs(sum(values) - 1.0) > 1e-6:
            raise VerifyException(f"branch probabilities sum to {sum(values):g}, not 1")

    def print(self, printer: Printer) -> None:
        self._print_name(printer)
        printer.print_string(" ")
        printer.print_operand(self.route)
        print_op_dict(printer, self, self.DICT, keyword="attributes", skip=("sym_name", "labels"))
        for label, region in zip(self.label_names, self.cases, strict=False):
            printer.print_string(" case ")
            printer.print_string_literal(label)
            printer.print_string(" ")
            printer.print_region(region, print_entry_block_args=False)

    @classmethod
    def parse(cls, parser: Parser) -> SwitchOp:
        start = parser.pos
        name = cls._parse_name(parser)
        route = _parse_msg_operand(parser)
        props, attrs = parse_op_dict(parser, cls, cls.DICT, keyword="attributes")
        labels: list[StringAttr] = []
        regions: list[Region] = []
        while parser.parse_optional_keyword("case"):
            labels.append(StringAttr(parser.parse_str_literal()))
            regions.append(parser.parse_region())
        if not regions:
            parser.raise_error("expected at least one 'case \"label\" { ... }'", start)
        num_results = len(_terminator_operands_or_empty(regions[0]))
        return cls.create(
            operands=[route],
            result_types=[msg] * num_results,
            regions=regions,
            properties={"labels": ArrayAttr(labels), **name, **props},
            attributes=attrs,
        )


def _terminator_operands_or_empty(region: Region) -> Sequence[SSAValue]:
    block = region.blocks.first
    if block is None or block.last_op is None:
        return ()
    return block.last_op.operands if isinstance(block.last_op, YieldOp) else ()


@irdl_op_definition
class LoopOp(_StructureOp):
    """A bounded refine loop over carried messages.

    ```mlir
    %out = flow.loop @refine iter(%cur = %draft) attributes {max_iters = [1, 2, 3]} {
      %c = flow.agent @critic(%cur) {...}
      %r = flow.agent @reviser(%cur, %c) {...}
      flow.until %c, %r
    }
    ```

    Each iteration judges the carried messages: `flow.until %verdict, %next`
    ends the loop with the carried messages when the verdict approves, and
    otherwise carries `%next` into the next iteration; after `max_iters`
    rejections the loop ends with the last `%next`. Only what the verdict
    depends on runs before the judgement. `max_iters` is a structure knob;
    0 runs no iteration (the carried messages are the loop's results as they
    came in: no verdict, no revision), so at least one choice must be positive.
    """

    name = "flow.loop"

    init = var_operand_def(MsgType)
    res = var_result_def(MsgType)
    sym_name = opt_prop_def(SymbolNameConstraint())
    max_iters = prop_def(DenseArrayBase)
    body = region_def("single_block")

    DICT: ClassVar[OpDictSpec] = OpDictSpec(
        int_arrays=frozenset({"max_iters", "revised", "fixed"}), floats=frozenset({"pass_rate", "iters"})
    )
    KNOB: ClassVar[str | None] = "max_iters"

    def __init__(
        self,
        init: Sequence[SSAValue | Operation],
        max_iters: Sequence[int],
        body: Region,
        name: str | None = None,
    ):
        props: dict[str, Attribute] = {} if name is None else {"sym_name": StringAttr(name)}
        props["max_iters"] = int_array(max_iters)
        super().__init__(
            operands=[init],
            result_types=[[msg] * len(init)],
            regions=[body],
            properties=props,
        )

    @property
    def max_iter_values(self) -> list[int]:
        return int_values(self.max_iters)

    @property
    def revision_rounds(self) -> tuple[list[int], list[int]] | None:
        """(revised, fixed) per round, as `profile` measured them on the
        reference run: wrong drafts revised in round k, and of them fixed."""
        revised, fixed = self.attributes.get("revised"), self.attributes.get("fixed")
        if not isinstance(revised, DenseArrayBase) or not isinstance(fixed, DenseArrayBase):
            return None
        return int_values(revised), int_values(fixed)

    def verify_(self) -> None:
        if not self.init:
            raise VerifyException("a loop carries at least one message")
        if len(self.res) != len(self.init):
            raise VerifyException("a loop has one result per carried message")
        block = self.body.block
        if len(block.args) != len(self.init):
            raise VerifyException(
                f"loop body has {len(block.args)} arguments for {len(self.init)} "
                "carried messages"
            )
        _check_int_choices("max_iters", self.max_iters, 0)
        if max(self.max_iter_values) == 0:
            raise VerifyException("max_iters are all 0: the loop never runs its body (drop the loop, or allow a positive count)")
        self._verify_knob_named()
        values = _terminator_operands(self.body, UntilOp)
        if len(values) != 1 + len(self.init):
            raise VerifyException(
                f"flow.until passes {len(values) - 1} message(s), the loop carries "
                f"{len(self.init)}"
            )
        for name, high in (("pass_rate", 1.0), ("iters", max(self.max_iter_values))):
            if (value := self.attributes.get(name)) is not None:
                if not isinstance(value, FloatAttr):
                    raise VerifyException(f"{name} must be a float")
                check_range(name, value.value.data, 0.0, float(high))
        self._verify_revision_rounds()

    def _verify_revision_rounds(self) -> None:
        present = [name for name in ("revised", "fixed") if name in self.attributes]
        if not present:
            return
        if len(present) == 1:
            raise VerifyException(f"'{present[0]}' needs its partner: 'revised' and 'fixed' go together")
        for name in present:
            if not isinstance(self.attributes[name], DenseArrayBase):
                raise VerifyException(f"{name} must be an array of integers")
        rounds = self.revision_rounds
        assert rounds is not None
        revised, fixed = rounds
        if len(revised) != len(fixed) or len(revised) > max(self.max_iter_values):
            raise VerifyException(
                f"'revised' and 'fixed' give one count per round, at most {max(self.max_iter_values)}"
            )
        for round_, (r, k) in enumerate(zip(revised, fixed), start=1):
            if not 0 <= k <= r:
                raise VerifyException(f"round {round_}: fixed {k} of {r} revised; need 0 <= fixed <= revised")

    def print(self, printer: Printer) -> None:
        self._print_name(printer)
        printer.print_string(" iter")
        with printer.in_parens():
            pairs = zip(self.body.block.args, self.init, strict=True)
            printer.print_list(pairs, lambda pair: print_assignment(printer, *pair))
        print_op_dict(printer, self, self.DICT, keyword="attributes")
        printer.print_string(" ")
        printer.print_region(self.body, print_entry_block_args=False)

    @classmethod
    def parse(cls, parser: Parser) -> LoopOp:
        name = cls._parse_name(parser)
        parser.parse_keyword("iter")
        pairs = parser.parse_comma_separated_list(
            parser.Delimiter.PAREN, lambda: parse_assignment(parser)
        )
        init = [parser.resolve_operand(value, msg) for _, value in pairs]
        props, attrs = parse_op_dict(parser, cls, cls.DICT, keyword="attributes")
        body = parser.parse_region([arg.resolve(msg) for arg, _ in pairs])
        return cls.create(
            operands=init,
            result_types=[msg] * len(pairs),
            regions=[body],
            properties={**name, **props},
            attributes=attrs,
        )


@irdl_op_definition
class UntilOp(IRDLOperation):
    """Ends a loop body: a verdict, then the messages for the next iteration."""

    name = "flow.until"

    verdict = operand_def(msg)
    next_values = var_operand_def(msg)

    traits = traits_def(IsTerminator(), HasParent(LoopOp))

    assembly_format = "$verdict (`,` $next_values^)? attr-dict"

    def __init__(self, verdict: SSAValue | Operation, *next_values: SSAValue | Operation):
        super().__init__(operands=[verdict, next_values])


@irdl_op_definition
class ReturnOp(IRDLOperation):
    """Ends a workflow with its output message(s)."""

    name = "flow.return"

    values = var_operand_def(msg)

    traits = traits_def(IsTerminator(), HasParent(WorkflowOp))

    assembly_format = "$values attr-dict"

    def __init__(self, *values: SSAValue | Operation):
        super().__init__(operands=[values])

    def verify_(self) -> None:
        workflow = self.parent_op()
        assert isinstance(workflow, WorkflowOp)
        expected = len(workflow.function_type.outputs)
        if len(self.values) != expected:
            raise VerifyException(
                f"returns {len(self.values)} value(s), the workflow declares {expected}"
            )


@irdl_op_definition
class ConfigSetOp(IRDLOperation):
    """The compiled artifact: Pareto-optimal configurations of a workflow.

    `flow.config_set @chain_pareto for @chain {points = [#flow.point<...>, ...]}`
    """

    name = "flow.config_set"

    sym_name = prop_def(SymbolNameConstraint())
    workflow = prop_def(SymbolRefAttr)
    points = prop_def(ArrayAttr[PointAttr])

    traits = traits_def(SymbolOpInterface())

    assembly_format = "$sym_name `for` $workflow attr-dict"

    irdl_options = (ParsePropInAttrDict(),)

    def __init__(self, name: str, workflow: str, points: Sequence[PointAttr]):
        super().__init__(
            properties={
                "sym_name": StringAttr(name),
                "workflow": SymbolRefAttr(workflow),
                "points": ArrayAttr(points),
            }
        )

    def verify_(self) -> None:
        module = self.parent_op()
        target = (
            SymbolTable.lookup_symbol(module, self.workflow) if module is not None else None
        )
        if not isinstance(target, WorkflowOp):
            raise VerifyException(
                f"unknown workflow {self.workflow.root_reference.data!r}"
                if target is None
                else f"@{self.workflow.root_reference.data} is not a flow.workflow"
            )
        agents = {a.agent_name: a for a in target.agents}
        knobs = target.knobs()
        for index, point in enumerate(self.points):
            for key, value in point.assign.items():
                if isinstance(value, IntegerAttr):
                    if key not in knobs:
                        raise VerifyException(f"point #{index} sets unknown knob '{key}'")
                    if value.value.data not in knobs[key]:
                        raise VerifyException(
                            f"point #{index}: {key} = {value.value.data} is not one of "
                            f"its choices {knobs[key]}"
                        )
                    continue
                agent = agents.get(key)
                if agent is None:
                    raise VerifyException(
                        f"point #{index} assigns unknown agent '{key}'"
                    )
                if isinstance(value, StringAttr):
                    if agent.optional is None:
                        raise VerifyException(
                            f"point #{index} skips @{key}, which is not optional"
                        )
                    continue
                assert isinstance(value, ConfigAttr)
                if value.key not in {c.key for c in agent.candidates()}:
                    raise VerifyException(
                        f"point #{index}: {value.key} is not a candidate of @{key}"
                    )


def new_block_region(*ops: Operation, arg_count: int = 0) -> Region:
    """A single-block region holding `ops`, with `arg_count` !flow.msg arguments."""
    block = Block(arg_types=[msg] * arg_count)
    block.add_ops(ops)
    return Region(block)


Flow = Dialect(
    "flow",
    [
        WorkflowOp,
        AgentOp,
        ToolOp,
        ForkOp,
        VoteOp,
        SwitchOp,
        LoopOp,
        UntilOp,
        YieldOp,
        ReturnOp,
        ConfigSetOp,
    ],
    [
        MsgType,
        ConfigAttr,
        ModelAttr,
        SamplingAttr,
        ProfileAttr,
        EstimateAttr,
        PointAttr,
    ],
)
