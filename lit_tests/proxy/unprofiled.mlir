// RUN: flowcompile-opt %s --split-input-file --verify-diagnostics --compose

flow.workflow @w(%q: !flow.msg) -> !flow.msg {
  // expected-error @+1 {{compose: agent @solve has no profile for 'b@0': run the profile pass first}}
  %s = flow.agent @solve(%q) {role = "solver", models = ["s", "b"], budgets = [0], profiles = {"s@0" = #flow.profile<acc = 0.6, acc_n = 10, lat = 0.5>}}
  flow.return %s
}

// -----

flow.workflow @w(%q: !flow.msg) -> !flow.msg {
  %r = flow.agent @route(%q) {role = "router", models = ["s"], budgets = [0], profiles = {"s@0" = #flow.profile<acc = 0.6, acc_n = 10, lat = 0.5>}}
  // expected-error @+1 {{compose: flow.switch has no branch probabilities (probs): run the profile pass first}}
  %o = flow.switch %r case "a" {
    flow.yield %q
  } case "b" {
    flow.yield %r
  }
  flow.return %o
}
