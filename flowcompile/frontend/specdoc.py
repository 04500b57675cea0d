"""The workflow spec reference (docs/spec.md), generated from the pydantic models.

Every field's type, default and description come from `flowcompile.frontend.spec`,
so the reference cannot drift from what the loader accepts: a test renders it
and compares it with the file, and fails on any field without a description.
Regenerate with `python -m flowcompile.frontend.specdoc > docs/spec.md`.
"""

from __future__ import annotations

import sys
import types
from typing import Annotated, Any, Literal, Union, get_args, get_origin

import annotated_types
from pydantic import BaseModel, Discriminator
from pydantic.fields import FieldInfo

from flowcompile.frontend.spec import (
    AgentSpec,
    ChoiceDefaults,
    ForkBlock,
    ForkStep,
    LoopBlock,
    LoopStep,
    ModelSpec,
    SwitchBlock,
    SwitchStep,
    ToolSpec,
    WorkflowSpec,
)
from flowcompile.selection import Preference
from flowcompile.sim.world import default_world_path, load_world

SECTIONS: dict[type[BaseModel], tuple[str, str]] = {
    WorkflowSpec: ("top-level", "The top level"),
    ModelSpec: ("models", "`models`: the pool"),
    ChoiceDefaults: ("defaults", "`defaults`"),
    AgentSpec: ("agents", "`agents`"),
    ToolSpec: ("tools", "`agents` entries with `tool`: tool steps"),
    ForkBlock: ("fork", "`fork`: parallel branches"),
    SwitchBlock: ("switch", "`switch`: one case of several"),
    LoopBlock: ("loop", "`loop`: repeat until approved"),
    Preference: ("presets", "`presets`: named selections of a point"),
}
"""Each documented model: its anchor and heading, in document order."""

POOL = """\
models:
  qwen3-1.7b: {litellm: hosted_vllm/Qwen/Qwen3-1.7B, api_base: "http://127.0.0.1:8765/v1"}
  qwen3-8b: {litellm: hosted_vllm/Qwen/Qwen3-8B, api_base: "http://127.0.0.1:8765/v1"}
  qwen3-32b: {litellm: hosted_vllm/Qwen/Qwen3-32B, api_base: "http://127.0.0.1:8765/v1"}
defaults: {budgets: [0, 1024]}"""

EXAMPLES: dict[str, str] = {
    "minimal": f"""\
workflow: hello
{POOL}
agents:
  solver: {{role: solver, prompt: "Solve step by step, then give the final answer.\\n{{query}}"}}
steps: [solver]
""",
    "chain": f"""\
workflow: plan_solve
{POOL}
agents:
  planner: {{role: planner, prompt: "Break the problem into steps.\\n{{query}}"}}
  solver:
    role: solver
    inputs: [query, planner]          # default: the previous step's value only
    prompt: "Problem: {{query}}\\nPlan: {{planner}}\\nSolve it."
    models: [qwen3-8b, qwen3-32b]     # this agent's own choice space
  checker: {{role: checker, optional: pass}}   # may be skipped: the solver's answer passes on
steps: [planner, solver, checker]
""",
    "fork": f"""\
workflow: vote
{POOL}
agents:
  solver: {{role: solver, prompt: "Solve, then give the final answer.\\n{{query}}"}}
steps:
  - fork:
      as: answer
      samples: [1, 3, 5]       # 1, 3 or 5 samples of the one branch: a structure choice
      branches: [[solver]]
      combine: vote            # the plurality answer
""",
    "aggregator": f"""\
workflow: mixture
{POOL}
agents:
  careful: {{role: proposer, inputs: [query], prompt: "Answer carefully.\\n{{query}}"}}
  backwards: {{role: proposer, inputs: [query], prompt: "Work backwards from the goal.\\n{{query}}"}}
  # may be skipped, leaving no value: the aggregator reads the proposals that ran
  checked: {{role: proposer, inputs: [query], prompt: "Answer, then check it.\\n{{query}}", optional: absent}}
  aggregator:
    role: aggregator
    inputs: [query]            # the branches' values are added after it
    prompt: "Several answers follow. Write the best final answer.\\n{{query}}"
steps:
  - fork:
      as: answer
      branches: [[careful], [backwards], [checked]]
      combine: aggregator      # an agent reads every branch's value
""",
    "switch": f"""\
workflow: route_and_vote
{POOL}
agents:
  router:
    role: router
    prompt: "Answer 'math' or 'code': which kind of question is this?\\n{{query}}"
    budgets: [0]
  math_solver: {{role: solver, inputs: [query]}}
  code_solver: {{role: solver, inputs: [query]}}
steps:
  - router
  - switch:
      as: answer
      route: router            # not `on:` (YAML reads a bare `on` as true)
      cases:
        math:
          - fork: {{as: math_answer, samples: [1, 3], branches: [[math_solver]], combine: vote}}
        code: [code_solver]
""",
    "loop": f"""\
workflow: refine
{POOL}
agents:
  drafter: {{role: drafter, prompt: "Write a first answer.\\n{{query}}"}}
  critic:
    role: critic
    inputs: [query, draft]
    prompt: "Reply APPROVE if the answer is right, else explain the flaw.\\nQ: {{query}}\\nA: {{draft}}"
  reviser:
    role: reviser
    inputs: [query, draft, critic]
    prompt: "Revise the answer.\\nQ: {{query}}\\nA: {{draft}}\\nCritique: {{critic}}"
steps:
  - drafter
  - loop:
      as: final
      carry: {{draft: drafter}}   # `draft` starts as the drafter's answer
      body: [critic, reviser]
      until: critic            # stop when the critic approves
      next: {{draft: reviser}}    # otherwise the reviser's answer is the next draft
      max_iters: [1, 2, 3]
""",
    "tool": f"""\
workflow: solve_then_extract
{POOL}
agents:
  solver: {{role: solver, prompt: "Solve step by step.\\n{{query}}"}}
  extract: {{tool: extract_answer, params: {{number: true}}}}   # the last number, as `Answer: <n>`
steps: [solver, extract]
""",
    "presets": f"""\
workflow: hello_presets
{POOL}
agents:
  solver: {{role: solver, prompt: "Solve step by step, then give the final answer.\\n{{query}}"}}
steps: [solver]
presets:
  interactive: {{max_latency: 2.5}}          # the most accurate point within 2.5 s
  batch: {{min_acc: 0.7}}                    # the fastest point at least 0.7 accurate
  mostly_accuracy: {{weight: 0.8}}
""",
}
"""Complete specs, one per structure; a test loads every one."""


