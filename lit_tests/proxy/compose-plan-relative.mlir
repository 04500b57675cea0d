// RUN: flowcompile-opt %s -p 'compose{prior-strength=0}' | filecheck %s
// A plan judged by agreement with the reference run's plan: each rate is
// divided by the reference candidate's own (b@0 agrees with itself 0.8 of the
// time), at most 1, so the reference's plan counts as right.
// CHECK: "s@0" = #flow.estimate<acc = 0.5, lat = 0.5
// CHECK: "b@0" = #flow.estimate<acc = 1.0, lat = 2.0
flow.workflow @w(%q: !flow.msg) -> !flow.msg {
  %p = flow.agent @plan(%q) {role = "planner", models = ["s", "b"], budgets = [0], judged = "reference output", profiles = {"s@0" = #flow.profile<acc = 0.4, acc_n = 50, lat = 0.5>, "b@0" = #flow.profile<acc = 0.8, acc_n = 50, lat = 2.0>}}
  flow.return %p
}
