"""A corpus of malformed inputs: every one is a located diagnostic with exit status 1.

Each case runs one tool (`flowcompile-translate`, `flowcompile-opt` or
`flowcompile`) in-process behind the tools' own last-resort guard, so an
uncaught exception shows as "internal error" and fails the case. A case names
the files it writes into a fresh working folder, the command line, and the
strings the diagnostic must hold: its `file:line:col` where there is a file,
the option's name where an option is wrong.
"""

from __future__ import annotations

import re
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from flowcompile.tools import cli, opt, translate
from flowcompile.tools.common import guard_main

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"


@dataclass(frozen=True)
class Case:
    id: str
    tool: str
    """translate, opt or cli."""
    args: tuple[str, ...]
    expect: tuple[str, ...]
    """Substrings of stderr; `{compiled}` and the like name the shared inputs."""
    files: dict[str, str | bytes] = field(default_factory=dict)
    env: dict[str, str] = field(default_factory=dict)

    @property
    def category(self) -> str:
        return self.id.split(":", 1)[0]


def spec_case(name: str, text: str, *expect: str) -> Case:
    """A YAML spec lowered by `flowcompile-translate --import-yaml`."""
    return Case(f"spec:{name}", "translate", ("--import-yaml", "spec.yaml"), expect, {"spec.yaml": text})


HEAD = "workflow: w\nmodels: {m: {litellm: openai/m}, n: {litellm: openai/n}}\n"
"""Two lines; the agents start on line 3."""


def agents(*lines: str, steps: str = "[a]") -> str:
    return HEAD + "agents:\n" + "".join(f"  {line}\n" for line in lines) + f"steps: {steps}\n"


ENSEMBLE = "[{fork: {as: f, branches: [[p], [r]], combine: g}}]"
LOOP = "{loop: {as: o, carry: {d: query}, body: [c], until: c, next: {d: c}, max_iters: [1]}}"

