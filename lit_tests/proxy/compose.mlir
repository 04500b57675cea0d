// RUN: flowcompile-opt %s --compose | filecheck %s

// Shrinkage: the prior is the agent's pooled rate, (6 + 45) / (10 + 50) = 0.85,
// with 2 pseudo-observations: the 10-sample candidate moves most,
// (6 + 1.7) / 12 = 0.641667; the 50-sample one (45 + 1.7) / 52 = 0.898077.
// The Wilson interval of the raw rate is kept beside the estimate.
// CHECK:      %{{.*}} = flow.agent @solve(%q) {{.*}}estimates = {
// CHECK-SAME:   "s@0" = #flow.estimate<acc = 0.641667, lat = 0.5, acc_lo = 0.312674, acc_hi = 0.83182, cost = 0.0001>,
// CHECK-SAME:   "b@0" = #flow.estimate<acc = 0.898077, lat = 2.0, acc_lo = 0.786398, acc_hi = 0.956524, cost = 0.001>}, proxy = "sequence"}
// CHECK:      flow.vote(%{{.*}}) {method = "majority", proxy = "binomial-plurality"}
flow.workflow @w(%q: !flow.msg) -> !flow.msg {
  %s = flow.agent @solve(%q) {role = "solver", models = ["s", "b"], budgets = [0], profiles = {"s@0" = #flow.profile<acc = 0.6, acc_n = 10, lat = 0.5, cost = 0.0001>, "b@0" = #flow.profile<acc = 0.9, acc_n = 50, lat = 2.0, cost = 0.001>}}
  %f = flow.fork @n attributes {samples = [1, 3]} {
    flow.yield %s
  }
  %v = flow.vote(%f) {method = "majority"}
  flow.return %v
}
