"""The YAML workflow spec, validated by pydantic.

```yaml
workflow: chain
models:                                  # the pool: name -> litellm model
  qwen3-8b: {litellm: hosted_vllm/Qwen/Qwen3-8B, api_base: "http://127.0.0.1:8000/v1",
             price_in: 5.0e-8, price_out: 2.0e-7}
defaults: {models: [qwen3-8b], budgets: [0, 1024], max_tokens: 512}
agents:                                  # role, prompt template, inputs, choice space
  planner: {role: planner, prompt: "Plan how to answer: {query}", temperature: 0.3}
  solver:  {role: solver, inputs: [query, planner]}
steps: [planner, solver]                 # the structure, in order
```

A step is an agent name, or a structure block (`fork`, `switch`, `loop`)
whose branches are lists of steps. Each step produces a named value: an agent
step the agent's name, a block its `as`. An agent's `inputs` name values in
scope (workflow inputs, earlier steps); they default to the previous step.
"""

from __future__ import annotations

import string
from typing import Annotated, Any, Literal, Union

from pydantic import (
    BaseModel,
    ConfigDict,
    Discriminator,
    Field,
    NonNegativeFloat,
    PositiveInt,
    Tag,
    field_validator,
)

from flowcompile.selection import Preference

NonNegativeInt = Annotated[int, Field(ge=0)]
Name = Annotated[str, Field(min_length=1, pattern=r"^[A-Za-z_][A-Za-z0-9_.$-]*$")]
#: An environment variable's name, or `none` (no key needed). The pattern rejects
#: most pasted keys (`sk-...` has a dash), so a key is not stored by mistake.
KeyEnv = Annotated[str, Field(pattern=r"^[A-Za-z_][A-Za-z0-9_]*$", max_length=128)]


#: `optional: {pass: <input>}`: the one input, by name, that a skip passes on.
PassInput = Annotated[dict[Literal["pass"], Name], Field(min_length=1, max_length=1)]


class Strict(BaseModel):
    # strict: a spec says what it means; `budgets: [true]` is not [1], `optional: 1` not true.
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)


class ModelSpec(Strict):
    """One model of the pool, under the name agents choose it by."""

    litellm: str = Field(
        min_length=1,
        description="The model as litellm names it (`provider/model`, e.g. "
        "`hosted_vllm/Qwen/Qwen3-8B`, `openai/gpt-4o-mini`). The sim backend "
        "ignores it and answers by the pool name.",
    )
    api_base: str | None = Field(None, description="The endpoint litellm calls (an OpenAI-compatible server's `/v1` URL).")
    api_key_env: KeyEnv | None = Field(
        None,
        description="The environment variable holding the key (read at call time, never written "
        "anywhere), or `none`: the server needs no key (a local llama.cpp, vLLM or Ollama server; "
        "a placeholder is sent). Default: litellm's own variable for the provider "
        "(`OPENAI_API_KEY`, ...). The key itself never goes in a spec.",
    )
    price_in: NonNegativeFloat | None = Field(None, description="Dollars per input token, for cost estimates.")
    price_out: NonNegativeFloat | None = Field(None, description="Dollars per output token, for cost estimates.")
    reasoning: bool = Field(
        True,
        description="`false`: the model does not reason (a budget changes nothing it does), so "
        "agents choosing it profile it at their smallest budget only. Profiling warns about a "
        "model whose budgets showed no effect.",
    )


#: The bound litellm's providers share (OpenAI takes [0, 2], Anthropic [0, 1]).
MAX_TEMPERATURE = 2.0


# How an agent's replies are sampled. An agent's unset field takes `defaults:`'s,
# then the service's own (temperature 0, greedy, unless the agent is replicated).
Temperature = Annotated[float | None, Field(
    ge=0.0, le=MAX_TEMPERATURE,
    description="Sampling temperature (0: greedy). Default 0, except in a fork with `samples`, "
    "whose replicas sample at 0.7 so that they differ.",
)]
TopP = Annotated[float | None, Field(gt=0.0, le=1.0, description="Nucleus sampling: the probability mass sampled from.")]
MaxTokens = Annotated[PositiveInt | None, Field(
    description="The most tokens a reply may have (reasoning tokens count too). Default: the service's.",
)]
Seed = Annotated[NonNegativeInt | None, Field(
    description="Sampling seed, added to the run's `--seed`. When sampling (temperature > 0) each "
    "sample of a call gets its own seed (seed + sample index), so replicas differ.",
)]
Stop = Annotated[list[Annotated[str, Field(min_length=1)]] | None, Field(
    min_length=1, max_length=4, description="Up to 4 strings that end a reply (OpenAI's limit), not included in it.",
)]

