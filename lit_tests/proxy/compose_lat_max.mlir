// What compose derives for a fork's latency from hand-written profiles (not
// the simulator's numbers), and the latencies enumerate composes from it.
// RUN: flowcompile-opt %s --split-input-file --compose | filecheck %s
// RUN: flowcompile-opt %s --split-input-file -p compose,enumerate | filecheck %s --check-prefix=POINTS

// A replicated fork waits for the slowest of its k samples. The profiles'
// `lat_max[k-1]` (the expected maximum of k calls) becomes each estimate's
// `lat_max`: `lat` at k = 1, then a running maximum (s measured 1.3 for three
// calls, below its 1.4 for two: noise, since one more replica never shortens
// the wait).
// CHECK-LABEL: flow.workflow @samples
// CHECK: estimates = {"s@0" = #flow.estimate<acc = 0.604762, lat = 1.0, {{.*}}lat_max = [1.0, 1.4, 1.4]>,
// CHECK-SAME: "b@0" = #flow.estimate<acc = 0.795238, lat = 2.0, {{.*}}lat_max = [2.0, 2.2, 2.3]>}, proxy = "sequence"}
// CHECK: flow.vote(%{{.*}}) {method = "majority", proxy = "binomial-plurality"}

// Three samples take lat_max[2]: s 1.4 s and b 2.3 s, not their means (by the
// means, three samples of s would dominate one of s, and three of b one of b).
// Shrunk rates (2 pseudo-observations toward the pooled 0.7): s (24 + 1.4) / 42,
// b (32 + 1.4) / 42; a majority of three is right w.p. p^2 (3 - 2p).
// POINTS-LABEL: flow.workflow @samples
// POINTS-SAME: frontier = [#flow.point<acc = 0.604762, lat = 1.0, {{.*}}answer.samples = 1 : i64, solver = #flow.config<model = "s", budget = 0>
// POINTS-SAME: #flow.point<acc = 0.654843, lat = 1.4, {{.*}}answer.samples = 3 : i64, solver = #flow.config<model = "s", budget = 0>
// POINTS-SAME: #flow.point<acc = 0.795238, lat = 2.0, {{.*}}answer.samples = 1 : i64, solver = #flow.config<model = "b", budget = 0>
// POINTS-SAME: #flow.point<acc = 0.891388, lat = 2.3, {{.*}}answer.samples = 3 : i64, solver = #flow.config<model = "b", budget = 0>}>]
flow.workflow @samples(%q: !flow.msg) -> !flow.msg {
  %f = flow.fork @answer attributes {samples = [1, 3]} {
    %s = flow.agent @solver(%q) {role = "solver", models = ["s", "b"], budgets = [0], profiles = {
      "s@0" = #flow.profile<acc = 0.6, acc_n = 40, lat = 1.0, lat_max = [1.0, 1.4, 1.3]>,
      "b@0" = #flow.profile<acc = 0.8, acc_n = 40, lat = 2.0, lat_max = [2.0, 2.2, 2.3]>}}
    flow.yield %s
  }
  %v = flow.vote(%f) {method = "majority"}
  flow.return %v
}

// -----

// A fork of different agents waits for the slowest branch. Each branch's
// `lat_q` (its latency in equally likely atoms) goes to its estimate as is.
// CHECK-LABEL: flow.workflow @mixture
// CHECK: "m@0" = #flow.estimate<acc = 0.5, lat = 2.0, {{.*}}lat_q = [1.0, 3.0]>
// CHECK: "m@0" = #flow.estimate<acc = 0.8, lat = 2.0, {{.*}}lat_q = [1.5, 2.5]>
// CHECK: flow.agent @agg(%q, %0, %1) {{.*}}proxy = "aggregate"
// a takes 1 or 3 s, b 1.5 or 2.5 s, independently: the slower of the two
// takes 1.5, 2.5, 3 or 3 s, on average 2.5 s (the means' maximum is 2.0);
// then the aggregator's 1.0 s.
// POINTS-LABEL: flow.workflow @mixture
// POINTS-SAME: frontier = [#flow.point<acc = {{[0-9.]+}}, lat = 3.5,
flow.workflow @mixture(%q: !flow.msg) -> !flow.msg {
  %0, %1 = flow.fork @f {
    %a = flow.agent @a(%q) {role = "proposer", models = ["m"], budgets = [0], profiles = {"m@0" = #flow.profile<acc = 0.5, acc_n = 20, lat = 2.0, lat_q = [1.0, 3.0]>}}
    flow.yield %a
  } {
    %b = flow.agent @b(%q) {role = "proposer", models = ["m"], budgets = [0], profiles = {"m@0" = #flow.profile<acc = 0.8, acc_n = 20, lat = 2.0, lat_q = [1.5, 2.5]>}}
    flow.yield %b
  }
  %2 = flow.agent @agg(%q, %0, %1) {role = "aggregator", models = ["m"], budgets = [0], profiles = {"m@0" = #flow.profile<acc = 0.9, acc_n = 20, lat = 1.0>}}
  flow.return %2
}
