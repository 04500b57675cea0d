// What retarget cannot rewrite is a diagnostic at the agent it concerns.
// RUN: flowcompile-opt %s --split-input-file --verify-diagnostics -p 'retarget{speeds="%S/Inputs/speeds.json"}'

flow.workflow @missing(%q: !flow.msg) -> !flow.msg {
  // expected-error @+1 {{model 'x' (candidate x@0) is not in the speed table}}
  %s = flow.agent @solve(%q) {role = "solver", models = ["x"], budgets = [0], profiles = {"x@0" = #flow.profile<acc = 0.6, acc_n = 40, lat = 1.0, tok_in = 50.0, tok_out = 201.0>}}
  flow.return %s
}

// -----

flow.workflow @no_tokens(%q: !flow.msg) -> !flow.msg {
  // expected-error @+1 {{candidate s@0 has no token counts (tok_in, tok_out): profile it again}}
  %s = flow.agent @solve(%q) {role = "solver", models = ["s"], budgets = [0], profiles = {"s@0" = #flow.profile<acc = 0.6, acc_n = 40, lat = 1.0>}}
  flow.return %s
}

// -----

// expected-error @+1 {{no agent has profiles to retarget: run profile first}}
flow.workflow @unprofiled(%q: !flow.msg) -> !flow.msg {
  %s = flow.agent @solve(%q) {role = "solver", models = ["s"], budgets = [0]}
  flow.return %s
}