SPECS = [
    spec_case("lone-surrogate-value", agents('a: {role: "\\ud800"}'),
              "spec.yaml:4:7: error: agents.a.role: not valid Unicode: a lone surrogate \\ud800"),
    spec_case("lone-surrogate-key", agents('a: {role: s, "\\udc00": 1}'),
              "error: agents.a.\\udc00: not valid Unicode: a lone surrogate \\udc00"),
    spec_case("duplicate-agent-input", agents("a: {role: solver, inputs: [query, query]}"),
              "spec.yaml:4:37: error: agents.a.inputs[1]: 'query' is already an input of the agent"),
    spec_case("duplicate-workflow-input", HEAD + "inputs: [query, query]\nagents: {a: {role: s}}\nsteps: [a]\n",
              "spec.yaml:3:17: error: inputs[1]: 'query' is already a workflow input"),
    spec_case("duplicate-agent-key", agents("a: {role: solver}", "a: {role: planner}"),
              "spec.yaml:5:3: error: invalid YAML: duplicate key 'a' (first at line 4)"),
    spec_case("duplicate-top-level-key", agents("a: {role: solver}") + "steps: [a, a]\n",
              "spec.yaml:6:1: error: invalid YAML: duplicate key 'steps' (first at line 5)"),
    spec_case("duplicate-model-key", "workflow: w\nmodels: {m: {litellm: x}, m: {litellm: y}}\n"
              "agents: {a: {role: s}}\nsteps: [a]\n",
              "spec.yaml:2:27: error: invalid YAML: duplicate key 'm'"),
    spec_case("duplicate-field-in-agent", agents("a: {role: solver, role: planner}"),
              "spec.yaml:4:21: error: invalid YAML: duplicate key 'role'"),
    spec_case("duplicate-switch-case", agents("r: {role: router}", "x: {role: s}", "y: {role: s}",
                                              steps="[r, {switch: {as: s, route: r, cases: {k: [x], k: [y]}}}]"),
              "spec.yaml:7:55: error: invalid YAML: duplicate key 'k' (first at line 7)"),
    spec_case("budgets-booleans", agents("a: {role: solver, budgets: [true, false]}"),
              "spec.yaml:4:31: error: agents.a.budgets[0]: Input should be a valid integer, not true",
              "spec.yaml:4:37: error: agents.a.budgets[1]:"),
    spec_case("budgets-float", agents("a: {role: solver, budgets: [1.5]}"),
              "spec.yaml:4:31: error: agents.a.budgets[0]: Input should be a valid integer"),
    spec_case("budgets-string", agents("a: {role: solver, budgets: ['512']}"),
              "spec.yaml:4:31: error: agents.a.budgets[0]: Input should be a valid integer"),
    spec_case("budgets-negative", agents("a: {role: solver, budgets: [0, -1]}"),
              "spec.yaml:4:34: error: agents.a.budgets[1]: Input should be greater than or equal to 0"),
    spec_case("budgets-duplicate", agents("a: {role: solver, budgets: [0, 0]}"),
              "spec.yaml:4:21: error: agents.a.budgets: duplicate choices"),
    spec_case("budgets-empty", agents("a: {role: solver, budgets: []}"),
              "spec.yaml:4:21: error: agents.a.budgets: List should have at least 1 item"),
    spec_case("models-duplicate", agents("a: {role: solver, models: [m, m]}"),
              "spec.yaml:4:21: error: agents.a.models: duplicate choices"),
    spec_case("model-not-in-pool", agents("a: {role: solver, models: [m, ghost]}"),
              "spec.yaml:4:33: error: agents.a.models[1]: model 'ghost' is not in the pool (m, n)"),
    spec_case("optional-integer", agents("a: {role: solver, optional: 1}"),
              "spec.yaml:4:21: error: agents.a.optional: optional is true, false, pass, absent or {pass: <input>}, not 1"),
    spec_case("optional-unknown-mode", agents("a: {role: solver, optional: drop}"),
              "spec.yaml:4:21: error: agents.a.optional: optional is true, false, pass, absent or {pass: <input>}, not 'drop'"),
    # `optional: true` passes the one input on; where that input would be taken
    # for the agent's answer (the query, a fork branch's proposal) it is ambiguous
    spec_case("optional-true-on-query", agents("a: {role: solver, optional: true}"),
              "spec.yaml:4:21: error: agents.a.optional: true is ambiguous here: the agent is a workflow input"),
    spec_case("optional-true-proposal",
              agents("p: {role: solver}", "a: {role: proposer, inputs: [p], optional: true}", "g: {role: aggregator}",
                     steps="[p, {fork: {as: f, branches: [[a], [p2]], combine: g}}]").replace(
                         "  g:", "  p2: {role: proposer, inputs: [p]}\n  g:"),
              "spec.yaml:5:36: error: agents.a.optional: true is ambiguous here: the agent is a fork branch of its own"),
    spec_case("optional-true-two-inputs",
              agents("p: {role: solver}", "a: {role: solver, inputs: [query, p], optional: true}", steps="[p, a]"),
              "spec.yaml:5:41: error: agents.a.optional: true passes the agent's one input on, and it has 2"),
    spec_case("optional-pass-two-inputs",
              agents("p: {role: solver}", "a: {role: solver, inputs: [query, p], optional: pass}", steps="[p, a]"),
              "spec.yaml:5:41: error: agents.a.optional: pass passes the agent's one input on, and it has 2"),
    # `optional: {pass: <input>}` names one input, a single answer always there
    spec_case("optional-pass-not-an-input",
              agents("p: {role: proposer}", "r: {role: proposer}", "g: {role: aggregator, optional: {pass: x}}",
                     steps=ENSEMBLE),
              "spec.yaml:6:36: error: agents.g.optional.pass: 'x' is not an input of the agent (its inputs: p, r)"),
    spec_case("optional-pass-workflow-input",
              agents("p: {role: proposer}", "r: {role: proposer}",
                     "g: {role: aggregator, inputs: [query], optional: {pass: query}}", steps=ENSEMBLE),
              "spec.yaml:6:53: error: agents.g.optional.pass: 'query' is a workflow input, not an answer"),
    spec_case("optional-pass-absent-branch",
              agents("p: {role: proposer}", "r: {role: proposer, optional: absent}",
                     "g: {role: aggregator, optional: {pass: r}}", steps=ENSEMBLE),
              "spec.yaml:6:36: error: agents.g.optional.pass: 'r' is an optional: absent branch and may produce no value"),
    spec_case("optional-pass-verdict",
              agents("d: {role: solver}", "c: {role: critic, inputs: [query, draft]}",
                     "r: {role: reviser, inputs: [draft, c], optional: {pass: c}}",
                     steps="[d, {loop: {as: o, carry: {draft: d}, body: [c, r], until: c, next: {draft: r}, max_iters: [1]}}]"),
              "spec.yaml:6:53: error: agents.r.optional.pass: the input is a loop's verdict, not an answer"),
    spec_case("optional-pass-bad-mapping", agents("a: {role: solver, optional: {drop: x}}"),
              "spec.yaml:4:21: error: agents.a.optional: optional as a mapping is {pass: <input>} (the input a skip passes on), not {'drop': 'x'}"),
    spec_case("optional-absent-outside-fork", agents("a: {role: solver, optional: absent}"),
              "spec.yaml:4:21: error: agents.a.optional: absent needs the agent alone in a fork branch"),
    spec_case("optional-absent-in-a-chain",
              agents("a: {role: solver, optional: absent}", "b: {role: solver}", "c: {role: solver}",
                     steps="[{fork: {as: f, branches: [[a, b], [c]]}}]"),
              "spec.yaml:4:21: error: agents.a.optional: absent needs the agent alone in a fork branch"),
    spec_case("optional-absent-sampled",
              agents("a: {role: solver, optional: absent}", steps="[{fork: {as: f, branches: [[a]], samples: [1, 3]}}]"),
              "spec.yaml:4:21: error: agents.a.optional: absent is not allowed in a fork with samples"),
    spec_case("optional-absent-every-branch",
              agents("a: {role: solver, optional: absent}", "b: {role: solver, optional: absent}",
                     steps="[{fork: {as: f, branches: [[a], [b]]}}]"),
              "spec.yaml:6:24: error: steps[0].fork.branches: every branch is an agent with optional: absent"),
    spec_case("recovery-boolean", agents("a: {role: solver, recovery: true}"),
              "spec.yaml:4:21: error: agents.a.recovery: Input should be a valid number, not true"),
    spec_case("recovery-above-one", agents("a: {role: solver, recovery: 1.5}"),
              "spec.yaml:4:21: error: agents.a.recovery: Input should be less than or equal to 1"),
    spec_case("prompt-unbalanced-open", agents("a: {role: solver, prompt: 'Solve {query'}"),
              "spec.yaml:4:21: error: agents.a.prompt: bad prompt template: expected '}' before end of string"),
    spec_case("prompt-unbalanced-close", agents("a: {role: solver, prompt: 'Solve } {query}'}"),
              "spec.yaml:4:21: error: agents.a.prompt: bad prompt template: Single '}' encountered"),
    spec_case("prompt-unbalanced-block-scalar", agents("a:", "  role: solver", "  prompt: |", "    Solve {query",
                                                       "    and answer."),
              "spec.yaml:6:5: error: agents.a.prompt: bad prompt template"),
    spec_case("prompt-conversion", agents("a: {role: solver, prompt: '{query!r}'}"),
              "spec.yaml:4:21: error: agents.a.prompt: bad prompt template: '{query!r}': placeholders are plain"),
    spec_case("prompt-format-spec", agents("a: {role: solver, prompt: '{query:>{width}}'}"),
              "spec.yaml:4:21: error: agents.a.prompt: bad prompt template: '{query:>{width}}'"),
    spec_case("prompt-empty-placeholder", agents("a: {role: solver, prompt: 'Solve {}'}"),
              "spec.yaml:4:21: error: agents.a.prompt: bad prompt template: '{}' names no input"),
    spec_case("prompt-unknown-placeholder", agents("a: {role: solver, prompt: 'Solve {problem}'}"),
              "spec.yaml:4:21: error: agents.a.prompt: placeholder '{problem}' names no input of the agent"),
    spec_case("prompt-not-a-string", agents("a: {role: solver, prompt: [x]}"),
              "spec.yaml:4:21: error: agents.a.prompt: Input should be a valid string"),
    spec_case("agent-spec-null", agents("a:"),
              "spec.yaml:4:3: error: agents.a: expected an agent, a mapping such as a: {role: solver}, not nothing"),
    spec_case("agent-name-integer", agents("1: {role: solver}", steps="['1']"),
              "spec.yaml:4:3: error: agents[1]"),
    spec_case("agent-name-pattern", agents("'a b': {role: solver}", steps="['a b']"),
              "spec.yaml:4:3: error: agents.a b.[key]: String should match pattern"),
    spec_case("agents-a-list", HEAD + "agents: [a]\nsteps: [a]\n",
              "spec.yaml:3:1: error: agents: expected a mapping from agent name to agent, e.g. agents: {a: {role: solver}}, not a list"),
    spec_case("models-a-list", "workflow: w\nmodels: [qwen3-8b]\nagents: {a: {role: solver}}\nsteps: [a]\n",
              "spec.yaml:2:1: error: models: expected a mapping from pool name to model, e.g. models: "
              "{qwen3-8b: {litellm: <provider>/qwen3-8b}}, not a list"),
    spec_case("switch-on-key", agents("r: {role: router}", "b: {role: solver}",
                                      steps="[r, {switch: {on: r, as: x, cases: {y: [b]}}}]"),
              "spec.yaml:6:22: error: steps[1].switch.on: YAML reads the key `on` as a boolean",
              "a switch names its router's value with `route:` (route: r)"),
    spec_case("misspelled-agent-field", agents("a: {role: solver, budget: [0]}"),
              "spec.yaml:4:21: error: agents.a.budget: unknown field; did you mean 'budgets'?"),
    spec_case("unknown-agent-in-steps", agents("a: {role: solver}", steps="[a, ghost]"),
              "spec.yaml:5:12: error: steps[1]: unknown agent 'ghost' (agents: a)"),
    spec_case("tool-used-twice", agents("a: {role: solver}", "t: {tool: extract_answer}", steps="[a, t, a, t]"),
              "spec.yaml:6:18: error: steps[3]: tool step 't' is already used at steps[1]"),
    spec_case("shared-agent-read-by-name",
              agents("a: {role: solver}", "b: {role: checker, inputs: [a]}", steps="[{fork: {as: f, branches: [[a], [a]]}}, b]"),
              "error: agents.b.inputs[0]: 'a' ends several branches of the fork at steps[0].fork (a shared agent)"),
    spec_case("agent-unused", agents("a: {role: solver}", "b: {role: solver}"),
              "spec.yaml:5:3: error: agents.b: agent is defined but not used in steps"),
    spec_case("input-not-in-scope", agents("a: {role: solver, inputs: [plan]}"),
              "spec.yaml:4:30: error: agents.a.inputs[0]: 'plan' is not a value in scope here (visible: query)"),
    spec_case("unknown-field", agents("a: {role: solver, colour: blue}"),
              "spec.yaml:4:21: error: agents.a.colour: unknown field"),
    spec_case("missing-role", agents("a: {prompt: x}"),
              "spec.yaml:4:3: error: agents.a.role: required field is missing"),
    spec_case("missing-workflow", "models: {m: {litellm: x}}\nagents: {a: {role: s}}\nsteps: [a]\n",
              "spec.yaml:1:1: error: workflow: required field is missing"),
    spec_case("steps-empty", agents("a: {role: solver}", steps="[]"),
              "spec.yaml:5:1: error: steps: List should have at least 1 item"),
    spec_case("step-unknown-block", agents("a: {role: solver}", steps="[{parallel: [a]}]"),
              "spec.yaml:5:9: error: steps[0]: a step is an agent name or one of"),
    spec_case("fork-samples-duplicate", agents("a: {role: solver}", steps="[{fork: {as: f, branches: [[a]], samples: [2, 2]}}]"),
              "spec.yaml:5:41: error: steps[0].fork.samples: duplicate choices"),
    spec_case("fork-samples-zero", agents("a: {role: solver}", steps="[{fork: {as: f, branches: [[a]], samples: [0]}}]"),
              "spec.yaml:5:51: error: steps[0].fork.samples[0]: Input should be greater than 0"),
    spec_case("fork-without-as", agents("a: {role: solver}", steps="[{fork: {branches: [[a]]}}]"),
              "spec.yaml:5:10: error: steps[0].fork.as: required field is missing"),
    spec_case("loop-max-iters-duplicate", agents("c: {role: critic, inputs: [d]}", steps=f"[{LOOP.replace('[1]', '[1, 1]')}]"),
              "spec.yaml:5:78: error: steps[0].loop.max_iters: duplicate choices"),
    # 0 iterations is a choice (the draft as it is), but not the only one
    spec_case("loop-max-iters-only-zero", agents("c: {role: critic, inputs: [d]}", steps=f"[{LOOP.replace('[1]', '[0]')}]"),
              "spec.yaml:5:78: error: steps[0].loop.max_iters: every count is 0: the loop would never run its body"),
    spec_case("loop-max-iters-negative", agents("c: {role: critic, inputs: [d]}", steps=f"[{LOOP.replace('[1]', '[0, -1]')}]"),
              "spec.yaml:5:93: error: steps[0].loop.max_iters[1]: Input should be greater than or equal to 0"),
    spec_case("loop-until-outside-body", agents("a: {role: solver}", "c: {role: critic, inputs: [d]}",
                                                steps=f"[a, {LOOP.replace('until: c', 'until: a')}]"),
              "spec.yaml:6:57: error: steps[1].loop.until: 'a' is not a value of the loop body"),
    spec_case("switch-route-not-in-scope", agents("x: {role: s}", steps="[{switch: {as: s, route: r, cases: {k: [x]}}}]"),
              "spec.yaml:5:26: error: steps[0].switch.route: 'r' is not a value in scope here"),
    spec_case("output-unknown", agents("a: {role: solver}") + "output: nowhere\n",
              "spec.yaml:6:1: error: output: 'nowhere' is not a value of the workflow"),
    spec_case("price-negative", "workflow: w\nmodels: {m: {litellm: x, price_in: -1.0}}\nagents: {a: {role: s}}\nsteps: [a]\n",
              "spec.yaml:2:26: error: models.m.price_in: Input should be greater than or equal to 0"),
    spec_case("not-a-mapping", "- workflow\n- w\n", "spec.yaml:1:1: error: the spec must be a mapping"),
    spec_case("empty-file", "", "spec.yaml:1:1: error: the spec must be a mapping"),
    spec_case("yaml-unclosed-bracket", HEAD + "agents: {a: {role: s}\nsteps: [a]\n", "spec.yaml:4:1: error: invalid YAML: expected ',' or '}'"),
    spec_case("yaml-tab-indent", HEAD + "agents:\n\ta: {role: s}\nsteps: [a]\n", "spec.yaml:4:1: error: invalid YAML:"),
    spec_case("yaml-python-tag", "!!python/object:os.system {}\n",
              "spec.yaml:1:1: error: invalid YAML: could not determine a constructor"),
    spec_case("yaml-nested-too-deeply", "workflow: " + "[" * 3000 + "]" * 3000 + "\n",
              "spec.yaml:1:1: error: invalid YAML: nested too deeply"),
    Case("spec:json-duplicate-key", "translate", ("--import-yaml", "spec.json"),
         ("spec.json:2:2: error: duplicate key 'agents'",),
         {"spec.json": '{"workflow": "w", "models": {"m": {"litellm": "x"}}, "agents": {"a": {"role": "s"}},\n'
                       ' "agents": {}, "steps": ["a"]}'}),
    Case("spec:json-syntax", "translate", ("--import-yaml", "spec.json"),
         ("spec.json:2:17: error: invalid JSON: Expecting property name",),
         {"spec.json": '{"workflow": "w",\n "steps": ["a"],}'}),
    Case("spec:not-utf8", "translate", ("--import-yaml", "spec.yaml"),
         ("spec.yaml: not UTF-8 text",), {"spec.yaml": b"workflow: \xff\xfe\n"}),
    Case("spec:missing-file", "translate", ("--import-yaml", "nowhere.yaml"), ("nowhere.yaml: No such file",)),
    Case("spec:compile-keeps-the-location", "cli", ("compile", "spec.yaml", "-o", "out"),
         ("spec.yaml:5:3: error: invalid YAML: duplicate key 'a'",),
         {"spec.yaml": agents("a: {role: solver}", "a: {role: planner}")}),
    Case("spec:compile-bad-prompt", "cli", ("compile", "spec.yaml", "-o", "out"),
         ("spec.yaml:4:21: error: agents.a.prompt: bad prompt template",),
         {"spec.yaml": agents("a: {role: solver, prompt: 'Solve {query'}")}),
]


