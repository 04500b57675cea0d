// What compose derives from an aggregator's per-level profile (`by_right`:
// success with exactly j of its 2 proposals right, on `by_right_n` calls):
// each level shrunk toward the pooled rate of both candidates at that level
// (2 pseudo-observations), then made non-decreasing by weighted isotonic
// regression (weights: calls + 2). Hand-written numbers, not the simulator's.
// RUN: flowcompile-opt %s --compose | filecheck %s
// RUN: flowcompile-opt %s -p compose,enumerate | filecheck %s --check-prefix=POINTS

// Successes: s = [1, 3, 12] of [10, 4, 20], b = [0, 1, 20] of [10, 2, 20];
// pooled per level 1/20 = 0.05, 4/6 = 0.666667, 32/40 = 0.8.
// s shrunk: (1 + 0.1) / 12 = 0.091667, (3 + 1.333333) / 6 = 0.722222,
// (12 + 1.6) / 22 = 0.618182; the last two violate the order and pool to
// (0.722222 * 6 + 0.618182 * 22) / 28 = 0.640476.
// b shrunk: 0.1 / 12 = 0.008333, (1 + 1.333333) / 4 = 0.583333,
// (20 + 1.6) / 22 = 0.981818: already non-decreasing, kept.
// CHECK:      flow.agent @agg(%q, %0, %1)
// CHECK-SAME: estimates = {"s@0" = #flow.estimate<{{.*}}, by_right = [0.091667, 0.640476, 0.640476]>,
// CHECK-SAME: "b@0" = #flow.estimate<{{.*}}, by_right = [0.008333, 0.583333, 0.981818]>}, proxy = "aggregate"}

// The proxy: proposals right w.p. 0.5 and 0.8, so 0, 1 or 2 of them are right
// w.p. 0.1, 0.5, 0.4; s: 0.1 * 0.091667 + 0.9 * 0.640476 = 0.585595,
// b: 0.1 * 0.008333 + 0.5 * 0.583333 + 0.4 * 0.981818 = 0.685227.
// POINTS: frontier = [#flow.point<acc = 0.585595, lat = 2.0, {{.*}}agg = #flow.config<model = "s", budget = 0>
// POINTS-SAME: #flow.point<acc = 0.685227, lat = 4.0, {{.*}}agg = #flow.config<model = "b", budget = 0>
flow.workflow @w(%q: !flow.msg) -> !flow.msg {
  %0, %1 = flow.fork @f {
    %a = flow.agent @a(%q) {role = "proposer", models = ["m"], budgets = [0], profiles = {"m@0" = #flow.profile<acc = 0.5, acc_n = 20, lat = 1.0>}}
    flow.yield %a
  } {
    %b = flow.agent @b(%q) {role = "proposer", models = ["m"], budgets = [0], profiles = {"m@0" = #flow.profile<acc = 0.8, acc_n = 20, lat = 1.0>}}
    flow.yield %b
  }
  %2 = flow.agent @agg(%q, %0, %1) {role = "aggregator", models = ["s", "b"], budgets = [0], profiles = {
    "s@0" = #flow.profile<acc = 0.6, acc_n = 20, lat = 1.0, by_right = [0.1, 0.75, 0.6], by_right_n = [10, 4, 20]>,
    "b@0" = #flow.profile<acc = 0.9, acc_n = 20, lat = 3.0, by_right = [0.0, 0.5, 1.0], by_right_n = [10, 2, 20]>}}
  flow.return %2
}
