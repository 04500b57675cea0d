"""The world file of the SIMULATED backend: models, roles, query population, faults.

A world is a YAML file validated by the pydantic models below (unknown keys are
errors). `load_world(path)` reports any problem as a one-line `WorldError`:
`<path>: <field.path>: <reason>`. Numbers here drive a simulation, not a real
service; `default_world.yaml` documents where each calibration comes from, and
`correlated_world.yaml` is the same pool with different interaction parameters.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from importlib import resources
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

Kind = Literal["plan", "answer", "verdict", "route"]
_NAME_PATTERN = r"^[a-z0-9][a-z0-9._-]*$"


class WorldError(ValueError):
    """A world file that cannot be read or does not validate."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ReasoningCurve(_Strict):
    """How a reasoning budget helps: capability + gain * log1p(budget / scale)."""

    gain: float = Field(0.5, ge=0, description="logits gained per unit of log1p(budget/scale)")
    scale: float = Field(1024.0, gt=0, description="budget (tokens) at which the gain reaches gain*log(2)")
    usage: float = Field(0.7, gt=0, le=1, description="mean fraction of the budget actually spent")
    usage_sd: float = Field(0.25, ge=0, description="lognormal spread of the spent fraction")
    max_budget: int | None = Field(None, ge=0, description="budgets above this are clipped")

    def gain_at(self, budget: int) -> float:
        """Logit gain of a `budget` (after clipping)."""
        return self.gain * math.log1p(self.clip(budget) / self.scale)

    def clip(self, budget: int) -> int:
        """The budget the model can actually use."""
        budget = max(0, budget)
        return budget if self.max_budget is None else min(budget, self.max_budget)


class ModelSpec(_Strict):
    """One model of the pool."""

    name: str = Field(pattern=_NAME_PATTERN)
    provider_model: str | None = None
    params_b: float | None = Field(None, gt=0, description="informational: parameters (billions)")
    capability: float = Field(description="logit-scale skill with thinking off")
    ttft_s: float = Field(gt=0, description="time to first token for a short prompt (s)")
    prefill_tok_per_s: float = Field(20000.0, gt=0, description="prompt tokens processed per second")
    decode_tok_per_s: float = Field(gt=0, description="single-stream decode speed (tokens/s)")
    price_in: float = Field(ge=0, description="$ per input token")
    price_out: float = Field(ge=0, description="$ per output (and reasoning) token")
    price_out_thinking: float | None = Field(None, ge=0, description="$ per output token when budget > 0")
    reasoning: ReasoningCurve = ReasoningCurve()

    def output_price(self, budget: int) -> float:
        """$ per output token for a call with this budget."""
        if budget > 0 and self.price_out_thinking is not None:
            return self.price_out_thinking
        return self.price_out


class RoleSpec(_Strict):
    """How an agent of one role behaves."""

    kind: Kind = "answer"
    output_tokens: int = Field(300, gt=0, description="mean visible output tokens")
    output_tokens_sd: float = Field(0.3, ge=0, description="lognormal spread of output tokens")
    difficulty: float = Field(0.0, description="logit offset added to the query difficulty")
    recovery: float = Field(0.1, ge=0, le=1, description="P(success) when an upstream input is wrong")
    upstream_bonus: float = Field(0.0, description="logit bonus when all (>=1) upstream inputs are right")
    reasoning_weight: float = Field(1.0, ge=0, description="multiplies the model's reasoning gain")
    false_accept: float = Field(0.2, ge=0, le=1, description="verdicts: P(approve | wrong) at margin 0")
    false_reject: float = Field(0.1, ge=0, le=1, description="verdicts: P(reject | right) at margin 0")
    judge_slope: float = Field(0.5, ge=0, description="how fast FA/FR fall (selection rises) per logit of margin")
    aggregate: bool = Field(False, description="answer kind: select among input answers")
    selection: float = Field(0.7, ge=0, le=1, description="aggregators: P(spot the right input) at margin 0")
    recovery_slope: float = Field(
        0.0,
        ge=0,
        description=(
            "logits of recovery gained per logit of margin (0: recovery is flat); a repairer reading a failed "
            "test fixes more of them with a larger model or budget"
        ),
    )
    aggregate_rule: Literal["select", "plurality"] = Field(
        "select",
        description=(
            "aggregators, when the right input is not spotted: 'select' still lands on a right one in "
            "proportion to how many are right; 'plurality' takes the most common input answer"
        ),
    )