def option_case(name: str, pipeline: str, *expect: str, input: str = "{chain}", **kw) -> Case:
    """A pass pipeline run by `flowcompile-opt -p`."""
    return Case(f"option:{name}", "opt", (input, "-p", pipeline), expect, **kw)


BAD_JSONL = '{"id": "a", "input": "x", "reference": "y"}\n{"id": "b", "input": 3}\n'

OPTIONS = [
    *(
        option_case(f"{pass_}-{text.replace('=', '-')}", f"{pass_}{{{text}}}",
                    f"error: invalid pass pipeline: {pass_}: option {text}: {reason}")
        for pass_, text, reason in [
            ("profile", "concurrency=0", "must be >= 1"),
            ("profile", "concurrency=-2", "must be >= 1"),
            ("profile", "retries=0", "must be >= 1"),
            ("profile", "retries=-1", "must be >= 1"),
            ("profile", "samples=-1", "must be >= 0"),
            ("profile", "max-samples=-1", "must be >= 0"),
            ("profile", "budget=-5", "must be >= 0"),
            ("profile", "draws=-1", "must be >= 0"),
            ("profile", "timeout=-0.5", "must be >= 0"),
            ("profile", "timeout=-1.5", "must be >= 0"),
            ("validate", "concurrency=0", "must be >= 1"),
            ("validate", "retries=0", "must be >= 1"),
            ("validate", "timeout=-1", "must be >= 0"),
            ("validate", "samples=0", "must be >= 1"),
            ("validate", "keep=0", "must be >= 1"),
            ("validate", "candidates=0", "must be >= 1"),
            ("validate", "prior-strength=-0.5", "must be >= 0"),
            ("validate", "limit=0", "must be >= 1"),
            ("compose", "prior-strength=-1", "must be >= 0"),
            ("enumerate", "limit=0", "must be >= 1"),
            ("pareto", "k=0", "must be >= 1"),
            ("pareto", "k=-3", "must be >= 1"),
            ("pareto", "limit=0", "must be >= 1"),
            ("pareto", "min-acc=1.5", "must be <= 1"),
            ("pareto", "min-acc=-0.5", "must be >= 0"),
            ("pareto", "max-latency=-1", "must be >= 0"),
            ("pareto", "max-cost=-0.5", "must be >= 0"),
        ]
    ),
    option_case("later-pass-checked-first", "strip-profiles,profile{concurrency=0}",
                "invalid pass pipeline: profile: option concurrency=0"),
    option_case("unknown-pass", "profile,nosuch", "invalid pass pipeline: unknown pass 'nosuch' (passes: profile,"),
    option_case("misspelled-pass", "profle", "invalid pass pipeline: unknown pass 'profle'; did you mean 'profile'?"),
    option_case("unknown-option", "pareto{kk=3}", "invalid pass pipeline: pareto: unknown option 'kk'",
                "(options: max-latency, min-acc, max-cost, k, limit)"),
    option_case("misspelled-option", "profile{sampels=4}",
                "invalid pass pipeline: profile: unknown option 'sampels'; did you mean 'samples'?"),
    option_case("underscored-option-shown-dashed", "profile{dry_runn}",
                "invalid pass pipeline: profile: unknown option 'dry-runn'; did you mean 'dry-run'?"),
    option_case("wrong-type", "pareto{k=abc}", 'invalid pass pipeline: pareto: option k="abc": expected int'),
    option_case("list-for-int", "profile{concurrency=1,2}", "invalid pass pipeline: profile: option concurrency=1,2: expected int"),
    option_case("unclosed-brace", "pareto{", "invalid pass pipeline: column 8 of 'pareto{': Expected argument name"),
    option_case("nested-module", "builtin.module(profile)", "invalid pass pipeline: column 8 of 'builtin.module(profile)'",
                "a pipeline is pass names, comma-separated"),
    option_case("cache-is-a-folder", 'profile{cache="folder" samples=2 max-samples=0}',
                "profile: option cache: folder: is a folder; name a file", files={"folder/keep": ""}),
    option_case("cache-not-sqlite", 'profile{cache="junk.sqlite" samples=2 max-samples=0}',
                "profile: option cache: junk.sqlite: not a usable profile store (not an SQLite file)",
                files={"junk.sqlite": "this is not a database\n" * 20}),
    option_case("cache-under-a-file", 'profile{cache="file/c.sqlite" samples=2 max-samples=0}',
                "profile: option cache: file/c.sqlite: cannot create its folder: file is not a folder",
                files={"file": "x"}),
    option_case("cache-folder-cannot-be-made", 'profile{cache="/proc/no-such/c.sqlite" samples=2 max-samples=0}',
                "profile: option cache: /proc/no-such/c.sqlite: cannot create its folder /proc/no-such"),
    option_case("cache-unwritable", 'profile{cache="/sys/c.sqlite" samples=2 max-samples=0}',
                "profile: /sys/c.sqlite: not a usable profile store (unable to open database file)"),
    option_case("cache-from-environment-is-a-folder", "profile{samples=2 max-samples=0}",
                "profile: $FLOWCOMPILE_CACHE: folder: is a folder", files={"folder/keep": ""},
                env={"FLOWCOMPILE_CACHE": "folder"}),
    option_case("cache-of-another-app", 'profile{cache="other.sqlite" samples=2 max-samples=0}',
                "profile: other.sqlite: not a FlowCompile profile store (tables: t)", files={"other.sqlite": b""}),
    option_case("unknown-backend", "profile{backend=bogus cache=none}", "profile: unknown backend 'bogus'"),
    option_case("unknown-judge", "profile{judge=bogus cache=none samples=2 max-samples=0}",
                "profile: unknown judge 'bogus'"),
    option_case("dataset-missing", 'profile{dataset="nowhere.jsonl" cache=none}',
                "profile: nowhere.jsonl:0: cannot read dataset"),
    option_case("dataset-bad-line", 'profile{dataset="d.jsonl" cache=none}',
                "profile: d.jsonl:2: field 'input' must be a string", "d.jsonl:2: missing field 'reference'",
                files={"d.jsonl": BAD_JSONL}),
    option_case("world-garbage", 'profile{world="world.yaml" cache=none}',
                "profile: world.yaml: <root>: expected a mapping", files={"world.yaml": "garbage\n"}),
    option_case("replay-without-trace", "profile{backend=replay cache=none}", "profile: backend=replay needs trace=PATH"),
    option_case("replay-trace-missing", 'profile{backend=replay trace="t.jsonl" cache=none}',
                "profile: t.jsonl: cannot read trace"),
    option_case("litellm-without-dataset", "profile{backend=litellm cache=none}",
                "profile: backend=litellm needs dataset=PATH"),
    option_case("validate-search-over-limit", "validate{limit=1 cache=none}",
                "validate: cross product of", "raise it with validate{limit=N}", input="{composed}"),
    option_case("validate-before-compose", "validate{cache=none}",
                "{chain}:", "validate: @chain has no estimates: run compose before validate"),
    option_case("pareto-nothing-meets", "pareto{min-acc=1.0}",
                "{composed}:", "pareto: no configuration of @chain meets the constraints (min-acc 1)",
                input="{composed}"),
]


