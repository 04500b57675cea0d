// The profile pass on a tool step: its one configuration gets a profile like
// an agent's, measured on the tool's calls (in process, never at the
// backend): a latency, no tokens and no cost.
// RUN: flowcompile-opt %s -p 'profile{samples=8 max-samples=0 cache=none}' | filecheck %s

// CHECK: flow.tool @extract(%s) {tool = "extract_answer", params = {number = true}, profiles = {"tool:extract_answer@0" = #flow.profile<acc = {{[0-9.]+}}, acc_n = {{[0-9]+}}, lat = {{[0-9.]+}}, lat_p95 = {{[0-9.]+}}, tok_in = 0.0, tok_out = 0.0, cost = 0.0
flow.workflow @w(%q: !flow.msg) -> !flow.msg {
  %s = flow.agent @solver(%q) {role = "solver", models = ["qwen3-1.7b", "qwen3-8b"], budgets = [0]}
  %a = flow.tool @extract(%s) {tool = "extract_answer", params = {number = true}}
  flow.return %a
}