SAMPLING_FIELDS = ("temperature", "top_p", "max_tokens", "seed", "stop")
"""The sampling fields of an agent and of `defaults:`."""


class ChoiceDefaults(Strict):
    """The choice space and sampling of every agent that does not give its own."""

    models: list[Name] | None = Field(
        None, min_length=1,
        description="Pool names an agent without `models` chooses from (default: the whole pool).",
    )
    budgets: list[NonNegativeInt] | None = Field(
        None, min_length=1,
        description="Reasoning budgets (thinking tokens; 0: no reasoning) an agent without "
        "`budgets` chooses from (default: [0]).",
    )
    temperature: Temperature = None
    top_p: TopP = None
    max_tokens: MaxTokens = None
    seed: Seed = None
    stop: Stop = None


class AgentSpec(Strict):
    """One sub-agent: its role, prompt template, inputs, choice space and sampling."""

    role: Name = Field(
        description="What the agent does (planner, solver, verifier, critic, router, aggregator, ...): "
        "it names the agent's part in the system prompt, and the sim world's behaviour "
        "for it. Verdict roles (verifier, critic) end loops; a router's answer picks a switch case.",
    )
    prompt: str | None = Field(
        None,
        description="The user message, a template whose `{name}` placeholders are the agent's "
        "inputs (`{{` and `}}` for literal braces). Default: the inputs, one after another.",
    )
    inputs: list[Name] | None = Field(
        None, min_length=1,
        description="The values the agent reads: workflow inputs (`query`) and earlier steps, by name. "
        "Default: the previous step's value (in a fork's `combine`, the branches' values).",
    )
    models: list[Name] | None = Field(
        None, min_length=1,
        description="Pool names this agent chooses from, weakest first (default: `defaults.models`). "
        "The last one with the largest budget is the reference configuration profiling starts from.",
    )
    budgets: list[NonNegativeInt] | None = Field(
        None, min_length=1, description="Reasoning budgets this agent chooses from (default: `defaults.budgets`)."
    )
    recovery: float | None = Field(
        None, ge=0.0, le=1.0,
        description="Prior chance that the agent answers right from a wrong input; profiling's "
        "measured rate is shrunk toward it (default: the measured rates pooled).",
    )
    optional: bool | Literal["pass", "absent"] | PassInput = Field(
        False,
        description="The agent may be skipped, a structure choice of the design space; the value "
        "says what a skip produces. `pass`: its one input passes on unchanged (a checker or reviser "
        "of an answer). `{pass: <input>}`: the named input passes on unchanged, for an agent with "
        "several (an ensemble or aggregator switched off: `{pass: detailed_solver}` lets that "
        "proposal flow on; the fork still runs its other branches, and their cost counts). It names "
        "another step's answer: not a workflow input, a loop's verdict, a fork with `samples` or an "
        "`optional: absent` branch. `absent`: no value (a proposer alone in a fork branch: the fork's vote or "
        "aggregator combines the branches that ran; one branch must always run). `true`: `pass`, "
        "where that is unambiguous (one input, another step's answer, not a fork branch of its own).",
    )
    temperature: Temperature = None
    top_p: TopP = None
    max_tokens: MaxTokens = None
    seed: Seed = None
    stop: Stop = None

    @field_validator("optional", mode="before")
    @classmethod
    def _skip(cls, value: object) -> object:
        # one message for a bad value, rather than one per member of the union
        if isinstance(value, dict):
            if list(value) != ["pass"] or not isinstance(value["pass"], str):
                raise ValueError(f"optional as a mapping is {{pass: <input>}} (the input a skip passes on), not {value!r}")
            return value
        if type(value) is not bool and value not in ("pass", "absent"):
            raise ValueError(f"optional is true, false, pass, absent or {{pass: <input>}}, not {value!r}")
        return value

    @field_validator("prompt")
    @classmethod
    def _template(cls, prompt: str | None) -> str | None:
        if prompt is not None:
            check_template(prompt)
        return prompt

    def placeholders(self) -> list[str]:
        """The `{name}` fields of the prompt template."""
        if self.prompt is None:
            return []
        return [f for _, f, _, _ in string.Formatter().parse(self.prompt) if f]