def cli_case(name: str, *args: str, expect: tuple[str, ...], **kw) -> Case:
    """A `flowcompile` command."""
    return Case(f"cli:{name}", "cli", args, expect, **kw)


EVALUATION_OTHER = '{\n  "workflow": "other",\n  "queries": 1,\n  "points": [],\n  "baselines": [],\n' \
                   '  "spearman_acc": 0.0,\n  "spearman_lat": 0.0\n}\n'
EVALUATION_BAD_ROW = EVALUATION_OTHER.replace('"other"', '"chain"').replace('"points": []', '"points": [{"label": 3}]')

COMMANDS = [
    cli_case("run-without-config-set", "run", "{chain}", "--query", "hi",
             expect=("{chain}:2:3: error: no flow.config_set for @chain",)),
    cli_case("run-world-garbage", "run", "{compiled}", "--world", "world.yaml",
             expect=("world.yaml: error: <root>: expected a mapping",), files={"world.yaml": "garbage\n"}),
    cli_case("run-world-bad-field", "run", "{compiled}", "--world", "world.yaml",
             expect=("world.yaml: error: models: Input should be a valid list",), files={"world.yaml": "models: 3\n"}),
    cli_case("run-world-bad-yaml", "run", "{compiled}", "--world", "world.yaml",
             expect=("world.yaml: error: line 2: invalid YAML",), files={"world.yaml": "models: [\n"}),
    cli_case("run-world-binary", "run", "{compiled}", "--world", "world.yaml",
             expect=("'--world'", "world.yaml: not UTF-8 text"), files={"world.yaml": b"\x00\x01\xff"}),
    cli_case("run-dataset-bad-line", "run", "{compiled}", "--dataset", "d.jsonl",
             expect=("d.jsonl:2: error: missing field 'reference'",), files={"d.jsonl": BAD_JSONL}),
    cli_case("run-dataset-not-json", "run", "{compiled}", "--dataset", "d.jsonl",
             expect=("d.jsonl:1: error: invalid JSON",), files={"d.jsonl": "not json\n"}),
    cli_case("run-samples-negative", "run", "{compiled}", "--samples", "-1", expect=("'--samples'",)),
    cli_case("run-point-negative", "run", "{compiled}", "--point", "-1", expect=("'--point'",)),
    cli_case("run-point-out-of-range", "run", "{compiled}", "--point", "99", expect=("error: --point 99: no point 99",)),
    cli_case("run-weight-above-one", "run", "{compiled}", "--weight", "2", expect=("'--weight'", "must be in [0, 1]")),
    cli_case("run-min-acc-above-one", "run", "{compiled}", "--min-acc", "1.5", expect=("'--min-acc'",)),
    cli_case("run-max-latency-negative", "run", "{compiled}", "--max-latency", "-1", expect=("'--max-latency'",)),
    cli_case("run-nothing-meets", "run", "{compiled}", "--max-latency", "0.001",
             expect=("error: no point meets the request",)),
    cli_case("run-replay-without-trace", "run", "{compiled}", "--backend", "replay", "--query", "q",
             expect=("error: --backend replay needs --trace PATH",)),
    cli_case("run-replay-trace-garbage", "run", "{compiled}", "--backend", "replay", "--trace", "t.jsonl",
             "--query", "q", expect=("t.jsonl:1: error: bad trace line",), files={"t.jsonl": "garbage\n"}),
    cli_case("run-litellm-without-dataset", "run", "{compiled}", "--backend", "litellm",
             expect=("error: --backend litellm needs --dataset PATH",)),
    cli_case("run-calls-fail", "run", "{compiled}", "--backend", "replay", "--trace", "t.jsonl", "--query", "q",
             expect=("error: 1 of 1 queries failed (first: q: agent @planner failed: no recorded reply)",),
             files={"t.jsonl": ""}),
    cli_case("run-a-spec-not-ir", "run", "spec.yaml",
             expect=("spec.yaml: error: this is a workflow spec; `flowcompile run` takes compiled IR: compile the spec "
                     "first with `flowcompile compile spec.yaml`, then `flowcompile run out/w/w.compiled.mlir`",),
             files={"spec.yaml": agents("a: {role: solver}")}),
    cli_case("run-a-spec-without-suffix", "run", "spec.txt", expect=("spec.txt: error: this is a workflow spec",),
             files={"spec.txt": "# a comment first\n" + agents("a: {role: solver}")}),
    cli_case("evaluate-a-spec", "evaluate", "spec.yaml", expect=("spec.yaml: error: this is a workflow spec; "
             "`flowcompile evaluate` takes compiled IR",), files={"spec.yaml": agents("a: {role: solver}")}),
    cli_case("run-an-artifact", "run", "{artifact}", expect=("{artifact}: error: this is a JSON artifact; "
             "`flowcompile run` takes the compiled IR the artifact came from",)),
    cli_case("compile-ir", "compile", "{chain}", "-o", "out", expect=("{chain}: error: this is flow IR; "
             "`flowcompile compile` takes a YAML workflow spec",)),
    cli_case("select-a-spec", "select", "spec.yaml", expect=("spec.yaml: error: this is a workflow spec; "
             "`flowcompile select` takes a JSON artifact",), files={"spec.yaml": agents("a: {role: solver}")}),
    cli_case("compile-unknown-sim-model", "compile", "spec.yaml", "-o", "out",
             expect=("spec.yaml:2:10: error: models.big: 'big' is not a model of the sim backend (its models: "
                     "qwen3-0.6b,", "; rename the pool entry, or compile with another --backend"),
             files={"spec.yaml": "workflow: w\nmodels: {big: {litellm: openai/big}}\nagents: {a: {role: solver}}\n"
                                 "steps: [a]\n"}),
    cli_case("compile-spec-error-located-once", "compile", "spec.yaml", "-o", "out",
             expect=("spec.yaml:4:37: error: agents.a.inputs[1]: 'nope' is not a value in scope here",),
             files={"spec.yaml": agents("a: {role: solver, inputs: [query, nope]}")}),
    cli_case("run-missing-file", "run", "nowhere.mlir", expect=("'COMPILED'", "nowhere.mlir")),
    cli_case("run-unknown-option", "run", "{compiled}", "--concurency", "0", expect=("error: no such option", "usage: flowcompile run [OPTIONS] COMPILED")),
    cli_case("report-evaluation-not-json", "report", "{compiled}", "--evaluation", "e.json", "-o", "p.png",
             expect=("e.json:1:1: error: invalid JSON",), files={"e.json": "not json"}),
    cli_case("report-evaluation-a-list", "report", "{compiled}", "--evaluation", "e.json", "-o", "p.png",
             expect=("e.json:1:1: error: not an evaluation",), files={"e.json": "[1, 2]"}),
    cli_case("report-evaluation-missing-field", "report", "{compiled}", "--evaluation", "e.json", "-o", "p.png",
             expect=("e.json:1:1: error: workflow: Field required",), files={"e.json": "{}"}),
    cli_case("report-evaluation-bad-row", "report", "{compiled}", "--evaluation", "e.json", "-o", "p.png",
             expect=("e.json:4:15: error: points[0].label: Input should be a valid string",),
             files={"e.json": EVALUATION_BAD_ROW}),
    cli_case("report-evaluation-of-another-workflow", "report", "{compiled}", "--evaluation", "e.json", "-o", "p.png",
             expect=("e.json:2:3: error: an evaluation of @other, not of @chain",), files={"e.json": EVALUATION_OTHER}),
    cli_case("report-unwritable-plot", "report", "{compiled}", "-o", "/proc/no-such/p.png",
             expect=("/proc/no-such/p.png: error: cannot write",)),
    cli_case("report-without-config-set", "report", "{chain}", expect=("{chain}:2:3: error: no flow.config_set",)),
    cli_case("evaluate-points-garbage", "evaluate", "{compiled}", "--points", "abc",
             expect=("error: --points takes all, ends or indices",)),
    cli_case("evaluate-points-out-of-range", "evaluate", "{compiled}", "--points", "0,99",
             expect=("error: no point 99",)),
    cli_case("evaluate-samples-negative", "evaluate", "{compiled}", "--samples", "-2", expect=("'--samples'",)),
    cli_case("evaluate-without-config-set", "evaluate", "{chain}", expect=("{chain}:2:3: error: no flow.config_set",)),
    cli_case("select-ir", "select", "{compiled}", expect=("{compiled}: error: this is flow IR; `flowcompile select` "
             "takes the JSON artifact",)),
    cli_case("select-not-json", "select", "a.json", expect=("a.json:1:1: error: invalid JSON",), files={"a.json": "nope"}),
    cli_case("select-missing-field", "select", "a.json", expect=("a.json:1:1: error: name: Field required",),
             files={"a.json": '{"format": "flowcompile.config-set", "version": 1}'}),
    cli_case("select-other-version", "select", "a.json",
             expect=("a.json:2:3: error: version: Input should be 1",),
             files={"a.json": '{"format": "flowcompile.config-set",\n  "version": 2}'}),
    cli_case("select-no-points", "select", "a.json", expect=("a.json:1:116: error: points: List should have at least 1 item",),
             files={"a.json": '{"format": "flowcompile.config-set", "version": 1, "name": "s", "workflow": "w", '
                              '"workflow_hash": "h", "pool": {}, "points": []}'}),
    cli_case("run-no-workflow", "run", "m.mlir", expect=("m.mlir:1:1: error: expected one flow.workflow, found 0",),
             files={"m.mlir": "builtin.module {\n}\n"}),
    cli_case("run-empty-ir", "run", "m.mlir", expect=("m.mlir: error: expected one flow.workflow, found 0",),
             files={"m.mlir": "// nothing here\n"}),
    cli_case("select-weight-above-one", "select", "{artifact}", "--weight", "3", expect=("'--weight'",)),
    cli_case("select-min-acc-above-one", "select", "{artifact}", "--min-acc", "2", expect=("'--min-acc'",)),
    cli_case("compile-concurrency-zero", "compile", "{examples}/chain.yaml", "--concurrency", "0",
             expect=("'--concurrency'", "x>=1")),
    cli_case("compile-samples-negative", "compile", "{examples}/chain.yaml", "--samples", "-1",
             expect=("'--samples'",)),
    cli_case("compile-max-samples-negative", "compile", "{examples}/chain.yaml", "--max-samples", "-1",
             expect=("'--max-samples'",)),
    cli_case("compile-profile-budget-negative", "compile", "{examples}/chain.yaml", "--profile-budget", "-1",
             expect=("'--profile-budget'",)),
    cli_case("compile-validation-samples-zero", "compile", "{examples}/chain.yaml", "--validation-samples", "0",
             expect=("'--validation-samples'",)),
    cli_case("compile-k-zero", "compile", "{examples}/chain.yaml", "-k", "0", expect=("'-k'",)),
    cli_case("compile-min-acc-above-one", "compile", "{examples}/chain.yaml", "--min-acc", "1.5",
             expect=("'--min-acc'",)),
    cli_case("compile-max-cost-negative", "compile", "{examples}/chain.yaml", "--max-cost", "-1",
             expect=("'--max-cost'",)),
    cli_case("compile-cache-is-a-folder", "compile", "{examples}/chain.yaml", "--cache", "folder",
             expect=("'--cache'", "is a directory"), files={"folder/keep": ""}),
    cli_case("compile-cache-not-sqlite", "compile", "{examples}/chain.yaml", "--cache", "junk.sqlite", "-o", "out",
             expect=("error: profile: option cache: junk.sqlite: not a usable profile store",),
             files={"junk.sqlite": "not a database"}),
    cli_case("compile-out-under-a-file", "compile", "{examples}/chain.yaml", "-o", "file/out",
             expect=("error: cannot write",), files={"file": "x"}),
    cli_case("sim-dataset-zero", "sim-dataset", "-n", "0", "-o", "d.jsonl", expect=("'-n'",)),
    cli_case("sim-dataset-out-is-a-folder", "sim-dataset", "-o", "folder", expect=("'-o'", "is a directory"),
             files={"folder/keep": ""}),
    cli_case("sim-dataset-out-unwritable", "sim-dataset", "-o", "/proc/no-such/d.jsonl",
             expect=("/proc/no-such/d.jsonl: error: cannot write",)),
    cli_case("sim-dataset-world-garbage", "sim-dataset", "-o", "d.jsonl", "--world", "world.yaml",
             expect=("world.yaml: error: <root>",), files={"world.yaml": "[1, 2]\n"}),
    cli_case("serve-sim-port-negative", "serve-sim", "--port", "-1", expect=("'--port'",)),
    cli_case("serve-sim-port-too-large", "serve-sim", "--port", "70000", expect=("'--port'",)),
    cli_case("serve-sim-time-scale-negative", "serve-sim", "--time-scale", "-1", expect=("'--time-scale'",)),
    cli_case("serve-sim-remote-host", "serve-sim", "--host", "0.0.0.0", expect=("error: refusing to bind", "'0.0.0.0'")),
    cli_case("unknown-command", "frobnicate", expect=("error: no such command 'frobnicate'",)),
    cli_case("compile-missing-spec", "compile", "nowhere.yaml",
             expect=("error: invalid value for 'SPEC': File 'nowhere.yaml' does not exist",
                     "usage: flowcompile compile [OPTIONS] SPEC")),
    Case("cli:translate-export-without-config-set", "translate", ("--export-json", "{chain}"),
         ("error: no flow.config_set in the input: run the pareto pass first",)),
    Case("cli:translate-export-not-ir", "translate", ("--export-json", "spec.yaml"), ("spec.yaml:1:",),
         {"spec.yaml": agents("a: {role: solver}")}),
]

