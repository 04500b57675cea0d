// compose rewrites the estimates, so it erases what was derived from them: the
// workflow's frontier and space (enumerate's) and validated (validate's).
// RUN: flowcompile-opt %s -p compose | filecheck %s
// The pipeline of issue 10 gives the set a fresh pipeline gives, not the first
// compose's frontier:
// RUN: flowcompile-opt %s -p 'compose,enumerate,compose{prior-strength=50},pareto' > %t.stale
// RUN: flowcompile-opt %s -p 'compose{prior-strength=50},pareto' > %t.fresh
// RUN: diff %t.stale %t.fresh

// CHECK-NOT: frontier
// CHECK-NOT: space
// CHECK-NOT: validated
// CHECK:     flow.workflow @w(%q: !flow.msg) -> !flow.msg {
// CHECK:     estimates = {"s@0" = #flow.estimate<
// CHECK-NOT: frontier
// CHECK-NOT: space
// CHECK-NOT: validated
flow.workflow @w(%q: !flow.msg) -> !flow.msg attributes {space = 4, frontier = [#flow.point<acc = 0.99, lat = 0.1, assign = {plan = #flow.config<model = "s", budget = 0>, solve = #flow.config<model = "s", budget = 0>}>], validated = {calls = 10}} {
  %p = flow.agent @plan(%q) {role = "planner", models = ["s", "b"], budgets = [0], profiles = {"s@0" = #flow.profile<acc = 0.9, acc_n = 4, lat = 1.0>, "b@0" = #flow.profile<acc = 0.75, acc_n = 40, lat = 3.0>}}
  %s = flow.agent @solve(%p) {role = "solver", models = ["s", "b"], budgets = [0], profiles = {"s@0" = #flow.profile<acc = 0.5, acc_n = 2, lat = 0.5>, "b@0" = #flow.profile<acc = 0.8, acc_n = 50, lat = 2.0>}}
  flow.return %s
}