def render() -> str:
    """The whole reference, as docs/spec.md holds it."""
    parts = [_INTRO.format(minimal=EXAMPLES["minimal"], sim=_sim_models())]
    for model, (anchor, heading) in SECTIONS.items():
        parts.append(f'<a id="{anchor}"></a>\n## {heading}\n\n{_doc(model)}\n\n{field_table(model)}')
        if anchor in _AFTER:
            parts.append(_AFTER[anchor].format(**EXAMPLES))
    parts.append(_PITFALLS)
    return "\n\n".join(part.strip("\n") for part in parts) + "\n"


def undocumented_fields() -> list[str]:
    """`Model.field` for every field of the spec models without a description."""
    return [
        f"{model.__name__}.{name}"
        for model in (*SECTIONS, *_STEP_WRAPPERS)
        for name, info in model.model_fields.items()
        if not (info.description or "").strip()
    ]


def field_table(model: type[BaseModel]) -> str:
    """A markdown table of the model's fields: name, type, default, description."""
    rows = ["| field | type | default | meaning |", "| --- | --- | --- | --- |"]
    for name, info in model.model_fields.items():
        rows.append(
            f"| `{info.alias or name}` | {_field_type(info)} | {_default(info)} | {info.description or ''} |"
        )
    return "\n".join(rows)


def _doc(model: type[BaseModel]) -> str:
    return " ".join((model.__doc__ or "").split())


def _default(info: FieldInfo) -> str:
    if info.is_required():
        return "**required**"
    value = info.get_default(call_default_factory=True)
    if value is None:
        return "unset"
    if isinstance(value, BaseModel):
        return "`{}`"
    if isinstance(value, bool):
        return f"`{str(value).lower()}`"
    if isinstance(value, list):
        return f"`[{', '.join(map(str, value))}]`"
    return f"`{value}`"


def _field_type(info: FieldInfo) -> str:
    text = _type(info.annotation, info.metadata)
    if any(isinstance(m, annotated_types.MaxLen) and m.max_length == 1 for m in info.metadata):
        text += ", one entry"
    elif text.startswith(("list", "mapping")) and any(
        isinstance(m, annotated_types.MinLen) and m.min_length for m in info.metadata
    ):
        text = "non-empty " + text
    return text


