"""FlowCompile from Python, on the bundled SIMULATED world (no GPU, no API key).

Builds a workflow from a YAML string, compiles the chain example, picks points
by latency budget and by accuracy target, runs one on a query and evaluates the
fastest and the most accurate point on held-out queries. Run it from the
repository root:

    python examples/api_example.py            # about a minute
    python examples/api_example.py --quick    # a few seconds: fewer queries

It calls what the `flowcompile` commands call, so it prints what `flowcompile
compile examples/chain.yaml` with the same options would.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from flowcompile import api

HERE = Path(__file__).resolve().parent

QA = """\
workflow: qa
models:
  qwen3-1.7b: {litellm: hosted_vllm/Qwen/Qwen3-1.7B, api_base: "http://127.0.0.1:8765/v1"}
  qwen3-8b: {litellm: hosted_vllm/Qwen/Qwen3-8B, api_base: "http://127.0.0.1:8765/v1"}
defaults: {budgets: [0, 1024]}
agents:
  planner: {role: planner, prompt: "Break the problem into steps.\\n{query}"}
  solver: {role: solver, inputs: [query, planner], prompt: "Problem: {query}\\nPlan: {planner}"}
steps: [planner, solver]
"""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="out/api", help="folder for the IR and the profile cache")
    parser.add_argument("--quick", action="store_true", help="profile, validate and evaluate on a few queries")
    args = parser.parse_args(argv)
    out = Path(args.out)
    quick = {"samples": 8, "max_samples": 0, "validation_samples": 16} if args.quick else {"samples": 24}
    options = api.CompileOptions(cache=str(out / "profile-cache.sqlite"), k=6, **quick)

    # 1. A workflow written in code is a YAML string: parse_yaml lowers it into flow IR.
    qa = api.parse_yaml(QA, "qa.yaml")
    print(f"== @{qa.name}: {len(list(qa.op.agents))} agents, lowered into flow IR ({len(qa.ir().splitlines())} lines)")

    # 2. Compile the chain example: profile, compose, search, validate, emit the Pareto set.
    try:
        chain = api.compile(api.load_yaml(HERE / "chain.yaml"), options, out=out / "chain")
    except api.FlowCompileError as e:  # the diagnostic the commands print
        print(e, file=sys.stderr)
        return 1
    print(f"== @{chain.name}: {len(chain.points)} Pareto-optimal configurations (IR in {out / 'chain'})")
    for p in chain.points:
        print(f"  point {p.index}: est. acc {p.acc:.3f}, est. latency {p.lat:.2f} s, est. cost ${p.cost or 0:.6f}")

    # 3. Select as `flowcompile run` does: by latency budget, accuracy target or weight.
    budget = chain.points[len(chain.points) // 2].lat
    within = api.select(chain, max_latency=budget)
    target = api.select(chain, min_acc=chain.points[0].acc)
    print(f"== the most accurate point within {budget:.2f} s: point {within.index}; "
          f"the fastest reaching acc {chain.points[0].acc:.3f}: point {target.index}")

    # 4. Run the chosen point on one query.
    result = api.run(chain, within, "What is 17 * 23?")[0]
    print(f"== point {within.index} on one query: {result.latency:.2f} s, ${result.cost:.6f}, "
          f"{len(result.calls)} calls, output {(result.output or '').splitlines()[0][:60]!r}")

    # 5. Evaluate the fastest and the most accurate point on held-out queries.
    evaluation = api.evaluate(chain, which="ends", samples=10 if args.quick else 40)
    print(f"== measured on {evaluation.queries} held-out queries (estimate -> measured):")
    for row in [*evaluation.points, *evaluation.baselines]:
        print(f"  {row.label:<14} acc {row.est_acc:.3f} -> {row.acc:.3f}   latency {row.est_lat:.2f} -> {row.lat:.2f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