class QuerySpec(_Strict):
    """The query population: shared latent difficulty plus per-agent noise."""

    difficulty_mean: float = 0.0
    difficulty_sd: float = Field(1.0, ge=0)
    agent_noise_sd: float = Field(0.5, ge=0)
    route_categories: int = Field(4, ge=1)
    route_names: list[str] | None = None
    distractors: int = Field(3, ge=1, le=64, description="wrong values per (query, kind)")

    @model_validator(mode="after")
    def _names_match(self) -> QuerySpec:
        if self.route_names is not None:
            if len(self.route_names) != self.route_categories:
                raise ValueError(
                    f"route_names has {len(self.route_names)} entries but route_categories is {self.route_categories}"
                )
            for n in self.route_names:
                if not n or any(c in n for c in ":<> \t\n"):
                    raise ValueError(f"route name {n!r} must be non-empty without ':', '<', '>' or spaces")
            if len(set(self.route_names)) != len(self.route_names):
                raise ValueError("route_names must be distinct")
        return self

    def routes(self) -> list[str]:
        """The route category names."""
        if self.route_names is not None:
            return list(self.route_names)
        defaults = ["math", "code", "science", "writing", "trivia", "planning"]
        return [defaults[i] if i < len(defaults) else f"cat{i}" for i in range(self.route_categories)]


class ProgramSpec(_Strict):
    """What a code task's programs are: one right solution and its usual bugs."""

    solution: str = Field(min_length=1, description="Python source of a right answer")
    bugs: list[str] = Field(min_length=1, description="Python sources of wrong answers; some pass weak tests")

    @field_validator("solution", "bugs")
    @classmethod
    def _python(cls, value: str | list[str]) -> str | list[str]:
        sources = {"": value} if isinstance(value, str) else {f"entry {i}: ": v for i, v in enumerate(value)}
        for where, source in sources.items():
            try:
                compile(source, "<program>", "exec")
            except SyntaxError as e:
                raise ValueError(f"{where}not Python: {e.msg} (line {e.lineno})") from None
        return value


class TaskSpec(_Strict):
    """A task family of queries, picked by the query id's prefix (`math-00042`).

    It changes only what its own queries' answers look like and how hard they
    are: queries of other ids (`q00042`) draw exactly as before."""

    answer: Literal["number", "words", "program"] = Field(
        description="number: an integer (math); words: a short entity or yes/no (multi-hop QA); program: code"
    )
    difficulty: float = Field(0.0, description="logit offset added to the task's query difficulty")
    max_number: int = Field(1000, ge=10, description="number answers: drawn from [0, max_number)")
    yes_no: float = Field(0.0, ge=0, le=1, description="words answers: share of yes/no (comparison) questions")
    program: ProgramSpec | None = Field(None, description="program answers: the right program and its bugs")

    @model_validator(mode="after")
    def _program_given(self) -> TaskSpec:
        if (self.answer == "program") != (self.program is not None):
            raise ValueError("program is required for answer: program, and only there")
        return self


class FaultSpec(_Strict):
    """Transport fault rates per call (all 0 by default)."""

    rate_limit: float = Field(0.0, ge=0, le=1)
    server_error: float = Field(0.0, ge=0, le=1)
    timeout: float = Field(0.0, ge=0, le=1)
    malformed: float = Field(0.0, ge=0, le=1)
    timeout_s: float = Field(60.0, gt=0, description="latency reported for a timed-out call")

    @model_validator(mode="after")
    def _sum_at_most_one(self) -> FaultSpec:
        if self.total > 1.0 + 1e-12:
            raise ValueError(f"fault rates sum to {self.total:g} > 1")
        return self

    @property
    def total(self) -> float:
        """Probability that a call faults at all."""
        return self.rate_limit + self.server_error + self.timeout + self.malformed