def _type(kind: Any, metadata: list[Any] = ()) -> str:  # pyright: ignore[reportArgumentType]
    """A reader's name for a field type: `list of names`, `mapping name -> [agent](#agents)`."""
    origin = get_origin(kind)
    if origin is Annotated:
        base, *extra = get_args(kind)
        if any(isinstance(e, Discriminator) for e in extra):
            members = [get_args(a)[0] if get_origin(a) is Annotated else a for a in get_args(base)]
            if all(isinstance(m, type) and m in SECTIONS for m in members):  # an agent or a tool step
                return " or ".join(_type(m) for m in members)
            return "[step](#steps)"
        inner = [m for e in extra for m in (e.metadata if isinstance(e, FieldInfo) else [e])]
        return _type(base, [*metadata, *inner])
    if origin in (Union, types.UnionType):
        return " or ".join(_type(a, metadata) for a in get_args(kind) if a is not type(None))
    if origin is Literal:
        return " or ".join(f'`"{a}"`' for a in get_args(kind))
    if origin is list:
        (item,) = get_args(kind)
        return f"list of {_plural(_type(item))}"
    if origin is dict:
        key, value = get_args(kind)
        return f"mapping {_type(key)} -> {_type(value)}"
    if isinstance(kind, type) and issubclass(kind, BaseModel):
        anchor = SECTIONS.get(kind, (kind.__name__.lower(), ""))[0]
        return f"[{_MODEL_NOUNS.get(kind, kind.__name__)}](#{anchor})"
    if kind is str:
        return "name" if any(getattr(m, "pattern", None) for m in metadata) else "string"
    if kind is bool:
        return "bool"
    if kind is int:
        return _bounded("integer", metadata)
    if kind is float:
        return _bounded("number", metadata)
    return getattr(kind, "__name__", str(kind))


def _bounded(noun: str, metadata: list[Any]) -> str:
    bounds = []
    for m in metadata:
        if isinstance(m, annotated_types.Ge):
            bounds.append(f">= {m.ge:g}")
        elif isinstance(m, annotated_types.Gt):
            bounds.append(f"> {m.gt:g}")
        elif isinstance(m, annotated_types.Le):
            bounds.append(f"<= {m.le:g}")
    return f"{noun} {' and '.join(bounds)}" if bounds else noun


def _plural(noun: str) -> str:
    if noun.startswith("["):  # a link: pluralize its text
        text, _, rest = noun[1:].partition("]")
        return f"[{_plural(text)}]{rest}"
    if noun.startswith("list of"):
        return f"lists of {noun.removeprefix('list of ')}"
    words = noun.split(" ", 1)
    return words[0] + "s" + (" " + words[1] if len(words) > 1 else "")


def _sim_models() -> str:
    return ", ".join(f"`{name}`" for name in load_world(default_world_path()).model_names())


_MODEL_NOUNS: dict[type[BaseModel], str] = {
    ModelSpec: "model",
    ChoiceDefaults: "defaults",
    AgentSpec: "agent",
    ToolSpec: "tool step",
    Preference: "preset",
}

_STEP_WRAPPERS = (ForkStep, SwitchStep, LoopStep)

_INTRO = """\
# The workflow spec

<!-- Generated from flowcompile/frontend/spec.py by
     `python -m flowcompile.frontend.specdoc > docs/spec.md`; tests/test_spec_doc.py
     fails when this file and the spec models disagree. Edit the models, then regenerate. -->

A workflow spec is a YAML (or JSON) file that `flowcompile compile` and
`flowcompile-translate --import-yaml` read. It names a pool of models, the
agents and the choice space of each (which models, which reasoning budgets),
and the structure that wires them: a list of steps, where a step is an agent or
a `fork`, `switch` or `loop` block. This one is complete:

```yaml
{minimal}```

Every value has a name: the workflow's inputs (`query` unless `inputs` says
otherwise), each agent step under the agent's name, each block under its `as`.
An agent reads the values its `inputs` list; without `inputs` it reads the
previous step's value. A value made inside a block is visible after the block
only through the block's `as`. An agent named by several steps is a shared
agent: one decision variable, so every site has the point's one configuration
(the same model and budget at each call; a skip skips every site), and it is
profiled once (each candidate on every call the reference runs made at any
site). Each site reads its own `inputs` (or previous step), and takes the
agent's name in its scope: a later step reading the name gets the last site's
value. When it ends several branches of one fork, those branch values are
named `solver[0]`, `solver[1]` in the combining agent's prompt and are not
readable by name. Naming an agent twice is never an error: for calls
configured independently, define two agents. A tool step is used by one step.

With the `sim` backend (the default of `flowcompile compile`), pool names must
be models of the simulated world: {sim}. `compile` reports any other name at
its line in the spec before profiling starts.

Errors name the field and its line: `spec.yaml:7:44: error:
agents.checker.inputs[1]: 'nope' is not a value in scope here (visible: query, planner)`.
"""

