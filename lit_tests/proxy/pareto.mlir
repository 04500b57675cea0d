// The card's command on a profiled workflow: pareto runs the enumeration itself.
// RUN: flowcompile-opt %s --compose --pareto | filecheck %s
// The same set when the frontier is enumerated first:
// RUN: flowcompile-opt %s --compose --pareto | grep config_set > %t.direct
// RUN: flowcompile-opt %s --compose --enumerate --pareto | grep config_set > %t.staged
// RUN: diff %t.direct %t.staged

// Estimates: plan s 0.607143, b 0.892857; solve s 0.510317, m 0.700794,
// b 0.938889. Of the six configurations two are dominated: (s, m) has acc
// 0.425482 at 3.5 s, below (b, s) at 2.6 s; (s, b) has 0.570040 at 6.5 s,
// below (b, m) at 5.0 s. The other four, fastest first:
// CHECK:      flow.config_set @chain_pareto for @chain {points = [
// CHECK-SAME:   #flow.point<acc = 0.309835, lat = 1.1, cost = 0.0001, assign = {plan = #flow.config<model = "s", budget = 0>, solve = #flow.config<model = "s", budget = 0>}>,
// CHECK-SAME:   #flow.point<acc = 0.45564, lat = 2.6, cost = 0.001, assign = {plan = #flow.config<model = "b", budget = 0>, solve = #flow.config<model = "s", budget = 0>}>,
// CHECK-SAME:   #flow.point<acc = 0.625709, lat = 5.0, cost = 0.001, assign = {plan = #flow.config<model = "b", budget = 0>, solve = #flow.config<model = "m", budget = 0>}>,
// CHECK-SAME:   #flow.point<acc = 0.838294, lat = 8.0, cost = 0.001, assign = {plan = #flow.config<model = "b", budget = 0>, solve = #flow.config<model = "b", budget = 0>}>]}
flow.workflow @chain(%q: !flow.msg) -> !flow.msg {
  %p = flow.agent @plan(%q) {role = "planner", models = ["s", "b"], budgets = [0], profiles = {"s@0" = #flow.profile<acc = 0.6, acc_n = 40, lat = 0.5, cost = 0.0001>, "b@0" = #flow.profile<acc = 0.9, acc_n = 40, lat = 2.0, cost = 0.001>}}
  %s = flow.agent @solve(%q, %p) {role = "solver", models = ["s", "m", "b"], budgets = [0], profiles = {"s@0" = #flow.profile<acc = 0.5, acc_n = 40, lat = 0.6>, "m@0" = #flow.profile<acc = 0.7, acc_n = 40, lat = 3.0>, "b@0" = #flow.profile<acc = 0.95, acc_n = 40, lat = 6.0>}}
  flow.return %s
}