CASES = [*SPECS, *OPTIONS, *COMMANDS]


@pytest.fixture(scope="module")
def inputs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """The shared inputs: an IR without a config set, a composed and a compiled IR, an artifact."""
    from flowcompile.artifact import dumps, from_config_set
    from flowcompile.compiler import load, run_passes, write

    folder = tmp_path_factory.mktemp("inputs")
    chain = EXAMPLES / "chain.mlir"
    module = run_passes(load(chain), "profile{samples=2 max-samples=0 recovery=false cache=none},compose")
    composed = write(module, folder / "chain.composed.mlir")
    compiled = write(run_passes(module, "pareto"), folder / "chain.compiled.mlir")
    artifact = folder / "chain.artifact.json"
    artifact.write_text(dumps(from_config_set(module)), encoding="utf-8")
    return {"chain": str(chain), "composed": str(composed), "compiled": str(compiled),
            "artifact": str(artifact), "examples": str(EXAMPLES)}


def fill(text: str, inputs: dict[str, str]) -> str:
    """`text` with `{chain}`, `{compiled}`... replaced (other braces kept: prompts have them)."""
    for name, value in inputs.items():
        text = text.replace("{" + name + "}", value)
    return text


def run_tool(tool: str, args: list[str]) -> int:
    """The tool's exit status, as its console script computes it."""
    bodies = {"translate": lambda: translate.run(args), "opt": lambda: opt.run(args), "cli": lambda: cli.run_cli(args)}
    return guard_main(f"flowcompile-{tool}", bodies[tool])