_AFTER: dict[str, str] = {
    "agents": """\
A choice space is `models` x `budgets`: the compiler profiles every pair and
picks one per agent in each configuration it emits (a model declared
`reasoning: false` once, at the agent's smallest budget). Several agents in a
chain, each with its own choice space, and one that may be skipped:

```yaml
{chain}```

The sampling fields (`temperature`, `top_p`, `max_tokens`, `seed`, `stop`) are
not choices: they say how every call of the agent is made, when profiling and
at run time alike, and are part of each call's cache key. An agent's unset
field takes the one in `defaults:`, else the service's own default, except the
temperature: 0 (greedy), or 0.7 for an agent inside a fork with `samples`, so
that real samples differ. When sampling (temperature > 0) each sample is sent
its own seed, `seed` + the sample's index, so the samples of one input differ
and each is reproducible.
""",
    "tools": """\
A tool step runs Python, not a model: it has one configuration, which
profiling measures for latency (and, as an answer or a verdict, for how often
it is right), and no role, choice space, prompt or sampling. `extract_answer`
turns a solver's text into `Answer: <value>`; `code_test` runs a program
against tests in a subprocess (a time limit, no network, no keys in its
environment: a guard, not a sandbox) and says `approve` or `reject: <failure>`,
a verdict a loop's `until` can end on. Installed packages add tools under the
`flowcompile.tools` entry points.

```yaml
{tool}```

<a id="steps"></a>
## `steps`

A step is one of:

- an agent name (`planner`): one call of that agent; its value is named after it;
- `fork: {{...}}`: parallel branches, combined by a vote or an aggregator agent;
- `switch: {{...}}`: a route value picks one case;
- `loop: {{...}}`: a body repeated until a verdict approves.

Each block's fields are below; its branches, cases and body are lists of steps again.
""",
    "fork": """\
A self-consistency vote over 1, 3 or 5 samples of one solver:

```yaml
{fork}```

Branches combined by an aggregator agent (mixture of agents):

```yaml
{aggregator}```
""",
    "switch": """\
A router, and a vote inside one of its cases:

```yaml
{switch}```
""",
    "loop": """\
Draft, then critique and revise until the critic approves:

```yaml
{loop}```
""",
    "presets": """\
Three presets are built in, and a spec's own may not take their names. Over the
compiled points' estimates, with accuracy and latency rescaled to [0, 1] over
the points (`flowcompile/selection.py` has the rules):

- `accurate` (weight 1): the most accurate point;
- `balanced` (weight 0.5): the knee, the point farthest above the straight line
  from the fastest point to the most accurate one;
- `fast` (weight 0.25): the fast end of the set, taking a slower point only for
  at least three times as much (rescaled) accuracy as latency.

So `fast` is never slower or more accurate than `balanced`, nor `balanced` than
`accurate`. A spec's presets are saved selections, with the options' meaning:

```yaml
{presets}```
""",
}

_PITFALLS = """\
## YAML pitfalls

- YAML 1.1 reads bare `on`, `off`, `yes`, `no`, `true` and `false` as booleans, keys
  included: `switch: {on: router}` has a key `true`, not `on`. A switch names its
  router's value with `route:`; quote any other such key (`"on": ...`).
- `models` is a mapping from pool name to model (`qwen3-8b: {litellm: ...}`), not a
  list; an agent's `models` is a list of those pool names.
- Quote a prompt that holds `: `, `#`, or starts with `{`:
  `prompt: "Answer: {query}"`. `\\n` is a newline only inside double quotes.
- Values are strict: `budgets: [true]` is not `[1]`, `optional: 1` is not `true`.
- `optional: true` is `optional: pass`: a skip passes the agent's one input on. On a
  proposer (alone in a fork branch, or reading the query) that input would count as
  its answer, so there it is an error: write `optional: absent` (no value) or `pass`.
  An agent with several inputs (an ensemble) names the one a skip passes on:
  `optional: {pass: detailed_solver}`; over a fork with `samples`, naming its branch
  passes the first sample on.
"""


def main() -> None:
    sys.stdout.write(render())


if __name__ == "__main__":
    main()
