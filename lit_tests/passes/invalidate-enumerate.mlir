// enumerate replaces the frontier, so it erases validated, validate's record of
// the frontier it measured. The new frontier is the proxy's, from the
// estimates (acc = 0.924242 * 0.644231 for plan and solve on s), with no
// validation values left from the old one.
// RUN: flowcompile-opt %s -p enumerate | filecheck %s
// RUN: flowcompile-opt %s -p enumerate | filecheck %s --check-prefix=GONE

// GONE-NOT: {{validated|val_n|proxy_acc}}

// CHECK:      flow.workflow @w(%q: !flow.msg) -> !flow.msg attributes {frontier = [
// CHECK-SAME: #flow.point<acc = 0.595425, lat = 1.5, cost = 0.0, assign = {plan = #flow.config<model = "s", budget = 0>, solve = #flow.config<model = "s", budget = 0>}>,
// CHECK-SAME: #flow.point<acc = 0.738983, lat = 3.0, cost = 0.0, assign = {plan = #flow.config<model = "s", budget = 0>, solve = #flow.config<model = "b", budget = 0>}>],
// CHECK-SAME: space = 4} {
flow.workflow @w(%q: !flow.msg) -> !flow.msg attributes {frontier = [#flow.point<acc = 0.7, lat = 3.0, proxy_acc = 0.74, proxy_lat = 3.0, val_acc = 0.6, val_lat = 3.1, val_n = 16, assign = {plan = #flow.config<model = "s", budget = 0>, solve = #flow.config<model = "b", budget = 0>}>], validated = {backend = "sim", queries = ["q500-00000"], calls = 32}} {
  %p = flow.agent @plan(%q) {role = "planner", models = ["s", "b"], budgets = [0], profiles = {"s@0" = #flow.profile<acc = 0.9, acc_n = 4, lat = 1.0>, "b@0" = #flow.profile<acc = 0.75, acc_n = 40, lat = 3.0>}, estimates = {"s@0" = #flow.estimate<acc = 0.924242, lat = 1.0, acc_lo = 0.510109, acc_hi = 1.0, cost = 0.0>, "b@0" = #flow.estimate<acc = 0.751082, lat = 3.0, acc_lo = 0.59806, acc_hi = 0.858129, cost = 0.0>}, proxy = "sequence"}
  %s = flow.agent @solve(%p) {role = "solver", models = ["s", "b"], budgets = [0], profiles = {"s@0" = #flow.profile<acc = 0.5, acc_n = 2, lat = 0.5>, "b@0" = #flow.profile<acc = 0.8, acc_n = 50, lat = 2.0>}, estimates = {"s@0" = #flow.estimate<acc = 0.644231, lat = 0.5, acc_lo = 0.094531, acc_hi = 0.905469, cost = 0.0>, "b@0" = #flow.estimate<acc = 0.799556, lat = 2.0, acc_lo = 0.669629, acc_hi = 0.887562, cost = 0.0>}, proxy = "sequence"}
  flow.return %s
}
