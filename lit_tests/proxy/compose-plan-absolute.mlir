// RUN: flowcompile-opt %s -p 'compose{prior-strength=0}' | filecheck %s
// Without `judged`, rates are success rates, composed as they are.
// CHECK: "s@0" = #flow.estimate<acc = 0.4, lat = 0.5
// CHECK: "b@0" = #flow.estimate<acc = 0.8, lat = 2.0
flow.workflow @w(%q: !flow.msg) -> !flow.msg {
  %p = flow.agent @plan(%q) {role = "planner", models = ["s", "b"], budgets = [0], profiles = {"s@0" = #flow.profile<acc = 0.4, acc_n = 50, lat = 0.5>, "b@0" = #flow.profile<acc = 0.8, acc_n = 50, lat = 2.0>}}
  flow.return %p
}