ParamValue = Union[bool, int, float, str]


class ToolSpec(Strict):
    """A tool step: a deterministic Python tool registered by name, called like an agent.

    It has one configuration, so no role, models, budgets, prompt or sampling."""

    tool: Name = Field(
        description="The registered tool it runs: `extract_answer` (the final answer by a regex or as "
        "the last number), `code_test` (a candidate program against tests, as a verdict), or one an "
        "installed package registers under the `flowcompile.tools` entry points.",
    )
    params: dict[Name, ParamValue] = Field(
        default_factory=dict,
        description="The tool's parameters, strings, numbers and booleans: `extract_answer` takes "
        "`pattern` (a regex with one group) or `number: true`; `code_test` takes `tests` (Python "
        "asserts) and `timeout_s` (default 5).",
    )
    inputs: list[Name] | None = Field(
        None, min_length=1,
        description="The values the tool reads, as an agent's `inputs` (its tool reads the last one). "
        "Default: the previous step's value.",
    )

    @field_validator("params", mode="before")
    @classmethod
    def _scalars(cls, params: object) -> object:
        # one message for a bad value, rather than one per member of the union
        if isinstance(params, dict):
            for key, value in params.items():
                if not isinstance(value, bool | int | float | str):
                    raise ValueError(f"params.{key} must be a string, a number or a boolean, not {value!r}")
        return params

    @property
    def prompt(self) -> None:
        """A tool has no prompt template (what the agents' input checks read)."""
        return None

    def placeholders(self) -> list[str]:
        return []


TOOL_TAG, AGENT_TAG = "<tool>", "<agent>"
"""pydantic's tags for the two kinds of `agents:` entry (no name can hold `<`)."""


def entry_kind(entry: Any) -> str:
    """A tool step when the entry gives `tool`, else an agent."""
    if isinstance(entry, ToolSpec) or (isinstance(entry, dict) and "tool" in entry):
        return TOOL_TAG
    return AGENT_TAG


def check_template(prompt: str) -> None:
    """A prompt template holds text and `{name}` placeholders, `{{` and `}}` for
    literal braces; anything else (an unbalanced brace, `{name!r}`, `{name:>8}`)
    is a ValueError, found here rather than when the agent is first called."""
    try:
        fields = list(string.Formatter().parse(prompt))
    except ValueError as e:
        raise ValueError(f"bad prompt template: {e}; write {{{{ and }}}} for literal braces") from None
    for _, name, spec, conversion in fields:
        if name is None:
            continue
        if not name:
            raise ValueError("bad prompt template: '{}' names no input; write {{}} for literal braces")
        if spec or conversion:
            shown = name + (f"!{conversion}" if conversion else "") + (f":{spec}" if spec else "")
            raise ValueError(f"bad prompt template: '{{{shown}}}': placeholders are plain {{name}}")


class ForkBlock(Strict):
    """Parallel branches combined by a vote or by an aggregator agent."""

    as_: Name = Field(alias="as", description="The name of the fork's combined value, for later steps.")
    branches: list[list[Step]] = Field(
        min_length=1, description="The parallel branches, each a list of steps; a branch's value is its last step's, "
        "and later steps read it by that step's name too (a second mixture layer reading each "
        "proposal), except in a fork with `samples` and for an `optional: absent` agent alone in "
        "its branch (it may give no value)."
    )
    samples: list[PositiveInt] | None = Field(
        None, min_length=1,
        description="Run the one branch this many times (self-consistency); several counts make "
        "the number of samples a structure choice.",
    )
    combine: Literal["vote"] | Name = Field(
        "vote",
        description="`vote`: the plurality answer of the branches (`flow.vote`), or the name of an "
        "aggregator agent that reads every branch's value.",
    )


class SwitchBlock(Strict):
    """The output of a router (`route`) picks one labelled case."""

    as_: Name = Field(alias="as", description="The name of the switch's value (the chosen case's), for later steps.")
    route: Name = Field(
        description="The value that picks the case, usually a router agent's: its answer names a "
        "case label (the first case when it names none)."
    )
    cases: dict[Name, list[Step]] = Field(
        min_length=1, description="Case label -> the steps run when the route names that label."
    )


