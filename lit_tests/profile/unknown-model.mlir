// A model the sim does not simulate is an error at the agent that chooses it,
// `file:line:col: error:`, exit status 1, before any call is made.
// RUN: not flowcompile-opt %s -p 'profile{samples=2 max-samples=0 cache=none}' 2>&1 | filecheck %s
// The dry run checks it too:
// RUN: not flowcompile-opt %s -p 'profile{samples=2 dry-run}' 2>&1 | filecheck %s

// CHECK-NOT: reference runs
// CHECK:     {{^.*}}unknown-model.mlir:[[# @LINE + 5]]:3: error: profile: agent @solver chooses model 'big', which the sim backend does not simulate (its models: qwen3-0.6b, {{.*}}); rename it
// CHECK-NOT: Traceback
// CHECK-NOT: error
flow.workflow @w(%q: !flow.msg) -> !flow.msg attributes {pool = {"qwen3-8b" = #flow.model<provider = "hosted_vllm/Qwen/Qwen3-8B">, "big" = #flow.model<provider = "hosted_vllm/Qwen/Qwen3-8B">}} {
  %plan = flow.agent @planner(%q) {role = "planner", models = ["qwen3-8b"], budgets = [0]}
  %0 = flow.agent @solver(%q, %plan) {role = "solver", models = ["qwen3-8b", "big"], budgets = [0]}
  flow.return %0
}