def _write(folder: Path, files: dict[str, str | bytes]) -> None:
    for name, content in files.items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")
    if "other.sqlite" in files:  # an SQLite file of another application
        import sqlite3

        db = sqlite3.connect(folder / "other.sqlite")
        db.execute("CREATE TABLE t (x)")
        db.commit()
        db.close()


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_bad_input_is_a_located_error(
    case: Case, inputs: dict[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("FLOWCOMPILE_TRACEBACK", raising=False)
    monkeypatch.setenv("FLOWCOMPILE_CACHE", str(tmp_path / "default-cache.sqlite"))
    for name, value in case.env.items():
        monkeypatch.setenv(name, value)
    _write(tmp_path, case.files)
    code = run_tool(case.tool, [fill(arg, inputs) for arg in case.args])
    out, err = capsys.readouterr()
    assert code == 1, err
    assert "Traceback" not in out + err and "internal error" not in out + err, err
    assert "rror: error:" not in err, f"one diagnostic format, one 'error:': {err}"
    assert not re.search(r"^Error: ", err, re.MULTILINE), f"click's own format is not the tools' one: {err}"
    for expected in case.expect:
        assert fill(expected, inputs) in err, err


def test_the_corpus_covers_every_category() -> None:
    counts: dict[str, int] = {}
    for case in CASES:
        counts[case.category] = counts.get(case.category, 0) + 1
    assert len({c.id for c in CASES}) == len(CASES), "case ids are unique"
    assert counts["spec"] >= 60 and counts["option"] >= 50 and counts["cli"] >= 60, counts


@pytest.mark.parametrize(
    "script, case_id",
    [
        ("flowcompile.tools.translate", "spec:prompt-unbalanced-open"),
        ("flowcompile.tools.opt", "option:profile-concurrency-0"),
        ("flowcompile.tools.cli", "cli:compile-k-zero"),
    ],
)
def test_the_console_scripts_exit_1_without_a_traceback(
    script: str, case_id: str, inputs: dict[str, str], tmp_path: Path
) -> None:
    """The same cases through `main()` in a fresh interpreter, as a user runs them."""
    case = next(c for c in CASES if c.id == case_id)
    _write(tmp_path, case.files)
    out = subprocess.run(
        [sys.executable, "-c", f"from {script} import main; main()", *(fill(a, inputs) for a in case.args)],
        capture_output=True, text=True, timeout=120, cwd=tmp_path,
    )
    assert out.returncode == 1, out.stderr
    assert "Traceback" not in out.stderr and "internal error" not in out.stderr
    assert all(fill(e, inputs) in out.stderr for e in case.expect), out.stderr