class LoopBlock(Strict):
    """Repeat `body` until the `until` verdict approves, at most `max_iters` times.

    `carry` names the message carried across iterations and its initial value;
    `next` names the value carried into the next iteration.
    """

    as_: Name = Field(alias="as", description="The name of the loop's final value (the carried message), for later steps.")
    carry: dict[Name, Name] = Field(
        min_length=1, max_length=1,
        description="`{name: initial}`: the message carried across iterations, under the name the "
        "body reads it by, and the value it starts from.",
    )
    body: list[Step] = Field(min_length=1, description="The steps of one iteration.")
    until: Name = Field(description="A verdict step of the body: the loop ends when it approves.")
    next: dict[Name, Name] = Field(
        description="`{name: value}`: the body's value carried into the next iteration (and out of "
        "the loop) for each carried name."
    )
    max_iters: list[NonNegativeInt] = Field(
        min_length=1,
        description="The most iterations; several counts make the bound a structure choice. 0 runs no "
        "iteration: the carried value leaves the loop as it came in (no verdict, no revision); at "
        "least one count must be positive.",
    )


class ForkStep(Strict):
    fork: ForkBlock = Field(description="Parallel branches and how they are combined.")


class SwitchStep(Strict):
    switch: SwitchBlock = Field(description="One case of several, chosen by a route value.")


class LoopStep(Strict):
    loop: LoopBlock = Field(description="A body repeated until a verdict approves.")


def step_kind(step: Any) -> str | None:
    """`agent` for a name, else the block's single key (`fork`, `switch`, `loop`)."""
    if isinstance(step, str):
        return "agent"
    if isinstance(step, BaseModel):
        return next(iter(type(step).model_fields))
    if isinstance(step, dict) and len(step) == 1:
        key = next(iter(step))
        return key if key in STEP_KINDS else None
    return None


STEP_KINDS = ("agent", "fork", "switch", "loop")

Step = Annotated[
    Union[
        Annotated[Name, Tag("agent")],
        Annotated[ForkStep, Tag("fork")],
        Annotated[SwitchStep, Tag("switch")],
        Annotated[LoopStep, Tag("loop")],
    ],
    Discriminator(
        step_kind,
        custom_error_type="invalid_step",
        custom_error_message="a step is an agent name or one of {fork: ...}, "
        "{switch: ...}, {loop: ...}",
    ),
]


AgentEntry = Annotated[
    Union[Annotated[AgentSpec, Tag(AGENT_TAG)], Annotated[ToolSpec, Tag(TOOL_TAG)]],
    Discriminator(entry_kind),
]


class WorkflowSpec(Strict):
    """A whole workflow spec file."""

    workflow: Name = Field(description="The workflow's name: `@name` in the IR, `out/<name>/` for `compile`.")
    description: str | None = Field(None, description="A sentence for people; not used by the compiler.")
    inputs: list[Name] = Field(
        default_factory=lambda: ["query"], min_length=1,
        description="The workflow's input messages, by name (each query of a dataset is `query`).",
    )
    models: dict[Name, ModelSpec] = Field(
        min_length=1,
        description="The model pool: pool name -> model. Agents choose models by pool name; with "
        "the sim backend the names must be simulated models.",
    )
    defaults: ChoiceDefaults = Field(
        ChoiceDefaults(), description="The choice space of agents that do not give their own."
    )
    agents: dict[Name, AgentEntry] = Field(
        min_length=1,
        description="Agent name -> agent, or a tool step (an entry giving `tool:`). An agent named by "
        "several steps is a shared agent (one configuration for every site); a tool step is used by "
        "exactly one step.",
    )
    steps: list[Step] = Field(
        min_length=1,
        description="The structure, in order: each step an agent name or a `fork`, `switch` or "
        "`loop` block; each produces a value named after the agent or the block's `as`.",
    )
    output: Name | None = Field(None, description="The value the workflow returns (default: the last step's).")
    presets: dict[Name, Preference] = Field(
        default_factory=dict,
        description="Named selections of a compiled point, beside the built-in `fast`, `balanced` and "
        "`accurate`: `run`, `select` and `serve` take them by name (`--preset NAME`).",
    )


for _block in (ForkBlock, SwitchBlock, LoopBlock, ForkStep, SwitchStep, LoopStep):
    _block.model_rebuild()
WorkflowSpec.model_rebuild()
