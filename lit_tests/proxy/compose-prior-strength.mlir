// RUN: flowcompile-opt %s -p 'compose{prior-strength=0}' | filecheck %s
// Without a prior the estimate is the raw success rate.
// CHECK: "s@0" = #flow.estimate<acc = 0.6, lat = 0.5
flow.workflow @w(%q: !flow.msg) -> !flow.msg {
  %s = flow.agent @solve(%q) {role = "solver", models = ["s", "b"], budgets = [0], profiles = {"s@0" = #flow.profile<acc = 0.6, acc_n = 10, lat = 0.5>, "b@0" = #flow.profile<acc = 0.9, acc_n = 50, lat = 2.0>}}
  flow.return %s
}
