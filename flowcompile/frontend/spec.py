"""The YAML workflow spec, validated by pydantic.

```yaml
workflow: chain
models:                                  # the pool: name -> litellm model
  qwen3-8b: {litellm: hosted_vllm/Qwen/Qwen3-8B, api_base: "http://127.0.0.1:8000/v1",
             price_in: 5.0e-8, price_out: 2.0e-7}
defaults: {models: [qwen3-8b], budgets: [0, 1024]}
agents:                                  # role, prompt template, inputs, choice space
  planner: {role: planner, prompt: "Plan how to answer: {query}"}
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

NonNegativeInt = Annotated[int, Field(ge=0)]
Name = Annotated[str, Field(min_length=1, pattern=r"^[A-Za-z_][A-Za-z0-9_.$-]*$")]


class Strict(BaseModel):
    # strict: a spec says what it means; `budgets: [true]` is not [1], `optional: 1` not true.
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)


class ModelSpec(Strict):
    """One model of the pool."""

    litellm: str = Field(min_length=1, description="litellm model string")
    api_base: str | None = None
    price_in: NonNegativeFloat | None = Field(None, description="$ per input token")
    price_out: NonNegativeFloat | None = Field(None, description="$ per output token")


class ChoiceDefaults(Strict):
    models: list[Name] | None = Field(None, min_length=1)
    budgets: list[NonNegativeInt] | None = Field(None, min_length=1)


class AgentSpec(Strict):
    """One sub-agent: its role, prompt template, inputs and choice space."""

    role: Name
    prompt: str | None = None
    inputs: list[Name] | None = Field(None, min_length=1)
    models: list[Name] | None = Field(None, min_length=1)
    budgets: list[NonNegativeInt] | None = Field(None, min_length=1)
    recovery: float | None = Field(None, ge=0.0, le=1.0)
    optional: bool = False

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

    as_: Name = Field(alias="as")
    branches: list[list[Step]] = Field(min_length=1)
    samples: list[PositiveInt] | None = Field(None, min_length=1)
    combine: Literal["vote"] | Name = "vote"


class SwitchBlock(Strict):
    """The output of a router (`route`) picks one labelled case."""

    as_: Name = Field(alias="as")
    route: Name
    cases: dict[Name, list[Step]] = Field(min_length=1)


class LoopBlock(Strict):
    """Repeat `body` until the `until` verdict approves, at most `max_iters` times.

    `carry` names the message carried across iterations and its initial value;
    `next` names the value carried into the next iteration.
    """

    as_: Name = Field(alias="as")
    carry: dict[Name, Name] = Field(min_length=1, max_length=1)
    body: list[Step] = Field(min_length=1)
    until: Name
    next: dict[Name, Name]
    max_iters: list[PositiveInt] = Field(min_length=1)


class ForkStep(Strict):
    fork: ForkBlock


class SwitchStep(Strict):
    switch: SwitchBlock


class LoopStep(Strict):
    loop: LoopBlock


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


class WorkflowSpec(Strict):
    """A whole workflow spec file."""

    workflow: Name
    description: str | None = None
    inputs: list[Name] = Field(default_factory=lambda: ["query"], min_length=1)
    models: dict[Name, ModelSpec] = Field(min_length=1)
    defaults: ChoiceDefaults = ChoiceDefaults()
    agents: dict[Name, AgentSpec] = Field(min_length=1)
    steps: list[Step] = Field(min_length=1)
    output: Name | None = None


for _block in (ForkBlock, SwitchBlock, LoopBlock, ForkStep, SwitchStep, LoopStep):
    _block.model_rebuild()
WorkflowSpec.model_rebuild()