class World(_Strict):
    """A complete simulated world."""

    name: str = "sim"
    description: str = ""
    seed: int = 0
    models: list[ModelSpec] = Field(min_length=1)
    roles: dict[str, RoleSpec] = Field(default_factory=dict)
    queries: QuerySpec = QuerySpec()
    tasks: dict[str, TaskSpec] = Field(default_factory=dict, description="task families by query id prefix")
    faults: FaultSpec = FaultSpec()
    latency_noise_sd: float = Field(0.15, ge=0, description="lognormal spread of latency")
    chars_per_token: float = Field(4.0, gt=0)

    @field_validator("models")
    @classmethod
    def _unique_models(cls, models: list[ModelSpec]) -> list[ModelSpec]:
        seen: set[str] = set()
        for m in models:
            if m.name in seen:
                raise ValueError(f"duplicate model name {m.name!r}")
            seen.add(m.name)
        return models

    @field_validator("roles")
    @classmethod
    def _lowercase_roles(cls, roles: dict[str, RoleSpec]) -> dict[str, RoleSpec]:
        for key in roles:
            if key != key.lower() or not key:
                raise ValueError(f"role name {key!r} must be lowercase and non-empty")
        return roles

    @field_validator("tasks")
    @classmethod
    def _task_names(cls, tasks: dict[str, TaskSpec]) -> dict[str, TaskSpec]:
        for key in tasks:
            # `q` ids (q00042, q5-00042) are the generic population: a task may not claim them
            if not key.isalpha() or key != key.lower() or key == "q":
                raise ValueError(f"task name {key!r} must be lowercase letters, not 'q'")
        return tasks

    def task_of(self, query: str) -> TaskSpec | None:
        """The task of query id `query` (its prefix before '-'), if the world has it."""
        prefix, dash, _ = query.partition("-")
        return self.tasks.get(prefix) if dash else None

    def model(self, name: str) -> ModelSpec:
        """The model called `name` (case-insensitive); ValueError listing the pool if absent."""
        key = name.lower()
        for m in self.models:
            if m.name == key:
                return m
        raise ValueError(f"unknown model {name!r}; the simulated pool has: {', '.join(self.model_names())}")

    def model_names(self) -> list[str]:
        """Pool names in file order."""
        return [m.name for m in self.models]

    def role(self, name: str) -> RoleSpec:
        """The spec of role `name`, else the `default` role, else built-in defaults."""
        return self.roles.get(name.lower()) or self.roles.get("default") or RoleSpec()


def default_world_path() -> Path:
    """The packaged `default_world.yaml` (the simulated Qwen3 pool)."""
    return Path(str(resources.files("flowcompile.sim").joinpath("default_world.yaml")))


def correlated_world_path() -> Path:
    """The packaged `correlated_world.yaml`: the same simulated Qwen3 pool with
    other interaction parameters (stronger shared difficulty, plurality aggregator)."""
    return Path(str(resources.files("flowcompile.sim").joinpath("correlated_world.yaml")))


def parse_world(data: Mapping[str, Any], source: str = "<world>") -> World:
    """Validate a world from already-parsed data; WorldError names the field path."""
    if not isinstance(data, Mapping):
        raise WorldError(f"{source}: <root>: expected a mapping, got {type(data).__name__}")
    try:
        return World.model_validate(dict(data))
    except ValidationError as exc:
        raise WorldError(_one_line(source, exc)) from None


def load_world(path: str | Path) -> World:
    """Read and validate a world YAML file."""
    source = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise WorldError(f"{source}: <file>: {exc.strerror or exc}") from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}" if mark is not None else "<yaml>"
        reason = getattr(exc, "problem", None) or str(exc)
        raise WorldError(f"{source}: {where}: invalid YAML: {reason}".replace("\n", " ")) from None
    return parse_world(data if data is not None else {}, source)


def _one_line(source: str, exc: ValidationError) -> str:
    errors = exc.errors()
    first = errors[0]
    loc = ".".join(str(p) for p in first["loc"]) or "<root>"
    msg = str(first["msg"]).removeprefix("Value error, ")
    more = f" (+{len(errors) - 1} more)" if len(errors) > 1 else ""
    return f"{source}: {loc}: {msg}{more}".replace("\n", " ")
